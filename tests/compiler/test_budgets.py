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
])
def test_bad_budgets_are_located_errors(tmp_path, capsys, line, code):
    path = tmp_path / "b.llmarch"
    path.write_text(BASE + line + "\n")
    assert main(["check", str(path)]) == EXIT_INVALID
    assert f"error[{code}]" in capsys.readouterr().err
