"""The summary diagram's arrows, between cost vectors: shared by the Graphviz summary
(`render.summary_dot`) and the Mermaid chart of a pull-request comment (`mermaid`), which
both draw one box per cost vector when a graph is too large to read."""

from __future__ import annotations

from . import ir
from .evaluate import numeric

__all__ = ["vector_links"]


def vector_links(arch: ir.Architecture, env) -> dict[tuple[str, str], list[int]]:
    """(source box, target box) -> [arrows, failure arrows] over the declared edges,
    fallbacks, cache hits, final failures and what no edge takes (success). Boxes are
    `start`, `v_<vector>`, `success` and `failure`."""
    category_of = {name: comp.category for name, comp in arch.components.items()}
    links: dict[tuple[str, str], list[int]] = {}

    def link(source: str, target: str, failure: bool) -> None:
        u = "start" if source == "start" else f"v_{category_of[source]}"
        v = target if target in ("success", "failure") else f"v_{category_of[target]}"
        counts = links.setdefault((u, v), [0, 0])
        counts[0] += 1
        counts[1] += failure

    if arch.entry != "start":
        link("start", arch.entry, False)
    out_probability: dict[str, float] = {}
    for edge in arch.edges:
        link(edge.source, edge.target, edge.on_failure or edge.target == "failure")
        if edge.source != "start":
            out_probability[edge.source] = out_probability.get(edge.source, 0.0) + float(numeric(edge.probability, env))
    for name, comp in arch.components.items():
        if comp.kind == "observe":
            link("start", name, False)
            continue
        if comp.kind == "cache" and comp.hit_rate is not None:
            link(name, comp.on_hit, False)
        if comp.fail_rate != 0 and comp.fallback_model is None:
            link(name, comp.fallback if comp.fallback is not None else "failure", True)
        if out_probability.get(name, 0.0) < 1 - 1e-12:
            link(name, "success", False)     # what no edge takes ends the request here
    return links
