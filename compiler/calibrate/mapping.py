"""Which spans are which component: by default a span (or Langfuse observation) named like
a component is that component, and one named like it on its `fallback_model` is its
fallback copy (the `name@model` row of the cost table)."""

from __future__ import annotations

from llmarch.compiler import ir

__all__ = ["model_prefixes", "span_map"]


def model_prefixes(price: ir.Price) -> list[str]:
    """The model names a span may carry for `price`: the catalog entry and reference
    without the provider (`gpt-4o` for `openai:gpt-4o`), and the file's own name; a span's
    `gen_ai.response.model` (`gpt-4o-2024-08-06`) matches by prefix."""
    names = {price.name.lower()}
    source = price.source
    for ref in (source.reference, source.entry, source.priced_as) if source is not None else ():
        if ref:
            names.add(ref.lower().split(":", 1)[-1])
            names.add(ref.lower())
    return sorted(names)


def span_map(arch: ir.Architecture) -> list[tuple]:
    """Rows of the `span_map` table (see `queries`)."""
    rows = []
    for comp in arch.components.values():
        rows.append((comp.name, None, comp.name, comp.name, False))
        if comp.model is not None and comp.model in arch.prices:
            for prefix in model_prefixes(arch.prices[comp.model]):
                rows.append((comp.name, prefix, comp.name, comp.name, False))
        if comp.fallback_model is not None:
            copy = f"{comp.name}@{comp.fallback_model.name}"
            for prefix in model_prefixes(comp.fallback_model):
                rows.append((comp.name, prefix, copy, comp.name, True))
    return rows
