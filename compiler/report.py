"""The report: one self-contained, interactive HTML file; a Markdown summary for a pull
request; and the compact HTML a notebook shows for a model.

The HTML report is a single file with inline CSS and JavaScript and nothing else: no font,
no stylesheet, no script from anywhere, so it opens from a `file://` URL or as an e-mail
attachment and makes no network request. A Content-Security-Policy meta tag allows exactly
the inline scripts and the style sheet it carries (by their SHA-256) and nothing else.

Every figure is first written by Python, so the file reads without JavaScript. With
JavaScript, a slider per parameter with a declared range recomputes every figure in the
browser: the cost model is compiled to one JavaScript function (`jsgen.model_function`)
whose code holds only internal names; user text (names, labels, descriptions) travels in
a JSON block (`<script type="application/json">`, with `<`, `>`, `&`, U+2028 and U+2029
escaped) and is only ever put on the page as text.

Large architectures stay usable: the component table shows the `TABLE_ROWS` most
expensive rows and folds the rest under "N more", the diagram is left out above
`DIAGRAM_LIMIT` components, the tornado shows its `TORNADO_ROWS` widest bars, lint findings
past `FINDINGS_SHOWN` fold too, and above `SLIDERS_FILTER` sliders a filter box narrows them
by name.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping, Optional

from llmarch.dsl.diagnostics import Diagnostic, LlmarchError

from . import ir, present
from .budgets import BudgetResult, _show as _budget_text, check_budgets
from .evaluate import CostResult, Evaluation, Resolution
from .jsgen import model_function
from .output import COMPONENT_HEADER, OVERHEAD_HEADER, category_rows, markdown_table, overhead_rows, component_rows, summary_rows
from .pipeline import Compiled
from .units import format_dim

__all__ = ["report_html", "report_markdown", "summary_html", "content_security_policy", "TABLE_ROWS",
           "DIAGRAM_LIMIT", "TORNADO_ROWS", "OVERHEAD_ROWS", "FINDINGS_SHOWN", "SLIDERS_FILTER", "LIVE_ANALYSIS_LIMIT",
           "clean_svg"]

#: Component rows shown before the rest folds under "N more components".
TABLE_ROWS = 50
#: Components above which the diagram is left out (dot's layout takes long and the picture
#: is unreadable at that size).
DIAGRAM_LIMIT = 150
#: Parameters shown in the tornado chart (the widest swings).
TORNADO_ROWS = 15
#: Rows of the failure-overhead table.
OVERHEAD_ROWS = 20
#: Lint findings shown before the rest fold under "N more findings".
FINDINGS_SHOWN = 10
#: Sliders above which a filter box is shown.
SLIDERS_FILTER = 30
#: Tornado and projection are recomputed while a slider moves when (evaluations per
#: update) × (lowered nodes) is at most this; above it, when the slider is released.
LIVE_ANALYSIS_LIMIT = 20_000
#: Months of the projection chart.
PROJECTION_MONTHS = 12
#: Components listed in the Markdown report.
MARKDOWN_COMPONENTS = 10

_CATEGORY_COLORS = {"inference": "#4e79a7", "retrieval": "#f28e2b", "human": "#e15759", "ops": "#76b7b2",
                    "infra": "#59a14f"}


# --- what the report shows ----------------------------------------------------------------

@dataclass
class _ScenarioRow:
    name: Optional[str]
    description: Optional[str]
    result: Optional[CostResult]
    error: Optional[str]


@dataclass
class _Facts:
    """Everything computed in Python for one report."""

    compiled: Compiled
    scenario: Optional[str]
    sets: dict
    evaluation: Evaluation
    budgets: list[BudgetResult]
    findings: list[Diagnostic] = field(default_factory=list)
    findings_error: Optional[str] = None
    scenarios: list[_ScenarioRow] = field(default_factory=list)
    tornado: Optional[list] = None
    tornado_error: Optional[str] = None
    projection: Optional[object] = None
    projection_error: Optional[str] = None

    @property
    def result(self) -> CostResult:
        return self.evaluation.result

    @property
    def resolution(self) -> Resolution:
        return self.evaluation.resolution


def _message(exc: LlmarchError) -> str:
    return "; ".join(d.message for d in exc.diagnostics) or str(exc)


def _gather(compiled: Compiled, scenario: Optional[str], sets: Optional[Mapping], analyses: bool = True) -> _Facts:
    """The report's numbers. `analyses` adds the tornado and the projection (the HTML page
    shows them; the Markdown summary does not)."""
    from .analysis import Analyzer
    from .lint import lint

    sets = dict(sets or {})
    evaluator = compiled.evaluator
    evaluation = evaluator.evaluation(scenario, sets)
    result, resolution = evaluation.result, evaluation.resolution
    facts = _Facts(compiled, scenario, sets, evaluation, check_budgets(compiled.arch.budgets, result))
    try:
        facts.findings = lint(compiled, evaluation)
    except LlmarchError as exc:
        facts.findings_error = _message(exc)
    for name in [None, *compiled.arch.scenarios]:
        description = compiled.arch.scenarios[name].description if name is not None else None
        try:
            row = _ScenarioRow(name, description, evaluator.evaluate(name), None)
        except LlmarchError as exc:
            row = _ScenarioRow(name, description, None, _message(exc))
        facts.scenarios.append(row)
    if not analyses:
        return facts
    analyzer = Analyzer(compiled)
    try:
        facts.tornado = analyzer.tornado(scenario, sets)
    except LlmarchError as exc:
        facts.tornado_error = _message(exc)
    try:
        facts.projection = analyzer.project(scenario, sets, months=PROJECTION_MONTHS)
    except LlmarchError as exc:
        facts.projection_error = _message(exc)
    return facts


# --- number formats (the JavaScript in _APP_JS mirrors each one) ----------------------------

def _g4(x: float) -> str:
    return f"{x:.4g}"


_pct = present.share
_pct4 = present.p_success


def _count(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) else "∞"


_usd = present.money
_usd0 = present.whole_money


def _plain(x: float) -> str:
    """A parameter value: grouped digits from 1,000 up, four significant digits below."""
    if not math.isfinite(x):
        return _g4(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"
    return _g4(x)


def _param_text(x: float, percent: bool) -> str:
    return _g4(100 * x) + "%" if percent else _plain(x)


def _attr(x: float) -> str:
    return repr(float(x))


# --- HTML helpers -------------------------------------------------------------------------------

def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _json_block(data) -> str:
    """JSON for a `<script type="application/json">` element: nothing in it can end the
    element or start a comment, whatever the user wrote."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(scripts: list[str], styles: list[str]) -> str:
    """The policy of the report: nothing from anywhere; only these inline scripts and style
    sheets (by hash) and `data:` images."""
    return ("default-src 'none'; script-src " + " ".join(_sha256(s) for s in scripts)
            + "; style-src " + " ".join(_sha256(s) for s in styles)
            + "; img-src data:; base-uri 'none'; form-action 'none'")


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG_TAGS = {"svg", "g", "title", "desc", "path", "polygon", "polyline", "ellipse", "circle", "rect", "line",
             "text", "tspan", "defs", "linearGradient", "radialGradient", "stop", "clipPath", "a"}


