"""The architecture as a Mermaid flowchart: Markdown that GitHub renders (a ```` ```mermaid ````
block), for the pull-request comment's collapsed diagram.

One box per declared component with its monthly cost and share of the monthly total (its
`fallback_model` copy included, as in `llmarch render`); the declared flow's arrows with
their branch probabilities; a cache's hits; a retry loop; a fallback or a failure after
the last attempt (dashed); where requests end; observers, priced on every request, from
`start` (dotted); and one box for the fixed monthly costs. Above `MERMAID_COMPONENTS`
components or `MERMAID_ARROWS` arrows, one box per cost vector instead (the way `render
--summary` does it), so the text stays small whatever the architecture's size.

Node ids are generated (`c1`, `v_inference`); every user string goes into a quoted label
through `label`, which writes each character but letters, digits and ` _.,:/$+=-` as a
Mermaid entity code (`#35;`): nothing a user writes can change the chart's structure or
end the Markdown code block.
"""

from __future__ import annotations

import string

from . import ir, present
from .evaluate import Evaluation, numeric
from .pipeline import Compiled
from .vectors import vector_links

__all__ = ["MERMAID_ARROWS", "MERMAID_COMPONENTS", "architecture_mermaid", "label", "summarized"]

#: Above this many components, the chart has one box per cost vector.
MERMAID_COMPONENTS = 40
#: Above this many arrows, too (GitHub's renderer refuses charts of more than 500).
MERMAID_ARROWS = 120
#: A name longer than this is cut (with `…`).
LABEL_CHARS = 60

_SAFE = frozenset(string.ascii_letters + string.digits + " _.,:/$+=-")
_OUTCOMES = ("success", "failure")


def label(*lines: str) -> str:
    """A quoted Mermaid label of `lines` (joined by line breaks): whitespace folded, long
    lines cut, every other character written as an entity code."""
    out = []
    for text in lines:
        text = " ".join(str(text).split())
        if len(text) > LABEL_CHARS:
            text = text[:LABEL_CHARS - 1] + "…"
        out.append("".join(c if c in _SAFE else f"#{ord(c)};" for c in text))
    return '"' + "<br>".join(out) + '"'


def _percent(p: float) -> str:
    return present.percent(p, 3)


def summarized(compiled: Compiled) -> bool:
    """Whether the chart has one box per cost vector: too many components or arrows."""
    arch = compiled.arch
    arrows = len(arch.edges) + sum((c.kind == "cache") + (c.attempts > 1) + (c.fail_rate != 0)
                                   for c in arch.components.values())
    return len(arch.components) > MERMAID_COMPONENTS or arrows > MERMAID_ARROWS


