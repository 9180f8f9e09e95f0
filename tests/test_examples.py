"""Every example (and every stdlib file) compiles and checks in every scenario."""

from pathlib import Path

import pytest

import llmarch

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.llmarch"))
STDLIB = sorted((ROOT / "stdlib").rglob("*.llmarch"))


HOST = """traffic = 100 requests/day
model host_model { input = 1 USD/Mtok; output = 1 USD/Mtok }
llm host_answer { model = host_model; input = 100 tokens; output = 10 tokens }
flow { start -> host_answer }
"""


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: str(p.relative_to(ROOT)))
def test_stdlib_module_compiles_when_imported(path):
    # a module is a library (no traffic, no flow): it compiles inside a file that imports it;
    # its templates are instantiated, each with a hand-derived cost, in tests/compiler/test_templates.py
    model = llmarch.loads(f"import {path.stem}\n" + HOST, path="host.llmarch")
    model.check()
    assert model.cost().monthly_total > 0


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_checks_in_every_scenario(path):
    model = llmarch.load(path)
    model.check()
    for scenario in [None, *model.scenarios]:
        result = model.cost(scenario)
        assert result.monthly_total > 0
        assert 0 < result.p_success <= 1
        assert result.cost_per_success >= result.cost_per_request
        assert result.happy_path_cost_per_request <= result.cost_per_request + 1e-12


def test_there_are_at_least_three_examples():
    assert len(EXAMPLES) >= 3


def test_support_assistant_production_lands_near_the_seed():
    """The field manual: tokens ~$3,500, RAG + guardrail infra ~$1,800, observability ~$2,200,
    total ~$7,500 a month."""
    result = llmarch.load(ROOT / "examples" / "support_assistant.llmarch").cost("production")
    by = result.by_category
    assert 3300 <= by["inference"] <= 3700
    assert 1650 <= by["retrieval"] + by["infra"] <= 1950
    assert 2050 <= by["ops"] <= 2350
    assert 7200 <= result.monthly_total <= 7800


def test_support_assistant_lifecycle_story():
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch")
    pilot = model.cost("pilot")
    assert pilot.monthly_total / 30 < 1.0                       # "less than $1/day"
    internal = model.cost("internal")
    assert internal.requests_per_month == pytest.approx(250 * 30)
    production = model.cost("production")
    optimized = model.cost("optimized")
    saved = 1 - optimized.by_category["inference"] / production.by_category["inference"]
    assert 0.35 <= saved <= 0.45                                 # "token spend down by 40%"
    totals = [model.cost(s).monthly_total for s in ("pilot", "internal", "rag", "production")]
    assert totals == sorted(totals)
