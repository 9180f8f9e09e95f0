"""An independent numeric solve of the lowered chain, for tests: expected visits of every
node by a dense solve per strongly connected component (numpy), from the lowered graph's
edge probabilities evaluated one by one — it shares nothing with the generated evaluator
but the graph."""

from __future__ import annotations

import networkx as nx
import numpy as np

from llmarch.compiler import ir
from llmarch.compiler.codegen import numeric


def lowered_visits(compiled, parameters: dict[str, float]) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """(visits per lowered node, probability per lowered edge) at `parameters` (declared units)."""
    arch, flow = compiled.arch, compiled.flow
    g = flow.graph
    env = {p.symbol: parameters[name] for name, p in arch.parameters.items()}   # symbols hold declared units
    env[ir.FAILURE_SWITCH] = 1.0
    probability = {(u, v): float(numeric(d["probability"], env)) for u, v, d in g.edges(data=True)}
    order = {n: i for i, n in enumerate(g.nodes)}
    condensed = nx.condensation(g)
    members: dict[int, list[str]] = {}
    for node, c in condensed.graph["mapping"].items():
        members.setdefault(c, []).append(node)
    visits: dict[str, float] = {}
    for c in nx.lexicographical_topological_sort(condensed, key=lambda c: min(order[n] for n in members[c])):
        scc = sorted(members[c], key=order.__getitem__)
        inside = {n: i for i, n in enumerate(scc)}
        b = np.zeros(len(scc))
        for i, node in enumerate(scc):
            b[i] = (1.0 if node == flow.entry else 0.0) + sum(
                probability[u, node] * visits[u] for u in g.predecessors(node) if u not in inside)
        a = np.eye(len(scc))
        for u in scc:
            for v in g.successors(u):
                if v in inside:
                    a[inside[v], inside[u]] -= probability[u, v]
        for node, value in zip(scc, np.linalg.solve(a, b)):
            visits[node] = float(value)
    return visits, probability
