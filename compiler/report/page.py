"""The interactive HTML page: its sections, its data block and the generated model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Mapping, Optional

from llmarch.dsl.diagnostics import Diagnostic

from .. import ir, options, present
from ..budgets import show_value as _budget_text
from ..evaluate import CostResult
from ..jsgen import model_function
from ..pipeline import Compiled
from ..units import format_dim
from .. import present
from .charts import BAR, PROJECTION, SCENARIOS, TORNADO, projection_chart, scenario_chart, tornado_chart, vector_chart
from .facts import Facts, gather, monthly_budget
from .htmlkit import attr, count, diagram, escape, g4, json_block, param_text, pct, pct4, plain, usd, content_security_policy
from .settings import (FINDINGS_SHOWN, FOLDED_ROWS, LIVE_ANALYSIS_LIMIT, OVERHEAD_ROWS, PROJECTION_COMPONENTS,
                       PROJECTION_MONTHS, SLIDERS_FILTER, TABLE_ROWS, TORNADO_ROWS)
from .capacity import LATENCY_BAR, capacity_blocks, capacity_data, capacity_section, latency_section
from .live import WATCH_JS, watch_script
from .uncertainty import uncertainty_section


# --- the data block and the generated model -----------------------------------------------------

def _param_unit(p: ir.Parameter) -> str:
    if p.unit:
        return p.unit
    return "" if p.dim.is_dimensionless else format_dim(p.dim)


@dataclass(frozen=True)
class Slider:
    """A parameter's slider: its span, whether the file declared it (`in [low, high]`) or it
    is the default span, whether the value reads as a share (`20%`) and its step."""

    low: float
    high: float
    declared: bool
    share: bool
    step: str


def slider_of(p: ir.Parameter, value: float, used: frozenset) -> Optional[Slider]:
    """The slider of a parameter the results depend on (not the built-in `time`, not the
    unused parameters an imported price module declares), or None. Its span is the declared
    range; without one, the default span (docs/report.md): 0 … 100% for a number without a
    unit between 0 and 1 (a share or a probability), else 0 … 2 × the value (2 × the value
    … 0 for a negative one), and 0 … 1 for a value of 0."""
    if p.builtin or p.name not in used or not math.isfinite(value):
        return None
    declared = p.low is not None and p.high is not None
    if declared:
        low, high = float(p.low), float(p.high)
    elif p.dim.is_dimensionless and 0 <= value <= 1:
        low, high = 0.0, 1.0
    else:
        low, high = (0.0, 2 * value) if value > 0 else (2 * value, 0.0) if value < 0 else (0.0, 1.0)
    if not low < high:
        return None
    share = p.dim.is_dimensionless and 0 <= low and high <= 1
    whole = all(float(x).is_integer() for x in (low, high, value))
    return Slider(low, high, declared, share, "1" if whole and high - low >= 2 and not share else "any")


def _sliders(facts: Facts) -> dict[str, Slider]:
    used, values = facts.compiled.evaluator.used_parameters, facts.resolution.values
    out = {}
    for p in facts.compiled.arch.parameters.values():
        slider = slider_of(p, values[p.name], used)
        if slider is not None:
            out[p.name] = slider
    return out


def _data(facts: Facts, js, live: bool) -> dict:
    compiled, resolution = facts.compiled, facts.resolution
    arch = compiled.arch
    params = []
    sliders = _sliders(facts)
    for p in arch.parameters.values():
        value = resolution.values[p.name]
        slider = sliders.get(p.name)
        params.append({
            "name": p.name, "unit": _param_unit(p), "description": p.description, "value": value,
            "low": p.low, "high": p.high, "input": p.name in resolution.inputs, "slider": slider is not None,
            "share": slider is not None and slider.share, "builtin": p.builtin,
            "dimensionless": p.dim.is_dimensionless})
    rows = [{"name": r.key, "label": arch.components[r.component].label if r.component in arch.components else None,
             "kind": r.kind, "category": r.category} for r in compiled.evaluator.rows]
    fixed = [{"name": f.name, "label": f.label, "category": f.category} for f in arch.fixed.values()]
    index = {name: i for i, name in enumerate(arch.parameters)}
    tornado = None
    if facts.tornado is not None:
        tornado = [{"p": index[r.name], "low": r.low, "high": r.high} for r in facts.tornado]
    budgets = [{"metric": b.budget.metric, "op": b.budget.op, "limit": b.budget.limit,
                "kind": ir.BUDGET_METRICS[b.budget.metric]} for b in facts.budgets]
    budget_line = monthly_budget(facts)
    return {
        "format_version": 1, "title": arch.title, "scenario": facts.scenario,
        "categories": list(ir.CATEGORIES), "layout": js.layout, "layout_sizes": js.sizes, "params": params, "rows": rows, "fixed": fixed,
        "checks": [{"kind": arch.checks[k].kind, "what": arch.checks[k].what} for k in js.checks],
        "budgets": budgets, "tornado": tornado, "tornado_rows": TORNADO_ROWS,
        "projection": None if facts.projection is None else {
            "months": PROJECTION_MONTHS, "time": index.get("time"), "budget": budget_line,
            "components": PROJECTION_COMPONENTS},
        "scenarios": [{"name": row.name, "result": None if row.result is None else {
            "values": [_number(row.result.parameters[p.name]) for p in arch.parameters.values()],
            **{key: _number(getattr(row.result, key)) for key, _, _ in CHANGE_TOTALS},
            "p_success": _number(row.result.p_success),
            "by_category": [_number(row.result.by_category[c]) for c in ir.CATEGORIES]}} for row in facts.scenarios],
        "table_rows": TABLE_ROWS, "folded_rows": FOLDED_ROWS, "overhead_rows": OVERHEAD_ROWS, "live_analysis": live,
        "geometry": {"bar": BAR, "tornado": TORNADO, "projection": PROJECTION, "scenarios": SCENARIOS,
                     "latency": LATENCY_BAR},
        "capacity": capacity_data(facts.capacity, compiled.evaluator.rows),
    }


def _number(x: float):
    """A number for the data block, which JSON cannot hold when it is not finite: then
    "inf", "-inf" or "nan" (the script's `num` reads them back)."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


# --- HTML sections ------------------------------------------------------------------------------

def _fig(name: str, value: float, text: str, tag: str = "span", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<{tag}{c} data-fig="{name}" data-value="{attr(value)}">{escape(text)}</{tag}>'


def _summary_section(r: CostResult) -> str:
    share = r.failure_overhead_per_request / r.cost_per_request if r.cost_per_request else 0.0
    cards = [
        ("monthly total", _fig("monthly_total", r.monthly_total, usd(r.monthly_total), "div", "v"),
         "requests per month " + _fig("requests_per_month", r.requests_per_month, count(r.requests_per_month)), "big"),
        ("cost per request", _fig("cost_per_request", r.cost_per_request, usd(r.cost_per_request, True), "div", "v"),
         "happy path " + _fig("happy_path_cost_per_request", r.happy_path_cost_per_request,
                              usd(r.happy_path_cost_per_request, True)), ""),
        ("cost per successful request",
         _fig("cost_per_success", r.cost_per_success, usd(r.cost_per_success, True), "div", "v"), "", ""),
        ("P(success)", _fig("p_success", r.p_success, pct4(r.p_success), "div", "v"), "", ""),
        ("failure overhead", _fig("failure_overhead_per_request", r.failure_overhead_per_request,
                                  usd(r.failure_overhead_per_request, True), "div", "v"),
         _fig("failure_overhead_share", share, pct(share)) + " of the request · "
         + _fig("failure_overhead_monthly", r.failure_overhead_monthly, usd(r.failure_overhead_monthly))
         + " a month", ""),
    ]
    out = ['<section id="summary"><h2>Summary</h2><div class="cards">']
    for title, value, sub, cls in cards:
        out.append(f'<div class="card {cls}"><div class="k">{title}</div>{value}'
                   + (f'<div class="sub">{sub}</div>' if sub else "") + "</div>")
    out.append("</div>")
    rows = [
        ("requests per month", _fig("requests_per_month", r.requests_per_month, count(r.requests_per_month))),
        ("cost per request", _fig("cost_per_request", r.cost_per_request, usd(r.cost_per_request, True))),
        ("P(success)", _fig("p_success", r.p_success, pct4(r.p_success))),
        ("cost per successful request", _fig("cost_per_success", r.cost_per_success, usd(r.cost_per_success, True))),
        ("happy-path cost per request", _fig("happy_path_cost_per_request", r.happy_path_cost_per_request,
                                             usd(r.happy_path_cost_per_request, True))),
        ("failure overhead per request", _fig("failure_overhead_per_request", r.failure_overhead_per_request,
                                              usd(r.failure_overhead_per_request, True))),
        ("fixed monthly costs", _fig("fixed_monthly", r.fixed_monthly, usd(r.fixed_monthly))),
        ("happy path, a month", _fig("happy_path_monthly", r.happy_path_monthly, usd(r.happy_path_monthly))),
        ("system, a month", _fig("monthly_total", r.monthly_total, usd(r.monthly_total))),
        ("failure overhead, a month", _fig("failure_overhead_monthly", r.failure_overhead_monthly,
                                           usd(r.failure_overhead_monthly))),
    ]
    out.append('<div class="two"><div><h3>Happy path versus system</h3><table class="kv"><tbody>')
    out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
    out.append('</tbody></table></div><div id="vectors"><h3>Cost vectors</h3><p class="note">Monthly cost by vector, '
               'fixed costs included.</p><div class="scroll">' + vector_chart(r) + "</div></div></div></section>")
    return "".join(out)


def _sliders_section(facts: Facts) -> str:
    arch, resolution = facts.compiled.arch, facts.resolution
    index = {name: i for i, name in enumerate(arch.parameters)}
    sliders = _sliders(facts)
    out = ['<aside id="controls"><h2>What if</h2>']
    if not sliders:
        out.append('<p class="note">No parameter the results depend on, so there is nothing to move.</p></aside>')
        return "".join(out)
    out.append('<p class="note">A slider for every parameter the results depend on, over its declared range or, '
               'without one, a <em>default span</em>: 0 to 100% for a share or probability, else 0 to twice its '
               'value. The figures follow as you move it; Tab and the arrow keys move it too.</p>'
               '<noscript><p class="note">Sliders need JavaScript; the figures are those of the scenario.</p>'
               '</noscript><div class="buttons"><button type="button" id="lm-reset">reset</button></div>')
    if len(sliders) > SLIDERS_FILTER:
        out.append(f'<input type="search" id="lm-filter" placeholder="filter {len(sliders):,} parameters" '
                   'aria-label="filter parameters by name">')
    uncertain = facts.compiled.evaluator.uncertain(facts.scenario, pinned=set(facts.sets))
    if uncertain:
        out.append('<p class="note">An uncertain parameter starts at its <em>median</em>, the point value every '
                   'figure here uses; the spread over the guesses is in "Uncertainty".</p>')
    out.append('<div class="sliders">')
    for name, slider in sliders.items():
        p = arch.parameters[name]
        i = index[name]
        value = resolution.values[name]
        unit = _param_unit(p)
        share = slider.share
        shown = param_text(value, share) + ("" if share or not unit else " " + unit)
        rng = (f"{param_text(slider.low, share)} – {param_text(slider.high, share)}"
               + ("" if share or not unit else " " + unit) + ("" if slider.declared else " (default span)"))
        derived = "" if name in resolution.inputs else " (computed from other parameters until you move it)"
        if name in uncertain:
            from ..uncertainty_output import describe
            derived += f" (uncertain: the median of {describe(uncertain[name], p.unit)[0]})"
        out.append(
            f'<div class="slider{"" if slider.declared else " default"}" data-slider="{i}">'
            f'<label for="lm-p{i}"><code>{escape(name)}</code>'
            f'<output data-out="{i}" for="lm-p{i}">{escape(shown)}</output></label>'
            f'<input type="range" id="lm-p{i}" data-p="{i}" min="{attr(slider.low)}" max="{attr(slider.high)}" '
            f'step="{slider.step}" value="{attr(value)}" aria-describedby="lm-d{i}">'
            f'<div class="desc" id="lm-d{i}">{escape(p.description or "")}{escape(derived)}'
            f'<span class="range">{escape(rng)}</span></div></div>')
    out.append("</div></aside>")
    return "".join(out)


def _diagram_section(picture) -> str:
    out = ['<section id="diagram"><h2>Architecture</h2>']
    if picture.note:
        out.append(f'<p class="note" id="lm-diagram-note">{escape(picture.note)}</p>')
    if picture.svg:
        out.append('<div class="zoom" id="lm-zoom" hidden><span class="views-title">Zoom</span>'
                   '<button type="button" id="lm-zoom-out" aria-label="zoom out">−</button>'
                   '<output id="lm-zoom-level" aria-live="polite">fit</output>'
                   '<button type="button" id="lm-zoom-in" aria-label="zoom in">+</button>'
                   '<button type="button" id="lm-zoom-fit">fit the width</button>'
                   '<button type="button" id="lm-zoom-actual">actual size</button></div>'
                   f'<div class="diagram" data-diagram="{picture.kind}" tabindex="0" role="region" '
                   f'aria-label="architecture diagram">{picture.svg}</div>'
                   '<p class="note">Drawn at the scenario\'s values (static); fitted to the page\'s width, '
                   'or zoomed with the buttons above (the box then scrolls).</p>')
    out.append("</section>")
    return "".join(out)


def _component_row(i: int, c, r: CostResult, label: Optional[str]) -> str:
    lab = f'<div class="label">{escape(label)}</div>' if label else ""
    visits = "" if c.expected_visits is None else present.count(c.expected_visits)
    cells = [
        f'<td class="name"><code>{escape(c.name)}</code>{lab}</td><td>{escape(c.kind)}</td>'
        f'<td><span class="dot {escape(c.category)}"></span>{escape(c.category)}</td>',
        _cell("visits", c.expected_visits, visits),
        _cell("per_visit", c.cost_per_visit, usd(c.cost_per_visit, True)),
        _cell("per_request", c.cost_per_request, usd(c.cost_per_request, True)),
        _cell("monthly", c.monthly, usd(c.monthly)),
        _cell("share", c.share, pct(c.share)),
    ]
    return f'<tr data-row="{i}">' + "".join(cells) + "</tr>"


def _cell(col: str, value: Optional[float], text: str) -> str:
    data = f' data-value="{attr(value)}"' if value is not None else ""
    return f'<td class="num" data-col="{col}"{data}>{escape(text)}</td>'


_TABLE_HEAD = ("<thead><tr><th>component</th><th>kind</th><th>category</th><th class=\"num\">visits</th>"
               "<th class=\"num\">per visit</th><th class=\"num\">per request</th><th class=\"num\">per month</th>"
               "<th class=\"num\">share</th></tr></thead>")


def _components_section(facts: Facts) -> str:
    compiled, r = facts.compiled, facts.result
    arch = compiled.arch
    names = [row.key for row in compiled.evaluator.rows] + list(arch.fixed)
    position = {name: i for i, name in enumerate(names)}
    ordered = sorted(r.components, key=lambda c: (-c.monthly, c.name))
    labels = {row.key: (arch.components[row.component].label if row.component in arch.components else None)
              for row in compiled.evaluator.rows}
    labels.update({f.name: f.label for f in arch.fixed.values()})
    shown = ordered[:TABLE_ROWS + FOLDED_ROWS]
    rows = [_component_row(position[c.name], c, r, labels.get(c.name)) for c in shown]
    top, rest = rows[:TABLE_ROWS], rows[TABLE_ROWS:]
    out = ['<section id="components"><h2>Components</h2>',
           '<p class="note">Every component and fixed cost, most expensive first. <code>name#k</code> rows are folded '
           'into their component; <code>name@model</code> is a fallback-model copy.</p>',
           f'<div class="scroll"><table class="data">{_TABLE_HEAD}<tbody id="lm-rows-top">{"".join(top)}</tbody>'
           "</table></div>"]
    if rest:
        out.append(f'<details id="lm-more"><summary>{len(ordered) - TABLE_ROWS:,} more components</summary>'
                   f'<div class="scroll"><table class="data">{_TABLE_HEAD}<tbody id="lm-rows-more">{"".join(rest)}'
                   "</tbody></table></div>")
        left = len(ordered) - len(shown)
        if left:
            out.append(f'<p class="note" id="lm-rows-left">… and {left:,} cheaper rows, not written into the page: '
                       '<code>llmarch cost</code> lists every one.</p>')
        out.append("</details>")
    out.append("</section>")
    return "".join(out)


def _prices_section(facts: Facts) -> str:
    """Where each model's prices come from: catalog entry, date, price period, snapshot."""
    sources = facts.result.prices
    if not sources:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in present.PRICE_SOURCE_HEADER)
    body = "".join("<tr><td><code>" + escape(cells[0]) + "</code></td>"
                   + "".join(f"<td>{escape(c)}</td>" for c in cells[1:]) + "</tr>"
                   for cells in (present.price_source_cells(p) for p in sources))
    return ('<section id="prices"><h2>Model prices</h2><p class="note">Where the token prices of every model in '
            'use come from: the catalog entry, the date asked for (<code>as of</code>), the first day of the price '
            'period used and the price catalog (static: the sliders do not change them).</p>'
            f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
            '</section>')


def _overhead_section(facts: Facts) -> str:
    compiled, r = facts.compiled, facts.result
    flow = {c.name: c for c in r.components if c.cost_per_request is not None}
    keyed = [(i, flow[row.key]) for i, row in enumerate(compiled.evaluator.rows)]
    shown = sorted([(i, c) for i, c in keyed if abs(c.failure_overhead_per_request) >= 1e-15],
                   key=lambda ic: (-ic[1].failure_overhead_per_request, ic[1].name))
    out = ['<section id="overhead"><h2>Failure overhead</h2>',
           '<p class="note">What retries, fallbacks and regeneration add over the happy path (every failure '
           'probability at 0), per component; "of request" is its share of the cost of a request, so the '
           'column adds up to the overhead\'s share above, and a component that failures make cheaper is negative.</p>',
           '<div class="scroll"><table class="data"><thead><tr><th>component</th><th class="num">happy path</th>'
           '<th class="num">system'
           '</th><th class="num">overhead</th><th class="num">per month</th><th class="num">of request</th></tr></thead>'
           '<tbody id="lm-overhead">']
    # only the rows shown: the script writes the rows that move into the top as the sliders move
    out += [_overhead_row(i, c, r) for i, c in shown[:OVERHEAD_ROWS]]
    more = max(0, len(shown) - OVERHEAD_ROWS)
    none = "" if shown else " (none: no component has a failure overhead here)"
    out.append(f'</tbody></table></div><p class="note" id="lm-overhead-more">'
               f'{escape(f"{more:,} more components with a smaller overhead" if more else "")}{escape(none)}</p></section>')
    return "".join(out)


def _overrides_word(values: Optional[str] = None) -> str:
    """The report's parameter values as the caller gave them: `--set` for the command,
    overrides (`set=`) for the API."""
    if options.in_command():
        return "<code>--set</code> values" if values is None else f"<code>--set {values}</code>"
    return "overrides" if values is None else f"overrides <code>{values}</code>"


def _overhead_row(i: int, c, r: CostResult) -> str:
    overhead = c.failure_overhead_per_request
    share = pct(overhead / r.cost_per_request) if r.cost_per_request else ""
    return (f'<tr data-o="{i}"><td><code>{escape(c.name)}</code></td>'
            + _cell("happy", c.happy_path_cost_per_request, usd(c.happy_path_cost_per_request, True))
            + _cell("system", c.cost_per_request, usd(c.cost_per_request, True))
            + _cell("overhead", overhead, usd(overhead, True))
            + _cell("monthly", overhead * r.requests_per_month, usd(overhead * r.requests_per_month))
            + f'<td class="num" data-col="share">{share}</td></tr>')


def _scenario_section(facts: Facts) -> str:
    out = ['<section id="scenarios"><h2>Scenarios</h2><p class="note">Every scenario as the file declares it, '
           'in file order (static: the sliders do not move these)'
           + (f", without this report's {_overrides_word()}" if facts.sets else "")
           + '. Each bar is the monthly total, split by cost vector.</p>',
           f'<div class="scroll">{scenario_chart(facts)}</div>',
           _changes_section(facts),
           '<details id="lm-scenario-table"><summary>The scenarios as a table</summary><div class="scroll">'
           '<table class="data"><thead><tr><th>scenario</th><th class="num">monthly total</th>'
           '<th class="num">per request</th><th class="num">per success</th><th class="num">P(success)</th>'
           '</tr></thead><tbody>']
    for row in facts.scenarios:
        name = "(defaults)" if row.name is None else row.name
        mark = ' class="current"' if row.name == facts.scenario else ""
        desc = f'<div class="label">{escape(row.description)}</div>' if row.description else ""
        head = f"<td><code>{escape(name)}</code>{desc}</td>"
        if row.result is None:
            out.append(f'<tr{mark}>{head}<td colspan="4" class="error">{escape(row.error)}</td></tr>')
            continue
        x = row.result
        out.append(f"<tr{mark}>{head}" + _cell("monthly", x.monthly_total, usd(x.monthly_total))
                   + _cell("per_request", x.cost_per_request, usd(x.cost_per_request, True))
                   + _cell("per_success", x.cost_per_success, usd(x.cost_per_success, True))
                   + _cell("p_success", x.p_success, pct4(x.p_success)) + "</tr>")
    out.append("</tbody></table></div></details></section>")
    return "".join(out)


def _default_pair(facts: Facts) -> Optional[tuple[int, int]]:
    """The two scenarios compared first: the first and the last the file declares (the
    lifecycle's ends, pilot to optimized), or the defaults and the only one."""
    valid = [i for i, row in enumerate(facts.scenarios) if row.result is not None]
    named = [i for i in valid if facts.scenarios[i].name is not None]
    if len(named) >= 2:
        return named[0], named[-1]
    if len(valid) >= 2:
        return valid[0], valid[-1]
    return None


#: The totals compared between two scenarios: (key, label, per request).
CHANGE_TOTALS = (("monthly_total", "monthly total", False), ("cost_per_request", "cost per request", True),
                 ("cost_per_success", "cost per successful request", True))


def _change_rows(facts: Facts, a: CostResult, b: CostResult) -> tuple[list, list]:
    """(totals, parameters) of what changed from `a` to `b`: every total with its change, and
    every parameter whose value differs, as text."""
    totals = []
    for key, label, small in CHANGE_TOTALS:
        x, y = getattr(a, key), getattr(b, key)
        totals.append((label, usd(x, small), usd(y, small), present.signed_money(y - x, small)))
    totals.append(("P(success)", pct4(a.p_success), pct4(b.p_success),
                   present.signed(100 * (b.p_success - a.p_success), 4) + " pp"))
    for c in ir.CATEGORIES:
        x, y = a.by_category[c], b.by_category[c]
        totals.append((f"{c}, a month", usd(x), usd(y), present.signed_money(y - x)))
    sliders = _sliders(facts)
    params = []
    for p in facts.compiled.arch.parameters.values():
        if p.builtin:
            continue
        x, y = a.parameters[p.name], b.parameters[p.name]
        if _same(x, y):
            continue
        share = p.name in sliders and sliders[p.name].share
        params.append((p.name, _param_shown(p, x, share), _param_shown(p, y, share)))
    return totals, params


def _same(x: float, y: float) -> bool:
    return x == y or (math.isfinite(x) and math.isfinite(y) and abs(x - y) <= 1e-12 * max(abs(x), abs(y)))


def _param_shown(p: ir.Parameter, value: float, share: bool) -> str:
    unit = _param_unit(p)
    return param_text(value, share) + ("" if share or not unit else " " + unit)


def _changes_section(facts: Facts) -> str:
    pair = _default_pair(facts)
    if pair is None:
        return ""
    names = ["(defaults)" if row.name is None else row.name for row in facts.scenarios]

    def select(ident: str, label: str, chosen: int) -> str:
        options = "".join(f'<option value="{i}"{" selected" if i == chosen else ""}'
                          f'{" disabled" if row.result is None else ""}>{escape(names[i])}</option>'
                          for i, row in enumerate(facts.scenarios))
        return f'<label for="{ident}">{label}</label> <select id="{ident}">{options}</select>'

    a, b = (facts.scenarios[i].result for i in pair)
    totals, params = _change_rows(facts, a, b)
    out = ['<div id="lm-changes"><h3>What changed</h3><p class="note">Two scenarios side by side: their totals, and '
           'every parameter whose value differs (a parameter computed from others shows its computed value).</p>',
           '<div class="compare">' + select("lm-from", "from", pair[0]) + " " + select("lm-to", "to", pair[1]) + "</div>",
           '<div class="two"><div class="scroll"><table class="data" id="lm-change-totals"><thead><tr><th></th>'
           f'<th class="num" id="lm-change-a">{escape(names[pair[0]])}</th>'
           f'<th class="num" id="lm-change-b">{escape(names[pair[1]])}</th><th class="num">change</th></tr></thead><tbody>']
    out += [f'<tr><th scope="row">{escape(label)}</th><td class="num">{escape(x)}</td><td class="num">{escape(y)}</td>'
            f'<td class="num">{escape(d)}</td></tr>' for label, x, y, d in totals]
    out.append('</tbody></table></div><div class="scroll"><table class="data" id="lm-change-params"><thead><tr>'
               '<th>parameter</th><th class="num">from</th><th class="num">to</th></tr></thead><tbody>')
    out += [f'<tr><td><code>{escape(name)}</code></td><td class="num">{escape(x)}</td><td class="num">{escape(y)}</td>'
            "</tr>" for name, x, y in params]
    none = "" if params else "No parameter differs."
    out.append(f'</tbody></table><p class="note" id="lm-change-none">{none}</p></div></div></div>')
    return "".join(out)


def _analysis_section(facts: Facts, live: bool) -> str:
    when = "while a slider moves" if live else "when a slider is released"
    out = ['<section id="tornado"><h2>Tornado</h2>']
    if facts.tornado is None:
        out.append(f'<p class="note error">Unavailable at these values: {escape(facts.tornado_error)}</p>')
    elif not facts.tornado:
        out.append('<p class="note">No parameter to move.</p>')
    else:
        more = len(facts.tornado) - TORNADO_ROWS
        out.append(f'<p class="note">The monthly total with each parameter moved alone to the low '
                   f'<span class="key lo"></span> and high <span class="key hi"></span> end of its range (±20% '
                   f'without a declared range), widest swing first; recomputed {when}.'
                   + (f" {more:,} more parameters swing less." if more > 0 else "") + "</p>")
        out.append(f'<div class="scroll">{tornado_chart(facts)}</div>')
    out.append('</section><section id="projection"><h2>12-month projection</h2>')
    if facts.projection is None:
        out.append(f'<p class="note error">Unavailable at these values: {escape(facts.projection_error)}</p>')
    else:
        p = facts.projection
        time_symbol = facts.compiled.arch.parameters["time"].symbol if "time" in facts.compiled.arch.parameters else None
        grows = time_symbol is not None and any(time_symbol in d.free_symbols for d in facts.resolution.definitions.values())
        flat = "" if grows else " No parameter depends on <code>time</code> here, so every month is the same."
        budget = monthly_budget(facts)
        line = (f" The dashed line is the budget of {escape(usd(budget))} a month." if budget is not None else "")
        out.append(f'<p class="note">The monthly cost at months 0 to {PROJECTION_MONTHS} of the built-in '
                   f'<code>time</code> parameter, each bar split by cost vector or by the {PROJECTION_COMPONENTS} '
                   f'components that cost the most in month {PROJECTION_MONTHS} (and the rest); recomputed {when}.'
                   f'{flat}{line} Month {PROJECTION_MONTHS}: '
                   + _fig("projection_last", p.monthly_total[-1], usd(p.monthly_total[-1])) + ".</p>")
        out.append('<div class="views"><span class="views-title" id="lm-split">Split the bars</span>'
                   '<input type="radio" name="lm-split" id="lm-view-vector" value="vector" checked '
                   'aria-describedby="lm-split"><label for="lm-view-vector">by cost vector</label>'
                   '<input type="radio" name="lm-split" id="lm-view-component" value="component" '
                   'aria-describedby="lm-split"><label for="lm-view-component">by component</label>'
                   f'<div class="view scroll" id="lm-proj-view-vector">{projection_chart(facts, "vector")}</div>'
                   f'<div class="view scroll" id="lm-proj-view-component">{projection_chart(facts, "component")}</div>'
                   "</div>")
    out.append("</section>")
    return "".join(out)


def _diagnostics_section(facts: Facts) -> str:
    out = ['<section id="diagnostics"><h2>Diagnostics</h2><h3>Budgets</h3>']
    if not facts.budgets:
        out.append('<p class="note">No budget applies to this scenario.</p>')
    else:
        out.append('<div class="scroll"><table class="data"><thead><tr><th>budget</th><th class="num">value</th>'
                   '<th class="num">margin</th><th>verdict</th></tr></thead><tbody>')
        for k, b in enumerate(facts.budgets):
            metric = b.budget.metric
            text = f"{metric} {b.budget.op} {_budget_text(metric, b.budget.limit)}"
            out.append(f'<tr data-b="{k}" class="{"ok" if b.holds else "bad"}"><td><code>{escape(text)}</code></td>'
                       f'<td class="num" data-col="value" data-value="{attr(b.value)}">'
                       f'{escape(_budget_text(metric, b.value))}</td>'
                       f'<td class="num" data-col="margin">{escape(_budget_text(metric, b.margin))}</td>'
                       f'<td data-col="verdict">{"holds" if b.holds else "does not hold"}</td></tr>')
        out.append("</tbody></table></div>")
    out.append("<h3>Lint findings</h3>")
    where = f" in scenario <code>{escape(facts.scenario)}</code>" if facts.scenario else ""
    if facts.findings_error:
        out.append(f'<p class="note error">{escape(facts.findings_error)}</p>')
    elif not facts.findings:
        out.append(f'<p class="note">No cost archetype found{where}.</p>')
    else:
        out.append(f'<p class="note">The cost archetypes <code>llmarch lint</code> finds{where} (static: at the '
                   f'scenario\'s values).</p>')
        shown = [_finding(d, facts.compiled) for d in facts.findings]
        out += shown[:FINDINGS_SHOWN]
        if len(shown) > FINDINGS_SHOWN:
            out.append(f"<details><summary>{len(shown) - FINDINGS_SHOWN:,} more findings</summary>"
                       + "".join(shown[FINDINGS_SHOWN:]) + "</details>")
    out.append("</section>")
    return "".join(out)


def _finding(d: Diagnostic, compiled: Compiled) -> str:
    """A lint finding as `llmarch lint` prints it: the message wraps, the source excerpt does not."""
    lines = d.render(compiled.sources).splitlines()
    excerpt = [line for line in lines[1:] if not line.startswith("   = ")]
    notes = [line[5:] for line in lines[1:] if line.startswith("   = ")]
    where = f"{d.span} " if d.span else ""
    return (f'<div class="finding"><div><code>{escape(d.severity)}[{escape(d.code)}]</code> <span class="label">'
            f'{escape(where)}</span>{escape(d.message)}</div>'
            + (f"<pre>{escape(chr(10).join(excerpt))}</pre>" if excerpt else "")
            + "".join(f'<div class="label">{escape(n)}</div>' for n in notes) + "</div>")


def _parameters_section(facts: Facts) -> str:
    arch, resolution = facts.compiled.arch, facts.resolution
    out = [f'<section id="parameters"><details><summary>All {len(arch.parameters):,} parameters</summary>'
           '<div class="scroll"><table class="data"><thead><tr><th>parameter</th><th class="num">value</th><th>unit</th>'
           '<th>range</th><th>description</th></tr></thead><tbody>']
    for i, p in enumerate(arch.parameters.values()):
        value = resolution.values[p.name]
        rng = "" if p.low is None or p.high is None else f"{plain(p.low)} – {plain(p.high)}"
        how = "" if p.name in resolution.inputs else " (computed)"
        out.append(f"<tr><td><code>{escape(p.name)}</code>{escape(how)}</td>"
                   f'<td class="num" data-pv="{i}" data-value="{attr(value)}">{escape(plain(value))}</td>'
                   f"<td>{escape(_param_unit(p))}</td><td>{escape(rng)}</td><td>{escape(p.description or '')}</td></tr>")
    out.append("</tbody></table></div></details></section>")
    return "".join(out)


def report_html(compiled: Compiled, scenario: Optional[str] = None, sets: Optional[Mapping] = None,
                watch_version: Optional[str] = None) -> str:
    """The self-contained interactive report as one HTML document (deterministic).
    `watch_version`: the page is served by `llmarch watch` as that version, and carries the
    script that reloads it when the server's version changes (`live.watch_script`)."""
    facts = gather(compiled, scenario, sets)
    js = model_function(compiled, facts.resolution, capacity_blocks(compiled))
    evaluations = 2 + PROJECTION_MONTHS + 1 + 2 * len(facts.tornado or [])
    live = evaluations * compiled.flow.graph.number_of_nodes() <= LIVE_ANALYSIS_LIMIT
    data = _data(facts, js, live)
    if "</" in _APP_JS or "<!--" in _APP_JS:  # pragma: no cover - a bug in this file
        raise ValueError("the report's script would close its element")
    scripts = [js.code, _APP_JS] + ([WATCH_JS] if watch_version is not None else [])
    policy = content_security_policy(scripts, [_CSS], connect=watch_version is not None)
    picture = diagram(compiled, facts.evaluation, facts.capacity)
    arch = compiled.arch
    title = arch.title + (f" — scenario {scenario}" if scenario else "")
    sets_text = ", ".join(f"{k}={v}" for k, v in facts.sets.items())
    description = arch.scenarios[scenario].description if scenario else None
    from llmarch._version import __version__
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="llmarch {escape(__version__)}">',
        f"<title>{escape(title)} · llmarch report</title>",
        f"<style>{_CSS}</style></head><body>",
        '<a class="skip" href="#summary">Skip the sliders: to the report</a>',
        f'<header><h1>{escape(arch.title)}</h1><p class="meta">'
        + (f"scenario <code>{escape(scenario)}</code>" if scenario else "default parameter values")
        + (f" · {escape(description)}" if description else "")
        + (f" · with {_overrides_word(escape(sets_text))}" if sets_text else "")
        + f" · <code>{escape(arch.path)}</code> · llmarch {escape(__version__)}</p></header>",
        '<div id="lm-invalid" class="invalid" hidden><strong>These values are not valid for the model</strong> '
        '(<code>llmarch cost</code> would refuse them); the figures below are not meaningful:<ul></ul></div>',
        '<div class="layout">',
        _sliders_section(facts),
        '<main>',
        _summary_section(facts.result),
        uncertainty_section(facts.uncertainty, facts.uncertainty_error),
        _diagram_section(picture),
        latency_section(facts.result, compiled),
        capacity_section(facts.capacity, facts.capacity_error),
        _components_section(facts),
        _prices_section(facts),
        _overhead_section(facts),
        _scenario_section(facts),
        _analysis_section(facts, live),
        _diagnostics_section(facts),
        _parameters_section(facts),
        '<footer><p class="note">Generated by llmarch from the file above. The sliders recompute the model '
        'in this page: its expressions are compiled to JavaScript; nothing is sent anywhere.</p></footer>',
        "</main></div>",
        f'<script type="application/json" id="llmarch-data">{json_block(data)}</script>',
        f"<script>{js.code}</script>",
        f"<script>{_APP_JS}</script>",
        watch_script(watch_version) if watch_version is not None else "",
        "</body></html>\n",
    ]
    return "".join(parts)


# --- the page's style sheet and script ----------------------------------------------------------
# They live in compiler/assets/ as plain .css and .js files (package data), read once. The
# script reads the JSON block, calls the generated `_evaluate` and only ever writes text
# (`textContent`) and attributes: user text never becomes markup. Its number formats mirror
# the Python ones above (`usd`, `g4`, `pct`, ...).

_ASSETS = resources.files("llmarch.compiler").joinpath("assets")
_CSS = _ASSETS.joinpath("report.css").read_text(encoding="utf-8")
_APP_JS = _ASSETS.joinpath("report.js").read_text(encoding="utf-8")
