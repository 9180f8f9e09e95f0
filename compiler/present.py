"""How numbers read: every figure a person sees is formatted here, for every output.

The text and Markdown tables, the JSON-free parts of the report, the diagram's labels and
diagnostics all call these functions; the report's script (assets/report.js) mirrors the
ones it recomputes in the browser (`money`, `whole_money`, `share`, `p_success`, `number`),
and a browser test holds the two to the same text. The rules:

- money: `$1,234.56` a month; per request to the millionth of a dollar (`$0.000266`), and
  below a ten-thousandth with three significant digits (`$0.00000108`) — never scientific
  notation, never a bare `0` for a cost that is not zero; negative amounts with a real
  minus sign (`−$0.000075`); rounding noise around zero prints as zero, never `-0`;
- counts (expected visits, requests): four significant digits below 10,000 (`0.728`,
  `1.5`), grouped whole numbers above (`4,749,150`);
- shares and probabilities: `12.3%`; P(success) to four decimals (`99.9995%`), so that a
  rare failure does not round to 100%;
- other numbers (parameter values, derivatives): up to six significant digits in plain
  notation, grouped from 10,000 up.

A leaf module: it imports nothing of llmarch.
"""

from __future__ import annotations

import math
from typing import Optional

__all__ = ["MINUS", "money", "whole_money", "signed_money", "signed", "count", "whole", "share", "percent",
           "p_success", "duration", "signed_duration",
           "probability", "number", "clean", "PRICE_SOURCE_HEADER", "price_entry", "price_as_of", "price_since",
           "price_origin", "price_source_cells", "price_source_line"]

#: U+2212, the minus sign: `−$0.50` reads as negative money, not as a dash.
MINUS = "\u2212"

_TINY = 1e-15          # below this, a figure is rounding noise around zero
_SMALL_MONEY = 1e-4    # per-request amounts below this get significant digits, not 6 decimals


def clean(x: float) -> float:
    """`x` as a float, with rounding noise around zero (and -0) turned into 0."""
    x = float(x)
    return 0.0 if abs(x) < _TINY else x


def _sign(x: float) -> str:
    return MINUS if x < 0 else ""


def _infinite(x: float) -> str:
    return ("" if x > 0 else MINUS) + "∞" if not math.isnan(x) else "n/a"


def _significant(x: float, digits: int) -> str:
    """|x| with `digits` significant digits in plain notation, trailing zeros kept."""
    x = abs(x)
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(x)))
    return f"{x:,.{decimals}f}"


def money(x: Optional[float], per_request: bool = False) -> str:
    """USD: cents for monthly amounts; per request, six decimals or three significant digits."""
    if x is None:
        return ""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(x)
    if per_request and 0 < abs(x) < _SMALL_MONEY:
        return _signed(x, "$" + _significant(x, 3))
    return _signed(x, f"${abs(x):,.{6 if per_request else 2}f}")


def whole_money(x: float) -> str:
    """USD to the dollar: `$7,512`."""
    if not math.isfinite(x):
        return _infinite(x)
    return _signed(clean(x), f"${abs(clean(x)):,.0f}")


def _signed(x: float, shown: str) -> str:
    """The minus sign, unless the figure shows as zero (`$0.00`, not `−$0.00`)."""
    return MINUS + shown if x < 0 and any(ch in "123456789" for ch in shown) else shown


def signed_money(x: float, per_request: bool = False) -> str:
    """A change in money, always with its sign: `+$12.50`, `−$0.000075`."""
    if math.isfinite(x) and clean(x) >= 0:
        return "+" + money(x, per_request)
    return money(x, per_request)


def count(x: Optional[float]) -> str:
    """Expected visits, requests: four significant digits below 10,000, whole numbers above."""
    if x is None:
        return ""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(x)
    if abs(x) >= 10_000:
        return f"{_sign(x)}{abs(x):,.0f}"
    return number(x, 4)


def whole(x: float) -> str:
    """A count to the unit, grouped: `150,000`."""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(x)
    return f"{_sign(round(x))}{abs(x):,.0f}"


def share(x: float) -> str:
    """A share of a total: `12.3%`."""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(100 * x)
    return f"{_sign(round(x, 1))}{abs(x):.1f}%"


def percent(x: float, digits: int = 4) -> str:
    """A probability or rate with `digits` significant digits: `4%`, `12.35%`."""
    if not math.isfinite(x):
        return _infinite(x)
    return number(100 * x, digits) + "%"


