"""`observed.llmarch`: the model with one more scenario, `observed`, that sets each fitted
parameter to what the traces measured, with its sample size, interval and source.

The language imports modules, not main files (`architecture`, `traffic` and `flow` belong
in the main file, E021), so the file carries the model's text verbatim, between marked
lines, and the scenario after it; a model that imports project files by relative path must
be written to its own folder, where those paths still hold."""

from __future__ import annotations

import os
import re
from typing import Optional

from llmarch.compiler import present

from .estimate import Estimate
from .readers import CalibrationError

__all__ = ["literal", "observed_source", "SCENARIO"]

SCENARIO = "observed"
_UNITS = {"tokens": " tokens", "rate": " requests/day", "count": ""}


def literal(e: Estimate, value: Optional[float] = None) -> str:
    """A value of `e` as the language writes it: `3.12%`, `351.2 tokens`, `1450 requests/day`."""
    x = e.value if value is None else value
    if e.kind == "share":
        return present.number(100 * x, 4).replace(",", "") + "%"
    return present.number(x, 5).replace(",", "") + _UNITS[e.kind]


def _interval(e: Estimate) -> str:
    return f"[{literal(e, e.low)}, {literal(e, e.high)}]"


def _ninety(e: Estimate) -> tuple[float, float]:
    """The 90% interval that matches the estimate's 95% one (the normal's 1.645 over 1.960)."""
    ratio = 1.6448536269514722 / 1.959963984540054
    return e.value - (e.value - e.low) * ratio, e.value + (e.high - e.value) * ratio


def observed_source(model_path: str, out_path: str, fitted: list[Estimate], not_fitted: list[Estimate],
                    extends: Optional[str], summary: str, distributions: bool = False) -> str:
    """The text of the scenario file written to `out_path` (the import is relative to it)."""
    with open(model_path, encoding="utf-8") as handle:
        model_text = handle.read()
    same_folder = os.path.dirname(os.path.abspath(model_path)) == os.path.dirname(os.path.abspath(out_path))
    if not same_folder and re.search(r'^\s*import\s+"', model_text, re.MULTILINE):
        raise CalibrationError(f"{model_path} imports project files by relative path: write the observed "
                               f"scenario to its folder ({os.path.dirname(model_path) or '.'})")
    name = os.path.basename(model_path)
    lines = [f"# --- {name}, copied verbatim by `llmarch calibrate` (edit the original, not this copy) ---",
             model_text.rstrip("\n"), f"# --- end of {name} ---", "",
             f"# Written by `llmarch calibrate`: {summary}.",
             "# Each value is what the traces measured; the comment gives its sample size, 95% interval and source."]
    head = f"scenario {SCENARIO}" + (f" extends {extends}" if extends else "") + ' "fitted from production traces" {'
    lines.append(head)
    for e in fitted:
        low, high = _ninety(e)
        if distributions and 0 < low < high and (e.kind != "share" or high < 1):
            # `a to b` is a 90% interval: the 95% one's half-widths scaled by 1.645/1.960
            value = f"{literal(e, low)} to {literal(e, high)}"
            note = f"# n={e.n:,}, mean {literal(e)}, 95% CI {_interval(e)}, from {e.source}"
        else:
            value = literal(e)
            note = f"# n={e.n:,}, 95% CI {_interval(e)}, from {e.source}"
        lines.append(f"  {e.parameter} = {value}   {note}")
    lines.append("}")
    if not_fitted:
        lines += ["", "# Measured, but written in the model as a literal or a formula (make it a `param` to fit it):"]
        for e in not_fitted:
            lines.append(f"#   {e.field} = {literal(e)}   (n={e.n:,}, 95% CI {_interval(e)}, from {e.source})")
    return "\n".join(lines) + "\n"
