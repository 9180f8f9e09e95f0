"""Turn results into what people read: tables, Markdown, JSON, the export document and
the `explain` text. Every function here is pure and deterministic."""

from __future__ import annotations

import json
import math
from typing import Optional

import sympy

from . import ir
from .evaluate import CostResult, Resolution, numeric
from .pipeline import Compiled
from .units import format_dim

__all__ = ["cost_table", "cost_markdown", "cost_json", "export_json", "explain_text", "to_json_text"]

FORMAT_VERSION = 1


def _usd(x: Optional[float], small: bool = False) -> str:
    if x is None:
        return ""
    if not math.isfinite(x):
        return "∞"
    return f"${x:,.6f}" if small else f"${x:,.2f}"


def _num(x: Optional[float]) -> str:
    return "" if x is None else f"{x:.4g}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _rows(result: CostResult) -> list[list[str]]:
    rows = []
    for r in sorted(result.components, key=lambda r: (-r.monthly, r.name)):
        rows.append([r.name, r.kind, r.category, _num(r.expected_visits), _usd(r.cost_per_visit, True),
                     _usd(r.cost_per_request, True), _usd(r.monthly), _pct(r.share)])
    return rows


_HEADER = ["component", "kind", "category", "visits", "per visit", "per request", "per month", "share"]


def _summary(result: CostResult) -> list[list[str]]:
    return [
        ["requests per month", f"{result.requests_per_month:,.0f}"],
        ["cost per request", _usd(result.cost_per_request, True)],
        ["P(success)", f"{result.p_success:.4%}"],
        ["cost per successful request", _usd(result.cost_per_success, True)],
        ["happy-path cost per request", _usd(result.happy_path_cost_per_request, True)],
        ["failure overhead per request", _usd(result.failure_overhead_per_request, True)
         + (f" ({result.failure_overhead_per_request / result.cost_per_request:.1%} of the request)"
            if result.cost_per_request else "")],
        ["fixed monthly costs", _usd(result.fixed_monthly)],
        ["monthly total", _usd(result.monthly_total)],
    ]


def _overhead(result: CostResult) -> list[list[str]]:
    """Per component: happy path vs system, and its share of the total failure overhead."""
    total = result.failure_overhead_per_request
    rows = []
    for r in sorted(result.components, key=lambda r: (-(r.failure_overhead_per_request or 0.0), r.name)):
        overhead = r.failure_overhead_per_request
        if overhead is None or abs(overhead) < 1e-15:
            continue
        share = _pct(overhead / total) if abs(total) > 1e-15 else ""
        rows.append([r.name, _usd(r.happy_path_cost_per_request, True), _usd(r.cost_per_request, True),
                     _usd(overhead, True), _usd(overhead * result.requests_per_month), share])
    return rows


_OVERHEAD_HEADER = ["failure overhead", "happy path", "system", "overhead", "per month", "share"]


def _categories(result: CostResult) -> list[list[str]]:
    total = result.monthly_total
    return [[c, _usd(v), _pct(v / total) if total else "0.0%"] for c, v in result.by_category.items()]


def _text_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _title(result: CostResult) -> str:
    return result.architecture + (f" — scenario {result.scenario}" if result.scenario else "")


def cost_table(result: CostResult) -> str:
    out = [_title(result), ""]
    out += _text_table(_HEADER, _rows(result), right={3, 4, 5, 6, 7})
    out += [""] + _text_table(["cost vector", "per month", "share"], _categories(result), right={1, 2})
    overhead = _overhead(result)
    if overhead:
        out += [""] + _text_table(_OVERHEAD_HEADER, overhead, right={1, 2, 3, 4, 5})
    out += [""] + _text_table(["", ""], _summary(result), right={1})[2:]
    return "\n".join(out) + "\n"


def _md_table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    esc = lambda s: s.replace("|", "\\|")
    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return out


def cost_markdown(result: CostResult) -> str:
    out = [f"### {_title(result)}", ""]
    out += _md_table(["", ""], _summary(result), right={1}) + [""]
    out += _md_table(["cost vector", "per month", "share"], _categories(result), right={1, 2}) + [""]
    out += _md_table(_HEADER, [[f"`{r[0]}`"] + r[1:] for r in _rows(result)], right={3, 4, 5, 6, 7})
    overhead = _overhead(result)
    if overhead:
        out += [""] + _md_table(_OVERHEAD_HEADER, [[f"`{r[0]}`"] + r[1:] for r in overhead], right={1, 2, 3, 4, 5})
    return "\n".join(out) + "\n"


def cost_json(result: CostResult) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "architecture": result.architecture,
        "scenario": result.scenario,
        "parameters": result.parameters,
        "components": [
            {"name": r.name, "component": r.component, "kind": r.kind, "category": r.category,
             "expected_visits": r.expected_visits, "cost_per_visit": r.cost_per_visit,
             "cost_per_request": r.cost_per_request, "monthly": r.monthly, "share": r.share,
             "happy_path_cost_per_request": r.happy_path_cost_per_request,
             "failure_overhead_per_request": r.failure_overhead_per_request,
             "failure_overhead_share": (r.failure_overhead_per_request / result.failure_overhead_per_request
                                        if r.failure_overhead_per_request is not None
                                        and abs(result.failure_overhead_per_request) > 1e-15 else None)}
            for r in result.components],
        "results": result.results_json(),
    }


