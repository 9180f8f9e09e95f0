"""Units of measure: every quantity carries a dimension and is stored in base units.

Base units: USD, token, request, day, doc, GB, user, seat. A literal such as
`2.50 USD/Mtok` becomes the exact rational 2.5/1e6 USD per token, so a price per 1K
tokens can never be read as a price per 1M: the scale travels with the number.
`month` is the file's month convention (`settings { month = 30 days }`, 30 days by
default) and `year` is 12 months, so monthly and yearly figures always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from llmarch.dsl.vocabulary import BASE_UNITS, CALENDAR_WORDS, UNIT_WORDS

__all__ = ["Dim", "DIMENSIONLESS", "USD", "TOKEN", "REQUEST", "TIME", "unit_of", "UnitError",
           "format_dim", "SECONDS_PER_DAY"]

#: Times are held in days (the base unit); latency is computed and reported in seconds.
SECONDS_PER_DAY = 86400

_BASE = BASE_UNITS


@dataclass(frozen=True)
class Dim:
    """Exponents of the base units: USD/token is (1, -1, 0, ...)."""

    exponents: tuple[int, ...] = (0,) * len(_BASE)

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a + b for a, b in zip(self.exponents, other.exponents)))

    def __truediv__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a - b for a, b in zip(self.exponents, other.exponents)))

    def __pow__(self, k: int) -> "Dim":
        return Dim(tuple(a * k for a in self.exponents))

    @property
    def is_dimensionless(self) -> bool:
        return not any(self.exponents)

    def __str__(self) -> str:
        return format_dim(self)


def _base(i: int) -> Dim:
    e = [0] * len(_BASE)
    e[i] = 1
    return Dim(tuple(e))


DIMENSIONLESS = Dim()
USD, TOKEN, REQUEST, TIME, DOC, GB, USER, SEAT = (_base(i) for i in range(len(_BASE)))

# word -> (dimension, scale to base units); `month` and `year` are scaled per file.
_WORDS: dict[str, tuple[Dim, sympy.Expr]] = {
    word: (_base(_BASE.index(base)), sympy.Rational(scale.numerator, scale.denominator))
    for word, (base, scale) in UNIT_WORDS.items()}


class UnitError(ValueError):
    """A unit word the language does not know."""


def unit_of(text: str, month_days: sympy.Expr) -> tuple[Dim, sympy.Expr]:
    """Dimension and scale of a unit such as `USD/GB/month` (left to right: USD per GB per month)."""
    dim, scale = DIMENSIONLESS, sympy.Integer(1)
    for position, word in enumerate(text.split("/")):
        if word in CALENDAR_WORDS:
            d, s = TIME, CALENDAR_WORDS[word] * month_days
        elif word in _WORDS:
            d, s = _WORDS[word]
        else:
            raise UnitError(word)
        if position == 0:
            dim, scale = d, s
        else:
            dim, scale = dim / d, scale / s
    return dim, scale


_PRETTY = ("USD", "tokens", "requests", "days", "docs", "GB", "users", "seats")


def format_dim(dim: Dim) -> str:
    """A readable name for a dimension: `USD/tokens`, `requests/days`, `dimensionless`."""
    if dim.is_dimensionless:
        return "a plain number"
    top = [(_PRETTY[i], e) for i, e in enumerate(dim.exponents) if e > 0]
    bottom = [(_PRETTY[i], -e) for i, e in enumerate(dim.exponents) if e < 0]

    def part(items):
        return "*".join(n if e == 1 else f"{n}^{e}" for n, e in items)

    text = part(top) or "1"
    if bottom:
        text += "/" + "/".join(n if e == 1 else f"{n}^{e}" for n, e in bottom)
    return text.replace("days", "time") if "days" in text else text
