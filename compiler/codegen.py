"""Code generation: sympy expressions become straight-line numpy code.

The symbolic model's chain of visit definitions is printed as Python source whose every
argument and local is an internal name (`_p3`, `_v12`, `_g7`, checked before any source is
built), compiled once, and called with arrays or scalars. `generate_source` gives the text
(the compile cache keeps it as a code object); `generate_function` the callable. `numeric`
walks a small expression instead (parameter definitions, checks).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Mapping, Optional

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import sympy

__all__ = ["numeric", "needed_definitions", "expression_printer", "Syntax", "generate_source", "generate_function",
           "generate_resolver_source", "function_from_code", "compile_source", "blocked", "blocked_extremes", "BLOCK",
           "MEMORY_FLOATS"]


def numeric(expr: sympy.Expr, env: Mapping[sympy.Symbol, object]):
    """Evaluate a small sympy expression with numpy, walking the tree (no code generation).

    Used for parameter definitions and checks, which are tiny; the cost model itself goes
    through the generated evaluator.
    """
    import sympy

    if expr.is_Symbol:
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol or (not expr.free_symbols and expr.is_number):
        return float(expr)
    if isinstance(expr, sympy.Piecewise):  # tiered prices: the first piece whose condition holds
        conditions = [np.asarray(numeric(c, env) if c is not sympy.true else True, dtype=bool) for _, c in expr.args]
        values = [numeric(v, env) for v, _ in expr.args]
        result = np.select(conditions, [np.asarray(v, dtype=float) for v in values], default=np.nan)
        return float(result) if result.ndim == 0 else result
    if isinstance(expr, sympy.core.relational.Relational):
        compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}[expr.rel_op]
        return compare(numeric(expr.lhs, env), numeric(expr.rhs, env))
    args = [numeric(a, env) for a in expr.args]
    if expr.is_Add:
        total = args[0]
        for a in args[1:]:
            total = total + a
        return total
    if expr.is_Mul:
        total = args[0]
        for a in args[1:]:
            total = total * a
        return total
    if expr.is_Pow:
        return np.power(np.asarray(args[0], dtype=float), args[1])
    name = type(expr).__name__
    if name == "Min":
        return _reduce(np.minimum, args)
    if name == "Max":
        return _reduce(np.maximum, args)
    functions = {"floor": np.floor, "ceiling": np.ceil, "log": np.log, "exp": np.exp}
    if name in functions:
        return functions[name](args[0])
    raise TypeError(f"cannot evaluate {name}")  # pragma: no cover - the checker builds no other node


_INTERNAL_NAME = re.compile(r"^_[a-z_]+[0-9]*$")
_WIDEST = 64  # terms printed side by side in one sum or product


def needed_definitions(outputs, definitions, with_symbols: bool = False) -> list:
    """The definitions the outputs need, in order (dead-code elimination, backwards); with
    `with_symbols`, each as (symbol, value, the symbols its value uses)."""
    needed: set = set()
    for o in outputs:
        needed |= o.free_symbols
    kept = []
    for symbol, value in reversed(definitions):
        if symbol in needed:
            uses = value.free_symbols
            kept.append((symbol, value, uses) if with_symbols else (symbol, value))
            needed |= uses
    kept.reverse()
    return kept


def generate_function(arguments, outputs, definitions):
    """Compile straight-line numpy code: `definitions` in order, then `outputs`."""
    return function_from_code(compile_source(generate_source(arguments, outputs, definitions)))


def compile_source(source):
    """Compiled generated code, what the compile cache stores with marshal: a code object
    for a resolver's source text; for a chunked `Source`, (arguments, slots, outputs, code,
    …) with each chunk compiled on its own."""
    if isinstance(source, str):
        return compile(source, "<llmarch generated>", "exec")
    return (source.arguments, source.slots, source.outputs,
            *(compile(chunk, "<llmarch generated>", "exec") for chunk in source.chunks))


@dataclass(frozen=True)
class Syntax:
    """How a target language writes what `expression_printer` prints itself: not-a-number,
    the infinities and powers (`power(base_code, exponent, code)`); `fallback(expr)` prints
    anything else (min, max, floor, a tiered price's `Piecewise`), its symbols already
    replaced by what they stand for."""

    nan: str
    infinity: str
    negative_infinity: str
    power: Callable[[str, "sympy.Expr", Callable], str]
    fallback: Callable[["sympy.Expr"], str]


def _numpy_syntax() -> Syntax:
    from sympy.printing.numpy import NumPyPrinter

    printer = NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    return Syntax("(numpy.nan)", "(numpy.inf)", "(-numpy.inf)",
                  lambda base, exponent, code: f"({base}**{code(exponent)})", printer.doprint)


def expression_printer(aliases: Optional[dict] = None, slots: Optional[dict] = None,
                       syntax: Optional[Syntax] = None):
    """A function printing one sympy expression as Python/numpy source (or, with another
    `syntax`, JavaScript: compiler/jsgen.py). Symbols must have internal names; a symbol in
    `aliases` prints as what it stands for. Sums, products and powers are printed here
    (sympy's printer is slow on tens of thousands of lines), anything else (min, max,
    floor, …) by `syntax.fallback`, sympy's NumPy printer by default."""
    aliases = aliases if aliases is not None else {}
    slots = slots if slots is not None else {}
    syntax = syntax if syntax is not None else _numpy_syntax()
    import sympy

    def code(expr) -> str:
        if expr.is_Symbol:
            if expr in aliases:
                return code(aliases[expr])
            if not _INTERNAL_NAME.match(expr.name):  # pragma: no cover - see above
                raise ValueError(f"refusing to generate code with name {expr.name!r}")
            slot = slots.get(expr)
            return expr.name if slot is None else f"_s[{slot}]"
        if expr is sympy.zoo or expr is sympy.nan:
            return syntax.nan     # 1/0 inside a loop that never exits: the checks report it
        if expr is sympy.oo or expr is sympy.S.NegativeInfinity:
            return syntax.infinity if expr is sympy.oo else syntax.negative_infinity
        if expr.is_Integer or expr.is_Rational:
            try:                      # beyond a float's range: infinity, as numeric() gives
                float(Fraction(int(expr.p), int(expr.q)))
            except OverflowError:
                return "(1e999)" if expr > 0 else "(-1e999)"
            return f"({int(expr)})" if expr.is_Integer else f"({int(expr.p)}/{int(expr.q)})"
        if expr.is_Float:
            return f"({float(expr)!r})"
        if expr.is_Add:
            return add(expr.args)
        if expr.is_Mul:
            return mul(expr.args)
        if expr.is_Pow:
            return syntax.power(code(expr.base), expr.exp, code)
        if not (aliases or slots):
            return "(" + syntax.fallback(expr) + ")"
        return "(" + syntax.fallback(expr.xreplace({x: stand_in(x) for x in expr.free_symbols})) + ")"

    def stand_in(symbol):
        """What sympy's printer should write for a symbol: its slot, or what it stands for."""
        while symbol in aliases:
            symbol = aliases[symbol]
        slot = slots.get(symbol)
        return symbol if slot is None else sympy.Symbol(f"_s[{slot}]", real=True)

    # Sums and products are printed from their arguments, never rebuilt as sympy objects.
    def add(args) -> str:
        if len(args) > _WIDEST:
            # Python's compiler recurses once per operator of a flat `a + b + …`: split
            # long sums and products into a balanced tree, log-deep.
            half = len(args) // 2
            return f"({add(args[:half])} + {add(args[half:])})"
        # `1 - x` rather than `1 + (-1)*x`: one array operation instead of two
        out = []
        for a in args:
            if out and a.is_Mul and a.args[0].is_Number and a.args[0].is_negative:
                coefficient, rest = a.args[0], a.args[1:]
                if coefficient is not minus_one:
                    out.append(" - " + mul((-coefficient, *rest)))
                else:
                    out.append(" - " + (code(rest[0]) if len(rest) == 1 else mul(rest)))
            else:
                out.append((" + " if out else "") + code(a))
        return "(" + "".join(out) + ")"

    def mul(args) -> str:
        if len(args) > _WIDEST:
            half = len(args) // 2
            return f"({mul(args[:half])} * {mul(args[half:])})"
        return "(" + "*".join(code(a) for a in args) + ")"

    minus_one = sympy.S.NegativeOne
    return code


#: Lines per generated chunk. A chunk is compiled on its own: Python's compiler needs memory
#: in proportion to the function it compiles (a 65,000-line function took 450 MB; the same
#: lines in chunks of 2,000, 50 MB).
CHUNK_LINES = 2000


@dataclass(frozen=True)
class Source:
    """Generated straight-line code in chunks. Every value lives in one list `_s`: the
    arguments in slots 0 … arguments-1, then the definitions; each chunk is a function
    `_chunk(_s)` and the last returns the outputs."""

    chunks: tuple[str, ...]
    arguments: int
    slots: int
    outputs: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(self.chunks)


def generate_source(arguments, outputs, definitions) -> Source:
    """Straight-line numpy code: `definitions` in order, then `outputs`.

    Every argument and definition is an internal symbol (`_p3`, `_v12`, `_g7`); this is
    checked before any source is built, so no user text can reach the generated code. Sums,
    products and powers are printed here (sympy's printer is slow on tens of thousands of
    lines); anything else (min, max, floor, …) is printed by sympy's NumPy printer.
    """
    names = [a.name for a in arguments] + [symbol.name for symbol, _ in definitions]
    bad = [n for n in names if not _INTERNAL_NAME.match(n)]
    if bad:  # pragma: no cover - a bug in the compiler, never user input
        raise ValueError(f"refusing to generate code with names {bad[:3]}")
    import sympy

    outputs = [o if isinstance(o, sympy.Basic) else sympy.Integer(o) for o in outputs]
    kept = needed_definitions(outputs, definitions)
    # copy propagation: a definition that is just a number or another symbol is not
    # assigned; the printer writes what it stands for wherever it is used (rewriting the
    # expressions instead would rebuild, and re-canonicalize, everything that uses it)
    aliases: dict = {}
    propagated = []
    for symbol, value in kept:
        if value.is_Atom:
            aliases[symbol] = value
        else:
            propagated.append((symbol, value))
    slots = {a: i for i, a in enumerate(arguments)}
    for symbol, _ in propagated:
        if symbol not in slots:   # a definition of an argument overwrites it, as a local would
            slots[symbol] = len(slots)
    code = expression_printer(aliases, slots)
    body = [f"    _s[{slots[symbol]}] = {code(value)}" for symbol, value in propagated]
    body.append("    return [" + ", ".join(code(o) for o in outputs) + "]")
    chunks = tuple("def _chunk(_s):\n" + "\n".join(body[i:i + CHUNK_LINES])
                   for i in range(0, len(body), CHUNK_LINES))
    return Source(chunks, len(arguments), len(slots), len(outputs))


#: Points per call of a generated function: its temporaries then stay in the CPU's cache,
#: which makes long arrays several times faster than one call over all of them.
BLOCK = 65_536


#: Array elements a generated function may hold at once (its slots × the points of a block):
#: 2²⁵ floats, 256 MiB. A 10,000-component model has about 44,000 slots, so its blocks
#: shrink to about 760 points instead of holding 1.3 GB for a 4,000-point tornado.
MEMORY_FLOATS = 2 ** 25


def blocked(function, args: list, block: int = BLOCK, keep: slice = slice(None)) -> list:
    """Call `function` over 1-D array arguments in blocks of `block` points (fewer for a
    function with many slots, so that its intermediates stay within `MEMORY_FLOATS`), and
    return the outputs `keep` selects."""
    arrays = [a for a in args if isinstance(a, np.ndarray) and a.ndim > 0]
    if not arrays:
        return function(*args)[keep]
    block = max(256, min(block, MEMORY_FLOATS // max(1, getattr(function, "slots", 1))))
    size = arrays[0].shape[0]
    if size <= block or any(a.ndim != 1 or a.shape[0] != size for a in arrays):
        return function(*args)[keep]
    outputs: list[np.ndarray] = []
    for start in range(0, size, block):
        part = [a[start:start + block] if isinstance(a, np.ndarray) and a.ndim > 0 else a for a in args]
        results = function(*part)[keep]
        if not outputs:
            outputs = [np.empty(size) for _ in results]
        for out, value in zip(outputs, results):
            out[start:start + block] = value
    return outputs


def blocked_extremes(function, args: list, block: int = BLOCK) -> list[tuple[bool, float, float]]:
    """(every value finite, least, greatest) of each output of `function` over 1-D array
    arguments, evaluated block by block: only the extremes are kept, never every point."""
    arrays = [a for a in args if isinstance(a, np.ndarray) and a.ndim > 0]
    size = arrays[0].shape[0] if arrays else 1
    block = max(256, min(block, MEMORY_FLOATS // max(1, getattr(function, "slots", 1))))
    summary: list = []
    for start in range(0, size, block):
        part = [a[start:start + block] if isinstance(a, np.ndarray) and a.ndim > 0 else a for a in args]
        results = [np.asarray(x, dtype=float) for x in function(*part)]
        current = [(bool(np.all(np.isfinite(x))), float(np.min(x)), float(np.max(x))) for x in results]
        summary = current if not summary else [(f and g, min(lo, lo2), max(hi, hi2))
                                                for (f, lo, hi), (g, lo2, hi2) in zip(summary, current)]
    return summary


def _reduce(fn, args):
    out = args[0]
    for a in args[1:]:
        out = fn(out, a)
    return out




def generate_resolver_source(parameters, order, definitions) -> str:
    """Source of `_generated(_bad, _s0, …)`, the parameter values of one scenario.

    `parameters` are (symbol, scale) in declaration order, `order` their indices with
    dependencies first, `definitions[i]` parameter i's definition in base units. An argument
    `_s{i}` that is not None replaces parameter i's value (a `--set`, or an array for a
    sweep), in its declared unit; otherwise the value is its definition divided by its
    scale. A value that is not finite is recorded in `_bad` as (i, value) and counts as 0
    from then on, so one bad value is reported once, not again in everything built on it.
    """
    code = expression_printer()
    for symbol, _ in parameters:
        if not _INTERNAL_NAME.match(symbol.name):  # pragma: no cover - a bug in the compiler
            raise ValueError(f"refusing to generate code with name {symbol.name!r}")
    lines = ["def _generated(_bad" + "".join(f", _s{i}" for i in range(len(parameters))) + "):"]
    for i in order:
        symbol, scale = parameters[i]
        computed = f"{code(definitions[i])} / {float(scale)!r}"
        lines.append(f"    {symbol.name} = _finite({i}, _s{i} if _s{i} is not None else {computed}, _bad)")
    lines.append("    return [" + ", ".join(symbol.name for symbol, _ in parameters) + "]")
    return "\n".join(lines)


def _finite(index: int, value, bad: list):
    value = float(value) if np.ndim(value) == 0 else value
    if np.all(np.isfinite(value)):
        return value
    bad.append((index, value))
    return 0.0


def function_from_code(code):
    """The generated function from what `compile_source` gave."""
    if not isinstance(code, tuple):
        namespace = {"numpy": np, "functools": functools, "_finite": _finite}
        exec(code, namespace)  # generated from internal names only (see generate_source)
        return namespace["_generated"]
    arguments, slots, outputs, *codes = code
    chunks = []
    for chunk in codes:
        namespace = {"numpy": np, "functools": functools}
        exec(chunk, namespace)  # generated from internal names only (see generate_source)
        chunks.append(namespace["_chunk"])
    *first, last = chunks
    spare = slots - arguments

    def _generated(*args):
        if len(args) != arguments:
            raise TypeError(f"the generated function takes {arguments} arguments, not {len(args)}")
        values = [*args, *([None] * spare)]
        for chunk in first:
            chunk(values)
        return last(values)

    _generated.slots = slots + outputs    # arrays alive at once, for `blocked`
    return _generated
