"""Expected costs derived by hand for the constructs whose cost compounds."""

import math

import pytest

HEADER = """
architecture "case"
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok; cached_input = 0.5 USD/Mtok }
"""


@pytest.mark.parametrize("p, attempts", [(0.1, 1), (0.1, 3), (0.5, 4), (0.3, 10)])
def test_call_tried_at_most_n_times(compile_text, p, attempts):
    model = compile_text(HEADER + f"""
        tool call {{ cost = 0.01 USD/call; fail_rate = {p}; attempts = {attempts} }}
        flow {{ start -> call }}
    """)
    result = model.cost()
    expected_calls = (1 - p ** attempts) / (1 - p)
    assert result.cost_per_request == pytest.approx(0.01 * expected_calls, rel=1e-12)
    assert result.p_success == pytest.approx(1 - p ** attempts, rel=1e-12)
    assert result.cost_per_success == pytest.approx(0.01 * expected_calls / (1 - p ** attempts), rel=1e-12)
    assert result.happy_path_cost_per_request == pytest.approx(0.01, rel=1e-12)


def test_retries_and_attempts_mean_the_same(compile_text):
    a = compile_text(HEADER + "tool c { cost = 1 USD; fail_rate = 0.2; attempts = 3 }\nflow { start -> c }\n")
    b = compile_text(HEADER + "tool c { cost = 1 USD; fail_rate = 0.2; retries = 2 }\nflow { start -> c }\n",
                     name="other.llmarch")
    assert a.cost().cost_per_request == pytest.approx(1 + 0.2 + 0.04, rel=1e-12)
    assert b.cost().cost_per_request == a.cost().cost_per_request


def test_cache_in_front_of_a_call(compile_text):
    model = compile_text(HEADER + """
        cache c { hit_rate = 35%; cost = 0.001 USD/query }
        llm answer { model = m; input = 1000 tokens; output = 500 tokens }
        flow { start -> c -> answer }
    """)
    call = 1000 * 1e-6 + 500 * 2e-6
    result = model.cost()
    assert result.cost_per_request == pytest.approx(0.001 + 0.65 * call, rel=1e-12)
    assert result.p_success == pytest.approx(1.0)


def test_cached_input_share_uses_the_cached_price(compile_text):
    model = compile_text(HEADER + """
        llm answer { model = m; input = 1000 tokens; output = 0 tokens; cached = 40% }
        flow { start -> answer }
    """)
    assert model.cost().cost_per_request == pytest.approx(600 * 1e-6 + 400 * 0.5e-6, rel=1e-12)


def test_fallback_after_exhausted_attempts(compile_text):
    p, q, n = 0.2, 0.05, 3
    model = compile_text(HEADER + f"""
        tool primary {{ cost = 1 USD; fail_rate = {p}; attempts = {n}; fallback = backup }}
        tool backup {{ cost = 5 USD; fail_rate = {q} }}
        flow {{ start -> primary }}
    """)
    result = model.cost()
    assert result.cost_per_request == pytest.approx((1 - p ** n) / (1 - p) + p ** n * 5, rel=1e-12)
    assert result.p_success == pytest.approx(1 - p ** n * q, rel=1e-12)
    assert result.happy_path_cost_per_request == pytest.approx(1.0, rel=1e-12)


def test_fallback_model_reprices_the_same_call(compile_text):
    model = compile_text(HEADER + """
        model big { input = 10 USD/Mtok; output = 20 USD/Mtok }
        llm answer { model = m; input = 1000 tokens; output = 100 tokens; fail_rate = 0.5; attempts = 2; fallback_model = big }
        flow { start -> answer }
    """)
    small = 1000e-6 + 100 * 2e-6
    big = 1000 * 10e-6 + 100 * 20e-6
    result = model.cost()
    assert result.cost_per_request == pytest.approx(small * 1.5 + 0.25 * big, rel=1e-12)
    assert result.p_success == pytest.approx(1.0)


