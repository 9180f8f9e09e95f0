"""Throttling: what a provider's limits do to a request when the traffic asks for more.

The rule (docs/capacity.md#throttling): a model whose offered demand D exceeds a limit L
refuses the share θ = max(0, 1 − L ÷ D) of its calls with HTTP 429, the largest share over
its limits. A refused call costs nothing and takes no time, and counts as a failed attempt:
the component retries it after its `backoff` (attempt i + 1), falls back when its attempts
are spent (`fallback`, `fallback_model`), or the request fails — exactly as a call that
fails with `fail_rate`, so an attempt now fails with 1 − (1 − f)(1 − θ). A refused call on
a `fallback_model` copy fails the request. Retries are offered demand too, so θ is a fixed
point: θ = max(0, 1 − L ÷ D(θ)), found by iterating from θ = 0 (the first iterate is the
share `capacity` shows without feedback).

Computed numerically at one scenario's values, at a given traffic (the mean, and the mean
× `peak`): the chain is lowered again with the throttled failure rates and solved with
numpy, strongly connected component by component.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import numpy as np
import sympy

from . import ir
from .codegen import numeric
from .lower import lower
from .units import SECONDS_PER_DAY

__all__ = ["Throttled", "throttle", "demand_terms", "demand_per_request", "demand", "limit_value", "MAX_ITERATIONS"]

MAX_ITERATIONS = 500
_CLOSE = 1e-10
_MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Throttled:
    """A request's figures at one traffic with the limits enforced, against the same
    traffic without them."""

    traffic: float                     # requests per day
    shares: dict[str, float]           # model -> share of its calls refused (θ)
    binding: dict[str, str]            # model -> the limit that sets θ
    iterations: int
    converged: bool
    cost_per_request: float
    latency_per_request: Optional[float]
    p_success: float
    free_cost_per_request: float       # without the limits
    free_latency_per_request: Optional[float]
    free_p_success: float

    @property
    def throttles(self) -> bool:
        return any(s > 0 for s in self.shares.values())

    def to_dict(self) -> dict:
        return {"traffic": self.traffic, "shares": dict(self.shares), "binding": dict(self.binding),
                "iterations": self.iterations, "converged": self.converged,
                "cost_per_request": self.cost_per_request, "latency_per_request": self.latency_per_request,
                "p_success": self.p_success,
                "without_limits": {"cost_per_request": self.free_cost_per_request,
                                   "latency_per_request": self.free_latency_per_request,
                                   "p_success": self.free_p_success}}


def demand_terms(arch: ir.Architecture, flow) -> dict[str, dict[str, list[tuple[str, sympy.Expr]]]]:
    """model -> limit -> [(lowered node, what one visit asks)] over the nodes that call the
    model (every attempt; a `fallback_model` copy on the fallback model): 1 call (`rpm`), its
    tokens in and out (`tpm`, `input_tpm`, `output_tpm`), its seconds (`concurrency`, when it
    has a time). The capacity table, the fixed point and the report's script all sum these."""
    zero = sympy.Integer(0)
    terms: dict[str, dict[str, list]] = {}
    for comp in arch.components.values():
        if comp.kind == "observe":
            continue
        tokens_in = comp.input_tokens if comp.input_tokens is not None else zero
        tokens_out = comp.output_tokens if comp.output_tokens is not None else zero
        for node in flow.nodes_of[comp.name]:
            clone = "@" in node
            price = comp.fallback_model if clone else (arch.prices.get(comp.model) if comp.model else None)
            if price is None:
                continue
            t = terms.setdefault(price.name, {key: [] for key in ir.LIMIT_FIELDS})
            t["rpm"].append((node, sympy.Integer(1)))
            t["tpm"].append((node, tokens_in + tokens_out))
            t["input_tpm"].append((node, tokens_in))
            t["output_tpm"].append((node, tokens_out))
            call_time = comp.fallback_latency if clone else comp.latency
            if call_time is not None:
                t["concurrency"].append((node, call_time * SECONDS_PER_DAY))
    return terms


