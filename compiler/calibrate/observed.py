"""`observed.llmarch`: a scenario file over the model (`scenarios for "model.llmarch"`, the
path relative to the file written) with one scenario, `observed`, that sets each fitted
parameter to what the traces measured, with its sample size, interval and source. The
model is named, not copied: the file compiles as the model plus the scenario, and an edit
to the model shows through it."""

from __future__ import annotations

import os
from typing import Optional, Sequence

from llmarch.compiler import present

from .estimate import Estimate
from .readers import CalibrationError

__all__ = ["literal", "observed_source", "scenario_name", "SCENARIO"]

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


def scenario_name(taken: Sequence[str]) -> str:
    """`observed`, or `observed_2`, `observed_3`, … when the model already has that scenario
    (a model calibrated before: its `observed` is the one the new scenario may extend)."""
    name, n = SCENARIO, 1
    while name in taken:
        n += 1
        name = f"{SCENARIO}_{n}"
    return name


def model_reference(model_path: str, out_path: str) -> str:
    """The model's path as the scenario file names it: relative to the file's folder, with
    `/`; absolute when the two share no folder but the root (or a Windows drive's)."""
    model, folder = os.path.abspath(model_path), os.path.dirname(os.path.abspath(out_path))
    if os.path.realpath(model) == os.path.realpath(out_path):
        raise CalibrationError(f"-o {out_path} is the model itself: write the observed scenario to another file")
    try:
        common = os.path.commonpath([model, folder])
    except ValueError:   # two Windows drives
        common = ""
    if os.path.dirname(common) == common:
        return model.replace(os.sep, "/")
    return os.path.relpath(model, folder).replace(os.sep, "/")


def observed_source(model_path: str, out_path: str, fitted: list[Estimate], not_fitted: list[Estimate],
                    extends: Optional[str], summary: str, distributions: bool = False,
                    name: str = SCENARIO) -> str:
    """The text of the scenario file written to `out_path` (its `scenarios for` path is
    relative to it); the scenario is `name`."""
    reference = model_reference(model_path, out_path)
    if '"' in reference or "\\" in reference or "\n" in reference:
        raise CalibrationError(f"the model's path {reference!r} cannot be written in a `scenarios for` line")
    lines = [f"# Written by `llmarch calibrate`: {summary}.",
             f"# The model is {reference}; this file adds the scenario `{name}` to it",
             f"# (`llmarch cost {os.path.basename(out_path)} --scenario {name}`). Each value is what the traces",
             "# measured; the comment gives its sample size, 95% interval and source.",
             f'scenarios for "{reference}"', ""]
    head = f"scenario {name}" + (f" extends {extends}" if extends else "") + ' "fitted from production traces" {'
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