def test_guardrail_sends_a_share_back_for_regeneration(compile_text):
    r = 0.15
    model = compile_text(HEADER + f"""
        tool answer {{ cost = 2 USD }}
        guardrail check {{ cost = 0.5 USD }}
        flow {{
          start -> answer -> check
          check -> answer (p = {r}, on_failure)
        }}
    """)
    result = model.cost()
    assert result.cost_per_request == pytest.approx(2.5 / (1 - r), rel=1e-12)
    assert result.p_success == pytest.approx(1.0)
    assert result.happy_path_cost_per_request == pytest.approx(2.5, rel=1e-12)
    visits = {row.name: row.expected_visits for row in result.components}
    assert visits["answer"] == pytest.approx(1 / (1 - r))


def test_unbounded_self_loop_retry(compile_text):
    model = compile_text(HEADER + """
        tool poll { cost = 1 USD }
        flow {
          start -> poll
          poll -> poll (p = 0.75)
        }
    """)
    assert model.cost().cost_per_request == pytest.approx(4.0, rel=1e-12)


def test_otherwise_takes_the_rest_and_leftover_is_success(compile_text):
    model = compile_text(HEADER + """
        router r {}
        tool a { cost = 1 USD }
        tool b { cost = 10 USD }
        flow {
          start -> r
          r -> a (p = 0.3)
          r -> b (otherwise)
          a -> failure (p = 0.5)
        }
    """)
    result = model.cost()
    assert result.cost_per_request == pytest.approx(0.3 * 1 + 0.7 * 10, rel=1e-12)
    assert result.p_success == pytest.approx(1 - 0.3 * 0.5, rel=1e-12)
    # the happy path drops the edge into `failure`
    assert result.happy_path_cost_per_request == pytest.approx(result.cost_per_request)


def test_on_failure_branch_with_otherwise_is_absorbed_in_the_happy_path(compile_text):
    model = compile_text(HEADER + """
        router r {}
        tool fix { cost = 4 USD }
        tool ok { cost = 1 USD }
        flow {
          start -> r
          r -> fix (p = 0.25, on_failure)
          r -> ok (otherwise)
        }
    """)
    result = model.cost()
    assert result.cost_per_request == pytest.approx(0.25 * 4 + 0.75 * 1, rel=1e-12)
    assert result.happy_path_cost_per_request == pytest.approx(1.0, rel=1e-12)
    assert result.failure_overhead_per_request == pytest.approx(0.75, rel=1e-12)


def test_monthly_total_traffic_month_and_fixed(compile_text):
    model = compile_text("""
        settings { month = 30.4 days }
        traffic = 100 requests/hour
        tool t { cost = 0.01 USD; category = inference }
        fixed db { cost = 12 USD/day; category = retrieval }
        fixed oncall { cost = 2400 USD/month; category = ops }
        flow { start -> t }
    """)
    result = model.cost()
    requests = 100 * 24 * 30.4
    assert result.requests_per_month == pytest.approx(requests)
    assert result.monthly_total == pytest.approx(requests * 0.01 + 12 * 30.4 + 2400)
    assert result.by_category["retrieval"] == pytest.approx(12 * 30.4)
    assert result.by_category["ops"] == pytest.approx(2400)
    assert result.by_category["retrieval"] + result.by_category["ops"] + result.by_category["inference"] \
        + result.by_category["human"] + result.by_category["infra"] == pytest.approx(result.monthly_total)


def test_price_units_scale_exactly(compile_text):
    per_million = compile_text(HEADER + """
        model a { input = 2.5 USD/Mtok; output = 0 USD/Mtok }
        llm x { model = a; input = 1000 tokens; output = 0 tokens }
        flow { start -> x }
    """)
    per_thousand = compile_text(HEADER + """
        model a { input = 0.0025 USD/Ktok; output = 0 USD/Mtok }
        llm x { model = a; input = 1 Ktok; output = 0 tokens }
        flow { start -> x }
    """, name="k.llmarch")
    assert per_million.cost().cost_per_request == pytest.approx(0.0025, rel=1e-15)
    assert per_thousand.cost().cost_per_request == per_million.cost().cost_per_request


def test_human_review_minutes_times_hourly_rate(compile_text):
    model = compile_text(HEADER + """
        human review { time = 6 min; rate = 45 USD/hour }
        flow { start -> review }
    """)
    result = model.cost()
    assert result.cost_per_request == pytest.approx(4.5, rel=1e-12)
    assert result.by_category["human"] == pytest.approx(4.5 * 30000)


