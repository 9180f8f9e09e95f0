"""Tables, Markdown, JSON and CSV for the analyses (`sensitivity`, `tornado`, `project`,
`solve`, `sweep`). Pure and deterministic, like `output`."""

from __future__ import annotations

import io

import numpy as np

from . import ir, present
from .analysis import Batch, Projection, SensitivityRow, Solution
from .output import markdown_table, text_table

__all__ = ["sensitivity_text", "sensitivity_json", "projection_text", "projection_json", "solution_text",
           "sweep_csv", "sweep_json"]


_usd = present.money


def _g(x: float) -> str:
    return present.number(x)


def _unit(row: SensitivityRow) -> str:
    return f" {row.unit}" if row.unit else ""


def _per_unit(row: SensitivityRow) -> str:
    """The derivative's unit: dollars a month per one of the parameter's unit."""
    return f" USD/month per {row.unit}" if row.unit else " USD/month"


def sensitivity_text(rows: list[SensitivityRow], title: str, markdown: bool = False, tornado: bool = False) -> str:
    header = ["parameter", "value", "d monthly / d param", "elasticity", "low", "high",
              "monthly at low", "monthly at high", "swing"]
    body = [[r.name if not markdown else f"`{r.name}`", _g(r.value) + _unit(r), _g(r.derivative) + _per_unit(r),
             present.signed(r.elasticity), _g(r.low) + _unit(r), _g(r.high) + _unit(r), _usd(r.monthly_at_low),
             _usd(r.monthly_at_high), _usd(r.swing)] for r in rows]
    kind = "Tornado (ranked by swing)" if tornado else "Sensitivity (ranked by |elasticity|)"
    right = set(range(1, 9))
    latency = _latency_rows(rows, markdown)
    if markdown:
        out = [f"### {kind}: {title}", ""] + markdown_table(header, body, right)
        if latency:
            out += ["", "#### Latency (ranked by |elasticity|)", ""]
            out += markdown_table(LATENCY_HEADER, latency, {1, 2, 3})
        return "\n".join(out) + "\n"
    lines = [f"{kind}: {title}", ""] + text_table(header, body, right)
    lines += ["", "elasticity: % change of the monthly total for a 1% change of the parameter; "
              "low/high: the declared range, or ±20% without one"]
    if latency:
        lines += ["", "Latency (ranked by |elasticity|)", ""] + text_table(LATENCY_HEADER, latency, {1, 2, 3})
        lines += ["", "latency elasticity: % change of the expected latency per request for a 1% change of the "
                  "parameter"]
    if tornado and rows:
        lines += ["", _tornado_bars(rows)]
    return "\n".join(lines) + "\n"


#: The latency table of `sensitivity`: a parameter's effect on a request's expected time.
LATENCY_HEADER = ["parameter", "value", "d latency / d param", "elasticity"]


def _latency_rows(rows: list[SensitivityRow], markdown: bool) -> list[list[str]]:
    """The parameters that move the expected latency (a derivative not 0), by |elasticity|;
    empty when the file declares no latency."""
    timed = [r for r in rows if r.derivative_latency is not None and abs(r.derivative_latency) > 0]
    timed.sort(key=lambda r: (-abs(r.latency_elasticity or 0.0), r.name))
    return [[r.name if not markdown else f"`{r.name}`", _g(r.value) + _unit(r),
             _g(r.derivative_latency) + (f" s per {r.unit}" if r.unit else " s"),
             present.signed(r.latency_elasticity or 0.0)] for r in timed]


def _tornado_bars(rows: list[SensitivityRow], width: int = 30) -> str:
    base_low = min(min(r.monthly_at_low, r.monthly_at_high) for r in rows)
    base_high = max(max(r.monthly_at_low, r.monthly_at_high) for r in rows)
    span = (base_high - base_low) or 1.0
    name_width = max(len(r.name) for r in rows)
    out = []
    for r in rows:
        lo, hi = sorted((r.monthly_at_low, r.monthly_at_high))
        start = int(round((lo - base_low) / span * width))
        stop = max(start + 1, int(round((hi - base_low) / span * width)))
        out.append(f"{r.name.ljust(name_width)} |{' ' * start}{'#' * (stop - start)}{' ' * (width - stop)}| "
                   f"{_usd(lo)} .. {_usd(hi)}")
    return "\n".join(out)


def sensitivity_json(rows: list[SensitivityRow], architecture: str, scenario) -> dict:
    return {"format_version": 1, "architecture": architecture, "scenario": scenario,
            "parameters": [r.to_json() for r in rows]}


