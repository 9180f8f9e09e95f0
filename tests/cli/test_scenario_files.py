"""Scenario files (`scenarios for "model.llmarch"`) through every command and the API.

The model: 100 requests a day, one tool call at $0.01, a 30-day month, so $30.00 a month;
its scenario `busy` sets 300 requests a day ($90.00). The scenario file adds `growth =
150%` and `grown extends busy { daily = 300 requests/day * growth }`: 450 requests a day,
450 × 30 × 0.01 = $135.00 a month. Each value below is that arithmetic."""

from __future__ import annotations

import json
import subprocess

import pytest

import llmarch
from llmarch.cli import EXIT_BUDGET, EXIT_INVALID, EXIT_OK, main
from llmarch.dsl.diagnostics import LlmarchError

MODEL = ('architecture "small"\nparam daily = 100 requests/day in [1, 10000] "requests a day"\n'
         'param price = 0.01 USD\ntraffic = daily\ntool db { cost = price }\nflow { start -> db }\n'
         'scenario busy { daily = 300 requests/day }\n')
SCENARIOS = ('# grown: the busy scenario and half as much again\nscenarios for "model/small.llmarch"\n'
             'param growth = 150%\nscenario grown extends busy { daily = 300 requests/day * growth }\n'
             'budget monthly_total < 100 USD/month in grown\n')


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "small.llmarch").write_text(MODEL, encoding="utf-8")
    (tmp_path / "grown.llmarch").write_text(SCENARIOS, encoding="utf-8")
    return tmp_path


def _json(capsys, argv, code=EXIT_OK):
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def test_the_api_compiles_the_model_plus_the_scenarios(project):
    model = llmarch.load("grown.llmarch")
    assert model.cost().monthly_total == pytest.approx(30.0)
    assert model.cost("busy").monthly_total == pytest.approx(90.0)
    assert model.cost("grown").monthly_total == pytest.approx(135.0)
    assert model.cost("grown", set={"growth": 2}).monthly_total == pytest.approx(180.0)
    assert list(model.compiled.arch.scenarios) == ["busy", "grown"]
    assert model.compiled.arch.title == "small" and model.compiled.arch.path == "grown.llmarch"
    (failed,) = [b for b in model.budgets("grown") if not b.holds]
    assert failed.value == pytest.approx(135.0)
    with pytest.raises(LlmarchError, match="E201"):
        llmarch.loads(SCENARIOS.replace("* growth", "* growht"), path="grown.llmarch")


def test_every_command_reads_a_scenario_file(project, capsys):
    assert main(["check", "grown.llmarch"]) == EXIT_BUDGET   # the scenario file's budget, at its place
    assert capsys.readouterr().err.startswith("grown.llmarch:5:1: error[E701]: budget `monthly_total < $100.00 a "
                                              "month` does not hold in scenario `grown`: monthly total is $135.00")
    data = _json(capsys, ["cost", "grown.llmarch", "--scenario", "grown", "-f", "json"], EXIT_BUDGET)
    assert data["results"]["monthly_total"] == pytest.approx(135.0) and data["architecture"] == "small"
    assert main(["cost", "grown.llmarch", "--scenario", "busy"]) == EXIT_OK
    assert "$90.00" in capsys.readouterr().out
    assert main(["explain", "grown.llmarch", "--scenario", "grown"]) == EXIT_OK
    assert "growth" in capsys.readouterr().out
    data = _json(capsys, ["export", "grown.llmarch", "--scenario", "grown"])
    assert data["results"]["monthly_total"] == pytest.approx(135.0)
    data = _json(capsys, ["sensitivity", "grown.llmarch", "--scenario", "grown", "-f", "json"])
    price = next(p for p in data["parameters"] if p["name"] == "price")
    assert price["elasticity"] == pytest.approx(1.0) and price["derivative"] == pytest.approx(450 * 30)
    data = _json(capsys, ["simulate", "grown.llmarch", "--scenario", "grown", "--samples", "200", "-f", "json"],
                 EXIT_BUDGET)
    assert data["results"]["monthly_total"]["mean"] == pytest.approx(135.0)   # nothing uncertain
    assert main(["lint", "grown.llmarch", "--scenario", "grown"]) == EXIT_BUDGET
    assert "grown.llmarch:5:1: error[E701]" in capsys.readouterr().err
    assert main(["report", "grown.llmarch", "--scenario", "grown", "--format", "markdown",
                 "-o", "report.md"]) == EXIT_OK
    assert "$135.00" in (project / "report.md").read_text(encoding="utf-8")
    data = _json(capsys, ["diff", "model/small.llmarch", "grown.llmarch", "--scenario", "busy", "-f", "json"])
    total = next(t for t in data["totals"] if t["name"] == "monthly total")
    assert (total["before"], total["after"]) == (pytest.approx(90.0), pytest.approx(90.0))


def test_a_scenario_file_over_a_scenario_file(project):
    (project / "more.llmarch").write_text('scenarios for "grown.llmarch"\nscenario doubled extends grown '
                                          '{ growth = 300% }\n', encoding="utf-8")
    model = llmarch.load("more.llmarch")
    assert model.cost("doubled").monthly_total == pytest.approx(270.0)   # 900 requests/day
    assert list(model.compiled.arch.scenarios) == ["busy", "grown", "doubled"]


def test_diagnostics_point_into_the_file_that_has_the_problem(project, capsys):
    (project / "model" / "small.llmarch").write_text(MODEL.replace("USD\ntraffic", "USDD\ntraffic"),
                                                     encoding="utf-8")
    assert main(["check", "grown.llmarch"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("model/small.llmarch:3:20: error[E004]: unknown unit `USDD`")
    (project / "model" / "small.llmarch").write_text(MODEL, encoding="utf-8")
    (project / "grown.llmarch").write_text(SCENARIOS.replace("busy {", "busi {"), encoding="utf-8")
    assert main(["check", "grown.llmarch"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("grown.llmarch:4:24: error[E2")
    assert "busi" in err


def test_a_scenario_file_at_git_revisions(project, capsys):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(project)]
    subprocess.run(git[:-2] + ["init", "-q", str(project)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    (project / "model" / "small.llmarch").write_text(MODEL.replace("0.01 USD", "0.02 USD"), encoding="utf-8")
    subprocess.run(git + ["commit", "-qam", "two"], check=True)
    # the model a scenario file names is read from the same revision as the scenario file
    data = _json(capsys, ["diff", "HEAD~1:grown.llmarch", "HEAD:grown.llmarch", "--scenario", "grown", "-f", "json"])
    total = next(t for t in data["totals"] if t["name"] == "monthly total")
    assert (total["before"], total["after"]) == (pytest.approx(135.0), pytest.approx(270.0))