def clean_svg(text: str) -> str:
    """Graphviz's SVG made safe to inline: the XML prolog, DOCTYPE and comments removed, and
    only drawing elements and attributes kept (no script, no event handler, no style
    attribute, no link). Labels stay escaped: the tree is parsed and written out again."""
    import xml.etree.ElementTree as ET

    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>\[]*(\[[^\]]*\])?\s*>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(text.strip())

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def scrub(element) -> None:
        children = list(element)
        for child in children:
            if not isinstance(child.tag, str) or local(child.tag) not in _SVG_TAGS:
                element.remove(child)
                continue
            scrub(child)
        for name in list(element.attrib):
            bare = local(name).lower()
            value = element.attrib[name]
            if bare.startswith("on") or bare in ("style", "href", "src") or "javascript:" in value.lower() \
                    or ("url(" in value and not value.strip().startswith("url(#")):
                del element.attrib[name]

    if local(root.tag) != "svg":
        raise ValueError("not an SVG document")
    scrub(root)
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


def _diagram(compiled: Compiled, evaluation: Evaluation) -> tuple[Optional[str], str]:
    """(inline SVG or None, a note). Import lazily: Graphviz is optional."""
    count = len(compiled.arch.components) + len(compiled.arch.fixed)
    if count > DIAGRAM_LIMIT:
        return None, (f"The diagram is left out above {DIAGRAM_LIMIT} components (this architecture has "
                      f"{count:,}); the tables below list every component.")
    try:
        from . import render
    except ImportError:
        return None, "Diagram unavailable: install Graphviz (the `dot` program) to include it."
    try:
        text = render.svg(compiled, evaluation)
    except Exception as exc:  # GraphvizMissing, a dot failure or time-out: the report goes on without it
        if type(exc).__name__ == "GraphvizMissing":
            return None, "Diagram unavailable: install Graphviz (the `dot` program) to include it."
        return None, f"Diagram unavailable: {exc}"
    try:
        return clean_svg(text), ""
    except Exception as exc:  # malformed SVG from dot: leave it out rather than inline it
        return None, f"Diagram unavailable: Graphviz's output could not be read ({type(exc).__name__})"


# --- the data block and the generated model -----------------------------------------------------

def _param_unit(p: ir.Parameter) -> str:
    if p.unit:
        return p.unit
    return "" if p.dim.is_dimensionless else format_dim(p.dim)


def _is_share(p: ir.Parameter) -> bool:
    return p.dim.is_dimensionless and p.low is not None and p.high is not None and 0 <= p.low and p.high <= 1


def _step(p: ir.Parameter, value: float) -> str:
    whole = all(float(x).is_integer() for x in (p.low, p.high, value))
    return "1" if whole and p.high - p.low >= 2 and not _is_share(p) else "any"


def _has_slider(p: ir.Parameter, used: frozenset) -> bool:
    """A slider for every ranged parameter the results depend on (not for the unused
    parameters an imported price module declares)."""
    return not p.builtin and p.low is not None and p.high is not None and p.low < p.high and p.name in used


