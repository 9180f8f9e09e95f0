"""Which spans are which component: by default a span (or Langfuse observation) named like
a component is that component, and one named like it on its `fallback_model` is its
fallback copy (the `name@model` row of the cost table). A component's `span = "…"` field
replaces its name with a glob (`*` any text, `?` one character), matched with SQL `LIKE`."""

from __future__ import annotations

from llmarch.compiler import ir

__all__ = ["model_prefixes", "span_map", "like_pattern"]

#: The escape character of the `LIKE` patterns (`LIKE … ESCAPE '!'`, standard SQL).
ESCAPE = "!"


def like_pattern(glob: str) -> str:
    """A glob (`chat gpt-4*`) as a `LIKE` pattern: `%` and `_` taken literally, `*` → `%`, `?` → `_`."""
    out = []
    for ch in glob:
        if ch in (ESCAPE, "%", "_"):
            out.append(ESCAPE + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


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
    """Rows of the `span_map` table (see `queries`): (span pattern, model prefix or None,
    row, component, is a fallback copy, priority: 1 for a `span` glob, 2 for a name)."""
    rows = []
    for comp in arch.components.values():
        if comp.kind == "observe":
            continue
        glob = comp.telemetry_span
        pattern, priority = (like_pattern(glob), 1) if glob is not None else (like_pattern(comp.name), 2)
        rows.append((pattern, None, comp.name, comp.name, False, priority))
        if comp.model is not None and comp.model in arch.prices:
            for prefix in model_prefixes(arch.prices[comp.model]):
                rows.append((pattern, prefix, comp.name, comp.name, False, priority))
        if comp.fallback_model is not None:
            copy = f"{comp.name}@{comp.fallback_model.name}"
            for prefix in model_prefixes(comp.fallback_model):
                rows.append((pattern, prefix, copy, comp.name, True, priority))
    return rows
