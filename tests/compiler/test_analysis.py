"""Analyses: derivatives against central finite differences (property test), and tornado,
projection, solve, crossover and sweeps on small cases derived by hand."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import llmarch
from llmarch.compiler.analysis import parse_grid
from llmarch import LlmarchError

ROOT = Path(__file__).resolve().parents[2]


# --- derivatives: property test against central finite differences --------------------------

@st.composite
def parameterized(draw):
    """A random architecture whose costs and probabilities are parameters, with retries,
    a fallback, a cache and a regeneration loop."""
    values = {
        "rpd": draw(st.sampled_from([100, 1000, 5000])),
        "fail": draw(st.sampled_from([0.01, 0.1, 0.3])),
        "hit": draw(st.sampled_from([0.0, 0.2, 0.6])),
        "regen": draw(st.sampled_from([0.0, 0.05, 0.4])),
        "tokens": draw(st.sampled_from([200, 1500])),
        "price": draw(st.sampled_from([0.5, 3.0])),
        "fixed": draw(st.sampled_from([0, 250])),
        "branch": draw(st.sampled_from([0.1, 0.5, 0.9])),
    }
    attempts = draw(st.integers(1, 4))
    text = f"""
        param rpd = {values['rpd']} requests/day
        param fail = {values['fail']}
        param hit = {values['hit']}
        param regen = {values['regen']}
        param tokens = {values['tokens']} tokens
        param price = {values['price']} USD/Mtok
        param fixed = {values['fixed']} USD/month
        param branch = {values['branch']}
        param context = tokens * 2 + 100 tokens
        traffic = rpd
        model m {{ input = price; output = price * 3 }}
        cache c {{ hit_rate = hit; cost = 0.0001 USD }}
        router r {{}}
        llm a {{ model = m; input = context; output = tokens; fail_rate = fail; attempts = {attempts}; fallback = b }}
        tool b {{ cost = 0.02 USD; fail_rate = fail / 2 }}
        guardrail g {{ cost = 0.001 USD }}
        tool t {{ cost = 0.003 USD }}
        fixed f {{ cost = fixed }}
        flow {{
          start -> c -> r
          r -> a (p = branch)
          r -> t (otherwise)
          a -> g
          g -> a (p = regen, on_failure)
        }}
    """
    return text, values


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(parameterized())
def test_gradient_matches_central_finite_differences(compile_text, case):
    text, values = case
    model = compile_text(text)
    rows = {r.name: r for r in model.sensitivity()}
    assert set(rows) == set(values)              # derived `context` is not an input
    base = model.cost()
    for name, value in values.items():
        h = max(abs(value), 1.0) * 1e-5
        if value == 0:
            up, down, width = value + h, value, h    # one-sided at the edge of the valid range
        else:
            up, down, width = value + h, value - h, 2 * h
        f_up = model.cost(set={name: up})
        f_down = model.cost(set={name: down})
        numeric = (f_up.monthly_total - f_down.monthly_total) / width
        assert rows[name].derivative == pytest.approx(numeric, rel=1e-4, abs=1e-6 * max(1.0, base.monthly_total))
        numeric_cpr = (f_up.cost_per_request - f_down.cost_per_request) / width
        assert rows[name].derivative_per_request == pytest.approx(numeric_cpr, rel=1e-4, abs=1e-9)
        expected_elasticity = rows[name].derivative * value / base.monthly_total
        assert rows[name].elasticity == pytest.approx(expected_elasticity, rel=1e-12, abs=1e-15)


# --- hand-derived cases ----------------------------------------------------------------------

LINEAR = """
    param rpd = 1000 requests/day in [500, 3000]
    param unit_cost = 0.01 USD
    param overhead = 200 USD/month
    traffic = rpd
    tool t { cost = unit_cost; category = inference }
    fixed f { cost = overhead }
    flow { start -> t }