def export_json(compiled: Compiled, result: CostResult, resolution: Resolution) -> dict:
    """The lowered flow graph with numbers at the scenario's values (format_version 1)."""
    g = compiled.flow.graph
    env = dict(resolution.env)
    env[ir.FAILURE_SWITCH] = 1.0
    overlay_cost = {r.name: r.cost_per_visit for r in result.components}
    nodes = []
    for n, d in g.nodes(data=True):
        if d.get("overlay") is not None:
            cost = overlay_cost[n]
        else:
            cost = float(numeric(d["cost"], env))
        nodes.append({"id": n, "label": d["label"], "kind": d["kind"], "category": d["category"],
                      "cost_per_visit": cost, "outcome": d["outcome"]})
    edges = [{"source": u, "target": v, "probability": float(numeric(d["probability"], env))}
             for u, v, d in g.edges(data=True)]
    return {
        "format_version": FORMAT_VERSION, "architecture": result.architecture, "scenario": result.scenario,
        "entry": compiled.flow.entry, "nodes": nodes, "edges": edges,
        "requests_per_month": result.requests_per_month, "fixed_monthly": result.fixed_monthly,
        "results": result.results_json(),
    }


def to_json_text(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False, default=_json_default) + "\n"


def _json_default(x):  # pragma: no cover - numpy scalars only
    return float(x)


# --- explain ------------------------------------------------------------------------------

MAX_CLOSED_FORM_OPS = 300
MAX_CLOSED_FORM_DEFINITIONS = 60


def explain_text(compiled: Compiled, scenario: Optional[str] = None) -> str:
    """Closed forms (pretty and LaTeX), or the chain of visit definitions when too large."""
    model, arch = compiled.model, compiled.arch
    display = {p.symbol: sympy.Symbol(name) for name, p in arch.parameters.items()}
    node_names = {sym: node for node, sym in model.visits.items()}
    visit_display = {sym: sympy.Symbol(f"visits[{node}]") for sym, node in node_names.items()}
    intermediate = {sym: sympy.Symbol(f"inflow{sym.name[2:]}") for sym, _ in model.definitions if sym not in node_names}
    latex_names = {s: r"\mathrm{" + _latex_escape(n.name) + "}" for s, n in display.items()}
    latex_names.update({s: r"\mathrm{visits}[\mathrm{" + _latex_escape(node) + "}]"
                        for s, node in node_names.items()})
    latex_names.update({s: r"\mathrm{inflow}_{" + s.name[2:] + "}" for s in intermediate})
    out = [f"# {arch.title}" + (f" — scenario {scenario}" if scenario else ""), ""]
    out.append("Parameters (symbol = value in its unit):")
    resolution = compiled.evaluator.resolve(scenario)
    for name, p in arch.parameters.items():
        unit = f" {p.unit}" if p.unit else ("" if p.dim.is_dimensionless else f" {format_dim(p.dim)}")
        out.append(f"  {name} = {resolution.values[name]:.6g}{unit}")
    out.append("")
    out.append("Units inside the formulas: USD, tokens, requests, days "
               f"(a month is {arch.month_days} days).")
    out.append("")
    totals = [("cost per request (USD)", model.cost_per_request),
              ("P(success)", model.p_success),
              ("requests per month", model.requests_per_month),
              ("fixed monthly (USD)", model.fixed_monthly)]
    # Substituting a long chain (or a solved loop) can build an enormous expression before
    # its size is known, so closed forms are only attempted for small loop-free models.
    too_large = bool(model.loops) or len(model.definitions) > MAX_CLOSED_FORM_DEFINITIONS
    closed = []
    for title, expr in totals:
        c = expr.xreplace({ir.FAILURE_SWITCH: sympy.Integer(1)})
        if not too_large:
            full = model.closed_form(expr).xreplace({ir.FAILURE_SWITCH: sympy.Integer(1)})
            if sympy.count_ops(full) <= MAX_CLOSED_FORM_OPS:
                c = sympy.factor_terms(sympy.expand(full))
            else:
                too_large = True
        closed.append((title, c))
    if too_large:
        out.append("The closed forms are large; here is the chain of definitions they are built from:")
        for sym, definition in model.definitions:
            shown = definition.xreplace({ir.FAILURE_SWITCH: sympy.Integer(1)}).xreplace(display).xreplace(visit_display).xreplace(intermediate)
            target = visit_display.get(sym, intermediate.get(sym, sym))
            out.append(f"  {target} = {sympy.sstr(shown)}")
        out.append("")
    for title, c in closed:
        shown = c.xreplace(display).xreplace(visit_display).xreplace(intermediate)
        out.append(f"## {title}")
        out.append("")
        # sympy's 2-D printer reads `_` in a name as a subscript; names with one are shown flat
        if any("_" in s.name or "[" in s.name for s in shown.free_symbols):
            out.append(sympy.sstr(shown))
        else:
            out.append(sympy.pretty(shown, use_unicode=True, wrap_line=False))
        out.append("")
        out.append("LaTeX: " + sympy.latex(c, symbol_names=latex_names))
        out.append("")
    out.append("monthly total = requests per month × cost per request + fixed monthly")
    return "\n".join(out) + "\n"


def _latex_escape(name: str) -> str:
    return name.replace("\\", r"\backslash ").replace("_", r"\_").replace("{", r"\{").replace("}", r"\}")
