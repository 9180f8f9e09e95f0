"""Reconciliation: for each row of the cost table, what the file predicts for the traced
requests, what the traced tokens cost at the file's prices, and what the traces' own
recorded cost says; spans that match no row but carry tokens or a cost are rows of their own.

The prediction is the file's expected cost per request (the chosen scenario) times the
requests traced, so traffic does not enter the gap; fixed costs are prorated over the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy

from llmarch.compiler import ir
from llmarch.compiler.results import CostResult

from .estimate import as_expr

__all__ = ["Reconciled", "reconcile", "GapShare", "explain_gap"]


@dataclass(frozen=True)
class Reconciled:
    row: str
    category: str
    spans: int
    predicted: Optional[float]     # USD over the window, the file's scenario
    implied: Optional[float]       # USD: the traced tokens (or visits) at the file's prices
    recorded: Optional[float]      # USD: the traces' own recorded cost (None: none recorded)
    note: str = ""

    @property
    def gap(self) -> Optional[float]:
        if self.predicted is None or self.implied is None:
            return None
        return self.implied - self.predicted

    @property
    def gap_share(self) -> Optional[float]:
        gap = self.gap
        return gap / self.predicted if gap is not None and self.predicted else None

    @property
    def recorded_gap(self) -> Optional[float]:
        if self.predicted is None or self.recorded is None:
            return None
        return self.recorded - self.predicted

    def to_dict(self) -> dict:
        return {"row": self.row, "category": self.category, "spans": self.spans, "predicted": self.predicted,
                "implied": self.implied, "recorded": self.recorded, "gap": self.gap,
                "gap_share": self.gap_share, "recorded_gap": self.recorded_gap, "note": self.note}


def _rate(expr: sympy.Expr, prompt: float) -> Optional[float]:
    try:
        return float(as_expr(expr).xreplace({ir.CALL_INPUT_TOKENS: prompt}))
    except (TypeError, ValueError):
        return None


def _token_cost(price: ir.Price, uncached: float, cached: float, written: float, output: float,
                spans: int) -> Optional[float]:
    prompt = (uncached + cached) / spans if spans else 0.0
    rates = [_rate(price.input, prompt), _rate(price.cached_input, prompt), _rate(price.output, prompt),
             _rate(price.cache_write if price.cache_write is not None else price.input, prompt)]
    if any(r is None for r in rates):
        return None
    rate_in, rate_cached, rate_out, rate_write = rates
    return (uncached - written) * rate_in + written * rate_write + cached * rate_cached + output * rate_out


def reconcile(arch: ir.Architecture, result: CostResult, agg: dict, traces: int, days: float) -> list[Reconciled]:
    rows = {r[0]: r for r in agg["rows"]}
    out: list[Reconciled] = []
    month_days = float(arch.month_days) / 86400 if float(arch.month_days) > 1000 else float(arch.month_days)
    for r in result.components:
        comp = arch.components.get(r.component)
        if r.expected_visits is None or comp is None:      # a fixed cost: not in traces
            out.append(Reconciled(r.name, r.category, 0, r.monthly * days / month_days, None, None,
                                  "fixed: not in traces"))
            continue
        predicted = (r.cost_per_request or 0.0) * traces
        row = rows.get(r.name)
        spans = row[3] if row else 0
        recorded = row[17] if row and row[16] else None
        if comp.kind == "observe":
            out.append(Reconciled(r.name, r.category, spans, predicted, None, recorded, "an overlay: not a span"))
            continue
        is_copy = "@" in r.name
        price = comp.fallback_model if is_copy else arch.prices.get(comp.model) if comp.model else None
        if price is not None and row is not None and row[7]:
            implied = _token_cost(price, row[10], row[11], row[13], row[14], spans)
            note = "tokens at the file's prices"
        else:
            implied = spans * (r.cost_per_visit or 0.0)
            note = "spans x cost per visit"
        out.append(Reconciled(r.name, r.category, spans, predicted, implied, recorded, note))
    for name, model, spans, uncached, cached, output, with_cost, recorded in agg["unmatched"]:
        if not (uncached or cached or output or with_cost):
            continue
        out.append(Reconciled(f"(not in the model) {name}", "unmodeled", spans, None, None,
                              recorded if with_cost else None,
                              f"{uncached + cached:,} input and {output:,} output tokens" + (f" on {model}" if model else "")))
    return out


@dataclass(frozen=True)
class GapShare:
    """What setting one fitted parameter (or all of them, `parameter` None) to its measured
    value does to the file's prediction for the traced requests, in USD."""

    parameter: Optional[str]
    value: str                 # as written in observed.llmarch
    change: float

    def to_dict(self) -> dict:
        return {"parameter": self.parameter, "value": self.value, "change": self.change}


def explain_gap(fitted, cost_per_request, traces: int) -> list[GapShare]:
    """Each fitted parameter alone at its measured value, ranked by how much it moves the
    prediction, then all of them together. `cost_per_request(sets)` is the file's cost per
    request at the scenario with `sets` (parameter → text with unit) applied. Traffic is
    left out: the prediction is per traced request."""
    from .observed import literal
    base = cost_per_request({})
    noise = 1e-12 * max(1.0, abs(base) * traces)    # rounding in the evaluation, not a change

    def change(sets: dict) -> float:
        moved = (cost_per_request(sets) - base) * traces
        return 0.0 if abs(moved) < noise else moved

    sets = {e.parameter: literal(e) for e in fitted if e.kind != "rate"}
    out = [GapShare(name, text, change({name: text})) for name, text in sets.items()]
    out.sort(key=lambda g: -abs(g.change))
    if len(sets) > 1:
        out.append(GapShare(None, "all of the above", change(sets)))
    return out