def demand_per_request(arch: ir.Architecture, flow, visits: dict, env: dict) -> dict[str, dict[str, float]]:
    """model -> limit -> what one request asks of it, Σ expected visits × the amount of one
    visit (`demand_terms`) at `env`'s values."""
    return {model: {key: sum(visits[node] * float(numeric(amount, env)) for node, amount in rows)
                    for key, rows in limits.items()}
            for model, limits in demand_terms(arch, flow).items()}


def limit_value(limit: str, value, env) -> float:
    """A limit in the unit it is shown in: per minute for rates (held per day), requests in
    flight for `concurrency`."""
    x = float(numeric(value, env))
    return x if limit == "concurrency" else x / _MINUTES_PER_DAY


def demand(limit: str, per_request: float, per_day: float) -> float:
    """The demand on a limit, in its unit, of `per_day` requests each asking `per_request`:
    per minute for rates, requests in flight (Little's law) for `concurrency`."""
    if limit == "concurrency":
        return per_day / SECONDS_PER_DAY * per_request
    return per_day / _MINUTES_PER_DAY * per_request


def throttle(arch: ir.Architecture, flow, evaluation, traffics) -> list[Throttled]:
    """The fixed point of the throttled shares at each of `traffics` (requests a day), see
    the module; the chain without limits is solved, and lowered with the shares as
    symbols, once for all of them."""
    env = dict(evaluation.env)
    env[ir.FAILURE_SWITCH] = 1.0
    limits = {p.name: [(key, limit_value(key, value, env)) for key, value, _ in p.limits]
              for p in arch.prices.values() if p.limits}
    free = _solve(arch, flow, env, {})
    # lowered once with a symbol for each model's share; each round evaluates it at θ
    symbols = {m: sympy.Symbol(f"_throttle_{i}", real=True) for i, m in enumerate(limits)}
    throttled_arch = _throttled_arch(arch, symbols) if limits else arch
    throttled_flow = lower(throttled_arch) if limits else flow
    free_amounts = demand_per_request(arch, flow, free.visits, env)
    out = []
    for per_day in traffics:
        shares = dict.fromkeys(limits, 0.0)
        binding: dict[str, str] = {}
        figures, iterations, converged = free, 0, not limits
        for iterations in range(1, MAX_ITERATIONS + 1 if limits else 1):
            amounts = free_amounts if figures is free else demand_per_request(throttled_arch, figures.flow,
                                                                               figures.visits, env)
            new = {}
            for model, rows in limits.items():
                worst, which = 0.0, None
                for key, value in rows:
                    d = demand(key, amounts.get(model, {}).get(key, 0.0), per_day)
                    share = max(0.0, 1.0 - value / d) if d > 0 else 0.0
                    if share > worst:
                        worst, which = share, key
                new[model] = worst
                if which is not None:
                    binding[model] = which
            change = max((abs(new[m] - shares[m]) for m in new), default=0.0)
            shares = new
            if not any(shares.values()):
                figures, converged = free, True
                break
            env.update({symbols[m]: shares[m] for m in symbols})
            figures = _solve(throttled_arch, throttled_flow, env, shares)
            if change < _CLOSE:
                converged = True
                break
        binding = {m: k for m, k in binding.items() if shares.get(m, 0) > 0}
        out.append(Throttled(per_day, shares, binding, iterations, converged, figures.cost, figures.latency,
                             figures.p_success, free.cost, free.latency, free.p_success))
    return out


@dataclass
class _Figures:
    flow: object
    visits: dict
    cost: float
    latency: Optional[float]
    p_success: float


