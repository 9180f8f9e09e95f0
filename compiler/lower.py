"""Lowering: retries, fallbacks, caches and observability overlays become a plain
probabilistic flow graph.

The result is a networkx `DiGraph`. Each node carries its per-visit cost (sympy, USD), its
time per visit (`latency`, days; a retry's includes the component's `backoff`),
its cost category and its outcome (`success`, `failure` or None); each edge carries its
probability. Probability that leaves a node by no edge ends the request successfully.

- A component with `fail_rate = f` and `attempts = N` becomes attempt nodes `x#1 … x#N`;
  attempt i moves on with 1 − f along the component's edges and with f to attempt i+1;
  the last attempt's f goes to the fallback (a component, a `fallback_model` copy
  `x@model`, or `failure`).
- A cache goes to `on_hit` (default `success`) with its hit rate; its edges carry the miss.
- Observability overlays become nodes visited once per request, in front of the entry;
  their cost depends on the expected model calls and tokens (see `model`).
- A flow that branches as it enters (a template instance whose `in` branches) gets a
  node `start` of its own (kind "start"): it costs nothing and no table counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import sympy

from llmarch.dsl.diagnostics import Collector, SourceCache

from . import ir

__all__ = ["FlowGraph", "lower"]

_ZERO = sympy.Integer(0)


@dataclass
class FlowGraph:
    """The lowered graph plus where each component's nodes are."""

    graph: nx.DiGraph
    entry: str
    nodes_of: dict[str, list[str]]   # component name -> its lowered node ids, in order
    observers: list[str]

    def calls_on(self, arch: ir.Architecture, model: str) -> list[tuple[str, sympy.Expr]]:
        """(node, input + output tokens of one visit) of every lowered node that calls
        `model`: every attempt of a component on it, and the `fallback_model` copies
        (`x@model`) of components falling back to it."""
        calls = []
        for comp in arch.components.values():
            if comp.kind == "observe":
                continue
            tokens = sum((t for t in (comp.input_tokens, comp.output_tokens) if t is not None), _ZERO)
            for node in self.nodes_of[comp.name]:
                on = comp.fallback_model.name if "@" in node else comp.model
                if on == model:
                    calls.append((node, tokens))
        return calls


def lower(arch: ir.Architecture, sources: SourceCache | None = None) -> FlowGraph:
    g = nx.DiGraph()
    phi = ir.FAILURE_SWITCH
    g.add_node("success", label="success", kind="outcome", category="ops", cost=_ZERO, latency=_ZERO, outcome="success",
               component=None, tokens=None, model_call=False, span=None)
    g.add_node("failure", label="failure", kind="outcome", category="ops", cost=_ZERO, latency=_ZERO, outcome="failure",
               component=None, tokens=None, model_call=False, span=None)
    nodes_of: dict[str, list[str]] = {}
    first: dict[str, str] = {"success": "success", "failure": "failure"}
    flow_components = [c for c in arch.components.values() if c.kind != "observe"]
    for comp in flow_components:
        retried = comp.fail_rate != 0
        count = comp.attempts if retried else 1
        ids = [comp.name] if count == 1 else [f"{comp.name}#{i}" for i in range(1, count + 1)]
        latency = comp.latency if comp.latency is not None else _ZERO
        for i, node in enumerate(ids, start=1):
            label = comp.label or comp.name
            g.add_node(node, label=label if count == 1 else f"{label} (attempt {i})", kind=comp.kind,
                       category=comp.category, cost=comp.cost, outcome=None, component=comp.name,
                       latency=latency + comp.backoff if i > 1 else latency,
                       tokens=comp.tokens, model_call=comp.model is not None, span=comp.span)
        if retried and comp.fallback_model is not None:
            clone = f"{comp.name}@{comp.fallback_model.name}"
            g.add_node(clone, label=f"{comp.label or comp.name} on {comp.fallback_model.name}", kind=comp.kind,
                       category=comp.category, cost=comp.fallback_cost, outcome=None, component=comp.name,
                       latency=comp.fallback_latency if comp.fallback_latency is not None else _ZERO,
                       tokens=comp.fallback_tokens, model_call=True, span=comp.span)
            ids.append(clone)
        nodes_of[comp.name] = ids
        first[comp.name] = ids[0]

    out_edges: dict[str, list[ir.Edge]] = {}
    for edge in arch.edges:
        out_edges.setdefault(edge.source, []).append(edge)

    def add(u: str, v: str, p: sympy.Expr, failure: bool, span) -> None:
        if p == 0:
            return
        if g.has_edge(u, v):
            data = g.edges[u, v]
            data["probability"] = data["probability"] + p
            data["failure"] = data["failure"] or failure
        else:
            g.add_edge(u, v, probability=p, failure=failure, span=span)

    for comp in flow_components:
        branches = [(first[e.target], e.probability, e.on_failure, e.span) for e in out_edges.get(comp.name, [])]
        if comp.kind == "cache" and comp.hit_rate is not None:
            h = comp.hit_rate
            branches = [(first[comp.on_hit], h, False, comp.spans.get("hit_rate"))] + [
                (t, (1 - h) * p, failed, span) for t, p, failed, span in branches]
        ids = nodes_of[comp.name]
        attempts = [n for n in ids if "@" not in n]
        f = comp.fail_rate * phi
        retried = comp.fail_rate != 0
        for i, node in enumerate(attempts):
            keep = (1 - f) if retried else 1
            for target, p, failed, span in branches:
                add(node, target, keep * p, failed, span)
            if not retried:
                continue
            span = comp.spans.get("fail_rate")
            if i + 1 < len(attempts):
                add(node, attempts[i + 1], f, True, span)
            elif comp.fallback_model is not None:
                add(node, ids[-1], f, True, comp.spans.get("fallback_model", span))
            elif comp.fallback is not None:
                add(node, first[comp.fallback], f, True, comp.spans.get("fallback", span))
            else:
                add(node, "failure", f, True, span)
        if retried and comp.fallback_model is not None:
            for target, p, failed, span in branches:
                add(ids[-1], target, p, failed, span)

    if arch.entry == "start":
        # a flow that branches as it starts (an instance whose `in` branches): an entry
        # node that costs nothing and is not a component (its kind is "start")
        g.add_node("start", label="start", kind="start", category="ops", cost=_ZERO, latency=_ZERO, outcome=None,
                   component=None, tokens=None, model_call=False, span=None)
        first["start"] = "start"
        for edge in out_edges.get("start", []):
            add("start", first[edge.target], edge.probability, edge.on_failure, edge.span)

    observers = [c.name for c in arch.components.values() if c.kind == "observe"]
    for name in observers:
        comp = arch.components[name]
        g.add_node(name, label=comp.label or name, kind="observe", category=comp.category, cost=_ZERO, latency=_ZERO,
                   outcome=None, component=name, tokens=None, model_call=False, span=comp.span,
                   overlay=comp)
        nodes_of[name] = [name]
    chain = observers + [first[arch.entry]]
    for u, v in zip(chain, chain[1:]):
        g.add_edge(u, v, probability=sympy.Integer(1), failure=False, span=None)
    entry = chain[0]

    collector = Collector(sources)
    reached = nx.descendants(g, entry) | {entry}
    for comp in flow_components:
        if not any(n in reached for n in nodes_of[comp.name]):
            collector.error("E411", f"component `{comp.name}` is never reached from `start`", comp.span,
                            help="connect it in `flow { … }`, name it as a `fallback`, or delete it")
    collector.raise_if_errors()
    return FlowGraph(g, entry, nodes_of, observers)
