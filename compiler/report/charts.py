"""The charts, drawn here as SVG and redrawn by the page's script with the same geometry."""

from __future__ import annotations

import math


from .. import ir
from ..evaluate import CostResult
from .facts import Facts, monthly_budget
from .htmlkit import attr, escape, nice_max, pct, usd, usd0
from .settings import CATEGORY_COLORS, PROJECTION_COMPONENTS, TORNADO_ROWS


# --- charts (drawn here, redrawn by _APP_JS with the same geometry) -------------------------------

BAR = {"width": 520, "label": 80, "text": 170, "row": 26}
TORNADO = {"width": 720, "label": 170, "text": 200, "row": 22}
PROJECTION = {"width": 660, "height": 290, "left": 88, "right": 12, "top": 14, "bottom": 46}
SCENARIOS = {"width": 720, "label": 130, "text": 110, "row": 30, "axis": 34}


def vector_chart(result: CostResult) -> str:
    g = BAR
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
        share = pct(v / total) if total else "0.0%"
        out.append(f'<g transform="translate(0,{y})"><text x="{g["label"] - 8}" y="17" text-anchor="end">{c}</text>'
                   f'<rect data-bar="{k}" x="{g["label"]}" y="4" height="{g["row"] - 8}" width="{width:.2f}" '
                   f'fill="{CATEGORY_COLORS[c]}"></rect>'
                   f'<text data-bar-text="{k}" x="{g["width"] - g["text"] + 8}" y="17">{escape(usd(v))} · {share}</text></g>')
    out.append("</svg>")
    return "".join(out)


def tornado_chart(facts: Facts) -> str:
    g = TORNADO
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
        name = escape(r.name) if r is not None else ""
        text = escape(f"{usd(r.monthly_at_low)} … {usd(r.monthly_at_high)}") if r is not None else ""
        out.append(f'<g data-t="{k}" transform="translate(0,{k * g["row"]})"{hidden}>'
                   f'<text data-t-name="{k}" x="{g["label"] - 8}" y="15" text-anchor="end">{name}</text>'
                   + "".join(parts) +
                   f'<text data-t-text="{k}" x="{g["width"] - g["text"] + 8}" y="15">{text}</text></g>')
    out.append("</svg>")
    return "".join(out)


def projection_series(facts: Facts, view: str) -> tuple[list[str], list[list[float]]]:
    """The stacks of the projection chart, bottom up: (names, values per month) of each cost
    vector (`view="vector"`), or of the `PROJECTION_COMPONENTS` cost-table rows costing the
    most in the last month and "other" for the rest (`view="component"`); the page's script
    picks them the same way."""
    p = facts.projection
    if view == "vector":
        return list(ir.CATEGORIES), [p.by_category[c] for c in ir.CATEGORIES]
    names = [row.key for row in facts.compiled.evaluator.rows] + list(facts.compiled.arch.fixed)
    ranked = sorted(range(len(names)), key=lambda i: (-p.by_row[i][-1], names[i]))
    top = ranked[:PROJECTION_COMPONENTS]
    rest = ranked[PROJECTION_COMPONENTS:]
    series = [p.by_row[i] for i in top]
    if rest:
        series.append([sum(p.by_row[i][m] for i in rest) for m in range(len(p.months))])   # in the script's order
    return [names[i] for i in top] + (["other"] if rest else []), series


