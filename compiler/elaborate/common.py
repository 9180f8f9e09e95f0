"""Helpers more than one pass uses: reading a declaration's body into its fields, and an
optional field's value."""

from __future__ import annotations

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from .expressions import ExpressionCompiler
from .state import State

__all__ = ["fields", "optional"]


def fields(state: State, body: ast.Body, allowed: tuple[str, ...], owner: str,
           blocks: tuple[str, ...] = ()) -> dict[str, ast.Field | ast.Block]:
    """The body's items by name; unknown names, blocks where a value belongs and repeated
    names are reported and left out."""
    found: dict[str, ast.Field | ast.Block] = {}
    for item in body.items:
        is_block = isinstance(item, ast.Block)
        if item.name not in allowed or (is_block and item.name not in blocks):
            if is_block and item.name in allowed:
                state.collector.error("E211", f"`{item.name}` of {owner} is a value, not a block", item.span,
                                      help=f"write `{item.name} = …`")
            else:
                state.collector.error("E211", f"{owner} has no field `{item.name}`", item.span,
                                      help=did_you_mean(item.name, allowed) or "fields: " + ", ".join(allowed))
            continue
        if item.name in found:
            state.collector.error("E212", f"`{item.name}` is given twice in {owner}", item.span,
                                  notes=(("first given here", found[item.name].span),))
            continue
        found[item.name] = item
    return found


def optional(x: ExpressionCompiler, f: dict, key: str, dims, what: str, check: str | None = None,
             default=0) -> sympy.Expr:
    """The value of field `key` in `dims`, or `default` when it is absent or wrong; `check`
    ("probability", "nonnegative") is a check every scenario must pass."""
    if key not in f:
        return sympy.Integer(default)
    item = f[key]
    if isinstance(item, ast.Block):
        return sympy.Integer(default)
    v = x.expect(item.value, dims, what)
    if v is None:
        return sympy.Integer(default)
    if check:
        x.state.checks.append(ir.Check(check, v, what, item.value.span))
    return v