def _data(facts: _Facts, js, live: bool) -> dict:
    compiled, result, resolution = facts.compiled, facts.result, facts.resolution
    arch = compiled.arch
    params = []
    for p in arch.parameters.values():
        value = resolution.values[p.name]
        params.append({
            "name": p.name, "unit": _param_unit(p), "description": p.description, "value": value,
            "low": p.low, "high": p.high, "input": p.name in resolution.inputs, "slider": _has_slider(p, compiled.evaluator.used_parameters),
            "share": _is_share(p), "builtin": p.builtin})
    rows = [{"name": r.key, "label": arch.components[r.component].label if r.component in arch.components else None,
             "kind": r.kind, "category": r.category} for r in compiled.evaluator.rows]
    fixed = [{"name": f.name, "label": f.label, "category": f.category} for f in arch.fixed.values()]
    index = {name: i for i, name in enumerate(arch.parameters)}
    tornado = None
    if facts.tornado is not None:
        tornado = [{"p": index[r.name], "low": r.low, "high": r.high} for r in facts.tornado]
    budgets = [{"metric": b.budget.metric, "op": b.budget.op, "limit": b.budget.limit,
                "kind": ir.BUDGET_METRICS[b.budget.metric]} for b in facts.budgets]
    monthly_budget = _monthly_budget(facts)
    return {
        "format_version": 1, "title": arch.title, "scenario": facts.scenario,
        "categories": list(ir.CATEGORIES), "layout": js.layout, "layout_sizes": js.sizes, "params": params, "rows": rows, "fixed": fixed,
        "checks": [{"kind": c.kind, "what": c.what} for c in arch.checks],
        "budgets": budgets, "tornado": tornado, "tornado_rows": TORNADO_ROWS,
        "projection": None if facts.projection is None else {
            "months": PROJECTION_MONTHS, "time": index.get("time"), "budget": monthly_budget},
        "table_rows": TABLE_ROWS, "overhead_rows": OVERHEAD_ROWS, "live_analysis": live,
        "geometry": {"bar": _BAR, "tornado": _TORNADO, "projection": _PROJ},
    }


def _monthly_budget(facts: _Facts) -> Optional[float]:
    limits = [b.budget.limit for b in facts.budgets if b.budget.metric == "monthly_total"]
    return min(limits) if limits else None


# --- charts (drawn here, redrawn by _APP_JS with the same geometry) -------------------------------

_BAR = {"width": 520, "label": 80, "text": 170, "row": 26}
_TORNADO = {"width": 720, "label": 170, "text": 200, "row": 22}
_PROJ = {"width": 640, "height": 220, "left": 76, "right": 24, "top": 14, "bottom": 30}


def _nice_max(v: float) -> float:
    """The axis maximum: the smallest 1, 2, 2.5 or 5 × 10^k at or above `v`."""
    if not (v > 0) or not math.isfinite(v):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(v))
    for f in (1, 2, 2.5, 5, 10):
        if f * magnitude >= v * (1 - 1e-12):
            return f * magnitude
    return 10 * magnitude  # pragma: no cover


