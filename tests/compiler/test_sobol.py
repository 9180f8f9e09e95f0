"""Sobol indices against models whose indices are known in closed form: each estimate
within its bootstrap interval widened by a little (the interval is itself estimated), and
the exact value within a few percent."""

import pytest

import llmarch

LINEAR = """
architecture "linear"
param a = normal(1000 USD/month, 100 USD/month)
param b = uniform(0, 600 USD/month)
traffic = 1 requests/day
tool call { cost = 0 USD }
fixed one { cost = a }
fixed two { cost = b }
flow { start -> call }
"""

PRODUCT = """
architecture "product"
param q = uniform(1000, 3000 requests/day)
param c = uniform(1, 3 USD)
traffic = q
tool call { cost = c }
flow { start -> call }
"""


def _by_name(result):
    return {i.parameter: i for i in result.indices}


def _within(index, exact: float, which: str, slack: float = 0.02):
    value = getattr(index, which)
    lo, hi = getattr(index, which + "_ci")
    assert lo - slack <= exact <= hi + slack, (index.parameter, which, value, (lo, hi), exact)
    assert value == pytest.approx(exact, abs=0.03)


def test_linear_model_indices_are_the_variance_shares():
    # Var = 100^2 + 600^2/12 = 40,000: a explains 1/4 and b 3/4, with no interaction
    result = llmarch.loads(LINEAR).sobol(base=20_000, seed=3)
    i = _by_name(result)
    for name, share in (("a", 0.25), ("b", 0.75)):
        _within(i[name], share, "first_order")
        _within(i[name], share, "total")
    assert [x.parameter for x in result.indices] == ["b", "a"]
    assert result.variance == pytest.approx(40_000, rel=0.03)


def test_product_model_has_its_interaction_in_the_total_index():
    # Y = 30 q c (USD a month) with q ~ U(1000, 3000), c ~ U(1, 3) independent
    eq, vq = 2000.0, 2000.0 ** 2 / 12
    ec, vc = 2.0, 2.0 ** 2 / 12
    var = 900 * ((vq + eq ** 2) * (vc + ec ** 2) - (eq * ec) ** 2)
    s_q, s_c = 900 * vq * ec ** 2 / var, 900 * vc * eq ** 2 / var
    st_q, st_c = 900 * vq * (vc + ec ** 2) / var, 900 * vc * (vq + eq ** 2) / var
    result = llmarch.loads(PRODUCT).sobol(base=20_000, seed=5)
    i = _by_name(result)
    _within(i["q"], s_q, "first_order")
    _within(i["c"], s_c, "first_order")
    _within(i["q"], st_q, "total")
    _within(i["c"], st_c, "total")
    assert st_q > s_q and st_c > s_c                 # the interaction shows in the totals only


def test_same_seed_same_indices_and_pinning_removes_a_parameter():
    model = llmarch.loads(PRODUCT)
    one, two = model.sobol(base=2_000, seed=9), model.sobol(base=2_000, seed=9)
    assert [i.to_json() for i in one.indices] == [i.to_json() for i in two.indices]
    pinned = model.sobol(base=2_000, set={"c": 2})
    assert [i.parameter for i in pinned.indices] == ["q"]
    assert pinned.indices[0].total == pytest.approx(1.0, abs=0.05)   # alone, it explains everything


def test_no_uncertain_parameter_is_a_usage_error():
    model = llmarch.loads(PRODUCT.replace("uniform(1000, 3000 requests/day)", "2000 requests/day")
                          .replace("uniform(1, 3 USD)", "2 USD"))
    with pytest.raises(llmarch.LlmarchError, match="no parameter is uncertain"):
        model.sobol()
