"""The cost model compiled to JavaScript, for the interactive report.

`model_function(compiled, resolution)` prints one function,

    function _evaluate(_in, _ov, _phi) { const _p0 = _in[0]; …; return [ … ]; }

that maps parameter values (each in its declared unit, as `--set` takes them, indexed by
declaration order) to every number the report shows: the outputs of the numpy evaluator
(`Evaluator.outputs()`), each fixed cost, every parameter's value and every check. A
parameter defined by others (`context_tokens = top_k * chunk_tokens`) is recomputed from
them, unless its flag in `_ov` says a slider overrides it. `_phi` is the failure switch:
1 for the system, 0 for the happy path.

Expressions are printed by sympy's `JavascriptCodePrinter` (`Math.pow`, `Math.max`,
`Math.min`, `Math.floor`, ternaries for `Piecewise`), with floats printed to full
precision. Only internal symbol names (`_p3`, `_v12`) ever reach the code: every
identifier of the finished source is checked against `^_[a-z_]+[0-9]*$` or a short list of
JavaScript builtins before it is returned, and so are its characters (no quotes, no
backslashes, no `</`), so no user text can reach the script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from . import ir
from .codegen import Syntax, expression_printer, needed_definitions
from .evaluate import Resolution
from .pipeline import Compiled

__all__ = ["JsModel", "model_function", "js_expression", "check_generated", "ALLOWED_BUILTINS", "FUNCTION_NAME"]

#: The name of the generated function (an internal name itself).
FUNCTION_NAME = "_evaluate"

#: JavaScript words the generated code may contain besides internal names.
ALLOWED_BUILTINS = frozenset({
    "function", "const", "return", "Infinity", "NaN",
    "Math.pow", "Math.sqrt", "Math.max", "Math.min", "Math.floor", "Math.ceil", "Math.log",
    "Math.exp", "Math.abs", "Math.sign",
})

_INTERNAL_NAME = re.compile(r"^_[a-z_]+[0-9]*$")
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>Math\.[A-Za-z]+|[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<punct>&&|\|\||[<>=!]=|[-+*/%(){}\[\],;?:<>!=])
""", re.VERBOSE)
#: The tokenizer as one regular expression: each token is matched in a look-ahead and then
#: taken whole (`(?=(…))\1`), so no token is ever split by backtracking — exactly what the
#: loop in `check_generated` accepts, at twice its speed on megabytes of code.
_TOKENS = re.compile(r"(?:(?=(\s+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Math\.[A-Za-z]+|[A-Za-z_$][A-Za-z0-9_$]*"
                     r"|&&|\|\||[<>=!]=|[-+*/%(){}\[\],;?:<>!=]))\1)*")
#: Numbers (skipped) and names, scanned as the tokenizer does: a name never starts inside a number.
_NAMES = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(Math\.[A-Za-z]+|[A-Za-z_$][A-Za-z0-9_$]*)")


class _Printer(JavascriptCodePrinter):
    """sympy's JavaScript printer; floats at full precision, only internal names."""

    def __init__(self):
        # `order="none"` keeps the terms in the order sympy holds them: deterministic, and
        # several times faster than sorting every sum of a large model.
        super().__init__({"order": "none"})

    def _print_Symbol(self, expr):
        if not _INTERNAL_NAME.match(expr.name):  # a compiler bug, never user input
            raise ValueError(f"refusing to generate JavaScript with the name {expr.name!r}")
        return expr.name

    def _print_Float(self, expr):
        value = float(expr)
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "(-Infinity)"
        return repr(value)

    def _print_Infinity(self, expr):
        return "Infinity"

    def _print_NegativeInfinity(self, expr):
        return "(-Infinity)"

    def _print_BooleanTrue(self, expr):
        return "(1 == 1)"

    def _print_BooleanFalse(self, expr):
        return "(1 == 0)"


_PRINTER = None


def _sympy_js(expr) -> str:
    """What sympy's printer writes for the rare shapes (min, max, floor, `Piecewise`), on one
    line: the printer lays a Piecewise out on several."""
    global _PRINTER
    if _PRINTER is None:
        _PRINTER = _Printer()
    return " ".join(_PRINTER.doprint(expr).split())


def _power(base: str, exponent, code) -> str:
    if exponent == sympy.S.Half:
        return f"Math.sqrt({base})"
    if exponent == sympy.S.NegativeOne:
        return f"(1/{base})"
    return f"Math.pow({base}, {code(exponent)})"


_SYNTAX = Syntax("NaN", "Infinity", "(-Infinity)", _power, _sympy_js)


def js_expression(expr) -> str:
    """One sympy expression as a JavaScript expression (internal names only). Sums, products
    and powers are printed by codegen's printer with the JavaScript syntax — the same text,
    term for term and in the same order, as the numpy evaluator computes, and fast on tens
    of thousands of definitions (sympy's printer took 22 s for 20,000 components); anything
    else by sympy's `JavascriptCodePrinter`."""
    if isinstance(expr, bool) or not isinstance(expr, (int, float, sympy.Basic)):
        raise TypeError(f"not an expression: {type(expr).__name__}")   # never a string: no sympify
    if not isinstance(expr, sympy.Basic):
        expr = sympy.Integer(expr) if isinstance(expr, int) else sympy.Float(expr)
    return _printer()(expr)


