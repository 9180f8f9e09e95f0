"""The model itself, shown: the `export` document (the lowered graph with numbers) and the
`explain` text (closed forms, pretty-printed and in LaTeX)."""

from __future__ import annotations

from typing import Optional

import sympy

from . import ir, present
from .codegen import numeric
from .evaluate import Resolution
from .output import FORMAT_VERSION
from .pipeline import Compiled
from .results import CostResult
from .units import format_dim

__all__ = ["export_json", "explain_text"]


def export_json(compiled: Compiled, result: CostResult, resolution: Resolution) -> dict:
    """The lowered flow graph with numbers at the scenario's values, and where the models'
    prices come from (format_version 2)."""
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
        node = {"id": n, "label": d["label"], "kind": d["kind"], "category": d["category"],
                "cost_per_visit": cost, "outcome": d["outcome"]}
        if compiled.model.latency_per_request is not None:
            node["latency_per_visit"] = float(numeric(compiled.model.node_latency.get(n, sympy.Integer(0)), env))
        nodes.append(node)
    edges = [{"source": u, "target": v, "probability": float(numeric(d["probability"], env))}
             for u, v, d in g.edges(data=True)]
    hosted = _self_hosted(compiled, result, resolution, env)
    return {
        "format_version": FORMAT_VERSION, "architecture": result.architecture, "scenario": result.scenario,
        "entry": compiled.flow.entry, "nodes": nodes, "edges": edges,
        "requests_per_month": result.requests_per_month, "fixed_monthly": result.fixed_monthly,
        "results": result.results_json(), "prices": result.prices_json(),
        **({"self_hosted": hosted} if hosted else {}),
    }


def _self_hosted(compiled: Compiled, result: CostResult, resolution: Resolution, env: dict) -> list[dict]:
    """What a self-hosted model's GPU row is computed from, so that the export alone gives it:
    the nodes calling the model and their tokens, the replica's numbers, the replicas and the
    monthly cost (docs/capacity.md, "Self-hosted models")."""
    arch = compiled.arch
    monthly = {r.name: r.monthly for r in result.components}
    out: list[dict] = []
    visits: dict = {}
    for name, fixed in arch.fixed.items():
        if fixed.hosts is None:
            continue
        hosting = arch.prices[fixed.hosts].gpu
        calls = [(node, float(numeric(tokens, env))) for node, tokens in compiled.flow.calls_on(arch, fixed.hosts)]
        visits = visits or compiled.evaluator.graph_numbers(resolution).visits
        per_day = float(numeric(arch.traffic, env))
        demand = arch.peak * per_day * sum(visits[node] * tokens for node, tokens in calls)
        out.append({"model": fixed.hosts, "row": name,
                    "calls": [{"node": node, "tokens_per_visit": tokens} for node, tokens in calls],
                    "peak_factor": arch.peak,
                    "throughput": float(numeric(hosting.throughput, env)) / 86400,
                    "utilisation": float(numeric(hosting.utilisation, env)), "min_replicas": hosting.min_replicas,
                    "price_per_hour": float(numeric(hosting.price, env)) / 24,
                    "hours_per_month": float(numeric(arch.month_days, env)) * 24,
                    "replicas": int(numeric(hosting.replicas(sympy.Float(demand)), env)), "monthly": monthly[name]})
    return out


# --- explain ------------------------------------------------------------------------------

MAX_CLOSED_FORM_OPS = 300
MAX_CLOSED_FORM_DEFINITIONS = 60


def explain_text(compiled: Compiled, scenario: Optional[str] = None) -> str:
    """Closed forms (pretty and LaTeX), or the chain of visit definitions when too large."""
    model, arch = compiled.model, compiled.arch
    display = {p.symbol: sympy.Symbol(name) for name, p in arch.parameters.items()}
    node_names = {sym: node for node, sym in model.visits.items()}
    visit_display = {sym: sympy.Symbol(f"visits[{node}]") for sym, node in node_names.items()}
    # `inflow[6]`: brackets cannot be written in a name, so no parameter can look like it
    intermediate = {sym: sympy.Symbol(f"inflow[{sym.name[2:]}]") for sym, _ in model.definitions if sym not in node_names}
    latex_names = {s: r"\mathrm{" + _latex_escape(n.name) + "}" for s, n in display.items()}
    latex_names.update({s: r"\mathrm{visits}[\mathrm{" + _latex_escape(node) + "}]"
                        for s, node in node_names.items()})
    latex_names.update({s: r"\mathrm{inflow}_{" + s.name[2:] + "}" for s in intermediate})
    # a self-hosted model's demand, the tokens a request sends it: `tokens_on[llama]`
    for name, price in arch.prices.items():
        if price.gpu is not None and price.gpu.tokens in intermediate:
            intermediate[price.gpu.tokens] = sympy.Symbol(f"tokens_on[{name}]")
            latex_names[price.gpu.tokens] = r"\mathrm{tokens\_on}[\mathrm{" + _latex_escape(name) + "}]"
    out = [f"# {arch.title}" + (f" — scenario {scenario}" if scenario else ""), ""]
    out.append("Parameters (symbol = value in its unit):")
    resolution = compiled.evaluator.resolve(scenario)
    uncertain = arch.uncertain(scenario)
    for name, p in arch.parameters.items():
        unit = f" {p.unit}" if p.unit else ("" if p.dim.is_dimensionless else f" {format_dim(p.dim)}")
        line = f"  {name} = {present.number(resolution.values[name])}{unit}"
        if name in uncertain:
            from .uncertainty_output import describe
            line += f"  (the median of `{uncertain[name].written}`: {describe(uncertain[name], p.unit)[0]})"
        out.append(line)
    out.append("")
    if uncertain:
        out.append("Uncertain parameters are at their medians here: the formulas below hold at every sampled "
                   "point of `llmarch simulate`.")
        for c in arch.correlations:
            if c.first in uncertain and c.second in uncertain:
                out.append(f"  `{c.first}` and `{c.second}`: rank correlation {c.rank:g}")
    sources = compiled.evaluator.price_sources
    if sources:
        out.append("Model prices (where they come from):")
        out += [f"  {present.price_source_line(p)}" for p in sources]
        out.append("")
    out.append("Units inside the formulas: USD, tokens, requests, days "
               f"(a month is {arch.month_days} days).")
    out.append("")
    totals = [("cost per request (USD)", model.cost_per_request),
              ("P(success)", model.p_success),
              ("requests per month", model.requests_per_month),
              ("fixed monthly (USD)", model.fixed_monthly)]
    if model.latency_per_request is not None:
        totals.append(("expected latency per request (seconds)", model.latency_per_request))
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
