"""The symbolic cost model: expected visits of an absorbing Markov chain, in sympy.

A request is a random walk from the entry. With P the matrix of edge probabilities and
e the indicator of the entry, expected visits solve v = e + Pᵀv. We never invert P
as a whole: the strongly connected components of the graph are solved one at a time in
topological order, and each node's expected visits becomes an intermediate symbol
(`_v12`) defined from earlier ones, like SSA form. Compile time is therefore linear in
the size of the architecture; a retry loop or a regeneration cycle is solved exactly as
a small linear system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import networkx as nx
import sympy

from . import ir
from .lower import FlowGraph
from .units import SECONDS_PER_DAY

__all__ = ["CostModel", "build_model", "SECONDS_PER_DAY"]

_ONE = sympy.Integer(1)


@dataclass
class Loop:
    """A strongly connected component with a cycle (a retry loop, a regeneration loop)."""

    nodes: list[str]
    spans: list


@dataclass
class CostModel:
    """Symbolic totals. Expressions refer to parameter symbols, `FAILURE_SWITCH` and the
    visit symbols defined in `definitions` (in order)."""

    arch: ir.Architecture
    flow: FlowGraph
    visits: dict[str, sympy.Symbol]
    definitions: list[tuple[sympy.Symbol, sympy.Expr]]
    node_cost: dict[str, sympy.Expr]
    cost_per_request: sympy.Expr
    by_category: dict[str, sympy.Expr]              # per request
    p_success: sympy.Expr
    requests_per_month: sympy.Expr
    fixed_monthly: sympy.Expr
    fixed_by_category: dict[str, sympy.Expr]
    loops: list[Loop] = field(default_factory=list)
    #: seconds per visit of every lowered node, and the expected seconds of one request
    #: (Σ visits × seconds per visit), when the file declares latency (else None)
    node_latency: dict[str, sympy.Expr] = field(default_factory=dict)
    latency_per_request: Optional[sympy.Expr] = None
    #: the variance of one request's latency (seconds²) over the random path it takes
    latency_variance: Optional[sympy.Expr] = None

    @property
    def monthly_total(self) -> sympy.Expr:
        return self.requests_per_month * self.cost_per_request + self.fixed_monthly

    def closed_form(self, expr: sympy.Expr) -> sympy.Expr:
        """`expr` with every intermediate visit symbol replaced by its definition."""
        for symbol, definition in reversed(self.definitions):
            if expr.has(symbol):
                expr = expr.xreplace({symbol: definition})
        return expr


def build_model(arch: ir.Architecture, flow: FlowGraph) -> CostModel:
    g = flow.graph
    order = {n: i for i, n in enumerate(g.nodes)}
    visits: dict[str, sympy.Symbol] = {}
    definitions: list[tuple[sympy.Symbol, sympy.Expr]] = []
    loops: list[Loop] = []
    counter = 0

    def new_symbol(prefix: str) -> sympy.Symbol:
        nonlocal counter
        counter += 1
        return sympy.Symbol(f"_{prefix}{counter}", real=True)

    condensed = nx.condensation(g)
    members = condensed.graph["mapping"]
    groups: dict[int, list[str]] = {}
    for node, c in members.items():
        groups.setdefault(c, []).append(node)
    for c in nx.lexicographical_topological_sort(condensed, key=lambda c: min(order[n] for n in groups[c])):
        scc = sorted(groups[c], key=order.__getitem__)
        if len(scc) == 1 and not g.has_edge(scc[0], scc[0]):
            node = scc[0]
            inflow = [_times(g.edges[u, node]["probability"], visits[u]) for u in g.predecessors(node)]
            if node == flow.entry:
                inflow.append(_ONE)
            symbol = new_symbol("v")
            visits[node] = symbol
            definitions.append((symbol, _sum(inflow)))
            continue
        # A loop: solve (I - P_SSᵀ) v_S = b, with b the inflow from outside the loop.
        inside = set(scc)
        spans = [g.edges[u, v].get("span") for u in scc for v in g.successors(u) if v in inside]
        loops.append(Loop(scc, [s for s in spans if s is not None]))
        b = []
        for node in scc:
            inflow = [g.edges[u, node]["probability"] * visits[u] for u in g.predecessors(node) if u not in inside]
            if node == flow.entry:
                inflow.append(_ONE)
            if inflow:
                symbol = new_symbol("b")
                definitions.append((symbol, sympy.Add(*inflow)))
                b.append(symbol)
            else:
                b.append(sympy.Integer(0))
        solution = _solve_loop(g, scc, b, new_symbol, definitions)
        for node, value in zip(scc, solution):
            symbol = new_symbol("v")
            visits[node] = symbol
            definitions.append((symbol, value))

    node_cost: dict[str, sympy.Expr] = {}
    calls = tokens = sympy.Integer(0)
    if flow.observers:
        # Overlays price every call and token of the request: name the two sums once, so
        # each overlay's cost stays a short expression (and derivatives stay linear).
        calls, tokens = sympy.Symbol("_calls", real=True), sympy.Symbol("_tokens", real=True)
        definitions.append((calls, sympy.Add(*[visits[n] for n, d in g.nodes(data=True) if d["model_call"]])))
        definitions.append((tokens, sympy.Add(*[visits[n] * d["tokens"] for n, d in g.nodes(data=True)
                                                 if d["tokens"] is not None])))
    for n, data in g.nodes(data=True):
        overlay = data.get("overlay")
        if overlay is not None:
            node_cost[n] = overlay.sample * (overlay.per_request + overlay.per_call * calls + overlay.per_token * tokens)
        else:
            node_cost[n] = data["cost"]
    # Visits of nodes with the same per-visit cost (the attempts of one component) are
    # summed before multiplying: fewer operations in the generated code.
    same_cost: dict[str, dict[sympy.Expr, list[sympy.Expr]]] = {cat: {} for cat in ir.CATEGORIES}
    success_terms = []
    for n, data in g.nodes(data=True):
        if data["outcome"] == "success":
            success_terms.append(visits[n])
            continue
        if data["outcome"] == "failure":
            continue
        if node_cost[n] != 0:
            same_cost[data["category"]].setdefault(node_cost[n], []).append(visits[n])
        leaving = sympy.Add(*[g.edges[n, m]["probability"] for m in g.successors(n)])
        leftover = 1 - leaving
        if leftover != 0:
            success_terms.append(visits[n] * leftover)
    category_exprs = {cat: sympy.Add(*[cost * group[0] if len(group) == 1 else
                                       sympy.Mul(cost, sympy.Add(*group), evaluate=False)
                                       for cost, group in groups.items()])
                      for cat, groups in same_cost.items()}
    fixed_by_category = {cat: sympy.Add(*[f.monthly for f in arch.fixed.values() if f.category == cat])
                         for cat in ir.CATEGORIES}
    node_latency: dict[str, sympy.Expr] = {}
    latency_per_request = latency_variance = None
    if arch.has_latency:
        # time is a reward like cost: a request's expected time is Σ visits × time per visit
        node_latency = {n: data["latency"] * SECONDS_PER_DAY for n, data in g.nodes(data=True)
                        if data["outcome"] is None}
        latency_per_request = _sum([_times(t, visits[n]) for n, t in node_latency.items() if t != 0])
        remaining = _expected_remaining(g, condensed, groups, order, node_latency, new_symbol, definitions)
        # E[R²] = Σᵢ vᵢ tᵢ (2 hᵢ − tᵢ), with hᵢ the expected time from node i on (tᵢ included):
        # E[Nᵢ Nⱼ] = vᵢ Nᵢⱼ + vⱼ Nⱼᵢ − [i = j] vᵢ for the visit counts of an absorbing chain
        second = sympy.Add(*[visits[n] * t * (2 * remaining[n] - t) for n, t in node_latency.items() if t != 0])
        latency_variance = second - latency_per_request ** 2
    return CostModel(
        arch=arch, flow=flow, visits=visits, definitions=definitions, node_cost=node_cost,
        cost_per_request=sympy.Add(*category_exprs.values()), by_category=category_exprs,
        p_success=sympy.Add(*success_terms), requests_per_month=arch.traffic * arch.month_days,
        fixed_monthly=sympy.Add(*fixed_by_category.values()), fixed_by_category=fixed_by_category,
        loops=loops, node_latency=node_latency, latency_per_request=latency_per_request,
        latency_variance=latency_variance)


def _times(probability: sympy.Expr, visits: sympy.Symbol) -> sympy.Expr:
    """probability × visits, built without sympy's canonicalization (the bulk of compile
    time on big architectures; the generated code does not need it)."""
    return visits if probability == 1 else sympy.Mul(probability, visits, evaluate=False)


def _sum(terms: list) -> sympy.Expr:
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


def _expected_remaining(g, condensed, groups, order, reward: dict, new_symbol, definitions) -> dict:
    """h = t + P h: for every transient node, the expected reward (seconds) from a visit to
    it until the walk ends, its own included — the backward twin of the visits, solved one
    strongly connected component at a time in reverse topological order."""
    remaining: dict[str, sympy.Expr] = {}
    components = list(nx.lexicographical_topological_sort(condensed, key=lambda c: min(order[n] for n in groups[c])))
    for c in reversed(components):
        scc = sorted(groups[c], key=order.__getitem__)
        if all(n not in reward for n in scc):   # outcomes: nothing follows
            for n in scc:
                remaining[n] = sympy.Integer(0)
            continue
        inside = set(scc)
        b = []
        for node in scc:
            later = [_times(g.edges[node, m]["probability"], remaining[m]) for m in g.successors(node)
                     if m not in inside and remaining[m] != 0]
            terms = ([reward[node]] if reward[node] != 0 else []) + later
            if len(scc) == 1 and not g.has_edge(node, node):
                symbol = new_symbol("h")
                definitions.append((symbol, _sum(terms)))
                remaining[node] = symbol
                break
            if terms:
                symbol = new_symbol("b")
                definitions.append((symbol, sympy.Add(*terms)))
                b.append(symbol)
            else:
                b.append(sympy.Integer(0))
        else:
            for node, value in zip(scc, _solve_loop(g, scc, b, new_symbol, definitions, backward=True)):
                remaining[node] = value
    return remaining


def _solve_loop(g, scc: list[str], b: list[sympy.Expr], new_symbol, definitions,
                backward: bool = False) -> list[sympy.Expr]:
    """Solve (I - P_SSᵀ) v = b (or, `backward`, (I - P_SS) h = b) by Gaussian elimination,
    naming every intermediate value.

    I - Pᵀ of a substochastic P is column diagonally dominant (I - P row diagonally
    dominant), so elimination without pivoting is stable; naming intermediates keeps each definition small, so the work
    grows with the loop's fill-in rather than with the size of a closed-form inverse.
    """
    inside = {n: i for i, n in enumerate(scc)}
    k = len(scc)
    rows: list[dict[int, sympy.Expr]] = [{i: _ONE} for i in range(k)]
    for u in scc:
        for v in g.successors(u):
            if v in inside:
                r, c = (inside[u], inside[v]) if backward else (inside[v], inside[u])
                rows[r][c] = rows[r].get(c, sympy.Integer(0)) - g.edges[u, v]["probability"]
    rhs = list(b)

    def name(expr: sympy.Expr, prefix: str) -> sympy.Expr:
        if expr.is_Atom:
            return expr
        symbol = new_symbol(prefix)
        definitions.append((symbol, expr))
        return symbol

    for i in range(k):
        pivot = rows[i][i] = name(rows[i][i], "a")
        for r in range(i + 1, k):
            below = rows[r].get(i)
            if below is None or below == 0:
                continue
            factor = name(below / pivot, "f")
            del rows[r][i]
            for c, value in rows[i].items():
                if c <= i:
                    continue
                rows[r][c] = name(rows[r].get(c, sympy.Integer(0)) - factor * value, "a")
            if rhs[i] != 0:
                rhs[r] = name(rhs[r] - factor * rhs[i], "b")
    solution: list[sympy.Expr] = [sympy.Integer(0)] * k
    for i in reversed(range(k)):
        acc = rhs[i] - sympy.Add(*[value * solution[c] for c, value in rows[i].items() if c > i])
        solution[i] = name(acc / rows[i][i], "x")
    return solution
