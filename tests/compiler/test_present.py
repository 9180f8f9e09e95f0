"""The presentation layer: every figure a person reads, checked by hand on cases and by
property against the number it stands for (parse the text back; it must round to it)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from llmarch.compiler import present
from llmarch.compiler.present import MINUS


def _value(text: str) -> float:
    """The number a formatted figure shows."""
    body = text.replace("$", "").replace(",", "").rstrip("%")
    return -float(body[1:]) if body.startswith(MINUS) else float(body)


def _decimals(text: str) -> int:
    body = text.rstrip("%")
    return len(body.split(".")[1]) if "." in body else 0


@pytest.mark.parametrize("x, per_request, shown", [
    (109.86, False, "$109.86"), (1234567.891, False, "$1,234,567.89"), (-0.5, False, f"{MINUS}$0.50"),
    (-0.001, False, "$0.00"), (0.0, False, "$0.00"), (-0.0, True, "$0.000000"), (1e-16, True, "$0.000000"),
    (0.000266, True, "$0.000266"), (4.13e-6, True, "$0.00000413"), (1.08e-6, True, "$0.00000108"),
    (-7.5e-5, True, f"{MINUS}$0.0000750"), (0.0001, True, "$0.000100"), (math.inf, False, "∞"),
    (-math.inf, True, f"{MINUS}∞"),
])
def test_money_by_hand(x, per_request, shown):
    assert present.money(x, per_request) == shown


@pytest.mark.parametrize("x, shown", [(0.728, "0.728"), (1.0, "1"), (0.00112, "0.00112"), (1234.5, "1234"),
                                      (12345.6, "12,346"), (4.74915e6, "4,749,150"), (0.0, "0")])
def test_count_by_hand(x, shown):
    assert present.count(x) == shown


@pytest.mark.parametrize("x, shown", [(0.3, "0.3"), (5e6, "5,000,000"), (1234.5, "1234.5"), (1.08e-6, "0.00000108"),
                                      (-2.5, f"{MINUS}2.5"), (123456.789, "123,457"), (0.1 + 0.2, "0.3")])
def test_number_by_hand(x, shown):
    assert present.number(x) == shown


def test_shares_and_probabilities():
    assert present.share(0.637) == "63.7%" and present.share(-0.0004) == "0.0%"
    assert present.share(-0.25) == f"{MINUS}25.0%"
    assert present.p_success(0.999995) == "99.9995%"
    assert present.percent(0.04) == "4%" and present.percent(0.123456) == "12.35%"
    assert present.signed_money(2.5) == "+$2.50" and present.signed_money(-2.5) == f"{MINUS}$2.50"


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=400, deadline=None)
@given(finite, st.booleans())
def test_money_never_uses_exponents_and_rounds_to_the_amount(x, per_request):
    text = present.money(x, per_request)
    assert "e" not in text and "-" not in text
    shown = _value(text)
    half_unit = 0.5 * 10.0 ** -_decimals(text)
    assert abs(shown - present.clean(x)) <= half_unit * (1 + 1e-9) + abs(x) * 1e-15
    if per_request and 1e-15 <= abs(x) < 1e-4:
        # three significant digits: the relative error is at most half a unit of the third
        assert abs(shown - x) <= 0.005 * abs(x) * 1.0001
    assert text.startswith(MINUS) == (shown < 0)


@settings(max_examples=400, deadline=None)
@given(finite)
def test_counts_and_numbers_never_use_exponents(x):
    for text, digits in ((present.count(x), 4), (present.number(x), 6)):
        assert "e" not in text and "-" not in text
        shown = _value(text)
        if abs(x) >= 10_000 and digits == 4:
            assert abs(shown - x) <= 0.5 + abs(x) * 1e-15
        elif abs(x) >= 1e-15:
            assert abs(shown - x) <= 0.5 * 10 ** (math.floor(math.log10(abs(x))) - digits + 1) * 1.0001 + 1e-15