_CODE = None


def _printer():
    global _CODE
    if _CODE is None:
        _CODE = expression_printer(syntax=_SYNTAX)
    return _CODE


def check_generated(code: str) -> None:
    """Raise ValueError unless every token of `code` is a number, an operator, an internal
    name (`_p3`) or an allowed builtin: the last line of defence between user text and a
    `<script>` element."""
    if "</" in code or "<!--" in code or "-->" in code:
        raise ValueError("refusing to emit JavaScript that could close its script element")
    if _TOKENS.fullmatch(code) is None:     # one pass in the regex engine; the loop finds the culprit
        position = 0
        while position < len(code):
            match = _TOKEN.match(code, position)
            if match is None:
                raise ValueError(f"refusing to emit JavaScript with the character {code[position]!r}")
            position = match.end()
    for name in sorted(set(_NAMES.findall(code)) - {""}):
        if name not in ALLOWED_BUILTINS and not _INTERNAL_NAME.match(name):
            raise ValueError(f"refusing to emit JavaScript with the identifier {name!r}")


@dataclass(frozen=True)
class JsModel:
    """The generated source and where each figure sits in the array it returns."""

    code: str
    layout: dict[str, int]     # name -> offset of the first value of that block
    sizes: dict[str, int]      # name -> number of values in that block
    checks: tuple[int, ...] = ()   # the `arch.checks` the "checks" block holds, by index


def model_function(compiled: Compiled, resolution: Resolution, extra: tuple = ()) -> JsModel:
    """Compile the model at `resolution`'s parameter definitions (a scenario and its `--set`
    values) to one JavaScript function. The returned array holds, in order: cost per
    request, P(success), requests per month, per-request cost by category, fixed monthly
    cost by category, each component row's expected visits, then its cost per visit
    (`Evaluator.rows` order), each fixed cost's monthly amount (`arch.fixed` order), every
    parameter's value in its declared unit, and the value of every check (`arch.checks`)
    that depends on a parameter (`JsModel.checks`): one without a parameter held when the
    scenario was evaluated and holds whatever the sliders do — at 20,000 components those
    are most of the 60,000 checks (prices not negative). When the file declares time, then
    the variance of a request's latency (seconds²) and each row's seconds per request
    (`Evaluator.rows` order). `extra` appends blocks of the caller's own, `(name,
    [expressions])` over the same parameters (the report's capacity figures)."""
    arch, model, evaluator = compiled.arch, compiled.model, compiled.evaluator
    rows = evaluator.rows
    params = list(arch.parameters.values())
    checks = tuple(k for k, check in enumerate(arch.checks)
                   if isinstance(check.expr, sympy.Basic) and check.expr.free_symbols)
    blocks: list[tuple[str, list]] = [
        ("totals", [model.cost_per_request, model.p_success, model.requests_per_month]),
        ("by_category", [model.by_category[c] for c in ir.CATEGORIES]),
        ("fixed_by_category", [model.fixed_by_category[c] for c in ir.CATEGORIES]),
        ("visits", [row.visits for row in rows]),
        ("cost", [row.cost for row in rows]),
        ("fixed", [f.monthly for f in arch.fixed.values()]),
        ("params", [p.symbol for p in params]),
        ("checks", [arch.checks[k].expr for k in checks]),
        # a request's expected seconds, when the file declares latency (a latency budget)
        ("latency", [model.latency_per_request] if model.latency_per_request is not None else []),
        ("latency_variance", [model.latency_variance] if model.latency_variance is not None else []),
        ("row_latency", [row.latency for row in rows] if model.latency_per_request is not None else []),
        *extra,
    ]
    layout, sizes, outputs = {}, {}, []
    for name, values in blocks:
        layout[name], sizes[name] = len(outputs), len(values)
        outputs += [v if isinstance(v, sympy.Basic) else sympy.Integer(v) for v in values]

    index = {p.name: i for i, p in enumerate(params)}
    lines = [f"function {FUNCTION_NAME}(_in, _ov, _phi) {{"]
    for name in resolution.order:
        p = arch.parameters[name]
        i = index[name]
        if name in resolution.inputs:
            lines.append(f"const {p.symbol.name} = _in[{i}];")
        else:
            value = js_expression(resolution.definitions[name] / p.scale)
            lines.append(f"const {p.symbol.name} = _ov[{i}] ? _in[{i}] : ({value});")
    for symbol, value in needed_definitions(outputs, model.definitions):
        lines.append(f"const {symbol.name} = {js_expression(value)};")
    lines.append("return [")
    lines += [f"{js_expression(o)}," for o in outputs]
    lines.append("];")
    lines.append("}")
    code = "\n".join(lines) + "\n"
    check_generated(code)
    return JsModel(code, layout, sizes, checks)


