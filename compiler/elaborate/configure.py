"""Pass `configure`: the main file's `settings { }`. `month` (the days in a month, which
every later `/month` unit is converted with), `peak` (the peak traffic over its mean, which
`capacity` checks the limits at) and the lint thresholds; settings are numbers, never
parameters."""

from __future__ import annotations

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from ..settings import LINT_THRESHOLDS, SETTING_NAMES
from ..units import DIMENSIONLESS, TIME
from .expressions import ExpressionCompiler, walk
from .state import State

__all__ = ["run"]

_MONTH_WORDS = ("month", "months", "year", "years")


def run(state: State) -> None:
    s = state.settings_statement
    if s is None:
        return
    x = ExpressionCompiler(state)
    error = state.collector.error
    for item in s.body.items:
        if not isinstance(item, ast.Block) and item.name in LINT_THRESHOLDS:
            value = x.expect(item.value, (DIMENSIONLESS,), f"lint threshold `{item.name}`", allow_params=False)
            if value is not None:
                state.lint_settings[item.name] = float(value)
                state.lint_spans[item.name] = item.span
            continue
        if not isinstance(item, ast.Block) and item.name == "peak":
            value = x.expect(item.value, (DIMENSIONLESS,), "`peak`", allow_params=False)
            if value is not None:
                if not value >= 1:
                    error("E228", f"`peak` is {float(value):.6g}; the peak traffic is at least the mean (1)",
                          item.value.span, help="`peak = 3` means the busiest minutes see three times the mean traffic")
                else:
                    state.peak, state.peak_span = float(value), item.span
            continue
        if isinstance(item, ast.Block) or item.name != "month":
            error("E205", f"unknown setting `{item.name}`", item.span,
                  help=did_you_mean(item.name, SETTING_NAMES) or "settings: " + ", ".join(SETTING_NAMES))
            continue
        if _mentions_month(item.value):
            error("E300", "`month` must be given in days, hours or weeks, not in months", item.value.span)
            continue
        days = x.expect(item.value, (TIME,), "month", allow_params=False)
        if days is not None:
            if days <= 0:
                error("E307", "`month` must be longer than zero", item.value.span)
            else:
                state.month_days = days


def _mentions_month(expr: ast.Expr) -> bool:
    """Whether a unit in `expr` is months or years (which `month` itself defines)."""
    return any(isinstance(e, ast.Quantity) and e.unit and any(w in _MONTH_WORDS for w in e.unit.split("/"))
               for e in walk(expr))
