"""What people read of a Monte Carlo run (`montecarlo.Simulation`): the table, its Markdown
and the JSON of `llmarch simulate`. Numbers are formatted by `present`."""

from __future__ import annotations

from typing import Optional

from . import present
from .metrics import CATEGORIES
from .montecarlo import KEEP_COMPONENTS, Simulation
from .output import markdown_table, text_table

__all__ = ["sobol_table", "sobol_json", "simulation_table", "simulation_markdown", "simulation_json", "FIGURE_LABELS", "show_figure",
           "parameter_rows", "SIMULATION_FORMAT_VERSION"]

SIMULATION_FORMAT_VERSION = 1

FIGURE_LABELS = {"monthly_total": "monthly total", "cost_per_request": "cost per request",
                 "cost_per_success": "cost per successful request", "p_success": "P(success)",
                 **{f"monthly_{c}": f"{c} a month" for c in CATEGORIES}}


def show_figure(metric: str, x: float) -> str:
    if metric == "p_success":
        return present.p_success(x)
    if metric in ("cost_per_request", "cost_per_success"):
        return present.money(x, per_request=True)
    return present.money(x)


def describe(d, unit: Optional[str]) -> tuple[str, str]:
    """(the distribution, its median) as a reader sees them, in the parameter's unit."""
    if unit is None and (d.kind in ("logitnormal", "beta") or "%" in d.written):
        return d.describe(present.percent), present.percent(d.median)
    suffix = f" {unit}" if unit else ""
    return d.describe(present.count, suffix), present.count(d.median) + suffix


def parameter_rows(sim: Simulation) -> list[list[str]]:
    """Each uncertain parameter: its distribution and the point value `cost` uses."""
    return [[name, *describe(d, sim.units.get(name))] for name, d in sim.uncertain.items()]


def _figure_rows(sim: Simulation) -> list[list[str]]:
    rows = []
    for metric, label in FIGURE_LABELS.items():
        s = sim.figures[metric]
        if metric.startswith("monthly_") and metric != "monthly_total" and s.mean == 0 and s.sd == 0:
            continue
        show = lambda x, m=metric: show_figure(m, x)   # noqa: E731
        rows.append([label, show(s.mean), show(s.se), show(s.p5), show(s.p50), show(s.p95), show(s.p99)])
    return rows


def _component_rows(sim: Simulation) -> list[list[str]]:
    ordered = sorted(sim.components.items(), key=lambda kv: (-kv[1].mean, kv[0]))
    return [[name, sim.categories.get(name, ""), present.money(s.mean), present.money(s.p5), present.money(s.p50),
             present.money(s.p95)] for name, s in ordered]


def _heading(sim: Simulation) -> str:
    where = f"scenario `{sim.scenario}`" if sim.scenario else "the defaults"
    return f"{present.whole(sim.samples)} samples of {where}, seed {sim.seed}"


def _notes(sim: Simulation) -> list[str]:
    notes = []
    if sim.point is not None:
        notes.append(f"point value (every uncertain parameter at its median, as `llmarch cost` prints): "
                     f"monthly total {present.money(sim.point.monthly_total)}")
    if not sim.uncertain:
        notes.append("no parameter is uncertain here: every sample is the point value")
    for c in sim.correlations:
        notes.append(f"`{c.first}` and `{c.second}` have a rank correlation of {c.rank:g}")
    if sim.subsampled:
        notes.append(f"quantiles from a uniform subsample of {present.whole(sim.figures['monthly_total'].raw.size)} "
                     "of the samples; means and standard deviations from all of them")
    if sim.components and sim.samples > KEEP_COMPONENTS:
        notes.append(f"the components' quantiles from a uniform subsample of {present.whole(KEEP_COMPONENTS)} "
                     "of the samples; their means from all of them")
    return notes


FIGURE_HEADER = ["figure", "mean", "± s.e.", "p5", "p50", "p95", "p99"]
COMPONENT_HEADER = ["component", "category", "mean a month", "p5", "p50", "p95"]
PARAMETER_HEADER = ["uncertain parameter", "distribution", "point value (median)"]


def _simulation_text(sim: Simulation, budgets, markdown: bool) -> str:
    table, item = (markdown_table, "- ") if markdown else (text_table, "")
    out = ([f"# {sim.architecture}", ""] if markdown else [sim.architecture]) + [_heading(sim), ""]
    if sim.uncertain:
        out += table(PARAMETER_HEADER, parameter_rows(sim), {2}) + [""]
    out += table(FIGURE_HEADER, _figure_rows(sim), set(range(1, 7))) + [""]
    if sim.components:
        out += table(COMPONENT_HEADER, _component_rows(sim), set(range(2, 6))) + [""]
    out += [f"{item or 'note: '}{n}" for n in _notes(sim)]
    if budgets:
        out += [""] + [f"{item}{b.line()}" for b in budgets]
    return "\n".join(out).rstrip("\n") + "\n"