def test_observability_overlay_per_request_call_and_token(compile_text):
    model = compile_text(HEADER + """
        observe tracing { per_request = 0.001 USD/trace; per_call = 0.0005 USD/call; per_token = 10 USD/Mtok; sample = 50% }
        llm a { model = m; input = 1000 tokens; output = 200 tokens; fail_rate = 0.5; attempts = 2 }
        flow { start -> a }
    """)
    result = model.cost()
    calls = 1.5
    tokens = 1.5 * 1200
    observed = 0.5 * (0.001 + 0.0005 * calls + 10e-6 * tokens)
    llm = 1.5 * (1000e-6 + 200 * 2e-6)
    assert result.cost_per_request == pytest.approx(llm + observed, rel=1e-12)
    assert result.by_category["ops"] == pytest.approx(observed * 30000, rel=1e-12)


def test_fixed_cost_as_an_expression_of_parameters(compile_text):
    model = compile_text(HEADER + """
        param documents = 100000 docs
        param doc_tokens = 800 tokens/doc
        tool t { cost = 0 USD }
        fixed reindex { cost = documents * doc_tokens * 0.02 USD/Mtok * 4 / (1 month) }
        flow { start -> t }
    """)
    assert model.cost().fixed_monthly == pytest.approx(100000 * 800 * 0.02e-6 * 4)


def test_scenarios_extend_and_set_overrides_with_units(compile_text):
    model = compile_text("""
        param rpd = 100 requests/day
        param rate = 10%
        traffic = rpd
        tool t { cost = 1 USD; fail_rate = rate }
        flow { start -> t }
        scenario a { rpd = 200 requests/day }
        scenario b extends a { rate = 0 }
    """)
    assert model.cost("a").requests_per_month == pytest.approx(6000)
    assert model.cost("b").cost_per_request == pytest.approx(1.0)
    assert model.cost("b").requests_per_month == pytest.approx(6000)
    assert model.cost(set={"rpd": "7 requests/hour"}).requests_per_month == pytest.approx(7 * 24 * 30)
    assert model.cost(set={"rpd": 50}).requests_per_month == pytest.approx(1500)
    assert model.cost(set={"rate": "50%"}).p_success == pytest.approx(0.5)


def test_derived_parameter_follows_its_inputs(compile_text):
    model = compile_text(HEADER + """
        param top_k = 4
        param chunk = 300 tokens
        param context = top_k * chunk
        llm a { model = m; input = context; output = 0 tokens }
        flow { start -> a }
        scenario more { top_k = 8 }
    """)
    assert model.cost().cost_per_request == pytest.approx(1200e-6, rel=1e-12)
    assert model.cost("more").cost_per_request == pytest.approx(2400e-6, rel=1e-12)


def test_otherwise_and_unconditional_failure_edges_are_dropped_in_the_happy_path(compile_text):
    model = compile_text(HEADER + """
        tool gen { cost = 1 USD }
        guardrail check { cost = 0.25 USD }
        router r {}
        flow {
          start -> gen -> check -> r
          r -> gen (p = 0.2)
          r -> failure (otherwise, on_failure)
        }
    """)
    result = model.cost()
    # every pass: 1.25; r loops back with 0.2 and fails with 0.8
    assert result.cost_per_request == pytest.approx(1.25 / 0.8, rel=1e-12)
    assert result.p_success == pytest.approx(0.0, abs=1e-12)
    # happy path: the failure edge is gone, the freed 0.8 ends the request successfully
    assert result.happy_path_cost_per_request == pytest.approx(1.25 / 0.8, rel=1e-12)
    single = compile_text(HEADER + """
        tool gen { cost = 1 USD }
        tool fix { cost = 3 USD }
        flow {
          start -> gen
          gen -> fix (on_failure)
        }
    """, name="single.llmarch")
    assert single.cost().cost_per_request == pytest.approx(4.0)
    assert single.cost().happy_path_cost_per_request == pytest.approx(1.0)


