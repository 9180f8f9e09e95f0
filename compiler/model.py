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
_ZERO = sympy.Integer(0)
_TWO = sympy.Integer(2)
_MINUS_ONE = sympy.Integer(-1)


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
    factors: dict[tuple, "_Factors"] = {}      # each loop's elimination, kept for a second right-hand side
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
        solution, factors[tuple(scc)] = _solve_loop(g, scc, b, new_symbol, definitions)
        for node, value in zip(scc, solution):
            symbol = new_symbol("v")
            visits[node] = symbol
            definitions.append((symbol, value))

    for price in arch.prices.values():
        if price.gpu is not None:
            # a self-hosted model's demand: the tokens a request sends it (pass `hosting`)
            definitions.append((price.gpu.tokens, _sum([sympy.Mul(tokens, visits[node], evaluate=False)
                                                        for node, tokens in flow.calls_on(arch, price.name)
                                                        if tokens != 0])))
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
        seconds: dict[sympy.Expr, sympy.Expr] = {}     # a time in days -> its seconds, named once
        plain: dict[sympy.Expr, sympy.Expr] = {}       # ... and as an expression (for the export)
        named: dict[str, sympy.Expr] = {}
        for n, data in g.nodes(data=True):
            if data["outcome"] is not None:
                continue
            days = data["latency"]
            if days not in seconds:
                value = plain[days] = days * SECONDS_PER_DAY
                if value.is_Number:
                    seconds[days] = value
                else:
                    # the attempts of a component share one time: a name keeps the chain short
                    symbol = new_symbol("t")
                    definitions.append((symbol, value))
                    seconds[days] = symbol
            named[n] = seconds[days]
            node_latency[n] = plain[days]
        expected = new_symbol("l")
        definitions.append((expected, _sum([_times(t, visits[n]) for n, t in named.items() if t != 0])))
        latency_per_request = expected
        before = _time_before(g, condensed, groups, order, flow.entry, visits, named, factors, new_symbol,
                              definitions)
        # R = Σₖ t(Xₖ) over the steps k of the walk: R² = Σₖ t(Xₖ)² + 2 Σₖ t(Xₖ)·(time before step k),
        # so E[R²] = Σₙ vₙ tₙ² + 2 Σₙ tₙ aₙ with aₙ the expected time spent before the visits to n
        second = _sum([_mul(t, _add(_mul(visits[n], t), _mul(_TWO, before[n])))
                       for n, t in named.items() if t != 0])
        latency_variance = sympy.Add(second, sympy.Mul(-1, sympy.Pow(expected, 2, evaluate=False), evaluate=False),
                                     evaluate=False)
    return CostModel(
        arch=arch, flow=flow, visits=visits, definitions=definitions, node_cost=node_cost,
        cost_per_request=sympy.Add(*category_exprs.values()), by_category=category_exprs,
        p_success=sympy.Add(*success_terms), requests_per_month=arch.traffic * arch.month_days,
        fixed_monthly=sympy.Add(*fixed_by_category.values()), fixed_by_category=fixed_by_category,
        loops=loops, node_latency=node_latency, latency_per_request=latency_per_request,
        latency_variance=latency_variance)


def _mul(*args: sympy.Expr) -> sympy.Expr:
    """`sympy.Mul(*args, evaluate=False)` for arguments that are already sympy objects,
    without sympify, the constructor's post-processors and the commutativity check (what
    `evaluate=False` still pays for on every call; every quantity here is a real number):
    ones dropped, as the constructor drops them."""
    args = tuple(a for a in args if a is not _ONE)
    if not args:
        return _ONE
    return args[0] if len(args) == 1 else sympy.Mul._from_args(args, True)


def _add(*args: sympy.Expr) -> sympy.Expr:
    """`sympy.Add(*args, evaluate=False)` likewise: zeros dropped."""
    args = tuple(a for a in args if a is not _ZERO)
    if not args:
        return _ZERO
    return args[0] if len(args) == 1 else sympy.Add._from_args(args, True)


def _times(probability: sympy.Expr, visits: sympy.Symbol) -> sympy.Expr:
    """probability × visits, built without sympy's canonicalization (the bulk of compile
    time on big architectures; the generated code does not need it)."""
    return visits if probability == 1 else _mul(probability, visits)


def _sum(terms: list) -> sympy.Expr:
    if not terms:
        return sympy.Integer(0)
    return terms[0] if len(terms) == 1 else _add(*terms)


