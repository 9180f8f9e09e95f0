"""The report's summary as Markdown, for a pull request or a design document."""

from __future__ import annotations

import html
import re
from typing import Mapping, Optional


from ..budgets import show_value as _budget_text
from ..output import (COMPONENT_HEADER, OVERHEAD_HEADER, category_rows, component_rows, markdown_table, overhead_rows,
                      price_rows, summary_rows)
from ..present import PRICE_SOURCE_HEADER
from .capacity import capacity_markdown, latency_markdown
from .facts import gather
from .htmlkit import pct, pct4, usd
from .settings import MARKDOWN_COMPONENTS
from .uncertainty import uncertainty_markdown


# --- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md_text(text: str) -> str:
    """User text in Markdown: no markup, no HTML."""
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def report_markdown(model_or_compiled, scenario: Optional[str] = None, sets: Optional[Mapping] = None) -> str:
    """The report's summary as Markdown, for a pull-request comment or a design document:
    totals, cost vectors, the top components, failure overhead, latency (when the file
    declares time), capacity (when a model declares a limit or the file a peak), every
    scenario, budgets and lint findings. Deterministic."""
    compiled = getattr(model_or_compiled, "compiled", model_or_compiled)
    facts = gather(compiled, scenario, sets, analyses=False)
    r = facts.result
    title = compiled.arch.title + (f" — scenario {scenario}" if scenario else "")
    share = r.failure_overhead_per_request / r.cost_per_request if r.cost_per_request else 0.0
    out = [f"### {_md_text(title)}", ""]
    if facts.sets:
        out += ["With " + ", ".join(f"`{k}={v}`" for k, v in facts.sets.items()) + ".", ""]
    out += [f"**{usd(r.monthly_total)} a month** · {usd(r.cost_per_request, True)} per request · "
            f"{usd(r.cost_per_success, True)} per successful request · P(success) {pct4(r.p_success)} · "
            f"failure overhead {pct(share)} of the request", ""]
    out += markdown_table(["", ""], summary_rows(r), right={1})
    out += uncertainty_markdown(facts.uncertainty) + [""]
    if facts.uncertainty_error:
        out += [f"Over the guesses: the samples could not be priced ({_md_text(facts.uncertainty_error)}).", ""]
    out += ["#### Cost vectors", ""] + markdown_table(["cost vector", "per month", "share"], category_rows(r), right={1, 2})
    rows = component_rows(r)
    shown = rows[:MARKDOWN_COMPONENTS]
    out += ["", f"#### Top components ({len(shown)} of {len(rows)})", ""]
    out += markdown_table(COMPONENT_HEADER, [[f"`{x[0]}`"] + x[1:] for x in shown], right={3, 4, 5, 6, 7, 8})
    overhead = overhead_rows(r)
    if overhead:
        out += ["", "#### Failure overhead", "",
                f"Happy path {usd(r.happy_path_monthly)} a month, system {usd(r.monthly_total)}: retries and "
                f"fallbacks add {usd(r.failure_overhead_monthly)} a month ({pct(share)} of the request).", ""]
        out += markdown_table(OVERHEAD_HEADER, [[f"`{x[0]}`"] + x[1:] for x in overhead[:MARKDOWN_COMPONENTS]],
                         right={1, 2, 3, 4, 5})
    out += latency_markdown(r)
    if facts.capacity_error:
        out += ["", "#### Capacity", "", "Unavailable at these values: " + _md_text(facts.capacity_error)]
    out += capacity_markdown(facts.capacity)
    if r.prices:
        out += ["", "#### Model prices", ""]
        out += markdown_table(PRICE_SOURCE_HEADER, [[f"`{x[0]}`"] + [_md_text(c) for c in x[1:]]
                                                    for x in price_rows(r)], right=set())
    out += ["", "#### Scenarios", ""]
    table = []
    for row in facts.scenarios:
        name = "(defaults)" if row.name is None else f"`{row.name}`"
        if row.name == scenario:
            name = f"**{name}**"
        if row.result is None:
            table.append([name, "error: " + _md_text(row.error or ""), "", "", ""])
            continue
        x = row.result
        table.append([name, usd(x.monthly_total), usd(x.cost_per_request, True), usd(x.cost_per_success, True),
                      pct4(x.p_success)])
    out += markdown_table(["scenario", "monthly total", "per request", "per success", "P(success)"], table,
                     right={1, 2, 3, 4})
    out += ["", "#### Budgets", ""]
    if facts.budgets:
        out += markdown_table(["budget", "value", "margin", "verdict"],
                         [[f"`{b.budget.metric} {b.budget.op} {_budget_text(b.budget.metric, b.budget.limit)}`",
                           _budget_text(b.budget.metric, b.value), _budget_text(b.budget.metric, b.margin),
                           "holds" if b.holds else "**does not hold**"] for b in facts.budgets], right={1, 2})
    else:
        out.append("No budget applies to this scenario.")
    out += ["", "#### Lint findings", ""]
    if facts.findings_error:
        out.append("Lint could not run: " + _md_text(facts.findings_error))
    elif not facts.findings:
        out.append("No cost archetype found.")
    else:
        for d in facts.findings:
            where = f" `{d.span.file.replace('`', '')}:{d.span.line}`" if d.span else ""
            out.append(f"- **{d.code}**{where}: {_md_inline(d.message)}"
                       + (f" — {_md_inline(d.help)}" if d.help else ""))
    return "\n".join(out) + "\n"


def _md_inline(text: str) -> str:
    """A diagnostic's message: its `code spans` stay, the rest is escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # unbalanced backticks: escape everything
        return _md_text(text)
    return "".join(_md_text(p) if k % 2 == 0 else f"`{p}`" for k, p in enumerate(parts))