def signed(x: float, decimals: int = 3) -> str:
    """A signed ratio such as an elasticity: `+0.535`, `−0.128`."""
    if not math.isfinite(x):
        return ("+" if x > 0 else "") + _infinite(x)
    x = clean(x)
    shown = f"{abs(x):.{decimals}f}"
    return (MINUS if x < 0 and any(ch in "123456789" for ch in shown) else "+") + shown


def p_success(x: float) -> str:
    """P(success) to four decimals: `99.9995%`."""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(100 * x)
    return f"{_sign(round(x, 4))}{abs(x):.4f}%"


def probability(x: float) -> str:
    """A probability with six significant digits: 99.99998% does not read as 100%."""
    return percent(x, 6)


def number(x: Optional[float], digits: int = 6) -> str:
    """A plain number with up to `digits` significant digits, never in scientific notation
    (`0.3`, `5,000,000`, `0.00000108`); grouped from 10,000 up."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(x)
    if x == 0:
        return "0"
    text = _significant(x, digits)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if abs(x) < 10_000:
        text = text.replace(",", "")
    return ("" if text == "0" else _sign(x)) + text


def duration(x: Optional[float]) -> str:
    """A time given in seconds, in the unit that reads best, three significant digits:
    `340 ms`, `2.9 s`, `4.5 min`, `1.2 h`."""
    if x is None:
        return ""
    if not math.isfinite(x):
        return _infinite(x)
    x = clean(x)
    if x == 0:
        return "0 s"
    size = abs(x)
    for unit, seconds in (("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if size >= seconds:
            return f"{number(x / seconds, 3)} {unit}"
    return f"{number(x * 1000, 3)} ms"


def signed_duration(x: float) -> str:
    """A change of time: `+0.43 s`, `−120 ms`."""
    shown = duration(x)
    return shown if clean(x) == 0 or shown.startswith(MINUS) else "+" + shown


# --- where prices come from --------------------------------------------------------------------
# `source` below is a `provenance.PriceSource` (read by its fields: this module imports
# nothing of llmarch).

#: The columns of the price-source table (`cost`, the report, its Markdown summary).
PRICE_SOURCE_HEADER = ["model prices", "catalog entry", "as of", "price since", "source"]

_OVERRIDE_WORDS = {"input": "input", "output": "output", "cached_input": "cached input",
                   "cache_write": "cache write", "discount": "discount"}


def price_entry(source) -> str:
    """The catalog entry that priced a model, with the reference as written when it is
    another (`anthropic:claude-sonnet-4-0 (written anthropic:claude-sonnet-4)`) and the
    owner of a resold model; `in the file` for a model priced in the file."""
    if source.entry is None:
        return "in the file"
    text = source.entry
    if source.reference is not None and source.reference.lower() != source.entry.lower():
        text += f" (written {source.reference})"
    if source.priced_as is not None:
        text += f", priced as {source.priced_as}"
    return text


def price_as_of(source) -> str:
    """The date the prices were asked for, or `newest`."""
    if source.entry is None:
        return ""
    return source.as_of or "newest"


def price_since(source) -> str:
    """The first day of the price period used, or `not recorded`."""
    if source.entry is None:
        return ""
    return source.price_since or "not recorded"


def price_origin(source) -> str:
    """The snapshot, and what the file changes: `genai-prices 0.2.3; the file sets discount`."""
    if source.entry is None:
        return "the file"
    if not source.overrides:
        return source.catalog
    return f"{source.catalog}; the file sets " + ", ".join(_OVERRIDE_WORDS.get(k, k) for k in source.overrides)


def price_source_cells(source) -> list[str]:
    """One row of the price-source table (`PRICE_SOURCE_HEADER`)."""
    return [source.model, price_entry(source), price_as_of(source), price_since(source), price_origin(source)]


def price_source_line(source) -> str:
    """One line: `small: openai:gpt-4o-mini, as of 2025-06-15, price since 2024-07-18;
    genai-prices 0.2.3` (`explain`, the diagram's legend)."""
    if source.entry is None:
        return f"{source.model}: prices written in the file"
    when = f"as of {source.as_of}" if source.as_of else "newest price"
    since = f"price since {source.price_since}" if source.price_since else "price period start not recorded"
    return f"{source.model}: {price_entry(source)}, {when}, {since}; {price_origin(source)}"