def _vector_chart(result: CostResult) -> str:
    g = _BAR
    values = [result.by_category[c] for c in ir.CATEGORIES]
    top = max([v for v in values if math.isfinite(v)] + [0.0])
    area = g["width"] - g["label"] - g["text"]
    height = g["row"] * len(values)
    out = [f'<svg class="chart" id="lm-vectors" viewBox="0 0 {g["width"]} {height}" width="{g["width"]}" '
           f'height="{height}" role="img" aria-label="monthly cost by cost vector">']
    total = result.monthly_total
    for k, (c, v) in enumerate(zip(ir.CATEGORIES, values)):
        y = k * g["row"]
        width = area * v / top if top > 0 and math.isfinite(v) and v > 0 else 0.0
        share = _pct(v / total) if total else "0.0%"
        out.append(f'<g transform="translate(0,{y})"><text x="{g["label"] - 8}" y="17" text-anchor="end">{c}</text>'
                   f'<rect data-bar="{k}" x="{g["label"]}" y="4" height="{g["row"] - 8}" width="{width:.2f}" '
                   f'fill="{_CATEGORY_COLORS[c]}"></rect>'
                   f'<text data-bar-text="{k}" x="{g["width"] - g["text"] + 8}" y="17">{_e(_usd(v))} · {share}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _tornado_chart(facts: _Facts) -> str:
    g = _TORNADO
    rows = facts.tornado[:TORNADO_ROWS]
    base = facts.result.monthly_total
    area = g["width"] - g["label"] - g["text"]
    height = g["row"] * max(1, len(rows))
    spread = max([abs(r.monthly_at_low - base) for r in rows] + [abs(r.monthly_at_high - base) for r in rows] + [0.0])
    scale = (area / 2) / spread if spread > 0 else 0.0
    center = g["label"] + area / 2
    out = [f'<svg class="chart" id="lm-tornado" viewBox="0 0 {g["width"]} {height}" width="{g["width"]}" '
           f'height="{height}" role="img" aria-label="tornado chart">',
           f'<line x1="{center:.2f}" x2="{center:.2f}" y1="0" y2="{height}" class="axis"></line>']
    for k in range(TORNADO_ROWS):
        r = rows[k] if k < len(rows) else None
        hidden = "" if r is not None else ' visibility="hidden"'
        parts = []
        for end, cls in (("low", "lo"), ("high", "hi")):
            value = getattr(r, f"monthly_at_{end}") if r is not None else base
            x1, x2 = sorted((center, center + (value - base) * scale))
            parts.append(f'<rect data-t-{cls}="{k}" class="{cls}" x="{x1:.2f}" y="4" height="{g["row"] - 8}" '
                         f'width="{x2 - x1:.2f}"></rect>')
        name = _e(r.name) if r is not None else ""
        text = _e(f"{_usd(r.monthly_at_low)} … {_usd(r.monthly_at_high)}") if r is not None else ""
        out.append(f'<g data-t="{k}" transform="translate(0,{k * g["row"]})"{hidden}>'
                   f'<text data-t-name="{k}" x="{g["label"] - 8}" y="15" text-anchor="end">{name}</text>'
                   + "".join(parts) +
                   f'<text data-t-text="{k}" x="{g["width"] - g["text"] + 8}" y="15">{text}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _projection_chart(facts: _Facts) -> str:
    g = _PROJ
    totals = facts.projection.monthly_total
    budget = _monthly_budget(facts)
    top = _nice_max(max([t for t in totals if math.isfinite(t)] + ([budget] if budget else []) + [0.0]) * 1.05)
    width, height = g["width"], g["height"]
    plot_w = width - g["left"] - g["right"]
    plot_h = height - g["top"] - g["bottom"]
    months = len(totals) - 1

    def x(m):
        return g["left"] + plot_w * m / months if months else g["left"]

    def y(v):
        return g["top"] + plot_h * (1 - v / top)

    points = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in enumerate(totals))
    out = [f'<svg class="chart" id="lm-projection" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'role="img" aria-label="12-month projection">']
    for k, frac in enumerate((0, 0.5, 1)):
        yy = g["top"] + plot_h * (1 - frac)
        out.append(f'<line class="grid" x1="{g["left"]}" x2="{width - g["right"]}" y1="{yy:.1f}" y2="{yy:.1f}"></line>'
                   f'<text data-y-tick="{k}" x="{g["left"] - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                   f'{_e(_usd0(top * frac))}</text>')
    for m in range(0, months + 1, 3 if months >= 6 else 1):
        out.append(f'<text x="{x(m):.1f}" y="{height - 10}" text-anchor="middle">{m}</text>')
    if budget is not None:
        out.append(f'<line id="lm-budget-line" class="budget" x1="{g["left"]}" x2="{width - g["right"]}" '
                   f'y1="{y(budget):.1f}" y2="{y(budget):.1f}"></line>')
    out.append(f'<polyline id="lm-proj-line" class="line" points="{points}"></polyline>')
    out.append("</svg>")
    return "".join(out)


# --- HTML sections ------------------------------------------------------------------------------

def _fig(name: str, value: float, text: str, tag: str = "span", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<{tag}{c} data-fig="{name}" data-value="{_attr(value)}">{_e(text)}</{tag}>'


def _summary_section(r: CostResult) -> str:
    share = r.failure_overhead_per_request / r.cost_per_request if r.cost_per_request else 0.0
    cards = [
        ("monthly total", _fig("monthly_total", r.monthly_total, _usd(r.monthly_total), "div", "v"),
         "requests per month " + _fig("requests_per_month", r.requests_per_month, _count(r.requests_per_month)), "big"),
        ("cost per request", _fig("cost_per_request", r.cost_per_request, _usd(r.cost_per_request, True), "div", "v"),
         "happy path " + _fig("happy_path_cost_per_request", r.happy_path_cost_per_request,
                              _usd(r.happy_path_cost_per_request, True)), ""),
        ("cost per successful request",
         _fig("cost_per_success", r.cost_per_success, _usd(r.cost_per_success, True), "div", "v"), "", ""),
        ("P(success)", _fig("p_success", r.p_success, _pct4(r.p_success), "div", "v"), "", ""),
        ("failure overhead", _fig("failure_overhead_per_request", r.failure_overhead_per_request,
                                  _usd(r.failure_overhead_per_request, True), "div", "v"),
         _fig("failure_overhead_share", share, _pct(share)) + " of the request · "
         + _fig("failure_overhead_monthly", r.failure_overhead_monthly, _usd(r.failure_overhead_monthly))
         + " a month", ""),
    ]
    out = ['<section id="summary"><h2>Summary</h2><div class="cards">']
    for title, value, sub, cls in cards:
        out.append(f'<div class="card {cls}"><div class="k">{title}</div>{value}'
                   + (f'<div class="sub">{sub}</div>' if sub else "") + "</div>")
    out.append("</div>")
    rows = [
        ("requests per month", _fig("requests_per_month", r.requests_per_month, _count(r.requests_per_month))),
        ("cost per request", _fig("cost_per_request", r.cost_per_request, _usd(r.cost_per_request, True))),
        ("P(success)", _fig("p_success", r.p_success, _pct4(r.p_success))),
        ("cost per successful request", _fig("cost_per_success", r.cost_per_success, _usd(r.cost_per_success, True))),
        ("happy-path cost per request", _fig("happy_path_cost_per_request", r.happy_path_cost_per_request,
                                             _usd(r.happy_path_cost_per_request, True))),
        ("failure overhead per request", _fig("failure_overhead_per_request", r.failure_overhead_per_request,
                                              _usd(r.failure_overhead_per_request, True))),
        ("fixed monthly costs", _fig("fixed_monthly", r.fixed_monthly, _usd(r.fixed_monthly))),
        ("happy path, a month", _fig("happy_path_monthly", r.happy_path_monthly, _usd(r.happy_path_monthly))),
        ("system, a month", _fig("monthly_total", r.monthly_total, _usd(r.monthly_total))),
        ("failure overhead, a month", _fig("failure_overhead_monthly", r.failure_overhead_monthly,
                                           _usd(r.failure_overhead_monthly))),
    ]
    out.append('<div class="two"><div><h3>Happy path versus system</h3><table class="kv"><tbody>')
    out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
    out.append('</tbody></table></div><div id="vectors"><h3>Cost vectors</h3><p class="note">Monthly cost by vector, '
               'fixed costs included.</p>' + _vector_chart(r) + "</div></div></section>")
    return "".join(out)


def _sliders_section(facts: _Facts) -> str:
    arch, resolution = facts.compiled.arch, facts.resolution
    index = {name: i for i, name in enumerate(arch.parameters)}
    sliders = [p for p in arch.parameters.values() if _has_slider(p, facts.compiled.evaluator.used_parameters)]
    out = ['<aside id="controls"><h2>What if</h2>']
    if not sliders:
        out.append('<p class="note">No parameter declares a range (`in [low, high]`), so there is nothing to '
                   'move.</p></aside>')
        return "".join(out)
    out.append('<p class="note">Every parameter with a declared range; the figures follow as you move it.</p>'
               '<noscript><p class="note">Sliders need JavaScript; the figures are those of the scenario.</p>'
               '</noscript><div class="buttons"><button type="button" id="lm-reset">reset</button></div>')
    if len(sliders) > SLIDERS_FILTER:
        out.append(f'<input type="search" id="lm-filter" placeholder="filter {len(sliders):,} parameters" '
                   'aria-label="filter parameters by name">')
    out.append('<div class="sliders">')
    for p in sliders:
        i = index[p.name]
        value = resolution.values[p.name]
        unit = _param_unit(p)
        share = _is_share(p)
        shown = _param_text(value, share) + ("" if share or not unit else " " + unit)
        rng = (f"{_param_text(p.low, share)} – {_param_text(p.high, share)}"
               + ("" if share or not unit else " " + unit))
        derived = "" if p.name in resolution.inputs else " (computed from other parameters until you move it)"
        out.append(
            f'<div class="slider" data-slider="{i}"><label for="lm-p{i}"><code>{_e(p.name)}</code>'
            f'<output data-out="{i}" for="lm-p{i}">{_e(shown)}</output></label>'
            f'<input type="range" id="lm-p{i}" data-p="{i}" min="{_attr(p.low)}" max="{_attr(p.high)}" '
            f'step="{_step(p, value)}" value="{_attr(value)}">'
            f'<div class="desc">{_e(p.description or "")}{_e(derived)}<span class="range">{_e(rng)}</span></div></div>')
    out.append("</div></aside>")
    return "".join(out)


def _component_row(i: int, c, r: CostResult, label: Optional[str]) -> str:
    lab = f'<div class="label">{_e(label)}</div>' if label else ""
    visits = "" if c.expected_visits is None else _g4(c.expected_visits)
    cells = [
        f'<td class="name"><code>{_e(c.name)}</code>{lab}</td><td>{_e(c.kind)}</td>'
        f'<td><span class="dot {_e(c.category)}"></span>{_e(c.category)}</td>',
        _cell("visits", c.expected_visits, visits),
        _cell("per_visit", c.cost_per_visit, _usd(c.cost_per_visit, True)),
        _cell("per_request", c.cost_per_request, _usd(c.cost_per_request, True)),
        _cell("monthly", c.monthly, _usd(c.monthly)),
        _cell("share", c.share, _pct(c.share)),
    ]
    return f'<tr data-row="{i}">' + "".join(cells) + "</tr>"


def _cell(col: str, value: Optional[float], text: str) -> str:
    data = f' data-value="{_attr(value)}"' if value is not None else ""
    return f'<td class="num" data-col="{col}"{data}>{_e(text)}</td>'


_TABLE_HEAD = ("<thead><tr><th>component</th><th>kind</th><th>category</th><th class=\"num\">visits</th>"
               "<th class=\"num\">per visit</th><th class=\"num\">per request</th><th class=\"num\">per month</th>"
               "<th class=\"num\">share</th></tr></thead>")


def _components_section(facts: _Facts) -> str:
    compiled, r = facts.compiled, facts.result
    arch = compiled.arch
    names = [row.key for row in compiled.evaluator.rows] + list(arch.fixed)
    position = {name: i for i, name in enumerate(names)}
    ordered = sorted(r.components, key=lambda c: (-c.monthly, c.name))
    labels = {row.key: (arch.components[row.component].label if row.component in arch.components else None)
              for row in compiled.evaluator.rows}
    labels.update({f.name: f.label for f in arch.fixed.values()})
    rows = [_component_row(position[c.name], c, r, labels.get(c.name)) for c in ordered]
    top, rest = rows[:TABLE_ROWS], rows[TABLE_ROWS:]
    out = ['<section id="components"><h2>Components</h2>',
           '<p class="note">Every component and fixed cost, most expensive first. <code>name#k</code> rows are folded '
           'into their component; <code>name@model</code> is a fallback-model copy.</p>',
           f'<table class="data">{_TABLE_HEAD}<tbody id="lm-rows-top">{"".join(top)}</tbody></table>']
    if rest:
        out.append(f'<details id="lm-more"><summary>{len(rest):,} more components</summary>'
                   f'<table class="data">{_TABLE_HEAD}<tbody id="lm-rows-more">{"".join(rest)}</tbody></table></details>')
    out.append("</section>")
    return "".join(out)


def _overhead_section(facts: _Facts) -> str:
    compiled, r = facts.compiled, facts.result
    flow = {c.name: c for c in r.components if c.cost_per_request is not None}
    total = r.failure_overhead_per_request
    keyed = [(i, flow[row.key]) for i, row in enumerate(compiled.evaluator.rows)]
    shown = sorted([(i, c) for i, c in keyed if abs(c.failure_overhead_per_request) >= 1e-15],
                   key=lambda ic: (-ic[1].failure_overhead_per_request, ic[1].name))
    visible = {i for i, _ in shown[:OVERHEAD_ROWS]}
    order = [i for i, _ in shown] + [i for i, _ in keyed if i not in {j for j, _ in shown}]
    out = ['<section id="overhead"><h2>Failure overhead</h2>',
           '<p class="note">What retries, fallbacks and regeneration add over the happy path (every failure '
           'probability at 0), per component.</p>',
           '<table class="data"><thead><tr><th>component</th><th class="num">happy path</th><th class="num">system'
           '</th><th class="num">overhead</th><th class="num">per month</th><th class="num">share</th></tr></thead>'
           '<tbody id="lm-overhead">']
    for i in order:
        c = flow[compiled.evaluator.rows[i].key]
        overhead = c.failure_overhead_per_request
        share = _pct(overhead / total) if abs(total) > 1e-15 else ""
        hidden = "" if i in visible else " hidden"
        out.append(f'<tr data-o="{i}"{hidden}><td><code>{_e(c.name)}</code></td>'
                   + _cell("happy", c.happy_path_cost_per_request, _usd(c.happy_path_cost_per_request, True))
                   + _cell("system", c.cost_per_request, _usd(c.cost_per_request, True))
                   + _cell("overhead", overhead, _usd(overhead, True))
                   + _cell("monthly", overhead * r.requests_per_month, _usd(overhead * r.requests_per_month))
                   + f'<td class="num" data-col="share">{share}</td></tr>')
    more = max(0, len(shown) - OVERHEAD_ROWS)
    none = "" if shown else " (none: no component has a failure overhead here)"
    out.append(f'</tbody></table><p class="note" id="lm-overhead-more">'
               f'{_e(f"{more:,} more components with a smaller overhead" if more else "")}{_e(none)}</p></section>')
    return "".join(out)


def _scenario_section(facts: _Facts) -> str:
    out = ['<section id="scenarios"><h2>Scenarios</h2><p class="note">Every scenario as the file declares it '
           '(static: the sliders do not move these)'
           + (", without this report's <code>--set</code> values" if facts.sets else "") + '.</p>',
           '<table class="data"><thead><tr><th>scenario</th><th class="num">monthly total</th>'
           '<th class="num">per request</th><th class="num">per success</th><th class="num">P(success)</th>'
           '</tr></thead><tbody>']
    for row in facts.scenarios:
        name = "(defaults)" if row.name is None else row.name
        mark = ' class="current"' if row.name == facts.scenario else ""
        desc = f'<div class="label">{_e(row.description)}</div>' if row.description else ""
        head = f"<td><code>{_e(name)}</code>{desc}</td>"
        if row.result is None:
            out.append(f'<tr{mark}>{head}<td colspan="4" class="error">{_e(row.error)}</td></tr>')
            continue
        x = row.result
        out.append(f"<tr{mark}>{head}" + _cell("monthly", x.monthly_total, _usd(x.monthly_total))
                   + _cell("per_request", x.cost_per_request, _usd(x.cost_per_request, True))
                   + _cell("per_success", x.cost_per_success, _usd(x.cost_per_success, True))
                   + _cell("p_success", x.p_success, _pct4(x.p_success)) + "</tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


def _analysis_section(facts: _Facts, live: bool) -> str:
    when = "while a slider moves" if live else "when a slider is released"
    out = ['<section id="tornado"><h2>Tornado</h2>']
    if facts.tornado is None:
        out.append(f'<p class="note error">Unavailable at these values: {_e(facts.tornado_error)}</p>')
    elif not facts.tornado:
        out.append('<p class="note">No parameter to move.</p>')
    else:
        more = len(facts.tornado) - TORNADO_ROWS
        out.append(f'<p class="note">The monthly total with each parameter moved alone to the low '
                   f'<span class="key lo"></span> and high <span class="key hi"></span> end of its range (±20% '
                   f'without a declared range), widest swing first; recomputed {when}.'
                   + (f" {more:,} more parameters swing less." if more > 0 else "") + "</p>")
        out.append(_tornado_chart(facts))
    out.append('</section><section id="projection"><h2>12-month projection</h2>')
    if facts.projection is None:
        out.append(f'<p class="note error">Unavailable at these values: {_e(facts.projection_error)}</p>')
    else:
        p = facts.projection
        time_symbol = facts.compiled.arch.parameters["time"].symbol if "time" in facts.compiled.arch.parameters else None
        grows = time_symbol is not None and any(time_symbol in d.free_symbols for d in facts.resolution.definitions.values())
        flat = "" if grows else " No parameter depends on <code>time</code> here, so the line is flat."
        budget = _monthly_budget(facts)
        line = (f" The dashed line is the budget of {_e(_usd(budget))} a month." if budget is not None else "")
        out.append(f'<p class="note">The monthly total at months 0 to {PROJECTION_MONTHS} with the built-in '
                   f'<code>time</code> parameter; recomputed {when}.{flat}{line} Month {PROJECTION_MONTHS}: '
                   + _fig("projection_last", p.monthly_total[-1], _usd(p.monthly_total[-1])) + ".</p>")
        out.append(_projection_chart(facts))
    out.append("</section>")
    return "".join(out)


def _diagnostics_section(facts: _Facts) -> str:
    out = ['<section id="diagnostics"><h2>Diagnostics</h2><h3>Budgets</h3>']
    if not facts.budgets:
        out.append('<p class="note">No budget applies to this scenario.</p>')
    else:
        out.append('<table class="data"><thead><tr><th>budget</th><th class="num">value</th>'
                   '<th class="num">margin</th><th>verdict</th></tr></thead><tbody>')
        for k, b in enumerate(facts.budgets):
            metric = b.budget.metric
            text = f"{metric} {b.budget.op} {_budget_text(metric, b.budget.limit)}"
            out.append(f'<tr data-b="{k}" class="{"ok" if b.holds else "bad"}"><td><code>{_e(text)}</code></td>'
                       f'<td class="num" data-col="value" data-value="{_attr(b.value)}">'
                       f'{_e(_budget_text(metric, b.value))}</td>'
                       f'<td class="num" data-col="margin">{_e(_budget_text(metric, b.margin))}</td>'
                       f'<td data-col="verdict">{"holds" if b.holds else "does not hold"}</td></tr>')
        out.append("</tbody></table>")
    out.append("<h3>Lint findings</h3>")
    where = f" in scenario <code>{_e(facts.scenario)}</code>" if facts.scenario else ""
    if facts.findings_error:
        out.append(f'<p class="note error">{_e(facts.findings_error)}</p>')
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
    return (f'<div class="finding"><div><code>{_e(d.severity)}[{_e(d.code)}]</code> <span class="label">'
            f'{_e(where)}</span>{_e(d.message)}</div>'
            + (f"<pre>{_e(chr(10).join(excerpt))}</pre>" if excerpt else "")
            + "".join(f'<div class="label">{_e(n)}</div>' for n in notes) + "</div>")


def _parameters_section(facts: _Facts) -> str:
    arch, resolution = facts.compiled.arch, facts.resolution
    out = [f'<section id="parameters"><details><summary>All {len(arch.parameters):,} parameters</summary>'
           '<table class="data"><thead><tr><th>parameter</th><th class="num">value</th><th>unit</th>'
           '<th>range</th><th>description</th></tr></thead><tbody>']
    for i, p in enumerate(arch.parameters.values()):
        value = resolution.values[p.name]
        rng = "" if p.low is None or p.high is None else f"{_plain(p.low)} – {_plain(p.high)}"
        how = "" if p.name in resolution.inputs else " (computed)"
        out.append(f"<tr><td><code>{_e(p.name)}</code>{_e(how)}</td>"
                   f'<td class="num" data-pv="{i}" data-value="{_attr(value)}">{_e(_plain(value))}</td>'
                   f"<td>{_e(_param_unit(p))}</td><td>{_e(rng)}</td><td>{_e(p.description or '')}</td></tr>")
    out.append("</tbody></table></details></section>")
    return "".join(out)


def report_html(compiled: Compiled, scenario: Optional[str] = None, sets: Optional[Mapping] = None) -> str:
    """The self-contained interactive report as one HTML document (deterministic)."""
    facts = _gather(compiled, scenario, sets)
    js = model_function(compiled, facts.resolution)
    evaluations = 2 + PROJECTION_MONTHS + 1 + 2 * len(facts.tornado or [])
    live = evaluations * compiled.flow.graph.number_of_nodes() <= LIVE_ANALYSIS_LIMIT
    data = _data(facts, js, live)
    if "</" in _APP_JS or "<!--" in _APP_JS:  # pragma: no cover - a bug in this file
        raise ValueError("the report's script would close its element")
    scripts = [js.code, _APP_JS]
    policy = content_security_policy(scripts, [_CSS])
    svg, note = _diagram(compiled, facts.evaluation)
    arch = compiled.arch
    title = arch.title + (f" — scenario {scenario}" if scenario else "")
    sets_text = ", ".join(f"{k}={v}" for k, v in facts.sets.items())
    description = arch.scenarios[scenario].description if scenario else None
    from llmarch._version import __version__
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="llmarch {_e(__version__)}">',
        f"<title>{_e(title)} · llmarch report</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header><h1>{_e(arch.title)}</h1><p class="meta">'
        + (f"scenario <code>{_e(scenario)}</code>" if scenario else "default parameter values")
        + (f" · {_e(description)}" if description else "")
        + (f" · with <code>--set {_e(sets_text)}</code>" if sets_text else "")
        + f" · <code>{_e(arch.path)}</code> · llmarch {_e(__version__)}</p></header>",
        '<div id="lm-invalid" class="invalid" hidden><strong>These values are not valid for the model</strong> '
        '(<code>llmarch cost</code> would refuse them); the figures below are not meaningful:<ul></ul></div>',
        '<div class="layout">',
        _sliders_section(facts),
        '<main>',
        _summary_section(facts.result),
        '<section id="diagram"><h2>Architecture</h2>'
        + (f'<div class="diagram">{svg}</div><p class="note">Drawn at the scenario\'s values (static).</p>'
           if svg else f'<p class="note">{_e(note)}</p>') + "</section>",
        _components_section(facts),
        _overhead_section(facts),
        _scenario_section(facts),
        _analysis_section(facts, live),
        _diagnostics_section(facts),
        _parameters_section(facts),
        '<footer><p class="note">Generated by llmarch from the file above. The sliders recompute the model '
        'in this page: its expressions are compiled to JavaScript; nothing is sent anywhere.</p></footer>',
        "</main></div>",
        f'<script type="application/json" id="llmarch-data">{_json_block(data)}</script>',
        f"<script>{js.code}</script>",
        f"<script>{_APP_JS}</script>",
        "</body></html>\n",
    ]
    return "".join(parts)


# --- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md_text(text: str) -> str:
    """User text in Markdown: no markup, no HTML."""
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def report_markdown(model_or_compiled, scenario: Optional[str] = None, sets: Optional[Mapping] = None) -> str:
    """The report's summary as Markdown, for a pull-request comment or a design document:
    totals, cost vectors, the top components, failure overhead, every scenario, budgets and
    lint findings. Deterministic."""
    compiled = getattr(model_or_compiled, "compiled", model_or_compiled)
    facts = _gather(compiled, scenario, sets, analyses=False)
    r = facts.result
    title = compiled.arch.title + (f" — scenario {scenario}" if scenario else "")
    share = r.failure_overhead_per_request / r.cost_per_request if r.cost_per_request else 0.0
    out = [f"### {_md_text(title)}", ""]
    if facts.sets:
        out += ["With " + ", ".join(f"`{k}={v}`" for k, v in facts.sets.items()) + ".", ""]
    out += [f"**{_usd(r.monthly_total)} a month** · {_usd(r.cost_per_request, True)} per request · "
            f"{_usd(r.cost_per_success, True)} per successful request · P(success) {_pct4(r.p_success)} · "
            f"failure overhead {_pct(share)} of the request", ""]
    out += markdown_table(["", ""], summary_rows(r), right={1}) + [""]
    out += ["#### Cost vectors", ""] + markdown_table(["cost vector", "per month", "share"], category_rows(r), right={1, 2})
    rows = component_rows(r)
    shown = rows[:MARKDOWN_COMPONENTS]
    out += ["", f"#### Top components ({len(shown)} of {len(rows)})", ""]
    out += markdown_table(COMPONENT_HEADER, [[f"`{x[0]}`"] + x[1:] for x in shown], right={3, 4, 5, 6, 7})
    overhead = overhead_rows(r)
    if overhead:
        out += ["", "#### Failure overhead", "",
                f"Happy path {_usd(r.happy_path_monthly)} a month, system {_usd(r.monthly_total)}: retries and "
                f"fallbacks add {_usd(r.failure_overhead_monthly)} a month ({_pct(share)} of the request).", ""]
        out += markdown_table(OVERHEAD_HEADER, [[f"`{x[0]}`"] + x[1:] for x in overhead[:MARKDOWN_COMPONENTS]],
                         right={1, 2, 3, 4, 5})
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
        table.append([name, _usd(x.monthly_total), _usd(x.cost_per_request, True), _usd(x.cost_per_success, True),
                      _pct4(x.p_success)])
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


# --- Jupyter ------------------------------------------------------------------------------------

def summary_html(compiled: Compiled, scenario: Optional[str] = None, top: int = 10) -> str:
    """A compact summary for a notebook (`Model._repr_html_`): plain tables and, when Graphviz
    is there and the architecture is small, the diagram. No script: notebooks may not run it."""
    arch = compiled.arch
    try:
        evaluation = compiled.evaluator.evaluation(scenario)
        r = evaluation.result
    except LlmarchError as exc:
        return (f"<div><strong>{_e(arch.title)}</strong>: cannot evaluate"
                f"<pre>{_e(exc.render())}</pre></div>")
    out = [f'<div class="llmarch-summary"><h3>{_e(arch.title)}'
           + (f" — scenario {_e(scenario)}" if scenario else "") + "</h3>"]
    out.append("<table><tbody>" + "".join(f"<tr><th style=\"text-align:left\">{_e(k)}</th>"
                                            f"<td style=\"text-align:right\">{_e(v)}</td></tr>"
                                            for k, v in summary_rows(r)) + "</tbody></table>")
    out.append("<table><thead><tr><th>cost vector</th><th>per month</th><th>share</th></tr></thead><tbody>"
               + "".join(f"<tr><td>{_e(c)}</td><td style=\"text-align:right\">{_e(v)}</td>"
                         f"<td style=\"text-align:right\">{_e(s)}</td></tr>" for c, v, s in category_rows(r))
               + "</tbody></table>")
    rows = component_rows(r)
    out.append(f"<table><thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in COMPONENT_HEADER)}</tr></thead><tbody>"
               + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows[:top])
               + "</tbody></table>")
    if len(rows) > top:
        out.append(f"<p>{len(rows) - top:,} more components: <code>model.cost()</code> lists them all.</p>")
    svg, _ = _diagram(compiled, evaluation)
    if svg:
        out.append(f"<div>{svg}</div>")
    out.append("</div>")
    return "".join(out)


# --- the page's style sheet and script ----------------------------------------------------------
# They live in compiler/assets/ as plain .css and .js files (package data), read once. The
# script reads the JSON block, calls the generated `_evaluate` and only ever writes text
# (`textContent`) and attributes: user text never becomes markup. Its number formats mirror
# the Python ones above (`_usd`, `_g4`, `_pct`, ...).

_ASSETS = resources.files("llmarch.compiler").joinpath("assets")
_CSS = _ASSETS.joinpath("report.css").read_text(encoding="utf-8")
_APP_JS = _ASSETS.joinpath("report.js").read_text(encoding="utf-8")
