"""The unit words of the language, in one place.

The lexer's `UNIT` terminal (built from `unit_word_pattern()` into the grammar), the
parser's hints and the compiler's dimensions and scales (`llmarch.compiler.units`) all come
from this table, so a word cannot be known to one stage and unknown to another.
A leaf module: it imports nothing of llmarch.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["BASE_UNITS", "UNIT_WORDS", "CALENDAR_WORDS", "KNOWN_UNIT_WORDS", "unit_word_pattern"]

#: The base units every quantity is stored in (the order of a dimension's exponents).
BASE_UNITS = ("USD", "token", "request", "day", "doc", "GB", "user", "seat")

#: word -> (base unit, how many base units one of it is)
UNIT_WORDS: dict[str, tuple[str, Fraction]] = {}
for _names, _base, _scale in [
    (("USD",), "USD", 1),
    (("token", "tokens", "tok"), "token", 1),
    (("Ktok",), "token", 1000),
    (("Mtok",), "token", 1_000_000),
    (("request", "requests", "req", "call", "calls", "query", "queries", "trace", "traces"), "request", 1),
    (("doc", "docs", "document", "documents"), "doc", 1),
    (("GB",), "GB", 1),
    (("user", "users"), "user", 1),
    (("seat", "seats"), "seat", 1),
    (("ms", "millisecond", "milliseconds"), "day", Fraction(1, 86_400_000)),
    (("s", "sec", "second", "seconds"), "day", Fraction(1, 86400)),
    (("min", "minute", "minutes"), "day", Fraction(1, 1440)),
    (("h", "hr", "hour", "hours"), "day", Fraction(1, 24)),
    (("day", "days"), "day", 1),
    (("week", "weeks"), "day", 7),
]:
    for _word in _names:
        UNIT_WORDS[_word] = (_base, Fraction(_scale))

#: Calendar words, in months: their length in days is the file's `settings { month = … }`.
CALENDAR_WORDS: dict[str, int] = {"month": 1, "months": 1, "year": 12, "years": 12}

#: The words shown in hints (one spelling of each).
KNOWN_UNIT_WORDS = ("USD", "tokens", "Ktok", "Mtok", "requests", "calls", "queries", "traces", "docs",
                    "GB", "users", "seats", "ms", "s", "min", "hours", "days", "weeks", "months", "years")


def unit_word_pattern() -> str:
    """A regular expression matching exactly one unit word (longest spelling first)."""
    words = sorted([*UNIT_WORDS, *CALENDAR_WORDS], key=lambda w: (-len(w), w))
    return "(" + "|".join(words) + ")(?![A-Za-z0-9_])"
