"""From the aggregates to estimates: each a value with its sample size and 95% interval
(Wilson for shares, the normal approximation for means and rates), and the parameter of
the file it measures, when a component field or edge names one directly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import sympy

from llmarch.compiler import ir

__all__ = ["Estimate", "wilson", "mean_interval", "estimates", "direct_parameter"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """One measured figure. `field` is what it measures in the file's words
    (`summarize.fail_rate`, `route -> summarize_small`, `traffic`); `parameter` the
    parameter that field names directly, or None (a literal or a formula: not fitted)."""

    field: str
    kind: str                  # "share" | "tokens" | "rate" (requests/day) | "count"
    value: float
    low: float
    high: float
    n: int
    source: str                # where it comes from, in words
    parameter: Optional[str] = None
    written_as: Optional[str] = None   # the field's text when it is not a parameter

    def to_dict(self) -> dict:
        return {"field": self.field, "kind": self.kind, "value": self.value, "ci95": [self.low, self.high],
                "n": self.n, "source": self.source, "parameter": self.parameter}


def wilson(successes: float, n: float) -> tuple[float, float, float]:
    """The share and its 95% Wilson score interval."""
    if n <= 0:
        return math.nan, 0.0, 1.0
    p = successes / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(total: float, squares: float, n: float) -> tuple[float, float, float]:
    """A mean from its sum and sum of squares, with a normal 95% interval."""
    if n <= 0:
        return math.nan, math.nan, math.nan
    mean = total / n
    variance = max(0.0, squares / n - mean * mean) * (n / (n - 1) if n > 1 else 0.0)
    half = Z95 * math.sqrt(variance / n)
    return mean, mean - half, mean + half


def as_expr(value) -> sympy.Expr:
    """An ir field as a sympy expression: sympy objects pass, numbers become sympy numbers,
    anything else (text above all: `sympify` would evaluate it) is a TypeError."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value)
    raise TypeError(f"not an expression: {type(value).__name__}")


def direct_parameter(arch: ir.Architecture, expr: Optional[sympy.Expr]) -> Optional[str]:
    """The parameter `expr` is, when a field is written as a bare parameter name."""
    if expr is None:
        return None
    expr = as_expr(expr).xreplace({ir.FAILURE_SWITCH: sympy.Integer(1)})
    symbols = expr.free_symbols
    if len(symbols) != 1:
        return None
    for p in arch.parameters.values():
        if p.symbol in symbols and not p.builtin:
            return p.name if sympy.simplify(expr - p.expr) == 0 else None
    return None


