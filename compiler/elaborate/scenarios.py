"""Pass `scenarios`: every `scenario` becomes its parameter overrides (base units), with
the ones of the scenario it `extends` (and so on up) underneath its own."""

from __future__ import annotations

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Span, did_you_mean

from .. import ir
from .expressions import ExpressionCompiler
from .state import State

__all__ = ["run"]


def run(state: State) -> None:
    error = state.collector.error
    x = ExpressionCompiler(state)
    by_name: dict[str, ast.Scenario] = {}
    for _, s in state.statements:
        if not isinstance(s, ast.Scenario):
            continue
        if s.name in by_name:
            error("E101", f"scenario `{s.name}` is already declared", s.name_span,
                  notes=(("first declared here", by_name[s.name].name_span),))
            continue
        by_name[s.name] = s
    own: dict[str, dict[str, tuple[sympy.Expr, Span]]] = {}
    for s in by_name.values():
        values: dict[str, tuple[sympy.Expr, Span]] = {}
        for item in s.body.items:
            if isinstance(item, ast.Block):
                error("E211", f"scenario `{s.name}` sets parameters, not blocks", item.span)
                continue
            param = state.params.get(item.name)
            if param is None:
                if item.name not in state.pending_params:
                    error("E201", f"unknown parameter `{item.name}` in scenario `{s.name}`", item.span,
                          help=did_you_mean(item.name, state.params))
                continue
            if item.name in values:
                error("E212", f"`{item.name}` is set twice in scenario `{s.name}`", item.span)
                continue
            v = x.expect(item.value, (param.dim,), f"`{item.name}`")
            if v is not None:
                values[item.name] = (v, item.value.span)
        own[s.name] = values
    for name, s in by_name.items():
        chain, current, ok = [], s, True
        while current is not None:
            if current.name in chain:
                error("E230", f"scenario `{name}` extends itself: "
                      + " -> ".join(chain + [current.name]), s.extends_span or s.name_span)
                ok = False
                break
            chain.append(current.name)
            if current.extends is None:
                current = None
            elif current.extends not in by_name:
                error("E231", f"unknown scenario `{current.extends}`", current.extends_span,
                      help=did_you_mean(current.extends, by_name))
                ok = False
                current = None
            else:
                current = by_name[current.extends]
        if not ok:
            continue
        merged: dict[str, tuple[sympy.Expr, Span]] = {}
        for ancestor in reversed(chain):
            merged.update(own[ancestor])
        state.scenarios[name] = ir.Scenario(name, s.description, {k: v for k, (v, _) in merged.items()},
                                            {k: sp for k, (_, sp) in merged.items()}, s.span)
