"""The report's latency and capacity sections, HTML and Markdown, and the capacity figures
the page's script recomputes.

Python's figures come from the scenario's `CostResult` (latency) and `Capacity`
(`compiler/capacity.py`: the limits table and the requests in flight); nothing here solves
anything again. For the sliders, `capacity_blocks` gives the generated JavaScript model
(`jsgen.model_function`'s `extra`) what a request asks of every limit and the limit
itself, as expressions over the parameters — built by the same rule as `capacity.capacity`
(every attempt on its model, a `fallback_model` copy on the fallback model), which the
browser test checks against `Capacity` after moving sliders. The script derives every
column from those two numbers and the traffic in one function (`limitRow` in report.js),
as `LimitRow` does in Python.
"""

from __future__ import annotations

import sympy

from .. import ir, present
from ..capacity import LIMIT_UNITS, Capacity, GpuRow, LimitRow
from ..capacity_output import (NOTHING_THROTTLED, REQUESTS_HEADER, REQUESTS_NOTE, THROTTLED_HEADER, request_rows,
                               throttled_note, throttled_rows)
from ..evaluate import CostResult
from ..throttle import demand_terms
from ..units import SECONDS_PER_DAY
from .htmlkit import attr, escape
from .settings import LATENCY_ROWS

__all__ = [
    "LATENCY_BAR",
    "binding_sentence",
    "capacity_blocks",
    "capacity_data",
    "capacity_markdown",
    "capacity_section",
    "latency_markdown",
    "latency_section",
    "shows_capacity",
]

_MINUTES_PER_DAY = 1440

#: The latency chart's geometry (the script redraws it with the same numbers).
LATENCY_BAR = {"width": 720, "label": 170, "text": 250, "row": 26}


def shows_capacity(arch: ir.Architecture) -> bool:
    """Whether the report has a capacity section: a model declares a limit, the file a peak,
    or the flow calls a self-hosted model."""
    return (arch.peak != 1 or any(price.limits for price in arch.prices.values())
            or any(f.hosts is not None for f in arch.fixed.values()))


# --- the expressions the page's script evaluates --------------------------------------------------

def _limit_expressions(compiled) -> list[tuple[str, str, sympy.Expr, sympy.Expr]]:
    """(model, limit, amount per request, the limit in its table unit) for every declared
    limit, in `Capacity.limits` order: the amount is Σ vₙ × (1 call, its tokens, or its
    seconds) over the lowered nodes that call the model."""
    arch, visits = compiled.arch, compiled.model.visits
    terms = demand_terms(arch, compiled.flow)
    out = []
    for price in arch.prices.values():
        for key, value, _ in price.limits:
            per_request = sympy.Add(*(visits[node] * amount for node, amount in terms.get(price.name, {}).get(key, [])))
            limit = value if key == "concurrency" else value / _MINUTES_PER_DAY
            out.append((price.name, key, per_request, limit))
    return out


def capacity_blocks(compiled) -> tuple:
    """The generated model's extra blocks for the capacity section: the mean traffic
    (requests a day), each limit's amount per request and each limit's value."""
    if not shows_capacity(compiled.arch):
        return ()
    rows = _limit_expressions(compiled)
    # a self-hosted model: the tokens a request sends it (the cost model's own definition),
    # what one replica serves (tokens a day), the target utilisation and a replica's price a day
    hosted = [compiled.arch.prices[f.hosts].gpu for f in compiled.arch.fixed.values() if f.hosts is not None]
    return (("traffic", [compiled.arch.traffic]), ("limit_amounts", [r[2] for r in rows]),
            ("limit_values", [r[3] for r in rows]), ("gpu_tokens", [g.tokens for g in hosted]),
            ("gpu_throughput", [g.throughput for g in hosted]), ("gpu_utilisation", [g.utilisation for g in hosted]),
            ("gpu_price", [g.price for g in hosted]))