def estimates(arch: ir.Architecture, agg: dict, traces: int, days: float) -> list[Estimate]:
    """Every estimate the aggregates support, in the file's component order."""
    out: list[Estimate] = []
    rows = {r[0]: r for r in agg["rows"]}                # row_name -> ROWS row
    calls = {r[0]: r for r in agg["calls_per_trace"]}
    groups = {r[0]: r for r in agg["attempt_groups"]}
    steps: dict[str, dict] = {}
    for component, following, failed, times in agg["transitions"]:
        steps.setdefault(component, {}).setdefault((following, bool(failed)), 0)
        steps[component][(following, bool(failed))] += times

    tp = direct_parameter(arch, arch.traffic)
    rate = traces / days
    half = Z95 * math.sqrt(traces) / days
    out.append(Estimate("traffic", "rate", rate, max(0.0, rate - half), rate + half, traces,
                        f"{traces:,} traces over {days:.4g} days", tp))

    for comp in arch.components.values():
        row = rows.get(comp.name)
        if comp.name in calls:
            total, squares, _ = calls[comp.name][1:]
            mean, lo, hi = mean_interval(total, squares, traces)
            out.append(Estimate(f"{comp.name}.calls_per_request", "count", mean, max(0.0, lo), hi, traces,
                                f"`{comp.name}` spans per trace"))
        if row is None:
            continue
        spans, errors = row[3], row[4]
        if comp.kind != "cache" and (errors or direct_parameter(arch, comp.fail_rate)):
            p, lo, hi = wilson(errors, spans)
            out.append(Estimate(f"{comp.name}.fail_rate", "share", p, lo, hi, spans,
                                f"error share of {spans:,} `{comp.name}` spans",
                                direct_parameter(arch, comp.fail_rate)))
        if comp.input_tokens is not None and row[7]:
            n = row[7]
            mean, lo, hi = mean_interval(row[8], row[9], n)
            block = bool(comp.input_parts)
            out.append(Estimate(f"{comp.name}.input", "tokens", mean, lo, hi, n,
                                f"input tokens (cached included) of {n:,} `{comp.name}` spans",
                                None if block else direct_parameter(arch, comp.input_tokens),
                                "an `input { }` block" if block else None))
            mean, lo, hi = mean_interval(row[11], row[12], n)
            if row[11]:
                out.append(Estimate(f"{comp.name}.cached_input", "tokens", mean, lo, hi, n,
                                    f"prompt-cache reads of {n:,} `{comp.name}` spans"))
            if comp.tokens is not None and sympy.expand(comp.tokens - comp.input_tokens) != 0:
                mean, lo, hi = mean_interval(row[14], row[15], n)
                out.append(Estimate(f"{comp.name}.output", "tokens", mean, lo, hi, n,
                                    f"output tokens of {n:,} `{comp.name}` spans",
                                    direct_parameter(arch, sympy.expand(comp.tokens - comp.input_tokens))))
        if row[19]:
            n = row[19]
            mean, lo, hi = mean_interval(row[20], row[21], n)
            out.append(Estimate(f"{comp.name}.reasoning", "tokens", mean, lo, hi, n,
                                f"reasoning tokens (priced as output, counted in its output) of {n:,} "
                                f"`{comp.name}` spans"))
        if comp.name in groups and (comp.fail_rate != 0 or comp.attempts > 1):
            _, ncalls, attempts, attempts_sq, most, fell_back, all_failed = groups[comp.name]
            mean, lo, hi = mean_interval(attempts, attempts_sq, ncalls)
            out.append(Estimate(f"{comp.name}.attempts_used", "count", mean, lo, hi, ncalls,
                                f"sibling `{comp.name}` spans per parent, over {ncalls:,} calls (at most {most})"))
            fallback_target = comp.fallback_model.name if comp.fallback_model is not None else comp.fallback
            if fallback_target is not None:
                went = fell_back if comp.fallback_model is not None else \
                    steps.get(comp.name, {}).get((comp.fallback, True), 0)
                p, lo, hi = wilson(went, ncalls)
                out.append(Estimate(f"{comp.name}.fallback_rate", "share", p, lo, hi, ncalls,
                                    f"`{comp.name}` calls that went on to `{fallback_target}`"))
        if comp.kind == "cache":
            if row[6]:
                p, lo, hi = wilson(row[5], row[6])
                n, how = row[6], f"cache-hit attribute on {row[6]:,} `{comp.name}` spans"
            else:
                outs = steps.get(comp.name, {})
                n = sum(t for (_, failed), t in outs.items() if not failed)
                p, lo, hi = wilson(outs.get((None, False), 0), n)
                how = f"`{comp.name}` steps that end the trace, of {n:,}"
            out.append(Estimate(f"{comp.name}.hit_rate", "share", p, lo, hi, n, how,
                                direct_parameter(arch, comp.hit_rate)))

    first = {r[0]: r[1] for r in agg["first_steps"]}
    figures = _loop_figures(arch)
    aggregates: dict[tuple[str, str], list] = {}          # (source, figure) -> [hits, n]
    for edge in arch.edges:
        p_name = direct_parameter(arch, edge.probability)
        if edge.probability == 1:
            continue
        figure = figures.get((edge.source, edge.target))
        if edge.source == "start":
            n = sum(first.values())
            hits = first.get(edge.target, 0)
            how = f"traces whose first step is `{edge.target}`, of {n:,}"
        else:
            outs = steps.get(edge.source, {})
            comp = arch.components.get(edge.source)
            n = sum(t for (following, failed), t in outs.items()
                    if not failed and not (following is None and comp is not None and comp.kind == "cache"))
            hits = sum(t for (following, failed), t in outs.items() if following == edge.target and not failed)
            how = f"`{edge.source}` steps followed by `{edge.target}`, of {n:,}"
        if n == 0:
            continue
        field = f"{edge.source} -> {edge.target}"
        if figure is not None:
            name, alone = figure
            field = f"{edge.source}.{name}" if alone else f"{edge.source}.{name} (to {edge.target})"
            how = (f"`{edge.source}` checks that rejected, back to `{edge.target}`, of {n:,}"
                   if name == "rejection_rate" else
                   f"`{edge.source}` steps that went round the loop again, to `{edge.target}`, of {n:,}")
            if not alone:
                total = aggregates.setdefault((edge.source, name), [0, n])
                total[0] += hits
        p, lo, hi = wilson(hits, n)
        out.append(Estimate(field, "share", p, lo, hi, n, how, p_name,
                            None if p_name else "a formula or `otherwise`"))
    for (source, name), (hits, n) in aggregates.items():
        p, lo, hi = wilson(hits, n)
        what = "checks that rejected" if name == "rejection_rate" else "steps that went round the loop again"
        out.append(Estimate(f"{source}.{name}", "share", p, lo, hi, n, f"`{source}` {what}, of {n:,}"))
    return out


def _loop_figures(arch: ir.Architecture) -> dict[tuple[str, str], tuple[str, bool]]:
    """The edges that are a figure of their own, `(source, target) -> (figure, alone)`: a
    guardrail's `on_failure` edges are its rejections (`rejection_rate`); any other
    branching edge that leads back to its source, not through a rejection, is a loop's
    continuation (`continuation_rate`). `alone`: the source has one edge of that figure, so the figure
    is the edge's probability; with several, each is named by its target and their sum is
    the figure."""
    def rejection(e) -> bool:
        comp = arch.components.get(e.source)
        return comp is not None and comp.kind == "guardrail" and e.on_failure and e.probability != 1

    # a loop is what brings a request back without a guardrail's rejection: the edges on
    # the way round to a rejection are not a loop of their own
    successors: dict[str, set[str]] = {}
    for e in arch.edges:
        if not rejection(e):
            successors.setdefault(e.source, set()).add(e.target)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(successors.get(node, ()))
        return False

    kinds: dict[tuple[str, str], str] = {}
    for e in arch.edges:
        if e.probability == 1 or e.source == "start":
            continue
        if rejection(e):
            kinds[(e.source, e.target)] = "rejection_rate"
        elif reaches(e.target, e.source):
            kinds[(e.source, e.target)] = "continuation_rate"
    counts: dict[tuple[str, str], int] = {}
    for (source, _), name in kinds.items():
        counts[(source, name)] = counts.get((source, name), 0) + 1
    return {edge: (name, counts[(edge[0], name)] == 1) for edge, name in kinds.items()}
