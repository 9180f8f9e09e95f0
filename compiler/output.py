"""Turn a `CostResult` into what people read: the cost table, its Markdown and JSON, and the
table helpers the other outputs share. Pure and deterministic; numbers are formatted by
`present`. Needs no sympy: the cached numeric path prints through it too."""

from __future__ import annotations

import json
from typing import Optional

from . import present
from .results import CostResult

__all__ = ["cost_table", "cost_markdown", "cost_json", "to_json_text", "text_table", "markdown_table",
           "component_rows", "summary_rows", "overhead_rows", "latency_rows", "latency_summary_rows",
           "LATENCY_HEADER", "category_rows", "price_rows", "COMPONENT_HEADER",
           "OVERHEAD_HEADER", "FORMAT_VERSION"]

#: Of `cost --format json` and `export` (2: the `prices` list).
FORMAT_VERSION = 2


def _usd(x: Optional[float], small: bool = False) -> str:
    return present.money(x, per_request=small)


_num = present.count
_pct = present.share


def component_rows(result: CostResult) -> list[list[str]]:
    rows = []
    for r in sorted(result.components, key=lambda r: (-r.monthly, r.name)):
        rows.append([r.name, r.kind, r.category, _num(r.expected_visits), _usd(r.cost_per_visit, True),
                     _usd(r.cost_per_request, True), _usd(r.monthly), _pct(r.share),
                     "" if r.token_share is None else _pct(r.token_share)])
    return rows


#: `share` is of the monthly total; `of tokens` of the spend on model tokens (the field
#: manual's "fallback alone accounted for 60% of token spend").
COMPONENT_HEADER = ["component", "kind", "category", "visits", "per visit", "per request", "per month", "share",
                    "of tokens"]


def summary_rows(result: CostResult) -> list[list[str]]:
    return [
        ["requests per month", present.whole(result.requests_per_month)],
        ["cost per request", _usd(result.cost_per_request, True)],
        ["P(success)", present.p_success(result.p_success)],
        ["cost per successful request", _usd(result.cost_per_success, True)],
        ["happy-path cost per request", _usd(result.happy_path_cost_per_request, True)],
        ["failure overhead per request", _usd(result.failure_overhead_per_request, True)
         + (f" ({present.share(result.failure_overhead_per_request / result.cost_per_request)} of the request)"
            if result.cost_per_request else "")],
        ["fixed monthly costs", _usd(result.fixed_monthly)],
        # the GPUs are a fixed cost: spread over the month's requests, not in the cost per request
        *([["GPUs spread per request", _usd(result.gpu_per_request, True)]] if result.gpu_monthly is not None else []),
        ["monthly total", _usd(result.monthly_total)],
    ]


def overhead_rows(result: CostResult) -> list[list[str]]:
    """Per component: happy path vs system, and the overhead's share of the request's cost.
    The shares add up to the total failure overhead's share (the summary's `% of the
    request`); a component that failures make cheaper (a paid review that fewer requests
    reach) has a negative overhead and a negative share."""
    rows = []
    for r in sorted(result.components, key=lambda r: (-(r.failure_overhead_per_request or 0.0), r.name)):
        overhead = r.failure_overhead_per_request
        if overhead is None or abs(overhead) < 1e-15:
            continue
        share = _pct(overhead / result.cost_per_request) if result.cost_per_request else ""
        rows.append([r.name, _usd(r.happy_path_cost_per_request, True), _usd(r.cost_per_request, True),
                     _usd(overhead, True), _usd(overhead * result.requests_per_month), share])
    return rows


OVERHEAD_HEADER = ["failure overhead", "happy path", "system", "overhead", "per month", "of request"]


def latency_rows(result: CostResult) -> list[list[str]]:
    """Per component that takes time: the seconds it adds to a request in the happy path and
    in the system (retries, their backoff and fallbacks included), and its share of the
    request's expected time; longest first. Empty when the file declares no latency."""
    if not result.has_latency:
        return []
    total = result.latency_per_request
    rows = []
    for r in sorted(result.components, key=lambda r: (-(r.latency_per_request or 0.0), r.name)):
        if not r.latency_per_request and not r.happy_path_latency_per_request:
            continue
        rows.append([r.name, present.duration(r.happy_path_latency_per_request),
                     present.duration(r.latency_per_request),
                     present.signed_duration(r.latency_per_request - r.happy_path_latency_per_request),
                     _pct(r.latency_per_request / total) if total else ""])
    return rows


