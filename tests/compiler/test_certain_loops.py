"""A loop taken with probability 1 never exits (E430), however the probability is written:
a literal (`100%`, `1`), a parameter (its default or a scenario's value), an unconditional
or `otherwise` edge, with or without `on_failure`. An exact 1 times the failure switch is
the switch itself, and once the switch is set to 1 such an expression is a bare number:
it must stay a sympy number (a Python int crashed `check` and `cost` with exit 3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import llmarch
from llmarch import LlmarchError, cli

ROOT = Path(__file__).resolve().parent.parent.parent

HEADER = """traffic = 1000 requests/day
param certain = {value}
param half = 50%
model m {{ input = 1 USD/Mtok; output = 2 USD/Mtok }}
llm gen {{ model = m; input = 500 tokens; output = 200 tokens }}
guardrail chk {{ model = m; input = 200 tokens; output = 5 tokens }}
flow {{
  start -> gen -> chk
  chk -> gen{attrs}
}}
"""

ONE = ("100%", "1", "1.0", "100.0%")
#: how the loop edge's probability is written (`certain` is a parameter whose value is 1)
WRITTEN = [*[f"p = {one}" for one in ONE], "p = certain", "", "otherwise"]


def _source(attrs: str, value: str = "100%") -> str:
    return HEADER.format(value=value, attrs=attrs)


def _attrs(written: str, on_failure: bool) -> str:
    """The edge's attributes as written after it: ` (p = 1, on_failure)`, or nothing."""
    attrs = ", ".join(a for a in (written, "on_failure" if on_failure else "") if a)
    return f" ({attrs})" if attrs else ""


def _check(tmp_path, text: str, command: str = "check", capsys=None) -> tuple[int, str]:
    path = tmp_path / "loop.llmarch"
    path.write_text(text, encoding="utf-8")
    code = cli.main([command, str(path)])
    err = capsys.readouterr().err if capsys else ""
    return code, err


@pytest.mark.parametrize("on_failure", [False, True], ids=["plain", "on_failure"])
@pytest.mark.parametrize("written", [w for w in WRITTEN if w], ids=lambda w: w or "unconditional")
@pytest.mark.parametrize("command", ["check", "cost"])
def test_a_certain_loop_is_E430_not_a_crash(tmp_path, capsys, command, written, on_failure):
    attrs = _attrs(written, on_failure)
    code, err = _check(tmp_path, _source(attrs), command, capsys)
    assert code == 1, err
    assert "error[E430]: the loop through `chk`, `gen` never exits" in err
    assert "in the happy path" not in err   # the full system is checked first, and fails
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("on_failure", [False, True], ids=["plain", "on_failure"])
def test_an_unconditional_loop_edge_is_E430(tmp_path, capsys, on_failure):
    # `chk -> gen` alone is chk's only edge: the loop is certain
    code, err = _check(tmp_path, _source(_attrs("", on_failure)), "check", capsys)
    assert code == 1 and "error[E430]" in err and "internal error" not in err


@settings(max_examples=40, deadline=None)
@given(one=st.sampled_from(ONE + ("certain",)), on_failure=st.booleans(),
       through=st.sampled_from(["default", "scenario"]))
def test_a_certain_loop_through_literals_parameters_and_scenarios(tmp_path_factory, one, on_failure, through):
    # the parameter is 1 by default, or only in a scenario; the literal is 1 either way
    value = "100%" if through == "default" else "50%"
    text = _source(_attrs(f"p = {one}", on_failure), value=value) + "scenario all_in { certain = 100% }\n"
    model = llmarch.loads(text, path=str(tmp_path_factory.mktemp("loop") / "loop.llmarch"))
    scenario = "all_in" if through == "scenario" else None
    if through == "scenario" and one == "certain":
        assert model.cost().monthly_total > 0          # at 50% the loop exits
    with pytest.raises(LlmarchError) as info:
        model.cost(scenario)
    assert [d.code for d in info.value.diagnostics] == ["E430"]
    assert ("scenario `all_in`" in info.value.diagnostics[0].message) == (scenario is not None)


def test_a_cost_that_is_exactly_the_failure_switch_has_closed_forms(tmp_path):
    # b is reached only by a certain failure edge: its visits, and the cost per request,
    # are exactly the failure switch; with the switch at 1 the closed form is the number 1
    model = llmarch.loads("""traffic = 1000 requests/day
tool a { cost = 0 USD }
tool b { cost = 1 USD }
flow {
  start -> a
  a -> b (p = 100%, on_failure)
}
""", path=str(tmp_path / "phi.llmarch"))
    assert model.cost().cost_per_request == pytest.approx(1.0)
    forms = model.expressions()
    assert all(isinstance(v, sympy.Basic) for v in forms.values())
    assert forms["cost_per_request"] == 1


def test_no_xreplace_puts_a_python_number_in_an_expression():
    """`expr.xreplace({symbol: 1})` returns the int 1 itself when `expr` is `symbol`; every
    substitution of a number must give a sympy number."""
    pattern = re.compile(r"xreplace\(\{[^{}]*:\s*-?\d")
    found = [f"{path.relative_to(ROOT)}:{i}" for folder in ("compiler", "llmarch", "dsl")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not found, found