def capacity_data(capacity: Capacity | None, rows, fixed: list[str] = ()) -> dict | None:
    """The data block's `capacity`: the peak, each limit row's model, limit and unit, the
    cost-table row (`Evaluator.rows` index) of each in-flight row, and for each self-hosted
    model its name, `min_replicas` and its GPU row's place among the fixed costs (`fixed`,
    their names in order)."""
    if capacity is None:
        return None
    index = {row.key: i for i, row in enumerate(rows)}
    place = {name: j for j, name in enumerate(fixed)}
    return {"peak": capacity.peak,
            "limits": [{"model": r.model, "limit": r.limit, "unit": r.unit, "per": LIMIT_UNITS[r.limit][1]}
                       for r in capacity.limits],
            "in_flight": [index.get(r.name) for r in capacity.in_flight],
            "gpus": [{"model": g.model, "min_replicas": g.min_replicas, "fixed": place.get(f"{g.model} (GPUs)")}
                     for g in capacity.gpus]}


# --- the words and cells, shared by HTML and Markdown ----------------------------------------------

def per_request_text(r: LimitRow) -> str:
    """What a request asks of a limit: `0.8681 calls`, `2387 tokens`, `4.88 s of calls`."""
    per = LIMIT_UNITS[r.limit][1]
    if per == "call-seconds":
        return present.duration(r.per_request) + " of calls"
    shown = present.count(r.per_request)
    return f"{shown} {'call' if per == 'calls' and shown == '1' else per}"


def binds_text(r: LimitRow) -> str:
    return "never" if r.binds_at is None else f"{present.count(r.binds_at)} requests/day"


def binding_sentence(c: Capacity) -> str:
    """Which limit the traffic reaches first, at what mean traffic, and what is throttled now."""
    b = c.binding
    if b is None:
        return ("No model declares a provider limit." if not c.limits
                else "No limit is ever reached: the flow calls no model with a limit.")
    if b.peak_demand > b.value:
        over = "over the limit already"
    else:
        over = f"{present.number(b.binds_at / c.traffic, 3)}x today's mean" if c.traffic > 0 else "no traffic today"
    return (f"{b.model} {b.limit} binds first: at {present.count(b.binds_at)} requests/day mean traffic ({over}); "
            f"{present.share(b.throttled_share)} of its peak demand is throttled now.")


# --- HTML -------------------------------------------------------------------------------------------