def test_fallback_model_copy_keeps_the_components_own_cost(compile_text):
    model = compile_text(HEADER + """
        model big { input = 10 USD/Mtok; output = 0 USD/Mtok }
        llm a { model = m; input = 1000 tokens; output = 0 tokens; cost = 0.01 USD; fail_rate = 0.5; fallback_model = big }
        flow { start -> a }
    """)
    rows = {r.name: r for r in model.cost().components}
    assert rows["a@big"].cost_per_visit == pytest.approx(0.01 + 1000 * 10e-6)
    assert rows["a"].cost_per_visit == pytest.approx(0.01 + 1000 * 1e-6)


def test_a_loop_whose_only_exit_is_switched_off_is_an_error(compile_text):
    from llmarch import LlmarchError
    model = compile_text(HEADER + """
        param x = 0.5
        tool a { cost = 1 USD }
        tool b { cost = 1 USD }
        tool c { cost = 1 USD }
        flow {
          start -> a -> b
          b -> c (p = x)
          b -> a (otherwise)
          c -> a (p = 0.5)
        }
    """)
    # a pass costs 2 + 0.5 (c half the time) and a quarter of passes leave: 4 passes
    assert model.cost().cost_per_request == pytest.approx(10.0)
    with pytest.raises(LlmarchError) as info:
        model.cost(set={"x": 0})
    assert info.value.diagnostics[0].code == "E430"


def test_constants_and_step_functions(compile_text):
    model = compile_text(HEADER + """
        param a = 3
        tool t { cost = 1 USD * (exp(1) + ceil(a / 2)) }
        flow { start -> t }
    """)
    assert model.cost().cost_per_request == pytest.approx(math.e + 2)
    (row,) = model.sensitivity()
    assert row.derivative == 0.0          # a step function is flat almost everywhere


def test_failure_overhead_per_component(compile_text):
    r = 0.2
    model = compile_text(HEADER + f"""
        tool answer {{ cost = 2 USD }}
        guardrail check {{ cost = 0.5 USD }}
        flow {{
          start -> answer -> check
          check -> answer (p = {r}, on_failure)
        }}
    """)
    result = model.cost()
    rows = {row.name: row for row in result.components}
    assert rows["answer"].failure_overhead_per_request == pytest.approx(2 / (1 - r) - 2, rel=1e-12)
    assert rows["check"].failure_overhead_per_request == pytest.approx(0.5 / (1 - r) - 0.5, rel=1e-12)
    total = sum(row.failure_overhead_per_request for row in result.components if row.cost_per_request is not None)
    assert total == pytest.approx(result.failure_overhead_per_request, rel=1e-12)
    from llmarch.compiler.output import cost_json, cost_table
    shares = {c["name"]: c["failure_overhead_share"] for c in cost_json(result)["components"]}
    cost = 2.5 / (1 - r)                        # a request: 1/(1-r) passes through answer and check
    assert result.cost_per_request == pytest.approx(cost, rel=1e-12)
    # each overhead as a share of the request's cost; together, the total's share (here r = 20%)
    assert shares["answer"] == pytest.approx((2 / (1 - r) - 2) / cost, rel=1e-12)
    assert sum(shares.values()) == pytest.approx(r, rel=1e-12)
    assert "failure overhead" in cost_table(result)


def test_overhead_that_failures_save_is_negative_and_still_adds_up(compile_text):
    """Requests that fail before a paid review make the review cheaper than its happy path:
    a negative overhead, printed with a minus sign, and the shares still add up."""
    model = compile_text(HEADER + """
        tool draft { cost = 0.01 USD; fail_rate = 10% }
        human review { time = 6 min; rate = 60 USD/hour }
        flow { start -> draft -> review }
    """)
    result = model.cost()
    rows = {row.name: row for row in result.components}
    # happy path: draft then review, $6.01; with failures, 10% of requests end at draft
    assert rows["review"].happy_path_cost_per_request == pytest.approx(6.0)
    assert rows["review"].cost_per_request == pytest.approx(0.9 * 6.0)
    assert rows["review"].failure_overhead_per_request == pytest.approx(-0.6)
    from llmarch.compiler import present
    from llmarch.compiler.output import cost_json, cost_table
    shares = {c["name"]: c["failure_overhead_share"] for c in cost_json(result)["components"]}
    assert shares["review"] == pytest.approx(-0.6 / result.cost_per_request)
    assert sum(v for v in shares.values() if v is not None) == pytest.approx(
        result.failure_overhead_per_request / result.cost_per_request)
    table = cost_table(result)
    assert f"{present.MINUS}$0.600000" in table and "$-" not in table
    assert f"{present.MINUS}{100 * 0.6 / result.cost_per_request:.1f}%" in table


