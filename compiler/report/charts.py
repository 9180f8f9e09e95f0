"""The charts, drawn here as SVG and redrawn by the page's script with the same geometry."""

from __future__ import annotations

import math


from .. import ir
from ..evaluate import CostResult
from .facts import Facts, monthly_budget
from .htmlkit import escape, pct, usd, usd0
from .settings import TORNADO_ROWS, CATEGORY_COLORS


# --- charts (drawn here, redrawn by _APP_JS with the same geometry) -------------------------------

BAR = {"width": 520, "label": 80, "text": 170, "row": 26}
TORNADO = {"width": 720, "label": 170, "text": 200, "row": 22}
PROJECTION = {"width": 640, "height": 220, "left": 76, "right": 24, "top": 14, "bottom": 30}


def _nice_max(v: float) -> float:
    """The axis maximum: the smallest 1, 2, 2.5 or 5 × 10^k at or above `v`."""
    if not (v > 0) or not math.isfinite(v):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(v))
    for f in (1, 2, 2.5, 5, 10):
        if f * magnitude >= v * (1 - 1e-12):
            return f * magnitude
    return 10 * magnitude  # pragma: no cover


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


def projection_chart(facts: Facts) -> str:
    g = PROJECTION
    totals = facts.projection.monthly_total
    budget = monthly_budget(facts)
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
                   f'{escape(usd0(top * frac))}</text>')
    for m in range(0, months + 1, 3 if months >= 6 else 1):
        out.append(f'<text x="{x(m):.1f}" y="{height - 10}" text-anchor="middle">{m}</text>')
    if budget is not None:
        out.append(f'<line id="lm-budget-line" class="budget" x1="{g["left"]}" x2="{width - g["right"]}" '
                   f'y1="{y(budget):.1f}" y2="{y(budget):.1f}"></line>')
    out.append(f'<polyline id="lm-proj-line" class="line" points="{points}"></polyline>')
    out.append("</svg>")
    return "".join(out)