def _time_before(g, condensed, groups, order, entry, visits, reward: dict, factors: dict, new_symbol,
                 definitions) -> dict:
    """aₙ = Σᵤ P(u, n) · (aᵤ + tᵤ · vᵤ): the expected time a walk has spent before its visits
    to n, summed over those visits — solved like the visits themselves, one strongly
    connected component at a time, a loop reusing the elimination of its visits (only the
    right-hand side is new)."""
    before: dict[str, sympy.Expr] = {}

    def carried(u: str) -> list:
        t = reward.get(u, 0)
        out = [] if t == 0 else [_mul(t, visits[u])]
        return out + ([before[u]] if u in before and before[u] != 0 else [])

    for c in nx.lexicographical_topological_sort(condensed, key=lambda c: min(order[n] for n in groups[c])):
        scc = sorted(groups[c], key=order.__getitem__)
        if len(scc) == 1 and not g.has_edge(scc[0], scc[0]):
            node = scc[0]
            terms = []
            for u in g.predecessors(node):
                inflow = carried(u)
                if inflow:
                    terms.append(_times(g.edges[u, node]["probability"], _sum(inflow)))
            if terms:
                symbol = new_symbol("w")
                definitions.append((symbol, _sum(terms)))
                before[node] = symbol
            else:
                before[node] = sympy.Integer(0)
            continue
        inside = set(scc)
        b = []
        for node in scc:
            terms = []
            for u in g.predecessors(node):
                # from inside the loop only the time carried in is known; a_u itself is solved for
                inflow = carried(u) if u not in inside else (
                    [_mul(reward[u], visits[u])] if reward.get(u, 0) != 0 else [])
                if inflow:
                    terms.append(_times(g.edges[u, node]["probability"], _sum(inflow)))
            if terms:
                symbol = new_symbol("b")
                definitions.append((symbol, _sum(terms)))
                b.append(symbol)
            else:
                b.append(sympy.Integer(0))
        for node, value in zip(scc, factors[tuple(scc)].solve(b, new_symbol, definitions)):
            before[node] = value
    return before


@dataclass
class _Factors:
    """A loop's elimination: the row operations (row r −= factor × row i) in order, and the
    upper-triangular rows left (pivots on the diagonal), so that another right-hand side is
    solved without eliminating again."""

    operations: list[tuple[int, int, sympy.Expr]]
    rows: list[dict[int, sympy.Expr]]

    def solve(self, b: list[sympy.Expr], new_symbol, definitions) -> list[sympy.Expr]:
        # built without sympy's canonicalization: this right-hand side is dense, and the
        # generated code does not need it (as `_times`)
        rhs = list(b)
        for r, i, factor in self.operations:
            if rhs[i] != 0:
                rhs[r] = _named(_add(rhs[r], _mul(_MINUS_ONE, factor, rhs[i])),
                                "b", new_symbol, definitions)
        return _back_substitute(self.rows, rhs, new_symbol, definitions, evaluate=False)


def _named(expr: sympy.Expr, prefix: str, new_symbol, definitions) -> sympy.Expr:
    if expr.is_Atom:
        return expr
    symbol = new_symbol(prefix)
    definitions.append((symbol, expr))
    return symbol


def _back_substitute(rows, rhs, new_symbol, definitions, evaluate: bool = True) -> list[sympy.Expr]:
    k = len(rows)
    solution: list[sympy.Expr] = [sympy.Integer(0)] * k
    for i in reversed(range(k)):
        if evaluate:
            acc = rhs[i] - sympy.Add(*[value * solution[c] for c, value in rows[i].items() if c > i])
            solution[i] = _named(acc / rows[i][i], "x", new_symbol, definitions)
            continue
        terms = [rhs[i]] if rhs[i] != 0 else []
        terms += [_mul(_MINUS_ONE, value, solution[c]) for c, value in rows[i].items()
                  if c > i and solution[c] != 0]
        acc = _sum(terms)
        solution[i] = acc if acc == 0 else _named(
            _mul(acc, sympy.Pow(rows[i][i], _MINUS_ONE, evaluate=False)), "x", new_symbol, definitions)
    return solution


def _solve_loop(g, scc: list[str], b: list[sympy.Expr], new_symbol,
                definitions) -> tuple[list[sympy.Expr], _Factors]:
    """Solve (I - P_SSᵀ) v = b by Gaussian elimination, naming every intermediate value;
    also return the elimination, for another right-hand side.

    I - Pᵀ of a substochastic P is column diagonally dominant, so elimination without
    pivoting is stable; naming intermediates keeps each definition small, so the work
    grows with the loop's fill-in rather than with the size of a closed-form inverse.
    """
    inside = {n: i for i, n in enumerate(scc)}
    k = len(scc)
    rows: list[dict[int, sympy.Expr]] = [{i: _ONE} for i in range(k)]
    for u in scc:
        for v in g.successors(u):
            if v in inside:
                r, c = inside[v], inside[u]
                rows[r][c] = rows[r].get(c, sympy.Integer(0)) - g.edges[u, v]["probability"]
    rhs = list(b)
    operations: list[tuple[int, int, sympy.Expr]] = []

    def name(expr: sympy.Expr, prefix: str) -> sympy.Expr:
        return _named(expr, prefix, new_symbol, definitions)

    for i in range(k):
        pivot = rows[i][i] = name(rows[i][i], "a")
        for r in range(i + 1, k):
            below = rows[r].get(i)
            if below is None or below == 0:
                continue
            factor = name(below / pivot, "f")
            operations.append((r, i, factor))
            del rows[r][i]
            for c, value in rows[i].items():
                if c <= i:
                    continue
                rows[r][c] = name(rows[r].get(c, sympy.Integer(0)) - factor * value, "a")
            if rhs[i] != 0:
                rhs[r] = name(rhs[r] - factor * rhs[i], "b")
    return _back_substitute(rows, rhs, new_symbol, definitions), _Factors(operations, rows)
