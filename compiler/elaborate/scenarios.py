"""Pass `scenarios`: every `scenario` becomes its parameter overrides (base units), with
the ones of the scenario it `extends` (and so on up) underneath its own."""

from __future__ import annotations

from typing import Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Span, did_you_mean

from .. import ir
from ..distributions import Distribution
from ..units import format_dim
from .expressions import ExpressionCompiler
from .state import State
from .uncertain import is_uncertain, uncertain_value

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
    own: dict[str, _Overrides] = {}
    for s in by_name.values():
        values: dict[str, sympy.Expr] = {}
        spans: dict[str, Span] = {}
        distributions: dict[str, Distribution] = {}
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
            if is_uncertain(item.value):
                u = uncertain_value(x, item.value, f"`{item.name}`")
                if u is None:
                    continue
                if u.dim != param.dim:
                    error("E300", f"`{item.name}` must be in {format_dim(param.dim)}, got {format_dim(u.dim)}",
                          item.value.span)
                    continue
                values[item.name] = u.median
                spans[item.name] = item.value.span
                distributions[item.name] = u.distribution.scaled(float(u.scale / param.scale))
                continue
            v = x.expect(item.value, (param.dim,), f"`{item.name}`")
            if v is not None:
                values[item.name] = v
                spans[item.name] = item.value.span
        own[s.name] = (values, spans, distributions)
    merged = _merge(state, by_name, own)
    for name, s in by_name.items():
        if name in merged:
            values, spans, distributions = merged[name]
            state.scenarios[name] = ir.Scenario(name, s.description, values, spans, s.span,
                                                {n: d for n, d in distributions.items() if n in values})


#: A scenario's overrides: values (base units), where each was written, and the uncertain
#: ones' distributions, by parameter (a number written over an inherited distribution
#: removes it: `distributions` is filtered by the final winner below).
_Overrides = tuple[dict[str, sympy.Expr], dict[str, Span], dict[str, Distribution]]


def _merge(state: State, by_name: dict[str, ast.Scenario], own: dict[str, _Overrides]) -> dict[str, _Overrides]:
    """Every scenario's overrides over its ancestors' (the nearest wins), for the scenarios
    whose `extends` chain ends at a scenario that extends none. Linear in the number of
    scenarios times the overrides each ends up with: a scenario is merged once, onto its
    parent's memoized result, never by walking its whole chain again. A cycle is reported
    at each scenario on it (E230), an unknown parent where it is named (E231); a scenario
    that only extends into such a chain is left out without a report of its own."""
    merged: dict[str, _Overrides] = {}
    failed: set[str] = set()
    for name in by_name:
        # walk up to a scenario already merged, a root, or a problem
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: Optional[ast.Scenario] = by_name[name]
        base: Optional[_Overrides] = None
        while current is not None:
            if current.name in merged:
                base = merged[current.name]
                break
            if current.name in failed:
                break
            if current.name in on_path:
                cycle = path[on_path[current.name]:]
                for i, member in enumerate(cycle):
                    around = cycle[i:] + cycle[:i]
                    scenario = by_name[member]
                    state.collector.error("E230", f"scenario `{member}` extends itself: "
                                          + " -> ".join(around + [member]),
                                          scenario.extends_span or scenario.name_span)
                break
            on_path[current.name] = len(path)
            path.append(current.name)
            if current.extends is None:
                base = ({}, {}, {})
                break
            if current.extends not in by_name:
                state.collector.error("E231", f"unknown scenario `{current.extends}`", current.extends_span,
                                      help=did_you_mean(current.extends, by_name))
                break
            current = by_name[current.extends]
        if base is None:
            failed.update(path)
            continue
        for scenario_name in reversed(path):
            values, spans, distributions = own[scenario_name]
            inherited = {n: d for n, d in base[2].items() if n not in values}
            base = ({**base[0], **values}, {**base[1], **spans}, {**inherited, **distributions})
            merged[scenario_name] = base
    return merged