def _fig(name: str, value: float, text: str, tag: str = "span", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<{tag}{c} data-fig="{name}" data-value="{attr(value)}">{escape(text)}</{tag}>'


def _cell(col: str, value: float, text: str) -> str:
    return f'<td class="num" data-col="{col}" data-value="{attr(value)}">{escape(text)}</td>'


def _latency_rows(r: CostResult) -> list:
    """The rows that take time, longest first (as `llmarch cost` lists them)."""
    rows = [c for c in r.components if c.latency_per_request or c.happy_path_latency_per_request]
    return sorted(rows, key=lambda c: (-(c.latency_per_request or 0.0), c.name))


def latency_chart(r: CostResult, timed: int) -> str:
    """Each component's seconds per request, system (dark) over happy path (light), the
    `LATENCY_ROWS` longest; one slot for each of the `timed` rows that may take time (a
    slider may give time to a row that takes none here: one never visited), up to
    `LATENCY_ROWS`, the script refilling them as the sliders move."""
    g = LATENCY_BAR
    slots = min(LATENCY_ROWS, max(timed, len(_latency_rows(r))))
    rows = _latency_rows(r)[:slots]
    area = g["width"] - g["label"] - g["text"]
    height = g["row"] * max(1, slots)
    top = max([c.latency_per_request for c in rows] + [c.happy_path_latency_per_request for c in rows] + [0.0])
    total = r.latency_per_request
    half = (g["row"] - 8) / 2
    out = [(f'<svg class="chart" id="lm-latency-chart" viewBox="0 0 {g["width"]} {height}" width="{g["width"]}" '
            f'height="{height}" role="img" aria-label="seconds per request by component">')]
    for k in range(slots):
        c = rows[k] if k < len(rows) else None
        system = c.latency_per_request if c else 0.0
        happy = c.happy_path_latency_per_request if c else 0.0
        ws = area * system / top if top > 0 else 0.0
        wh = area * happy / top if top > 0 else 0.0
        name = escape(c.name) if c else ""
        text = escape(_latency_bar_text(system, happy, total)) if c else ""
        hidden = "" if c else ' visibility="hidden"'
        out.append(f'<g data-l="{k}" transform="translate(0,{k * g["row"]})"{hidden}>'
                   f'<text data-l-name="{k}" x="{g["label"] - 8}" y="16" text-anchor="end">{name}</text>'
                   f'<rect data-l-sys="{k}" class="sys" x="{g["label"]}" y="4" height="{half:.1f}" width="{ws:.2f}">'
                   f'</rect><rect data-l-happy="{k}" class="happy" x="{g["label"]}" y="{4 + half:.1f}" '
                   f'height="{half:.1f}" width="{wh:.2f}"></rect>'
                   f'<text data-l-text="{k}" x="{g["width"] - g["text"] + 8}" y="16">{text}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _latency_bar_text(system: float, happy: float, total: float) -> str:
    share = present.share(system / total) if total else "0.0%"
    return f"{present.duration(system)} · {share} (happy path {present.duration(happy)})"


def _timed_rows(compiled) -> int:
    seconds = compiled.model.node_latency
    return sum(1 for row in compiled.evaluator.rows if any(seconds.get(n, 0) != 0 for n in row.nodes))


def latency_section(r: CostResult, compiled) -> str:
    """Expected latency per request, happy path versus system, the standard deviations and
    each component's contribution; empty when the file declares no time. A cost-table row
    with a node whose time is not 0 whatever the values gets a slot in the chart."""
    if not r.has_latency:
        return ""
    overhead = r.latency_per_request - r.happy_path_latency_per_request
    share = overhead / r.latency_per_request if r.latency_per_request else 0.0
    cards = [
        ("expected latency per request", _fig("latency_per_request", r.latency_per_request,
                                              present.duration(r.latency_per_request), "div", "v"),
         "standard deviation " + _fig("latency_std_dev", r.latency_std_dev, present.duration(r.latency_std_dev))),
        ("happy-path latency", _fig("happy_path_latency_per_request", r.happy_path_latency_per_request,
                                    present.duration(r.happy_path_latency_per_request), "div", "v"),
         "standard deviation " + _fig("happy_path_latency_std_dev", r.happy_path_latency_std_dev,
                                      present.duration(r.happy_path_latency_std_dev))),
        ("latency overhead", _fig("latency_overhead", overhead, present.signed_duration(overhead), "div", "v"),
         _fig("latency_overhead_share", share, present.share(share)) + " of the request's time"),
    ]
    out = [('<section id="latency"><h2>Latency</h2><p class="note">A request\'s expected time: the time of every '
           'visit times its expected visits (visits are sequential), in the system and in the happy path (no '
           'failure: no retry, backoff or fallback). The standard deviation is the spread between requests at '
           'these values (the paths they take), not over the guesses. <code>llmarch cost</code> prints the same '
           'figures.</p><div class="cards">')]
    for title, value, sub in cards:
        out.append(f'<div class="card"><div class="k">{title}</div>{value}<div class="sub">{sub}</div></div>')
    out.append('</div><h3>Where the time goes</h3><p class="note">Seconds per request by component, the '
               f'{LATENCY_ROWS} longest: the system <span class="key sys"></span> (retries and their backoffs '
               'included; a <code>name@model</code> fallback copy on its own) and the happy path '
               '<span class="key happy"></span>; the share is of the request\'s expected time.</p>'
               f'<div class="scroll">{latency_chart(r, _timed_rows(compiled))}</div></section>')
    return "".join(out)


_LIMITS_HEAD = ("<thead><tr><th>model</th><th>limit</th><th class=\"num\">value</th><th class=\"num\">per request</th>"
                "<th class=\"num\">mean demand</th><th class=\"num\">peak demand</th><th class=\"num\">use at peak</th>"
                "<th class=\"num\">headroom</th><th class=\"num\">throttled</th><th class=\"num\">binds at</th>"
                "</tr></thead>")


def _limit_row(k: int, r: LimitRow) -> str:
    state = "bad" if r.peak_utilisation >= 1 else ""
    return (f'<tr data-lim="{k}"{f" class={chr(34)}{state}{chr(34)}" if state else ""}>'
            f"<td><code>{escape(r.model)}</code></td><td>{escape(r.limit)}</td>"
            + _cell("value", r.value, f"{present.count(r.value)} {r.unit}")
            + _cell("per_request", r.per_request, per_request_text(r))
            + _cell("mean", r.mean_demand, present.count(r.mean_demand))
            + _cell("peak", r.peak_demand, present.count(r.peak_demand))
            + _cell("use", r.peak_utilisation, present.share(r.peak_utilisation))
            + _cell("headroom", r.headroom, present.count(r.headroom))
            + _cell("throttled", r.throttled_share, present.share(r.throttled_share))
            + _cell("binds", r.binds_at if r.binds_at is not None else -1.0, binds_text(r)) + "</tr>")


_GPU_HEAD = ("<thead><tr><th>self-hosted</th><th class=\"num\">tokens per request</th><th class=\"num\">mean tokens/s</th>"
             "<th class=\"num\">peak tokens/s</th><th class=\"num\">per replica</th><th class=\"num\">replicas at mean"
             "</th><th class=\"num\">replicas at peak</th><th class=\"num\">use at mean</th><th class=\"num\">use at peak"
             "</th><th class=\"num\">per month</th><th class=\"num\">next replica at</th></tr></thead>")


def _gpu_row(k: int, g: GpuRow) -> str:
    return (f'<tr data-gpu="{k}"><td><code>{escape(g.model)}</code></td>'
            + _cell("tokens", g.tokens_per_request, present.count(g.tokens_per_request))
            + _cell("mean", g.mean_demand, present.count(g.mean_demand))
            + _cell("peak", g.peak_demand, present.count(g.peak_demand))
            + _cell("per_replica", g.throughput,
                    f"{present.count(g.throughput)} tokens/s at {present.share(g.target_utilisation)}")
            + _cell("mean_replicas", g.mean_replicas, str(g.mean_replicas))
            + _cell("replicas", g.replicas, str(g.replicas))
            + _cell("mean_use", g.mean_utilisation, present.share(g.mean_utilisation))
            + _cell("peak_use", g.peak_utilisation, present.share(g.peak_utilisation))
            + _cell("monthly", g.monthly, present.money(g.monthly))
            + _cell("next", g.next_replica_at if g.next_replica_at is not None else -1.0,
                    "never" if g.next_replica_at is None else f"{present.count(g.next_replica_at)} requests/day")
            + "</tr>")


def capacity_section(c: Capacity | None, error: str | None = None) -> str:
    """The traffic, the limits table, the limit that binds first and the requests in flight."""
    if error is not None:
        return (f'<section id="capacity"><h2>Capacity</h2><p class="note error">Unavailable at these values: '
                f"{escape(error)}</p></section>")
    if c is None:
        return ""
    out = ['<section id="capacity"><h2>Capacity</h2><p class="note">Traffic: '
           + _fig("traffic_mean", c.traffic, present.count(c.traffic)) + " requests/day at the mean, "
           + _fig("traffic_peak", c.peak_traffic, present.count(c.peak_traffic))
           + f" at the peak (peak = {escape(present.number(c.peak))}, <code>settings {{ peak = … }}</code>). "
           "The traffic slider moves the figures below, but for the two tables computed at the file's values, "
           "which say so.</p>"]
    if c.limits:
        out.append('<p class="note">Every provider limit against the demand a request puts on it: the amount per '
                   'request (its expected calls, tokens or seconds of calls), the demand at the mean and at the peak '
                   '(per minute; calls in flight for <code>concurrency</code>), the use of the limit at the peak, '
                   'the headroom left, the share of the peak demand above the limit (max(0, 1 − limit ÷ demand), '
                   'before the retries refusing it provokes: the limits enforced are below) and the mean traffic at '
                   'which the peak reaches the limit. '
                   'A row at or over its limit is marked, and so is its model\'s component in the diagram.</p>'
                   f'<div class="scroll"><table class="data" id="lm-limits">{_LIMITS_HEAD}<tbody>'
                   + "".join(_limit_row(k, r) for k, r in enumerate(c.limits)) + "</tbody></table></div>")
    b = c.binding
    out.append(f'<p class="binding">{_fig("binding", b.binds_at if b is not None else -1.0, binding_sentence(c))}'
               "</p>")
    if c.gpus:
        out.append('<h3>Self-hosted models</h3><p class="note">The replicas a self-hosted model needs: '
                   'max(min_replicas, ⌈peak token demand ÷ (throughput × utilisation)⌉), paid every hour of the '
                   'month; at the mean, what the mean traffic alone would need (not paid for). The use is of the '
                   'replicas paid for; the last column is the mean traffic above which the peak needs one more '
                   '(<code>llmarch capacity</code> prints the same rows).</p>'
                   f'<div class="scroll"><table class="data" id="lm-gpus">{_GPU_HEAD}<tbody>'
                   + "".join(_gpu_row(k, g) for k, g in enumerate(c.gpus)) + "</tbody></table></div>")
    if c.throttled_peak is not None:
        out.append(_static_table("lm-throttled", "With the limits enforced",
                                 "What the limits do to a request when the demand exceeds one: "
                                 + throttled_note(c) + ". At the file's values: the sliders do not move this table.",
                                 THROTTLED_HEADER, throttled_rows(c), NOTHING_THROTTLED))
    if c.latency_per_request is not None:
        out.append('<h3>Requests in flight</h3><p class="note">By Little\'s law: the arrival rate times the seconds a '
                   'request spends in the component (its visits × their time, backoffs included), at the mean and '
                   'at the peak.</p><div class="scroll"><table class="data" id="lm-in-flight"><thead><tr>'
                   '<th>component</th><th class="num">seconds per request</th><th class="num">mean</th>'
                   '<th class="num">peak</th></tr></thead><tbody>')
        per_second = c.traffic / SECONDS_PER_DAY
        rows = [(r.name, r.seconds_per_request, r.mean, r.peak) for r in c.in_flight]
        system = c.latency_per_request
        rows.append(("request (system)", system, per_second * system, c.peak * per_second * system))
        for k, (name, seconds, mean, peak) in enumerate(rows):
            out.append(f'<tr data-fl="{k}"><td><code>{escape(name)}</code></td>'
                       + _cell("seconds", seconds, present.duration(seconds)) + _cell("mean", mean, present.count(mean))
                       + _cell("peak", peak, present.count(peak)) + "</tr>")
        out.append("</tbody></table></div>")
    if c.requests:
        out.append(_static_table("lm-requests", "One request", "One request's latency and cost over the path it "
                                 "takes: " + REQUESTS_NOTE + " (docs/capacity.md). At the file's values: the sliders "
                                 "do not move this table.", REQUESTS_HEADER, request_rows(c), ""))
    out.append("</section>")
    return "".join(out)


def _static_table(table_id: str, title: str, note: str, header: list[str], rows: list[list[str]],
                  empty: str) -> str:
    """A table computed in Python at the file's values (the page's script does not redo it)."""
    if not rows:
        return f'<h3>{escape(title)}</h3><p class="note">{escape(empty)}</p>'
    def cell(tag: str, i: int, text: str) -> str:
        return f'<{tag} class="num">{escape(text)}</{tag}>' if i else f"<{tag}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, x) for i, x in enumerate(row)) + "</tr>" for row in rows)
    return (f'<h3>{escape(title)}</h3><p class="note">{escape(note)}</p><div class="scroll">'
            f'<table class="data" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


# --- Markdown ---------------------------------------------------------------------------------------

def latency_markdown(r: CostResult) -> list[str]:
    """The latency table and totals of `llmarch cost --format markdown`, under a heading."""
    from ..output import (
        LATENCY_HEADER,
        latency_rows,
        latency_summary_rows,
        markdown_table,
    )

    if not r.has_latency:
        return []
    out = ["", "#### Latency", ""]
    out += markdown_table(["", ""], latency_summary_rows(r), right={1}) + [""]
    rows = latency_rows(r)
    out += markdown_table(LATENCY_HEADER, [[f"`{x[0]}`"] + x[1:] for x in rows[:LATENCY_ROWS]], right={1, 2, 3, 4})
    if len(rows) > LATENCY_ROWS:
        out += ["", f"… and {len(rows) - LATENCY_ROWS:,} more components that take time."]
    return out


def capacity_markdown(c: Capacity | None) -> list[str]:
    """`llmarch capacity --format markdown` without its title: the traffic, the limits table,
    the binding limit and the requests in flight."""
    from ..capacity_output import capacity_text

    if c is None:
        return []
    lines = capacity_text(c, markdown=True).rstrip("\n").split("\n")
    return ["", "#### Capacity", ""] + lines[2:]
