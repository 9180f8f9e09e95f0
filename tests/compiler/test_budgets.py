"""Budgets in the language: values, margins, scopes, exit code 4, and bad budgets."""

import pytest

from llmarch import LlmarchError
from llmarch.cli import EXIT_BUDGET, EXIT_INVALID, EXIT_OK, main

BASE = """
traffic = 1000 requests/day
tool t { cost = 0.01 USD; fail_rate = 10%; attempts = 3 }
flow { start -> t }
scenario big { }
"""


def test_values_and_margins_by_hand(compile_text):
    model = compile_text(BASE + """
        budget monthly_total < 300 USD/month
        budget cost_per_success <= 0.02 USD in big
        budget p_success > 99.5%
        budget failure_overhead < 5%
    """)
    results = {b.budget.metric: b for b in model.budgets()}
    assert set(results) == {"monthly_total", "p_success", "failure_overhead"}   # `in big` is not for the defaults
    cpr = 0.01 * (1 + 0.1 + 0.01)
    assert results["monthly_total"].value == pytest.approx(30000 * cpr)
    assert results["monthly_total"].margin == pytest.approx(300 - 30000 * cpr)
    assert not results["monthly_total"].holds
    assert results["p_success"].value == pytest.approx(0.999) and results["p_success"].holds
    assert results["failure_overhead"].value == pytest.approx((cpr - 0.01) / cpr)
    big = {b.budget.metric: b for b in model.budgets("big")}
    assert big["cost_per_success"].value == pytest.approx(cpr / 0.999) and big["cost_per_success"].holds
    with pytest.raises(LlmarchError) as info:
        model.check()
    assert {d.code for d in info.value.diagnostics} == {"E701"}
    assert len(info.value.diagnostics) == 4      # two budgets, broken with the defaults and in `big`


def test_category_budgets(compile_text):
    model = compile_text(BASE + "fixed dash { cost = 50 USD/month; category = ops }\nbudget monthly_ops <= 50 USD/month\n")
    (result,) = model.budgets()
    assert result.value == pytest.approx(50) and result.holds


def test_exit_code_4_and_the_message(tmp_path, capsys):
    path = tmp_path / "b.llmarch"
    path.write_text(BASE + "budget monthly_total < 300 USD/month in big\n")
    assert main(["cost", str(path)]) == EXIT_OK                 # the budget is for `big` only
    capsys.readouterr()
    assert main(["cost", str(path), "--scenario", "big"]) == EXIT_BUDGET
    err = capsys.readouterr().err
    assert "error[E701]: budget `monthly_total < $300.00 a month` does not hold in scenario `big`" in err
    assert "monthly total is $333.00 a month, over by $33.00 a month (11.0%)" in err
    assert main(["check", str(path)]) == EXIT_BUDGET


@pytest.mark.parametrize("line, code", [
    ("budget monthly_totl < 300 USD/month", "E240"),
    ("budget monthly_total < 300 USD/month in huge", "E231"),
    ("budget monthly_total < 300 USD", "E300"),
    ("budget p_success > 99 USD", "E300"),
    ("budget monthly_total < rpd", "E201"),
    ("budget p95(failure_overhead) < 50%", "E804"),      # once an internal error (KeyError)
    ("budget P(failure_overhead > 10%) < 5%", "E804"),
])
def test_bad_budgets_are_located_errors(tmp_path, capsys, line, code):
    path = tmp_path / "b.llmarch"
    path.write_text(BASE + line + "\n")
    assert main(["check", str(path)]) == EXIT_INVALID
    assert f"error[{code}]" in capsys.readouterr().err


RISK = """
param tokens = 300 to 900 tokens
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 0 USD/Mtok }
llm answer { model = m; input { q = tokens }; output = 0 tokens }
flow { start -> answer }
budget p50(monthly_total) < {median} USD/month
"""
#: The exact median of that monthly total: 30,000 requests × $1e-6 × sqrt(300 × 900) tokens.
MEDIAN = 30_000 * 1e-6 * (300 * 900) ** 0.5


def test_a_budget_too_close_to_call_warns_and_passes(tmp_path, capsys):
    # the budget's limit is the true median: the estimate's 95% interval straddles it (W701)
    path = tmp_path / "close.llmarch"
    path.write_text(RISK.replace("{median}", repr(MEDIAN)))
    for command in ("check", "lint", "cost", "simulate"):
        assert main([command, str(path)]) == EXIT_OK, command
        err = capsys.readouterr().err
        assert "warning[W701]: budget `p50(monthly_total) < $15.59 a month` is too close to call" in err, command
        assert "error" not in err, command


def test_a_broken_budget_with_one_too_close_to_call_exits_4_and_shows_both(tmp_path, capsys):
    path = tmp_path / "both.llmarch"
    path.write_text(RISK.replace("{median}", repr(MEDIAN)) + "budget p95(monthly_total) < 20 USD/month\n")
    for command in ("check", "lint", "cost", "simulate"):
        assert main([command, str(path)]) == EXIT_BUDGET, command
        err = capsys.readouterr().err
        assert "warning[W701]" in err and "error[E701]: budget `p95(monthly_total) < $20.00 a month`" in err