def test_token_share_is_the_share_of_model_spend(compile_text):
    """The field manual's measure: what share of the spend on model tokens a component or its
    fallback copy takes (tools and reviews are not token spend)."""
    model = compile_text(HEADER + """
        model small { input = 1 USD/Mtok; output = 1 USD/Mtok }
        model large { input = 10 USD/Mtok; output = 10 USD/Mtok }
        tool search { cost = 0.01 USD }
        llm answer { model = small; input = 1000 tokens; output = 0 tokens; fail_rate = 50%; attempts = 1
                     fallback_model = large }
        flow { start -> search -> answer }
    """)
    rows = {row.name: row for row in model.cost().components}
    # answer: 1,000 tokens at $1/Mtok = $0.001; half fall back to large: 0.5 × $0.01 = $0.005
    assert rows["answer"].cost_per_request == pytest.approx(0.001)
    assert rows["answer@large"].cost_per_request == pytest.approx(0.005)
    assert rows["answer@large"].token_share == pytest.approx(0.005 / 0.006)
    assert rows["answer"].token_share == pytest.approx(0.001 / 0.006)
    assert rows["search"].token_share is None


def test_cost_result_as_data_and_in_a_notebook(compile_text):
    from llmarch.compiler.output import cost_json
    result = compile_text(HEADER + """
        tool t { cost = 0.01 USD }
        flow { start -> t }
    """).cost()
    data = result.to_dict()
    assert data == {k: v for k, v in cost_json(result).items() if k != "format_version"}
    assert data["results"]["monthly_total"] == pytest.approx(1000 * 30 * 0.01)
    page = result._repr_html_()
    assert "<table style=" in page and "$300.00" in page and "<script" not in page
    assert '<td style="text-align:right;padding:3px 10px;border-bottom:1px solid #eaeef2;white-space:nowrap">$300.00' in page
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            result.to_pandas()
    else:
        assert result.to_pandas().loc["t", "monthly"] == pytest.approx(300.0)


def test_fallback_model_copy_pays_the_per_call_cost_too(compile_text):
    """A per-call fee (the component's `cost`) is paid by the fallback call as well:
    docs/language.md and docs/semantics.md say so, and the copy's price per visit shows it."""
    model = compile_text(HEADER + """
        model big { input = 10 USD/Mtok; output = 10 USD/Mtok }
        llm x { model = m; input = 1000 tokens; output = 0 tokens; cost = 0.5 USD; fail_rate = 40%; attempts = 1
                fallback_model = big }
        flow { start -> x }
    """)
    rows = {r.name: r for r in model.cost().components}
    assert rows["x"].cost_per_visit == pytest.approx(0.5 + 1000 * 1e-6)
    assert rows["x@big"].cost_per_visit == pytest.approx(0.5 + 1000 * 10e-6)
    assert rows["x@big"].expected_visits == pytest.approx(0.4)


def test_a_scenario_that_breaks_a_check_is_blamed(compile_text):
    """E420 points at the scenario's line (through a derived parameter too), with a note at the
    checked field; the compile cache's numeric path says the same."""
    from llmarch.compiler.compile_cache import build_artifact
    from llmarch.compiler.numeric import NumericModel
    from llmarch.dsl.diagnostics import LlmarchError
    model = compile_text(HEADER + """
        param base = 10%
        param rate = base * 2
        tool t { cost = 0.01 USD; fail_rate = rate; attempts = 2 }
        flow { start -> t }
        scenario bad { base = 60% }
    """)
    with pytest.raises(LlmarchError) as caught:
        model.cost("bad")
    (d,) = caught.value.diagnostics
    assert d.code == "E420" and d.span.line == 10 and d.notes[0][1].line == 8
    numeric = NumericModel(build_artifact(model.compiled))
    with pytest.raises(LlmarchError) as again:
        numeric.cost("bad")
    assert again.value.render() == caught.value.render()