def simulation_table(sim: Simulation, budgets=()) -> str:
    return _simulation_text(sim, budgets, markdown=False)


def simulation_markdown(sim: Simulation, budgets=()) -> str:
    return _simulation_text(sim, budgets, markdown=True)


def simulation_json(sim: Simulation, budgets=()) -> dict:
    return {
        "format_version": SIMULATION_FORMAT_VERSION,
        "architecture": sim.architecture, "scenario": sim.scenario, "samples": sim.samples, "seed": sim.seed,
        "set": {k: str(v) for k, v in sim.sets.items()},
        "quantiles": ("exact" if not sim.subsampled else f"subsample of {sim.figures['monthly_total'].raw.size}")
                     + (f"; components: subsample of {KEEP_COMPONENTS}"
                        if sim.components and sim.samples > KEEP_COMPONENTS else ""),
        "uncertain": {name: {"distribution": d.kind, "args": list(d.args),
                             **({"weights": list(d.weights)} if d.weights else {}),
                             "written": d.written, "unit": sim.units.get(name), "median": d.median}
                      for name, d in sim.uncertain.items()},
        "correlations": [{"first": c.first, "second": c.second, "rank": c.rank} for c in sim.correlations],
        "point": {"monthly_total": sim.point.monthly_total, "cost_per_request": sim.point.cost_per_request,
                  "p_success": sim.point.p_success} if sim.point is not None else None,
        "results": {metric: s.to_json() for metric, s in sim.figures.items()},
        "components": {name: s.to_json() for name, s in sim.components.items()},
        "budgets": [b.to_json() for b in budgets],
    }




# --- variance-based sensitivity (sobol.py) ---------------------------------------------------------

SOBOL_HEADER = ["parameter", "total", "95% interval", "first order", "95% interval", "distribution"]


def _index(x: float) -> str:
    shown = f"{x:.3f}"
    return "0.000" if shown == "-0.000" else shown.replace("-", present.MINUS)


def _ci(interval) -> str:
    return f"{_index(interval[0])} to {_index(interval[1])}"


def _sobol_rows(result) -> list[list[str]]:
    return [[i.parameter, _index(i.total), _ci(i.total_ci), _index(i.first_order), _ci(i.first_order_ci),
             describe(i.distribution, result.units.get(i.parameter))[0]] for i in result.indices]


def _sobol_notes(result) -> list[str]:
    notes = [f"Saltelli sampling, {present.whole(result.base)} base samples ({present.whole(result.evaluations)} "
             f"exact evaluations), seed {result.seed}; intervals by bootstrap",
             "total: the share of the monthly total's variance the guess explains with its interactions; "
             "first order: alone",
             f"monthly total: mean {present.money(result.mean)}, standard deviation "
             f"{present.money(result.variance ** 0.5)}"]
    if result.correlated:
        notes.append("the declared correlations are set aside here: Sobol indices assume independent inputs")
    return notes


def sobol_table(result, markdown: bool = False) -> str:
    where = f" — scenario {result.scenario}" if result.scenario else ""
    title = f"{result.architecture}{where}: which guess matters most"
    rows = _sobol_rows(result)
    if markdown:
        out = [f"### {title}", ""] + markdown_table(SOBOL_HEADER, [[f"`{r[0]}`"] + r[1:] for r in rows],
                                                      {1, 2, 3, 4}) + [""] + [f"- {n}" for n in _sobol_notes(result)]
    else:
        out = [title, ""] + text_table(SOBOL_HEADER, rows, {1, 2, 3, 4}) + [""] + \
            [f"note: {n}" for n in _sobol_notes(result)]
    return "\n".join(out) + "\n"


def sobol_json(result) -> dict:
    return {"format_version": 1, "architecture": result.architecture, "scenario": result.scenario,
            "method": "saltelli-jansen", "base_samples": result.base, "evaluations": result.evaluations,
            "seed": result.seed, "set": {k: str(v) for k, v in result.sets.items()},
            "mean": result.mean, "variance": result.variance, "correlations_ignored": result.correlated,
            "indices": [i.to_json() for i in result.indices]}