def architecture_mermaid(compiled: Compiled, evaluation: Evaluation) -> str:
    """Deterministic Mermaid text (`flowchart TB`, no code fence) of the architecture at
    `evaluation`'s numbers: component by component, or by cost vector when it is large."""
    if summarized(compiled):
        return _summary(compiled, evaluation)
    arch, result, env = compiled.arch, evaluation.result, evaluation.env
    total = result.monthly_total
    monthly: dict[str, float] = {}
    for row in result.components:
        if row.kind != "fixed":
            monthly[row.component] = monthly.get(row.component, 0.0) + row.monthly
    ids = {name: f"c{i}" for i, name in enumerate(arch.components, start=1)}
    lines = ["flowchart TB", '  start(["start"])']
    used_outcomes: list[str] = []

    def target(name: str) -> str:
        if name in ids:
            return ids[name]
        if name not in used_outcomes:
            used_outcomes.append(name)
        return name

    for name, comp in arch.components.items():
        cost = monthly.get(name, 0.0)
        text = label(name, f"{comp.kind} · {present.money(cost)} / month · "
                           f"{present.share(cost / total if total else 0.0)}")
        shape = {"cache": ("[(", ")]"), "llm": ("(", ")"), "observe": ("[/", "/]")}.get(comp.kind, ("[", "]"))
        lines.append(f"  {ids[name]}{shape[0]}{text}{shape[1]}")
    if arch.fixed:
        fixed = sum(r.monthly for r in result.components if r.kind == "fixed")
        names = ", ".join(list(arch.fixed)[:3]) + (f" and {len(arch.fixed) - 3} more" if len(arch.fixed) > 3 else "")
        lines.append("  fixed[" + label("fixed monthly costs: " + present.money(fixed), names) + "]")
    links: list[str] = []
    if arch.entry != "start":
        links.append(f"  start --> {ids[arch.entry]}")
    out_probability: dict[str, float] = {}
    for edge in arch.edges:
        p = float(numeric(edge.probability, env))
        source = "start" if edge.source == "start" else ids[edge.source]
        if edge.source != "start":
            out_probability[edge.source] = out_probability.get(edge.source, 0.0) + p
        text = ("on failure " if edge.on_failure else "") + (f"p {_percent(p)}" if p != 1 else "")
        arrow = "-.->" if edge.on_failure or edge.target == "failure" else "-->"
        links.append(f"  {source} {arrow}" + (f"|{label(text.strip())}|" if text.strip() else "")
                     + f" {target(edge.target)}")
    for name, comp in arch.components.items():
        me = ids[name]
        if comp.kind == "observe":
            links.append(f"  start -.- {me}")
            continue
        if comp.kind == "cache" and comp.hit_rate is not None:
            links.append(f"  {me} -->|{label('hit ' + _percent(float(numeric(comp.hit_rate, env))))}| "
                         f"{target(comp.on_hit)}")
        if comp.attempts > 1:
            links.append(f"  {me} -.->|{label(f'retry x{comp.attempts - 1} max')}| {me}")
        if comp.fail_rate != 0 and comp.fallback_model is None:
            tries = f"after {comp.attempts} tr{'ies' if comp.attempts > 1 else 'y'}"
            if comp.fallback is not None:
                links.append(f"  {me} -.->|{label('fallback ' + tries)}| {target(comp.fallback)}")
            else:
                links.append(f"  {me} -.->|{label('fails ' + tries)}| {target('failure')}")
        if out_probability.get(name, 0.0) < 1 - 1e-12:
            links.append(f"  {me} --> {target('success')}")
    lines += [f'  {o}(["{o}"])' for o in _OUTCOMES if o in used_outcomes]
    lines += links
    if "failure" in used_outcomes:
        lines.append("  classDef failure fill:#fadbd8,stroke:#c0392b")
        lines.append("  class failure failure")
    return "\n".join(lines) + "\n"


def _summary(compiled: Compiled, evaluation: Evaluation) -> str:
    """One box per cost vector, one arrow per pair of vectors the flow joins (counted)."""
    arch, result, env = compiled.arch, evaluation.result, evaluation.env
    total = result.monthly_total
    members: dict[str, list] = {c: [] for c in ir.CATEGORIES}
    for row in result.components:
        members[row.category].append(row)
    lines = ["flowchart TB", '  start(["start"])']
    for category in ir.CATEGORIES:
        rows = members[category]
        if not rows:
            continue
        components = len({r.component for r in rows if r.kind != "fixed"})
        fixed = sum(r.kind == "fixed" for r in rows)
        counted = " · ".join(part for part in (
            f"{components:,} component{'' if components == 1 else 's'}" if components else "",
            f"{fixed:,} fixed cost{'' if fixed == 1 else 's'}" if fixed else "") if part)
        monthly = result.by_category[category]
        top = sorted(rows, key=lambda r: (-r.monthly, r.name))[:3]
        lines.append(f"  v_{category}[" + label(
            category, counted, f"{present.money(monthly)} / month · {present.share(monthly / total if total else 0.0)}",
            "most expensive: " + ", ".join(r.name for r in top)) + "]")
    links = vector_links(arch, env)
    lines += [f'  {o}(["{o}"])' for o in _OUTCOMES if any(v == o for _, v in links)]
    for (u, v), (count, failures) in links.items():
        arrow = "-.->" if failures == count else "-->"
        lines.append(f"  {u} {arrow}|{label(f'{count:,} arrow' + ('' if count == 1 else 's'))}| {v}")
    return "\n".join(lines) + "\n"