LATENCY_HEADER = ["latency", "happy path", "system", "overhead", "of request"]


def latency_summary_rows(result: CostResult) -> list[list[str]]:
    """The expected time of one request, in the system and in the happy path."""
    if not result.has_latency:
        return []
    return [["expected latency per request", present.duration(result.latency_per_request)
             + f" (standard deviation {present.duration(result.latency_std_dev)})"],
            ["happy-path latency per request", present.duration(result.happy_path_latency_per_request)
             + f" (standard deviation {present.duration(result.happy_path_latency_std_dev)})"]]


def price_rows(result: CostResult) -> list[list[str]]:
    """Where each model's prices come from (`present.PRICE_SOURCE_HEADER`), in declaration order."""
    return [present.price_source_cells(p) for p in result.prices]


def category_rows(result: CostResult) -> list[list[str]]:
    total = result.monthly_total
    return [[c, _usd(v), _pct(v / total) if total else "0.0%"] for c, v in result.by_category.items()]


def text_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _title(result: CostResult) -> str:
    return result.architecture + (f" — scenario {result.scenario}" if result.scenario else "")


def cost_table(result: CostResult) -> str:
    out = [_title(result), ""]
    out += text_table(COMPONENT_HEADER, component_rows(result), right={3, 4, 5, 6, 7, 8})
    out += [""] + text_table(["cost vector", "per month", "share"], category_rows(result), right={1, 2})
    overhead = overhead_rows(result)
    if overhead:
        out += [""] + text_table(OVERHEAD_HEADER, overhead, right={1, 2, 3, 4, 5})
    latency = latency_rows(result)
    if latency:
        out += [""] + text_table(LATENCY_HEADER, latency, right={1, 2, 3, 4})
    out += [""] + text_table(["", ""], summary_rows(result) + latency_summary_rows(result), right={1})[2:]
    if result.prices:
        out += [""] + text_table(present.PRICE_SOURCE_HEADER, price_rows(result), right=set())
    if result.uncertain:
        out += ["", "note: " + point_value_note(result)]
    return "\n".join(out) + "\n"


def point_value_note(result: CostResult) -> str:
    """What a reader must know when parameters are uncertain: these are medians, not means."""
    names = ", ".join(f"`{n}`" for n in result.uncertain)
    n = len(result.uncertain)
    return (f"{n} uncertain parameter{'s' if n != 1 else ''} at {'their medians' if n != 1 else 'its median'} "
            f"({names}): a point value, not the expected bill; `llmarch simulate` gives the spread")


def markdown_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    esc = lambda s: s.replace("|", "\\|")
    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return out


def cost_markdown(result: CostResult) -> str:
    out = [f"### {_title(result)}", ""]
    out += markdown_table(["", ""], summary_rows(result) + latency_summary_rows(result), right={1}) + [""]
    out += markdown_table(["cost vector", "per month", "share"], category_rows(result), right={1, 2}) + [""]
    out += markdown_table(COMPONENT_HEADER, [[f"`{r[0]}`"] + r[1:] for r in component_rows(result)], right={3, 4, 5, 6, 7, 8})
    overhead = overhead_rows(result)
    if overhead:
        out += [""] + markdown_table(OVERHEAD_HEADER, [[f"`{r[0]}`"] + r[1:] for r in overhead], right={1, 2, 3, 4, 5})
    latency = latency_rows(result)
    if latency:
        out += [""] + markdown_table(LATENCY_HEADER, [[f"`{r[0]}`"] + r[1:] for r in latency], right={1, 2, 3, 4})
    if result.prices:
        out += [""] + markdown_table(present.PRICE_SOURCE_HEADER, [[f"`{r[0]}`"] + r[1:] for r in price_rows(result)],
                                     right=set())
    if result.uncertain:
        out += ["", "> " + point_value_note(result)]
    return "\n".join(out) + "\n"


def cost_json(result: CostResult) -> dict:
    """The document `llmarch cost --format json` prints (`CostResult.to_dict` with its version)."""
    return {"format_version": FORMAT_VERSION, **result.to_dict()}


def to_json_text(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False, default=_json_default) + "\n"


def _json_default(x):  # pragma: no cover - numpy scalars only
    return float(x)