"""


def test_sensitivity_of_a_linear_model(compile_text):
    model = compile_text(LINEAR)
    rows = {r.name: r for r in model.sensitivity()}
    # monthly = rpd * 30 * unit_cost + overhead = 300 + 200
    assert rows["rpd"].derivative == pytest.approx(0.3)
    assert rows["rpd"].elasticity == pytest.approx(300 / 500)
    assert rows["unit_cost"].derivative == pytest.approx(30000)
    assert rows["overhead"].derivative == pytest.approx(1.0)
    assert rows["overhead"].elasticity == pytest.approx(200 / 500)
    # the declared range is used; others get ±20%
    assert (rows["rpd"].low, rows["rpd"].high) == (500, 3000)
    assert rows["rpd"].monthly_at_low == pytest.approx(150 + 200)
    assert rows["rpd"].monthly_at_high == pytest.approx(900 + 200)
    assert rows["unit_cost"].monthly_at_high == pytest.approx(360 + 200)


def test_tornado_ranks_by_swing(compile_text):
    model = compile_text(LINEAR)
    names = [r.name for r in model.tornado()]
    # swings: rpd 750, unit_cost 120, overhead 80
    assert names == ["rpd", "unit_cost", "overhead"]


def test_projection_with_growth_budget_and_scaling(compile_text):
    model = compile_text("""
        param users = 1000 users * 1.15 ^ (time / (1 month))
        param per_user = 2 requests/day/user
        param prompt = 500 tokens + 100 tokens * time / (1 month)
        traffic = users * per_user
        model m { input = 1 USD/Mtok; output = 1 USD/Mtok }
        llm a { model = m; input = prompt; output = 0 tokens }
        fixed f { cost = 100 USD/month }
        flow { start -> a }
    """)
    projection = model.project(months=12, budget=500)
    for month in (0, 5, 12):
        requests = 1000 * 1.15 ** month * 2 * 30
        expected = requests * (500 + 100 * month) * 1e-6 + 100
        assert projection.monthly_total[month] == pytest.approx(expected, rel=1e-12)
    first_over = next(m for m in range(13)
                      if 1000 * 1.15 ** m * 60 * (500 + 100 * m) * 1e-6 + 100 > 500)
    assert projection.budget_crossed_month == first_over
    # d ln(monthly)/d ln(users) = variable / total
    variable = 1000 * 60 * 500e-6
    assert projection.scaling["users"][0] == pytest.approx(variable / (variable + 100))


def test_solve_for_traffic_break_even(compile_text):
    model = compile_text(LINEAR)
    solution = model.solve("rpd", 800.0)          # 0.3 * rpd + 200 = 800
    assert solution.solutions == [pytest.approx(2000.0, rel=1e-12)]
    per_request = compile_text(LINEAR, name="b.llmarch").solve("unit_cost", 0.02, kind="per_request",
                                                               low=0, high=1)
    assert per_request.solutions == [pytest.approx(0.02, rel=1e-12)]


def test_solve_lists_every_root(compile_text):
    model = compile_text("""
        param x = 0.5 in [0, 1]
        traffic = 1000 requests/day
        tool t { cost = 1 USD * (x - 0.25) * (x - 0.75) + 1 USD }
        flow { start -> t }
    """)
    # (x - 0.25)(x - 0.75) = -0.0525  <=>  x^2 - x + 0.24 = 0  <=>  x = 0.4 or 0.6
    solution = model.solve("x", 30000 * (1 - 0.0525), kind="monthly")

    assert solution.solutions == [pytest.approx(0.4, abs=1e-9), pytest.approx(0.6, abs=1e-9)]


def test_unreachable_target_reports_the_interval(compile_text):
    model = compile_text(LINEAR)
    with pytest.raises(LlmarchError) as info:
        model.solve("rpd", 10.0)
    message = info.value.diagnostics[0].message
    assert "not reached" in message and "[350, 1,100]" in message


def test_crossover_where_a_cache_pays_for_itself(compile_text):
    with_cache = compile_text("""
        param rpd = 1000 requests/day in [1, 100000]
        traffic = rpd
        cache c { hit_rate = 40%; cost = 0.001 USD }
        tool answer { cost = 0.01 USD }
        fixed cluster { cost = 300 USD/month }
        flow { start -> c -> answer }
    """)
    without = compile_text("""
        param rpd = 1000 requests/day in [1, 100000]
        traffic = rpd
        tool answer { cost = 0.01 USD }
        flow { start -> answer }
    """, name="without.llmarch")
    # with: rpd*30*(0.001 + 0.006) + 300; without: rpd*30*0.01  => rpd = 300 / (30 * 0.003)
    solution = with_cache.crossover("rpd", without)
    assert solution.solutions == [pytest.approx(300 / 0.09, rel=1e-12)]


def test_sweep_matches_pointwise_costs(compile_text):
    model = compile_text(LINEAR)
    names, arrays, batch = model.sweep([parse_grid("rpd=500:3000:6"), parse_grid("unit_cost=0.001:0.1:log:5")])
    assert names == ["rpd", "unit_cost"] and batch.monthly_total.shape == (30,)
    for i in (0, 7, 29):
        point = model.cost(set={"rpd": float(arrays["rpd"][i]), "unit_cost": float(arrays["unit_cost"][i])})
        assert batch.monthly_total[i] == pytest.approx(point.monthly_total, rel=1e-12)


@pytest.mark.parametrize("grid", ["rpd=1:2", "rpd=a:b:3", "rpd=0:10:log:3", "rpd=1:2:0"])
def test_bad_grids_are_usage_errors(grid):
    with pytest.raises(LlmarchError):
        parse_grid(grid)


def test_a_grid_too_large_is_refused(compile_text):
    model = compile_text(LINEAR)
    with pytest.raises(LlmarchError) as info:
        model.sweep([parse_grid("rpd=1:2:10000"), parse_grid("unit_cost=1:2:10000")])
    assert "100,000,000 points" in info.value.diagnostics[0].message


def test_sweep_out_of_range_probability_is_an_error(compile_text):
    model = compile_text("""
        param hit = 0.5
        traffic = 10 requests/day
        cache c { hit_rate = hit }
        flow { start -> c }
    """)
    with pytest.raises(LlmarchError) as info:
        model.sweep([parse_grid("hit=0:1.5:4")])
    assert info.value.diagnostics[0].code == "E420"


def test_growth_exponent_shows_superlinear_bills(compile_text):
    model = compile_text("""
        param users = 1000 users * 2 ^ (time / (1 month))
        traffic = users * 1 requests/day/user
        model m { input = 1 USD/Mtok; output = 1 USD/Mtok }
        llm a { model = m; input = 1000 tokens * 2 ^ (time / (1 month)); output = 0 tokens }
        flow { start -> a }
    """)
    projection = model.project(months=3)
    # traffic doubles and the prompt doubles each month: cost grows 4x per 2x of traffic
    assert projection.growth_exponent == pytest.approx(2.0, rel=1e-12)
    assert projection.requests_per_month[3] == pytest.approx(8 * 30000)


def test_solve_is_symbolic_when_it_can_be_and_numeric_otherwise(compile_text):
    from pathlib import Path
    quadratic = compile_text("""
        param x = 0.5 in [0, 1]
        traffic = 1000 requests/day
        tool t { cost = 1 USD * (x - 0.25) * (x - 0.75) + 1 USD }
        flow { start -> t }
    """)
    solution = quadratic.solve("x", 30000 * (1 - 0.0525))
    assert solution.method.startswith("symbolic") and "degree 2" in solution.method
    support = llmarch.load(Path(__file__).resolve().parents[2] / "examples" / "support_assistant.llmarch")
    solution = support.solve("cache_hit", 7000, scenario="production")
    assert solution.method.startswith("numeric")              # it has a regeneration loop
    (root,) = solution.solutions
    assert support.cost("production", set={"cache_hit": root}).monthly_total == pytest.approx(7000, rel=1e-9)


def test_tornado_at_a_month_shows_growth_drivers():
    """At month 0 a growth driver swings nothing; at month 12 its swing is the monthly total at
    its range's ends with `time` = 12, as `cost` gives it."""
    import llmarch
    model = llmarch.load(ROOT / "examples" / "growth_story.llmarch", cache=False)
    at_launch = {r.name: r for r in model.tornado()}
    assert at_launch["growth"].swing == pytest.approx(0.0, abs=1e-9)
    later = {r.name: r for r in model.tornado(at_month=12)}
    growth = later["growth"]
    assert growth.swing > 1000
    low = model.cost(set={"growth": growth.low, "time": 12}).monthly_total
    high = model.cost(set={"growth": growth.high, "time": 12}).monthly_total
    assert growth.monthly_at_low == pytest.approx(low, rel=1e-9)
    assert growth.monthly_at_high == pytest.approx(high, rel=1e-9)
    assert model.uses_time
    with pytest.raises(llmarch.LlmarchError, match="`at_month` must be"):   # the API names its keyword
        model.sensitivity(at_month=-1)


def test_sweep_over_how_a_loop_is_entered(compile_text):
    """A regeneration loop whose own edges are the same at every point, entered with a
    probability the sweep varies (the support example's cache in front of its router):
    the loop check takes the entries at every point (it raised a TypeError)."""
    model = compile_text("""
        param hit = 20%
        traffic = 100 requests/day
        cache c { hit_rate = hit; cost = 0.0001 USD }
        router route {}
        tool draft { cost = 0.01 USD }
        guardrail check { cost = 0.001 USD }
        flow {
          start -> c -> route -> draft -> check
          check -> route (p = 5%, on_failure)
        }
    """)
    names, arrays, batch = model.sweep([parse_grid("hit=0:0.6:3")])
    for i in range(3):
        point = model.cost(set={"hit": float(arrays["hit"][i])})
        assert batch.monthly_total[i] == pytest.approx(point.monthly_total, rel=1e-12)
