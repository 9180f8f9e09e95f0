"""The report's uncertainty section: what the guesses do to the bill.

Computed once when the report is made, for the scenario as written (the sliders move the
point values; they do not move this section, and it says so): the monthly total's
distribution over the uncertain parameters as a histogram with its p5, p50 and p95 and the
monthly budget, the chance each budget holds, a fan chart of the projection when the file
grows with `time`, and the Sobol ranking — which guess matters most. Fixed seeds: the same
file gives the same page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import present
from ..montecarlo import DEFAULT_SAMPLES, ProjectionRisk, Simulation, project_risk, simulate
from ..sobol import SobolResult, sobol
from ..uncertainty_output import describe
from .htmlkit import escape, nice_max

__all__ = ["Uncertainty", "gather_uncertainty", "uncertainty_section", "uncertainty_markdown",
           "REPORT_SOBOL_BASE", "HISTOGRAM_BINS"]

#: Base samples of the report's Sobol ranking (N (k + 2) evaluations; the CLI's default is larger).
REPORT_SOBOL_BASE = 2_048
HISTOGRAM_BINS = 40
HISTOGRAM = {"width": 640, "height": 200, "left": 16, "right": 16, "top": 18, "bottom": 34}
FAN = {"width": 640, "height": 220, "left": 76, "right": 24, "top": 14, "bottom": 40}


@dataclass
class Uncertainty:
    simulation: Simulation
    budgets: list                       # budget lines: (text, P(holds) or None, verdict text)
    monthly_limit: Optional[float]      # the monthly budget drawn on the charts
    projection: Optional[ProjectionRisk]
    sobol: Optional[SobolResult]


def gather_uncertainty(compiled, scenario: Optional[str], sets: dict, uses_time: bool,
                       months: int, ranking: bool = True) -> Optional[Uncertainty]:
    """The section's numbers, or None when no parameter is uncertain in the scenario; the
    projection's fan when `uses_time`, the Sobol ranking when `ranking`."""
    from ..budgets import applies, check_risk_budgets, show_value
    evaluator = compiled.evaluator
    if not evaluator.uncertain(scenario, pinned=set(sets)):
        return None
    run = simulate(evaluator, scenario, sets, DEFAULT_SAMPLES, 0, components=False)
    budgets = compiled.arch.budgets
    lines = []
    limit = None
    for b in budgets:
        if b.probabilistic or not applies(b, scenario) or b.metric not in run.figures:
            continue
        figure = run.figures[b.metric]
        holds, _ = figure.probability(b.op, b.limit)
        lines.append((f"{b.metric} {b.op} {show_value(b.metric, b.limit)}", holds, None))
        if b.metric == "monthly_total" and b.op in ("<", "<=") and limit is None:
            limit = b.limit
    for r in check_risk_budgets(budgets, run):
        verdict = {True: "holds", False: "does not hold", None: "too close to call"}[r.holds]
        lines.append((r.budget.text(show_value), None, f"{verdict}: {r.estimate()}"))
        if limit is None and r.budget.metric == "monthly_total" and r.budget.statistic == "P":
            limit = r.budget.event_limit
    projection = project_risk(evaluator, scenario, sets, months, limit, DEFAULT_SAMPLES // 5, 0) if uses_time else None
    indices = sobol(evaluator, scenario, sets, REPORT_SOBOL_BASE, 0, bootstrap=100) if ranking else None
    return Uncertainty(run, lines, limit, projection, indices)


# --- HTML --------------------------------------------------------------------------------------

def _histogram(u: Uncertainty) -> str:
    g = HISTOGRAM
    s = u.simulation.figures["monthly_total"]
    data = s.raw
    lo, hi = float(np.min(data)), float(np.max(data))
    if u.monthly_limit is not None:
        lo, hi = min(lo, u.monthly_limit), max(hi, u.monthly_limit)
    if not hi > lo:
        hi = lo + max(abs(lo) * 0.01, 1.0)
    counts, edges = np.histogram(data, bins=HISTOGRAM_BINS, range=(lo, hi))
    width, height = g["width"], g["height"]
    plot_w, plot_h = width - g["left"] - g["right"], height - g["top"] - g["bottom"]
    top = max(int(counts.max()), 1)

    def x(v: float) -> float:
        return g["left"] + plot_w * (v - lo) / (hi - lo)

    out = [f'<svg class="chart" id="lm-histogram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'role="img" aria-label="distribution of the monthly total over {s.n} samples">']
    bar_w = plot_w / HISTOGRAM_BINS
    for k, c in enumerate(counts):
        h = plot_h * c / top
        out.append(f'<rect data-bin="{k}" class="bin" x="{g["left"] + k * bar_w:.2f}" y="{g["top"] + plot_h - h:.2f}" '
                   f'width="{max(bar_w - 1, 0.5):.2f}" height="{h:.2f}"></rect>')
    base = g["top"] + plot_h
    out.append(f'<line class="axis" x1="{g["left"]}" x2="{width - g["right"]}" y1="{base}" y2="{base}"></line>')
    for name, value in (("p5", s.p5), ("p50", s.p50), ("p95", s.p95)):
        xx = x(value)
        out.append(f'<line class="quantile" data-quantile="{name}" x1="{xx:.2f}" x2="{xx:.2f}" y1="{g["top"]}" '
                   f'y2="{base}"></line><text x="{xx:.2f}" y="{height - 18}" text-anchor="middle">{name} '
                   f'{escape(present.whole_money(value))}</text>')
    if u.monthly_limit is not None:
        xx = x(u.monthly_limit)
        out.append(f'<line id="lm-hist-budget" class="budget" x1="{xx:.2f}" x2="{xx:.2f}" y1="{g["top"] - 8}" '
                   f'y2="{base}"></line><text x="{xx:.2f}" y="{g["top"] - 10}" text-anchor="middle">budget '
                   f'{escape(present.whole_money(u.monthly_limit))}</text>')
    out.append(f'<text x="{g["left"]}" y="{height - 2}">{escape(present.whole_money(lo))}</text>'
               f'<text x="{width - g["right"]}" y="{height - 2}" text-anchor="end">'
               f'{escape(present.whole_money(hi))} a month</text></svg>')
    return "".join(out)


def _fan(u: Uncertainty) -> str:
    g = FAN
    p = u.projection
    lows = [q[0] for q in p.quantiles]
    mids = [q[1] for q in p.quantiles]
    highs = [q[2] for q in p.quantiles]
    top = max(highs + ([u.monthly_limit] if u.monthly_limit else []) + [0.0]) * 1.05
    top = nice_max(top)
    width, height = g["width"], g["height"]
    plot_w, plot_h = width - g["left"] - g["right"], height - g["top"] - g["bottom"]
    months = len(mids) - 1

    def x(m):
        return g["left"] + plot_w * m / months if months else g["left"]

    def y(v):
        return g["top"] + plot_h * (1 - v / top)

    band = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in enumerate(highs)) + " " + \
        " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in reversed(list(enumerate(lows))))
    out = [f'<svg class="chart" id="lm-fan" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'role="img" aria-label="projection of the monthly total: p5 to p95 band and median">']
    for k, frac in enumerate((0, 0.5, 1)):
        yy = g["top"] + plot_h * (1 - frac)
        out.append(f'<line class="grid" x1="{g["left"]}" x2="{width - g["right"]}" y1="{yy:.1f}" y2="{yy:.1f}"></line>'
                   f'<text x="{g["left"] - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(present.whole_money(top * frac))}'
                   f'</text>')
    for m in range(0, months + 1, 3 if months >= 6 else 1):
        out.append(f'<text x="{x(m):.1f}" y="{height - 22}" text-anchor="middle">{m}</text>')
    out.append(f'<text x="{g["left"] + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">month</text>')
    out.append(f'<polygon id="lm-fan-band" class="band" points="{band}"></polygon>')
    out.append(f'<polyline id="lm-fan-median" class="line" '
               f'points="{" ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in enumerate(mids))}"></polyline>')
    if u.monthly_limit is not None:
        out.append(f'<line class="budget" x1="{g["left"]}" x2="{width - g["right"]}" y1="{y(u.monthly_limit):.1f}" '
                   f'y2="{y(u.monthly_limit):.1f}"></line>')
    out.append("</svg>")
    return "".join(out)


def _figures_table(u: Uncertainty) -> str:
    from ..uncertainty_output import FIGURE_LABELS, show_figure
    rows = []
    for metric, label in FIGURE_LABELS.items():
        s = u.simulation.figures[metric]
        if metric.startswith("monthly_") and metric != "monthly_total" and s.sd == 0 and s.mean == 0:
            continue
        cells = "".join(f"<td>{escape(show_figure(metric, v))}</td>" for v in (s.mean, s.p5, s.p50, s.p95))
        rows.append(f"<tr><th scope=\"row\">{escape(label)}</th>{cells}</tr>")
    return ('<div class="scroll"><table class="data" id="lm-uncertain-figures"><thead><tr><th></th><th>mean</th><th>p5</th>'
            '<th>p50</th><th>p95</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")


def _parameters_table(u: Uncertainty) -> str:
    sim = u.simulation
    rows = "".join(f"<tr><td><code>{escape(name)}</code></td><td>{escape(text)}</td><td>{escape(median)}</td></tr>"
                   for name, d in sim.uncertain.items() for text, median in [describe(d, sim.units.get(name))])
    return ('<div class="scroll"><table class="data" id="lm-uncertain-params"><thead><tr><th>parameter</th><th>distribution</th>'
            '<th>point value (median)</th></tr></thead><tbody>' + rows + "</tbody></table></div>")


def _sobol_table(u: Uncertainty) -> str:
    r = u.sobol
    if not r.variance > 0:
        return ('<h3>Which guess matters most</h3><p class="note">None, at this point in time: the monthly total '
                "does not vary with the guesses here.</p>")
    rows = []
    for i in r.indices:
        width = max(0.0, min(1.0, i.total)) * 160
        rows.append(f'<tr><td><code>{escape(i.parameter)}</code></td><td><svg width="164" height="12" '
                    f'aria-hidden="true"><rect class="sobol" x="0" y="1" height="10" width="{width:.1f}"></rect></svg> '
                    f'{i.total:.3f}</td><td>{max(i.first_order, 0.0):.3f}</td></tr>')
    note = (f"Sobol indices of the monthly total from {present.whole(r.base)} base samples "
            f"({present.whole(r.evaluations)} exact evaluations): total, the share of its variance the guess "
            "explains with its interactions; first order, alone.")
    if r.correlated:
        note += " The declared correlations are set aside here (Sobol indices assume independent inputs)."
    return ('<h3>Which guess matters most</h3><div class="scroll"><table class="data" id="lm-sobol"><thead><tr><th>parameter</th>'
            '<th>total index</th><th>first order</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>"
            f'<p class="note">{escape(note)}</p>')


def uncertainty_section(u: Optional[Uncertainty], error: Optional[str] = None) -> str:
    if error is not None:
        return ('<section id="uncertainty"><h2>Uncertainty: the bill over the guesses</h2>'
                f'<p class="note">The samples could not be priced: {escape(error)}</p></section>')
    if u is None:
        return ""
    sim = u.simulation
    s = sim.figures["monthly_total"]
    head = (f'<section id="uncertainty"><h2>Uncertainty: the bill over the guesses</h2>'
            f'<p class="note">{len(sim.uncertain)} uncertain parameter{"s" if len(sim.uncertain) != 1 else ""}; '
            f'{present.whole(sim.samples)} samples (seed {sim.seed}), each the exact expected cost at sampled values. '
            'Computed for the scenario as written: the sliders move the point values above, not this section.</p>'
            f'<p class="big">monthly total p5–p95: <strong>{escape(present.whole_money(s.p5))} – '
            f'{escape(present.whole_money(s.p95))}</strong>, median {escape(present.whole_money(s.p50))}, '
            f'mean {escape(present.whole_money(s.mean))} (the point value, every guess at its median: '
            f'{escape(present.whole_money(sim.point.monthly_total))})</p>')
    budgets = ""
    if u.budgets:
        items = []
        for text, holds, verdict in u.budgets:
            if holds is not None:
                items.append(f"<li><code>{escape(text)}</code>: holds in {escape(present.percent(holds, 3))} "
                             "of the samples</li>")
            else:
                items.append(f"<li><code>{escape(text)}</code>: {escape(verdict)}</li>")
        budgets = '<h3>Budgets over the guesses</h3><ul id="lm-risk-budgets">' + "".join(items) + "</ul>"
    fan = ""
    if u.projection is not None:
        fan = ('<h3>Projection: p5 to p95 and the median</h3><div class="scroll">' + _fan(u) + "</div>"
               + f'<p class="note">{present.whole(u.projection.samples)} samples a month, the same draws every month.'
               + (f" P(over the budget) first passes 10% in month {u.projection.first_month_over(0.1)}"
                  if u.projection.first_month_over(0.1) is not None else "")
               + "</p>")
    if s.sd > 0 and s.p95 > s.p5:
        picture = '<div class="scroll">' + _histogram(u) + "</div>"
    else:
        picture = ('<p class="note" id="lm-no-spread">The guesses do not move this monthly total'
                   + (": they act over time (see the projection below)." if u.projection is not None else ".")
                   + "</p>")
    return (head + picture + budgets + _figures_table(u) + _parameters_table(u) + fan
            + (_sobol_table(u) if u.sobol is not None else "") + "</section>")


def uncertainty_markdown(u: Optional[Uncertainty]) -> list[str]:
    """The Markdown summary's lines: p5–p95 ranges of the monthly total and each vector."""
    if u is None:
        return []
    from ..metrics import CATEGORIES
    sim = u.simulation
    out = ["", f"**Over the guesses** ({present.whole(sim.samples)} samples of {len(sim.uncertain)} uncertain "
                "parameters; the figures above are at their medians):", ""]
    for metric, label in [("monthly_total", "monthly total")] + [(f"monthly_{c}", c) for c in CATEGORIES]:
        s = sim.figures[metric]
        if metric != "monthly_total" and s.sd == 0:
            continue
        out.append(f"- {label}: {present.whole_money(s.p5)} – {present.whole_money(s.p95)} (p5–p95), "
                   f"median {present.whole_money(s.p50)}")
    for text, holds, verdict in u.budgets:
        out.append(f"- budget `{text}`: " + (f"holds in {present.percent(holds, 3)} of the samples" if holds is not None
                                             else verdict))
    if u.sobol is not None and u.sobol.indices:
        top = u.sobol.indices[:3]
        out.append("- the guesses that matter most: " + ", ".join(f"`{i.parameter}` ({i.total:.2f})" for i in top)
                   + " (total Sobol index)")
    return out