def projection_chart(facts: Facts, view: str) -> str:
    """Stacked bars, one per month, split by cost vector or by component; the dashed line is
    the monthly budget. Axis titles say what is counted where."""
    g = PROJECTION
    names, series = projection_series(facts, view)
    totals = facts.projection.monthly_total
    budget = monthly_budget(facts)
    top = nice_max(max([t for t in totals if math.isfinite(t)] + ([budget] if budget else []) + [0.0]) * 1.05)
    width, height = g["width"], g["height"]
    plot_w = width - g["left"] - g["right"]
    plot_h = height - g["top"] - g["bottom"]
    months = len(totals)
    slot = plot_w / months
    bar = slot * 0.72

    def y(v):
        return g["top"] + plot_h * (1 - v / top)

    label = "by cost vector" if view == "vector" else "by component"
    out = [f'<svg class="chart projection" id="lm-proj-{view}" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="monthly cost at months 0 to {months - 1}, {label}">']
    for k in range(5):
        frac = k / 4
        yy = g["top"] + plot_h * (1 - frac)
        out.append(f'<line class="grid" x1="{g["left"]}" x2="{width - g["right"]}" y1="{yy:.1f}" y2="{yy:.1f}"></line>'
                   f'<text data-y-tick="{k}" x="{g["left"] - 6}" y="{yy + 4:.1f}" text-anchor="end">'
                   f'{escape(usd0(top * frac))}</text>')
    for m in range(months):
        cx = g["left"] + slot * (m + 0.5)
        out.append(f'<text x="{cx:.1f}" y="{height - g["bottom"] + 16}" text-anchor="middle">{m}</text>')
        out.append(f'<g data-m="{m}">')
        base = 0.0
        for k, values in enumerate(series):
            v = values[m] if math.isfinite(values[m]) and values[m] > 0 else 0.0
            y1, y0 = y(base + v), y(base)
            cls = names[k] if view == "vector" else f"s{k}"
            out.append(f'<rect data-s="{k}" data-value="{attr(values[m])}" class="{cls}" '
                       f'x="{cx - bar / 2:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{y0 - y1:.1f}">'
                       f'<title>month {m} · {escape(names[k])}: {escape(usd(values[m]))}</title></rect>')
            base += v
        out.append("</g>")
    out.append(f'<line class="axis" x1="{g["left"]}" x2="{width - g["right"]}" y1="{y(0):.1f}" y2="{y(0):.1f}"></line>')
    out.append(f'<text class="axis-title" x="{g["left"] + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               'month (the built-in time parameter)</text>')
    out.append(f'<text class="axis-title" transform="translate(14,{g["top"] + plot_h / 2:.1f}) rotate(-90)" '
               'text-anchor="middle">monthly cost (USD)</text>')
    if budget is not None:
        out.append(f'<line class="budget" data-budget="1" x1="{g["left"]}" x2="{width - g["right"]}" '
                   f'y1="{y(budget):.1f}" y2="{y(budget):.1f}"></line>')
    out.append("</svg>")
    legend = "".join(f'<li data-legend="{k}"><span class="swatch {n if view == "vector" else f"s{k}"}"></span>'
                     f'<span data-legend-name="{k}">{escape(n)}</span></li>' for k, n in enumerate(names))
    if budget is not None:
        legend += f'<li><span class="swatch budget"></span>budget, {escape(usd(budget))} a month</li>'
    out.append(f'<ul class="legend" id="lm-legend-{view}">{legend}</ul>')
    return "".join(out)


def scenario_chart(facts: Facts) -> str:
    """One horizontal bar per scenario, in file order (the defaults first), stacked by cost
    vector, with its monthly total; static, as the scenario table."""
    g = SCENARIOS
    rows = facts.scenarios
    width = g["width"]
    area = width - g["label"] - g["text"]
    height = g["row"] * len(rows) + g["axis"]
    tops = [r.result.monthly_total for r in rows if r.result is not None and math.isfinite(r.result.monthly_total)]
    top = nice_max(max(tops + [0.0]))
    out = [f'<svg class="chart" id="lm-scenario-chart" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="monthly cost of each scenario by cost vector">']
    for k in range(5):
        x = g["label"] + area * k / 4
        out.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - g["axis"]}"></line>'
                   f'<text x="{x:.1f}" y="{height - g["axis"] + 14}" text-anchor="middle">{escape(usd0(top * k / 4))}'
                   "</text>")
    out.append(f'<text class="axis-title" x="{g["label"] + area / 2:.1f}" y="{height - 4}" text-anchor="middle">'
               "monthly cost (USD), by cost vector</text>")
    for i, row in enumerate(rows):
        name = "(defaults)" if row.name is None else row.name
        current = ' class="current"' if row.name == facts.scenario else ""
        out.append(f'<g data-scenario="{i}" transform="translate(0,{i * g["row"]})"{current}>'
                   f'<text x="{g["label"] - 8}" y="{g["row"] / 2 + 4:.1f}" text-anchor="end">{escape(name)}</text>')
        if row.result is None:
            out.append(f'<text class="error" x="{g["label"]}" y="{g["row"] / 2 + 4:.1f}">error: '
                       f'{escape(row.error or "")}</text></g>')
            continue
        x = float(g["label"])
        for c in ir.CATEGORIES:
            v = row.result.by_category[c]
            w = area * v / top if top > 0 and math.isfinite(v) and v > 0 else 0.0
            out.append(f'<rect class="{c}" data-category="{c}" data-value="{attr(v)}" x="{x:.2f}" y="5" '
                       f'width="{w:.2f}" height="{g["row"] - 10}"><title>{escape(name)} · {c}: {escape(usd(v))}'
                       "</title></rect>")
            x += w
        total = row.result.monthly_total
        out.append(f'<text data-total="{attr(total)}" x="{x + 6:.2f}" y="{g["row"] / 2 + 4:.1f}">'
                   f"{escape(usd(total))}</text></g>")
    out.append("</svg>")
    legend = "".join(f'<li><span class="swatch {c}"></span>{c}</li>' for c in ir.CATEGORIES)
    out.append(f'<ul class="legend">{legend}</ul>')
    return "".join(out)
