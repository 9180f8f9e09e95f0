"""Calibration: production traces → the architecture's parameters, with uncertainty, and
the model reconciled with the bill.

The stages, each a module: `readers` (OTLP JSON, Langfuse JSONL/CSV/Parquet, Helicone JSON/JSONL/CSV → normalized
spans, skips counted by cause) → `mapping` (span names → cost-table rows) → `engine`
(DuckDB runs the plain SQL of `queries`) → `estimate` (values with n and 95% intervals,
and the parameters they fit) → `reconcile` (predicted vs implied vs recorded cost) →
`observed` (the scenario file) and `output` (tables). `calibrate` chains them.
DuckDB is imported only while calibrating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional, Sequence

from .estimate import Estimate, estimates
from .readers import FORMATS, CalibrationError, Skips, check_trace_file, read_traces
from .reconcile import GapShare, Reconciled, reconcile

__all__ = ["Calibration", "CalibrationError", "calibrate", "FORMATS", "parse_moment", "GapShare"]


def parse_moment(text: str, what: str) -> float:
    """`2026-01-31` or an ISO 8601 time (UTC unless it says otherwise), as epoch seconds."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise CalibrationError(f"{what} {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@dataclass
class Calibration:
    """What the traces say about the architecture (see `Model.calibrate`)."""

    title: str
    scenario: Optional[str]
    traces: int
    spans: int
    days: float
    estimates: list[Estimate]
    reconciliation: list[Reconciled]
    skips: Skips
    orphans: int
    unknown_models: int
    unmatched: list[tuple[str, int]]
    #: rows priced by tokens whose spans carry no token counts: (row, spans), left out of token means
    without_tokens: list[tuple[str, int]] = field(default_factory=list)
    #: the fitted parameters ranked by how much each moves the prediction (see `explain`)
    gap: list = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: the model's scenarios (the observed scenario takes a name none of them has)
    scenario_names: list[str] = field(default_factory=list)

    @property
    def observed_scenario(self) -> str:
        """The name of the scenario `observed_source` writes: `observed`, or `observed_2`, …
        when the model has one of that name already."""
        from .observed import scenario_name
        return scenario_name(self.scenario_names)

    @property
    def fitted(self) -> list[Estimate]:
        """One estimate per parameter a field names directly (the largest sample wins)."""
        best: dict[str, Estimate] = {}
        for e in self.estimates:
            if e.parameter and not math.isnan(e.value) and (e.parameter not in best or e.n > best[e.parameter].n):
                best[e.parameter] = e
        return list(best.values())

    @property
    def not_fitted(self) -> list[Estimate]:
        """Measured figures whose field is a literal or a formula."""
        return [e for e in self.estimates if e.written_as is not None and not math.isnan(e.value)]

    def by_category(self) -> dict[str, tuple]:
        totals: dict[str, list] = {}
        for r in self.reconciliation:
            t = totals.setdefault(r.category, [0.0, 0.0, None])
            t[0] += r.predicted or 0.0
            t[1] = None if t[1] is None or (r.implied is None and r.note != "fixed: not in traces") else \
                t[1] + (r.implied if r.implied is not None else (r.predicted or 0.0))
            if r.recorded is not None:
                t[2] = (t[2] or 0.0) + r.recorded
        return {k: tuple(v) for k, v in totals.items()}

    def observed_source(self, model_path: str, out_path: str, distributions: bool = False) -> str:
        """The text of `observed.llmarch` for the model at `model_path`, to be written to
        `out_path`: a scenario file over the model (see `observed.observed_source`)."""
        from .observed import observed_source
        summary = f"{self.traces:,} traces, {self.spans:,} spans over {self.days:.4g} days from {', '.join(self.sources)}"
        return observed_source(model_path, out_path, self.fitted, self.not_fitted, self.scenario, summary,
                               distributions, self.observed_scenario)

    def to_dict(self) -> dict:
        def clean(d):
            return {k: (None if isinstance(v, float) and not math.isfinite(v) else
                        [None if isinstance(x, float) and not math.isfinite(x) else x for x in v]
                        if isinstance(v, list) else v) for k, v in d.items()}
        return {"format_version": 1, "architecture": self.title, "scenario": self.scenario, "traces": self.traces, "spans": self.spans,
                "days": self.days, "sources": self.sources,
                "skipped": dict(self.skips.most_common()), "orphans": self.orphans,
                "unknown_models": self.unknown_models,
                "unmatched": [{"name": n, "spans": s} for n, s in self.unmatched],
                "without_tokens": [{"row": n, "spans": s} for n, s in self.without_tokens],
                "estimates": [clean(e.to_dict()) for e in self.estimates],
                "fitted": {e.parameter: e.value for e in self.fitted},
                "reconciliation": [clean(r.to_dict()) for r in self.reconciliation],
                "gap": [g.to_dict() for g in self.gap]}

    def explain(self, cost_per_request) -> None:
        """Rank the fitted parameters by what each moves the prediction for the traced
        requests; `cost_per_request(sets)` prices the file at the chosen scenario."""
        from .reconcile import explain_gap
        self.gap = explain_gap(self.fitted, cost_per_request, self.traces)


def calibrate(compiled, result, paths: Sequence[str], trace_format: str = "otlp",
              since: Optional[float] = None, until: Optional[float] = None) -> Calibration:
    """Read `paths`, fit `compiled`'s architecture, reconcile with `result` (its cost at
    the chosen scenario). Raise `CalibrationError` for input it cannot use at all."""
    import os
    from .columnar import is_columnar
    from .engine import aggregate
    from .mapping import span_map

    arch = compiled.arch
    if since is not None and until is not None and until <= since:
        raise CalibrationError("the window is empty: --until is not after --since")
    skips = Skips()
    paths = [os.fspath(p) for p in paths]
    for path in paths:
        check_trace_file(path)
    # Langfuse Parquet and CSV and Helicone CSV are normalized in SQL (columnar.py); JSON goes through Python
    columnar = [p for p in paths if is_columnar(p, trace_format)]
    rows = [p for p in paths if p not in columnar]
    agg = aggregate(read_traces(rows, trace_format, skips), span_map(arch), since, until, skips, columnar,
                    trace_format)
    traces, first, last = agg["traffic"][0]
    if not traces:
        why = "; ".join(skips.describe()) or "the files hold no spans"
        window = {"before --since", "at or after --until"}
        hint = (f"; the files were read as {trace_format}: is that their format? (--trace-format otlp, langfuse or helicone)"
                if skips and not set(skips) & window else "")
        raise CalibrationError(f"no spans to calibrate from ({why}){hint}")
    start = since if since is not None else first
    end = until if until is not None else last
    if start is None or end is None or end <= start:
        raise CalibrationError("the traces span no time (no start and end times): give --since and --until")
    days = (end - start) / 86400
    spans = sum(r[3] for r in agg["rows"]) + sum(r[2] for r in agg["unmatched"])
    unknown = sum(r[18] for r in agg["rows"])
    return Calibration(
        title=arch.title, scenario=result.scenario, traces=traces, spans=spans, days=days,
        estimates=estimates(arch, agg, traces, days), reconciliation=reconcile(arch, result, agg, traces, days),
        skips=skips, orphans=agg["orphans"][0][0], unknown_models=unknown,
        unmatched=[(name, n) for name, n in _by_name(agg["unmatched"])],
        without_tokens=[(r[0], r[3] - r[7]) for r in agg["rows"]
                        if r[3] > r[7] and _priced_by_tokens(arch, r[1])],
        sources=sorted({os.path.basename(os.fspath(p)) for p in paths}), scenario_names=list(arch.scenarios))


def _priced_by_tokens(arch, component: str) -> bool:
    comp = arch.components.get(component)
    return comp is not None and comp.input_tokens is not None and comp.model is not None


def _by_name(rows) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for name, _model, spans, *_ in rows:
        counts[name] = counts.get(name, 0) + spans
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