def _throttled_arch(arch: ir.Architecture, shares: dict[str, sympy.Symbol]) -> ir.Architecture:
    """`arch` with the calls to each limited model failing the more: f → 1 − (1 − f)(1 − θ),
    and a refused call costing nothing and taking no time (its visit's cost and time × (1 − θ))."""
    components = {}
    for name, comp in arch.components.items():
        price = arch.prices.get(comp.model) if comp.model else None
        changes = {}
        if price is not None and price.name in shares:
            keep = 1 - shares[price.name]
            changes.update(fail_rate=1 - (1 - comp.fail_rate) * keep, cost=comp.cost * keep)
            if comp.latency is not None:
                changes["latency"] = comp.latency * keep
        if comp.fallback_model is not None and comp.fallback_model.name in shares:
            keep = 1 - shares[comp.fallback_model.name]
            changes["fallback_cost"] = comp.fallback_cost * keep
            if comp.fallback_latency is not None:
                changes["fallback_latency"] = comp.fallback_latency * keep
        components[name] = dataclasses.replace(comp, **changes) if changes else comp
    return dataclasses.replace(arch, components=components)


def _solve(arch: ir.Architecture, flow, env: dict, shares: dict[str, float]) -> _Figures:
    """Visits, cost, time and P(success) of a request, the limits' shares applied."""
    from .spread import _cost_rewards

    g = flow.graph
    nodes = [n for n in g.nodes if g.nodes[n]["outcome"] is None]
    index = {n: i for i, n in enumerate(nodes)}
    out: dict[str, list[tuple[str, float]]] = {}
    for u, v, d in g.edges(data=True):
        if u in index:
            out.setdefault(u, []).append((v, float(numeric(d["probability"], env))))
    # a refused call on a `fallback_model` copy fails the request
    for comp in arch.components.values():
        if comp.fallback_model is None or shares.get(comp.fallback_model.name, 0.0) <= 0:
            continue
        clone = f"{comp.name}@{comp.fallback_model.name}"
        if clone in index:
            keep = 1 - shares[comp.fallback_model.name]
            out[clone] = [(v, p * keep) for v, p in out.get(clone, [])] + [("failure", 1 - keep)]
    visits = _visits(g, nodes, index, out, flow.entry)
    success = 0.0
    for n in nodes:
        leaving = 0.0
        for v, p in out.get(n, []):
            leaving += p
            if g.nodes[v]["outcome"] == "success":
                success += visits[n] * p
        success += visits[n] * max(0.0, 1.0 - leaving)
    reward = _cost_rewards(flow, env)
    cost = sum(visits[n] * reward[n] for n in nodes)
    latency = None
    if arch.has_latency:
        latency = sum(visits[n] * _value(g.nodes[n]["latency"], env) for n in nodes) * SECONDS_PER_DAY
    return _Figures(flow, visits, cost, latency, success)


def _visits(g, nodes, index, out, entry) -> dict[str, float]:
    """v = e + Pᵀv, solved component by component in topological order (a dense solve for
    each loop)."""
    import networkx as nx

    sub = nx.DiGraph()
    sub.add_nodes_from(nodes)
    sub.add_edges_from((u, v) for u in out for v, _ in out[u] if v in index)
    condensed = nx.condensation(sub)
    members: dict[int, list[str]] = {}
    for node, c in condensed.graph["mapping"].items():
        members.setdefault(c, []).append(node)
    inflow = dict.fromkeys(nodes, 0.0)
    inflow[entry] = 1.0
    visits: dict[str, float] = {}
    for c in nx.topological_sort(condensed):
        scc = members[c]
        if len(scc) == 1 and not any(v == scc[0] for v, _ in out.get(scc[0], [])):
            values = {scc[0]: inflow[scc[0]]}
        else:
            local = {n: i for i, n in enumerate(scc)}
            a = np.eye(len(scc))
            for u in scc:
                for v, p in out.get(u, []):
                    if v in local:
                        a[local[v], local[u]] -= p
            solved = np.linalg.solve(a, np.array([inflow[n] for n in scc]))
            values = dict(zip(scc, solved.tolist()))
        for u, x in values.items():
            visits[u] = x
            for v, p in out.get(u, []):
                if v in index and v not in values:
                    inflow[v] += x * p
    return visits


def _value(expr, env) -> float:
    return 0.0 if expr is None else float(numeric(expr, env))
