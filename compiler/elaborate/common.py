"""Helpers more than one pass uses: reading a declaration's body into its fields, and an
optional field's value."""

from __future__ import annotations

from typing import Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from ..units import SECONDS_PER_DAY, TIME, TOKEN
from .expressions import ExpressionCompiler
from .state import State

__all__ = ["fields", "optional", "SPEED_FIELDS", "speed_fields"]

#: how fast a model answers (on a model, or a model call): the time to its first token and
#: its output speed
SPEED_FIELDS = ("ttft", "tokens_per_second")


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


def speed_fields(x: ExpressionCompiler, f: dict,
                 owner: str) -> tuple[Optional[sympy.Expr], Optional[sympy.Expr], bool]:
    """`ttft` (a time) and `tokens_per_second` (tokens per time, more than 0), each None
    when absent or wrong (reported); and whether one was given but wrong."""
    ttft = speed = None
    if "ttft" in f and not isinstance(f["ttft"], ast.Block):
        ttft = x.expect(f["ttft"].value, (TIME,), f"`ttft` of {owner}")
        if ttft is not None:
            x.state.checks.append(ir.Check("nonnegative", ttft * SECONDS_PER_DAY, f"`ttft` of {owner} (in seconds)",
                                           f["ttft"].value.span))
    if "tokens_per_second" in f and not isinstance(f["tokens_per_second"], ast.Block):
        item = f["tokens_per_second"]
        speed = x.expect(item.value, (TOKEN / TIME,), f"`tokens_per_second` of {owner}")
        if speed is not None:
            x.state.checks.append(ir.Check("positive", speed / SECONDS_PER_DAY, f"`tokens_per_second` of {owner}",
                                           item.value.span))
    broken = ("ttft" in f and ttft is None) or ("tokens_per_second" in f and speed is None)
    return ttft, speed, broken