def projection_text(p: Projection, title: str, markdown: bool = False) -> str:
    header = ["month", "monthly total"] + list(ir.CATEGORIES)
    body = [[str(m), _usd(t)] + [_usd(c[k]) for k in ir.CATEGORIES]
            for m, t, c in zip(p.months, p.monthly_total, p.by_category)]
    risk = p.risk
    if risk is not None:
        header[1] = "point value"
        header[2:2] = ["p5", "p50", "p95"] + (["P(over budget)"] if risk.budget is not None else [])
        for row, (lo, mid, hi), over in zip(body, risk.quantiles, risk.over_budget):
            row[2:2] = [_usd(lo), _usd(mid), _usd(hi)] + ([present.percent(over, 3)] if risk.budget is not None else [])
    right = set(range(len(header)))
    lines = ([f"### Projection: {title}", ""] + markdown_table(header, body, right)) if markdown else \
        ([f"Projection: {title}", ""] + text_table(header, body, right))
    lines.append("")
    if p.budget is not None:
        if p.budget_crossed_month is None:
            lines.append(f"the budget of {_usd(p.budget)} a month holds through month {p.months[-1]}")
        else:
            lines.append(f"the budget of {_usd(p.budget)} a month is crossed in month {p.budget_crossed_month}")
    if risk is not None:
        lines.append(f"p5, p50, p95: the monthly total over {present.whole(risk.samples)} samples of the uncertain "
                     f"parameters (seed {risk.seed}, the same draws every month); the point value has every "
                     "uncertain parameter at its median")
        if risk.budget is not None:
            for chance in (0.10, 0.50):
                month = risk.first_month_over(chance)
                lines.append(f"P(monthly total > {_usd(risk.budget)}) first passes {chance:.0%} "
                             + (f"in month {month}" if month is not None else f"after month {p.months[-1]}"))
    exponent = p.growth_exponent
    if exponent is not None:
        lines.append(f"over the projection the bill grows x{p.monthly_total[-1] / p.monthly_total[0]:.2f} while traffic "
                     f"grows x{p.requests_per_month[-1] / p.requests_per_month[0]:.2f}: growth exponent {exponent:.3f}"
                     + (" (superlinear: cost outgrows traffic)" if exponent > 1 + 1e-9 else ""))
    for name, (first, last) in p.scaling.items():
        lines.append(f"scaling exponent d ln(monthly) / d ln({name}): {first:.3f} at month {p.months[0]}, "
                     f"{last:.3f} at month {p.months[-1]}"
                     + (" (superlinear)" if max(first, last) > 1 + 1e-9 else ""))
    return "\n".join(lines) + "\n"


def projection_json(p: Projection, architecture: str, scenario) -> dict:
    out = {"format_version": 1, "architecture": architecture, "scenario": scenario}
    out.update(p.to_json())
    return out


def solution_text(s: Solution, markdown: bool = False) -> str:
    what = {"monthly": "monthly total", "per_request": "cost per request",
            "per_success": "cost per successful request"}[s.target_kind]
    if s.against:
        head = f"`{s.parameter}` where the {what} equals that of {s.against}"
    else:
        head = f"`{s.parameter}` where the {what} reaches {_usd(s.target, s.target_kind != 'monthly')}"
    lines = [("### " if markdown else "") + head, "",
             f"searched [{present.number(s.low)}, {present.number(s.high)}], {s.method}", ""]
    lines += [("- " if markdown else "  ") + present.number(x, 10) for x in s.solutions]
    if len(s.solutions) > 1:
        lines += ["", f"{len(s.solutions)} solutions"]
    if s.jumps:
        lines += ["", "the cost also steps over the target (a price tier, floor or ceil) at "
                  + ", ".join(present.number(x, 10) for x in s.jumps)]
    return "\n".join(lines) + "\n"


def _columns(names, arrays, batch: Batch):
    cols = [(n, arrays[n]) for n in names]
    cols += [("monthly_total", batch.monthly_total), ("cost_per_request", batch.cost_per_request),
             ("p_success", batch.p_success)]
    return cols


def sweep_csv(names, arrays, batch: Batch) -> str:
    cols = _columns(names, arrays, batch)
    out = io.StringIO()
    out.write(",".join(n for n, _ in cols) + "\n")
    matrix = np.column_stack([np.asarray(c, dtype=float).ravel() for _, c in cols])
    np.savetxt(out, matrix, delimiter=",", fmt="%.12g")
    return out.getvalue()


def sweep_json(names, arrays, batch: Batch) -> dict:
    cols = _columns(names, arrays, batch)
    return {"format_version": 1, "columns": [n for n, _ in cols],
            "rows": np.column_stack([np.asarray(c, dtype=float).ravel() for _, c in cols]).tolist()}
