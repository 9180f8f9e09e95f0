"""Pass `parameters`: the built-in `time`, then every declared parameter in an order where
each comes after the ones its formula names (ties in source order). A parameter defined
in terms of itself (E206), or whose formula has an error, is pending: formulas naming it
are not reported again."""

from __future__ import annotations

from typing import Optional

import networkx as nx
import sympy

from llmarch.dsl import ast

from .. import ir
from ..units import DIMENSIONLESS, TIME, format_dim, unit_of
from .expressions import ExpressionCompiler, Value, names_in
from .state import TIME_PARAMETER, State
from .uncertain import is_uncertain, uncertain_value

__all__ = ["run"]


def run(state: State) -> None:
    params = [s for _, s in state.statements if isinstance(s, ast.Param)]
    state.params[TIME_PARAMETER] = ir.Parameter(
        name=TIME_PARAMETER, symbol=sympy.Symbol("_p0", real=True), dim=TIME, scale=state.month_days,
        unit="months", definition=sympy.Integer(0), low=0.0, high=None,
        description="months since launch (0 unless a projection or --set moves it)",
        span=state.file_start(), builtin=True)
    by_name = {p.name: p for p in params if state.declared_here(p.name, p.name_span)}
    graph = nx.DiGraph()
    for p in by_name.values():
        graph.add_node(p.name)
        for ref in names_in(p.value):
            if ref in by_name:
                graph.add_edge(ref, p.name)
    cyclic: set[str] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
            cyclic |= component
            for name in sorted(component):
                state.collector.error("E206", f"parameter `{name}` is defined in terms of itself",
                                      by_name[name].name_span,
                                      help="cycle: " + " -> ".join(sorted(component)))
    state.pending_params = frozenset(cyclic)
    order = [n for n in nx.lexicographical_topological_sort(graph.subgraph(set(by_name) - cyclic),
                                                              key=lambda n: by_name[n].span.start)]
    x = ExpressionCompiler(state)
    for name in order:
        _parameter(x, by_name[name])


def _parameter(x: ExpressionCompiler, p: ast.Param) -> None:
    state = x.state
    distribution = None
    if is_uncertain(p.value):
        u = uncertain_value(x, p.value, f"`{p.name}`")
        if u is None:
            state.pending_params = state.pending_params | {p.name}
            return
        v = Value(u.median, u.dim, True)
        unit, scale = u.unit, u.scale
        distribution = u.distribution          # written in the unit it declares
    else:
        v = x.value(p.value)
        if v is None:
            state.pending_params = state.pending_params | {p.name}
            return
        unit, scale = None, sympy.Integer(1)
        if isinstance(p.value, ast.Quantity) and p.value.unit:
            unit = p.value.unit
            scale = unit_of(unit, state.month_days)[1]
    bounds: list[Optional[float]] = [None, None]
    for i, bound in enumerate((p.low, p.high)):
        if bound is None:
            continue
        b = x.value(bound, allow_params=False)
        if b is None:
            continue
        if b.dim == DIMENSIONLESS and isinstance(bound, (ast.Quantity, ast.Neg)) and v.dim != DIMENSIONLESS:
            bounds[i] = float(b.expr)  # a bare number is in the parameter's declared unit
            continue
        if b.dim != v.dim:
            state.collector.error("E300", f"range of `{p.name}` must be in {format_dim(v.dim)}, "
                                  f"got {format_dim(b.dim)}", bound.span)
            continue
        bounds[i] = float(b.expr / scale)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
        state.collector.error("E308", f"range of `{p.name}` is empty or inverted: "
                              f"[{_num(bounds[0])}, {_num(bounds[1])}]",
                              p.low.span, help="write the range as [low, high] with low < high")
    symbol = sympy.Symbol(f"_p{len(state.params)}", real=True)
    state.params[p.name] = ir.Parameter(
        name=p.name, symbol=symbol, dim=v.dim, scale=scale, unit=unit, definition=v.expr,
        low=bounds[0], high=bounds[1], description=p.description, span=p.span, distribution=distribution)


def _num(x: float) -> str:
    return f"{x:g}"
