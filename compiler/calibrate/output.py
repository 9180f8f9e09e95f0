"""The calibration's tables: estimates, fitted parameters, reconciliation, skips — as text,
Markdown (for a pull request) or JSON."""

from __future__ import annotations

from llmarch.compiler import present
from llmarch.compiler.output import markdown_table, text_table, to_json_text

from .observed import literal

__all__ = ["calibration_table", "calibration_markdown", "calibration_json"]


def _estimate_rows(cal) -> list[list[str]]:
    return [[e.field, literal(e), f"{literal(e, e.low)} to {literal(e, e.high)}", f"{e.n:,}",
             e.parameter or ("" if e.written_as is None else f"({e.written_as})"), e.source]
            for e in cal.estimates]


def _money(x):
    """Cents, or three significant digits under a dollar (a short window's rows are small)."""
    return "" if x is None else present.money(x, per_request=abs(x) < 1)


def _gap(x, share):
    if x is None:
        return ""
    return present.signed_money(x, per_request=abs(x) < 1) + ("" if share is None else f" ({present.signed(100 * share, 1)}%)")


def _reconcile_rows(cal) -> list[list[str]]:
    rows = []
    for r in cal.reconciliation:
        recorded_share = (r.recorded_gap / r.predicted) if r.recorded_gap is not None and r.predicted else None
        rows.append([r.row, r.category, f"{r.spans:,}", _money(r.predicted), _money(r.implied), _money(r.recorded),
                     _gap(r.gap, r.gap_share), _gap(r.recorded_gap, recorded_share), r.note])
    for category, (predicted, implied, recorded) in cal.by_category().items():
        gap = implied - predicted if implied is not None else None
        rows.append([f"total {category}", "", "", _money(predicted), _money(implied), _money(recorded),
                     _gap(gap, gap / predicted if gap is not None and predicted else None), "", ""])
    return rows


def _gap_rows(cal) -> list[list[str]]:
    return [[g.parameter or "(all fitted together)", g.value, _gap(g.change, None)] for g in cal.gap]


_GAP_HEAD = ["fitted parameter", "measured", "moves the prediction by"]
_EST_HEAD = ["measured", "value", "95% CI", "n", "parameter", "from"]
_REC_HEAD = ["row", "category", "spans", "file predicts", "traces imply", "recorded", "implied − predicted",
             "recorded − predicted", "how"]


def _notes(cal) -> list[str]:
    out = [f"{cal.traces:,} traces ({cal.spans:,} spans) over {present.number(cal.days, 4)} days, "
           f"scenario {cal.scenario or 'defaults'}"]
    out += cal.skips.describe()
    if cal.orphans:
        out.append(f"kept {cal.orphans:,} spans whose parent is not in their trace (orphans)")
    if cal.unknown_models:
        out.append(f"kept {cal.unknown_models:,} spans named like a component but on a model the file does not declare")
    for row, spans in cal.without_tokens:
        out.append(f"kept {spans:,} `{row}` spans with no token counts (gen_ai.usage.input_tokens or "
                   "usage_details.input): counted as calls, left out of token means and costs")
    for name, spans in cal.unmatched:
        out.append(f"unmatched: {spans:,} spans named `{name}` (no component of that name)")
    return out


def calibration_table(cal) -> str:
    lines = [cal.title, ""] + _notes(cal) + [""]
    lines += text_table(_EST_HEAD, _estimate_rows(cal), {1, 3})
    lines += ["", "reconciliation over the traced requests (USD)", ""]
    lines += text_table(_REC_HEAD, _reconcile_rows(cal), {2, 3, 4, 5, 6, 7})
    if cal.gap:
        lines += ["", "what explains the gap: each fitted parameter alone at its measured value", ""]
        lines += text_table(_GAP_HEAD, _gap_rows(cal), {1, 2})
    return "\n".join(lines) + "\n"


def calibration_markdown(cal) -> str:
    lines = [f"### Calibration: {cal.title}", ""] + [f"- {n}" for n in _notes(cal)] + [""]
    lines += markdown_table(_EST_HEAD, _estimate_rows(cal), {1, 3})
    lines += ["", "#### Reconciliation over the traced requests", ""]
    lines += markdown_table(_REC_HEAD, _reconcile_rows(cal), {2, 3, 4, 5, 6, 7})
    if cal.gap:
        lines += ["", "#### What explains the gap", "", "Each fitted parameter alone at its measured value:", ""]
        lines += markdown_table(_GAP_HEAD, _gap_rows(cal), {1, 2})
    return "\n".join(lines) + "\n"


def calibration_json(cal) -> str:
    return to_json_text(cal.to_dict())
