"""The numeric model: a compiled architecture reduced to generated code and plain data, so
that a number needs neither the parser nor sympy nor networkx.

It is what the compile cache (`compile_cache`) stores: the generated evaluator, the
parameter resolvers of every scenario, the checks and loop-exit probabilities, each as a
code object, with the rows, budgets and source texts that results and diagnostics need.
Every rule that turns numbers into results or diagnostics is the one the symbolic
evaluator uses (`results`), and the code is the very code it generated, so a cached
`cost` prints byte for byte what a fresh compile prints (tests/compiler/test_numeric.py
checks it on every example, every scenario and random architectures).

What it cannot answer alone — a `--set` value it cannot read exactly, a scenario whose
parameters depend on each other in a circle — raises `NeedsCompiler`, and the caller
compiles the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from fractions import Fraction
from typing import Mapping, Optional

import numpy as np

from llmarch.dsl.diagnostics import (Diagnostic, LlmarchError, SourceCache, Span, did_you_mean,
                                     usage_error)
from llmarch.dsl.vocabulary import BASE_UNITS, CALENDAR_WORDS, UNIT_WORDS

from . import options
from .codegen import BLOCK, MEMORY_FLOATS, blocked, blocked_extremes, function_from_code
from .metrics import Budget
from .provenance import PriceSource
from .results import (CheckInfo, CostResult, LoopInfo, OutputLayout, RowInfo, build_result, check_findings,
                      loop_findings, scenario_blame)

__all__ = ["NumericModel", "NeedsCompiler", "ARTIFACT_FORMAT"]

#: Bumped whenever the artifact's shape changes (old cache entries are then misses).
ARTIFACT_FORMAT = 8

_HAPPY = " in the happy path (failures set to 0)"


class NeedsCompiler(Exception):
    """The numeric model cannot answer this exactly; compile the file and ask it."""


def _span(raw) -> Optional[Span]:
    return None if raw is None else Span(*raw)


def _distribution(raw):
    """A stored distribution (imported when a file has one: `cost` of others never loads it)."""
    from .distributions import Distribution
    kind, args, weights, span, written = raw
    return Distribution(kind, tuple(args), tuple(weights), _span(span), written)


class Correlation:
    """`ir.Correlation` without the ir (which imports sympy)."""

    __slots__ = ("first", "second", "rank", "span")

    def __init__(self, first: str, second: str, rank: float, span: Optional[Span]):
        self.first, self.second, self.rank, self.span = first, second, rank, span


class NumericModel:
    """A cached architecture: `cost`, `check` and `budgets` from generated code alone."""

    def __init__(self, artifact: dict):
        if artifact.get("format") != ARTIFACT_FORMAT:
            raise ValueError("not a numeric model of this format")
        self.artifact = artifact
        self.title: str = artifact["title"]
        self.path: str = artifact["path"]
        self.parameter_names: list[str] = [p[0] for p in artifact["params"]]
        self.scenarios: list[str] = list(artifact["scenario_names"])
        self.components: list[str] = list(artifact["components"])
        self.sources = SourceCache()
        for file, text in artifact["sources"].items():
            self.sources.add(file, text)
        self.budgets: list[Budget] = [Budget(m, op, limit, scenario, _span(span), statistic, event_op, event_limit)
                                      for m, op, limit, scenario, span, statistic, event_op, event_limit
                                      in artifact["budgets"]]
        self.units: dict[str, Optional[str]] = {p[0]: p[1] for p in artifact["params"]}
        self.correlations = [Correlation(a, b, rank, _span(span)) for a, b, rank, span in artifact["correlations"]]
        self._rows = [RowInfo(*row) for row in artifact["rows"]]
        self._fixed = [tuple(f) for f in artifact["fixed"]]
        self._layout = OutputLayout(tuple(tuple(b) for b in artifact["layout"]))
        self._prices = tuple(PriceSource.from_tuple(raw) for raw in artifact["prices"])
        self._checks = [CheckInfo(kind, what, _span(span), tuple(names)) for kind, what, span, names in artifact["checks"]]
        self._loops = [LoopInfo(tuple(nodes), tuple(names), _span(span),
                                tuple((u, tuple(tuple(e) for e in out)) for u, out in inside),
                                tuple((v, bool(is_entry), tuple(incoming)) for v, is_entry, incoming in entries))
                       for nodes, names, span, inside, entries in artifact["loops"]]
        self._functions: dict = {}
        self._results: dict = {}

    def _function(self, key: str, code):
        if key not in self._functions:
            self._functions[key] = function_from_code(code)
        return self._functions[key]

    # --- parameters -----------------------------------------------------------------------
    def _scenario(self, scenario: Optional[str]) -> dict:
        if scenario is not None and scenario not in self.scenarios:
            known = ", ".join(self.scenarios) or "none"
            raise usage_error(f"unknown scenario `{scenario}`", did_you_mean(scenario, self.scenarios)
                              or f"scenarios: {known}")
        return self.artifact["scenario_data"][self.scenarios.index(scenario) + 1 if scenario is not None else 0]

    def uncertain(self, scenario: Optional[str] = None, pinned=()) -> dict:
        """As `ir.Architecture.uncertain`: the scenario's uncertain parameters, in order."""
        return {name: _distribution(raw) for name, raw in self._uncertain_raw(scenario, pinned)}

    def _uncertain_raw(self, scenario: Optional[str], pinned) -> list[tuple[str, tuple]]:
        data = self._scenario(scenario)
        defaults, own = self.artifact["distributions"], data["distributions"]
        out = []
        for name in self.parameter_names:
            if name in pinned:
                continue
            if scenario is not None and name in data["spans"]:
                if name in own:
                    out.append((name, own[name]))
            elif name in defaults:
                out.append((name, defaults[name]))
        return out

    def values(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, object]] = None,
               arrays: Optional[Mapping[str, np.ndarray]] = None) -> dict[str, float]:
        """Every parameter's value (declared units) in a scenario with `--set` values;
        `arrays` gives some parameters arrays of values (then their dependents are arrays)."""
        data = self._scenario(scenario)
        if data["resolver"] is None:
            raise NeedsCompiler("parameters depend on each other in a circle")
        given: list = [data["constants"].get(name) for name in self.parameter_names]
        for name, value in (sets or {}).items():
            if name not in self.parameter_names:
                raise usage_error(f"unknown parameter `{name}` in {options.unknown_in('set')}",
                                  did_you_mean(name, self.parameter_names))
            i = self.parameter_names.index(name)
            given[i] = self._set_value(self.artifact["params"][i], value)
        for name, array in (arrays or {}).items():
            given[self.parameter_names.index(name)] = np.asarray(array, dtype=float)
        bad: list = []
        with np.errstate(all="ignore"):
            computed = self._function(f"resolve:{id(data['resolver'])}", data["resolver"])(bad, *given)
        if bad:
            spans = data["spans"]
            diagnostics = []
            for i, value in bad:
                name = self.parameter_names[i]
                shown = f" ({value})" if np.ndim(value) == 0 else ""
                diagnostics.append(Diagnostic("error", "E503", f"parameter `{name}` is not a finite number{shown}",
                                              _span(spans.get(name, self.artifact["param_spans"][name]))))
            raise LlmarchError(sorted(diagnostics, key=_sort_key), self.sources)
        return dict(zip(self.parameter_names, computed))

    def _set_value(self, param, value) -> float:
        """A `--set` value in the parameter's declared unit, exactly as the compiler reads it,
        or NeedsCompiler when that takes the compiler (anything but plain numbers, percentages
        and quantities with a known unit)."""
        name, unit, scale_num, scale_den, dim, builtin = param
        scale = Fraction(scale_num, scale_den)
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            if not math.isfinite(float(value)):
                raise usage_error(f"{options.override(name)}: {value} is not a finite number")
            if scale != 1:
                raise NeedsCompiler("a number for a parameter with a scaled unit")
            return float(value)
        match = _SET_VALUE.fullmatch(str(value))
        if match is None:
            raise NeedsCompiler("not a plain quantity")
        sign, digits, unit_text = match.group(1), match.group(2).replace("_", ""), match.group(3)
        if len(digits) > 40:
            raise NeedsCompiler("a literal the compiler rejects")
        number = Fraction(digits)
        if number != 0 and not (-18 <= _adjusted(digits) <= 18):
            raise NeedsCompiler("a literal the compiler rejects")
        if sign:
            number = -number
        if unit_text == "%":
            if any(dim):
                raise NeedsCompiler("a percentage for a quantity")
            base = number / 100
        elif unit_text is None:
            base = number * scale
        else:
            unit = self._unit(unit_text)
            if unit is None or unit[0] != tuple(dim):
                raise NeedsCompiler("a unit the compiler must check")
            base = number * unit[1]
        return float(base) / float(scale)

    def _unit(self, text: str) -> Optional[tuple[tuple, Fraction]]:
        month = self.artifact["month_days"]
        exponents, scale = [0] * len(BASE_UNITS), Fraction(1)
        for position, word in enumerate(text.split("/")):
            if word in CALENDAR_WORDS:
                if month is None:
                    return None
                base, factor = "day", CALENDAR_WORDS[word] * Fraction(*month)
            elif word in UNIT_WORDS:
                base, factor = UNIT_WORDS[word]
            else:
                return None
            k = BASE_UNITS.index(base)
            exponents[k] += 1 if position == 0 else -1
            scale = factor if position == 0 else scale / factor
        return tuple(exponents), scale

    # --- numbers --------------------------------------------------------------------------
    def cost(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, object]] = None) -> CostResult:
        """The same `CostResult` the compiled model gives (raises what it raises)."""
        key = (scenario, tuple(sorted((str(k), repr(v)) for k, v in (sets or {}).items())))
        if key not in self._results:
            self._results[key] = self._cost(scenario, sets)
        return self._results[key]

    def _cost(self, scenario, sets) -> CostResult:
        values = self.values(scenario, sets)
        args = [values[n] for n in self.parameter_names]
        where = f" in scenario `{scenario}`" if scenario else ""
        with np.errstate(all="ignore"):
            findings = check_findings(self._checks, self._function("checks", self.artifact["check_code"])(*args, 1.0),
                                      where, self._blame(scenario, sets))
            if not findings:
                loops = self._function("loops", self.artifact["loop_code"])
                findings = loop_findings(self._loops, [("", lambda: [loops(*args, 1.0)]),
                                                       (_HAPPY, lambda: [loops(*args, 0.0)])], where)
        if findings:
            diagnostics = sorted((Diagnostic("error", code, message, span, help, notes)
                                  for code, message, span, help, notes in findings), key=_sort_key)
            if sets:
                diagnostics = [replace(d, message=d.message + options.overridden_with(sets)) for d in diagnostics]
            raise LlmarchError(diagnostics, self.sources)
        evaluator = self._function("evaluate", self.artifact["function"])
        with np.errstate(all="ignore"):
            system = self._layout.unpack([float(x) for x in blocked(evaluator, args + [1.0])])
            happy = self._layout.unpack([float(x) for x in blocked(evaluator, args + [0.0])])
        if not all(math.isfinite(v) for block in system.values() for v in block):
            raise usage_error("the model evaluates to a number that is not finite at these parameter "
                              "values (a probability of exactly 1 on a loop?)")
        return build_result(self.title, scenario, values, self._rows, self._fixed, system, happy, self._prices,
                            tuple(name for name, _ in self._uncertain_raw(scenario, set(sets or ()))))

    # --- Monte Carlo (see montecarlo.py) ------------------------------------------------------
    @property
    def layout(self) -> OutputLayout:
        return self._layout

    @property
    def row_infos(self) -> list[RowInfo]:
        return self._rows

    @property
    def fixed_items(self) -> list[tuple[str, str, str]]:
        return self._fixed

    @property
    def check_infos(self) -> list[CheckInfo]:
        return self._checks

    def point(self, scenario: Optional[str], sets) -> CostResult:
        return self.cost(scenario, sets)

    def dependencies(self, scenario: Optional[str], sets):
        """name -> the parameters its definition in `scenario` uses (none for `--set` ones)."""
        data = self._scenario(scenario)
        given = set(sets or ())
        defaults, overrides = self.artifact["param_deps"], data["override_deps"]
        return lambda name: [] if name in given else overrides.get(name, defaults.get(name, []))

    def sampled_outputs(self, scenario: Optional[str], sets, arrays: Mapping[str, np.ndarray]) -> list:
        """The evaluator's outputs at sampled parameter values, after the checks (which raise
        as `cost` does when some sampled point breaks one)."""
        values = self.values(scenario, sets, arrays)
        args = [values[n] for n in self.parameter_names]
        where = f" in scenario `{scenario}`" if scenario else ""
        checks = self._function("checks", self.artifact["check_code"])
        with np.errstate(all="ignore"):
            findings = check_findings(self._checks, blocked_extremes(checks, [*args, 1.0]), where,
                                      self._blame(scenario, sets))
            if not findings:   # (the happy path is never evaluated here: its loops need no check)
                findings = loop_findings(self._loops, [("", lambda: self._loop_blocks(args, 1.0))], where)
        if findings:
            raise LlmarchError(sorted((Diagnostic("error", code, message, span, help, notes)
                                       for code, message, span, help, notes in findings), key=_sort_key), self.sources)
        with np.errstate(all="ignore"):
            return blocked(self._function("evaluate", self.artifact["function"]), args + [1.0])

    def _loop_blocks(self, args: list, switch: float):
        function = self._function("loops", self.artifact["loop_code"])
        arrays = [a for a in args if isinstance(a, np.ndarray) and a.ndim > 0]
        size = arrays[0].shape[0] if arrays else 1
        block = max(256, min(BLOCK, MEMORY_FLOATS // max(1, getattr(function, "slots", 1))))
        for start in range(0, size, block):
            yield function(*[a[start:start + block] if isinstance(a, np.ndarray) and a.ndim > 0 else a
                             for a in args], switch)


    def _blame(self, scenario: Optional[str], sets):
        """As the compiler does: a failing check points at the scenario's override it uses."""
        if scenario is None:
            return None
        data = self._scenario(scenario)
        overridden = {name: _span(raw) for name, raw in data["spans"].items()}
        given = set(sets or ())
        defaults, overrides = self.artifact["param_deps"], data["override_deps"]

        def dependencies(name: str) -> list[str]:
            return [] if name in given else overrides.get(name, defaults.get(name, []))

        return lambda check: scenario_blame(check, dependencies, overridden)


_SET_VALUE = re.compile(r"\s*(-)?\s*([0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?)\s*"
                        r"(%|[A-Za-z][A-Za-z0-9]*(?:/[A-Za-z][A-Za-z0-9]*)*)?\s*")


def _adjusted(digits: str) -> int:
    from decimal import Decimal
    return Decimal(digits).adjusted()


def _sort_key(d: Diagnostic):
    s = d.span
    return (s.file, s.line, s.column, d.code) if s else ("", 0, 0, d.code)
