"""Elaboration as ordered passes over one state (compiler/elaborate/): the order is written
down once, a pass only shares the state and the common helpers with the others, and a
prefix of the passes can be run on its own."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

from llmarch.compiler import elaborate as package
from llmarch.compiler.elaborate import PASSES, State
from llmarch.compiler.loader import load_modules
from llmarch.dsl.diagnostics import Collector

FOLDER = Path(package.__file__).parent
#: What any pass may import from its own package: the state, the expression visitor, the helpers.
SHARED = {"state", "expressions", "common", "uncertain"}


def _pass_modules() -> list[str]:
    return [run.__module__.rpartition(".")[2] for run in PASSES]


def test_the_passes_run_in_the_written_order():
    assert _pass_modules() == ["statements", "roles", "configure", "declarations", "parameters", "prices",
                               "components", "flow", "hosting", "scenarios", "correlations", "supports", "budgets"]
    assert all(run.__name__ == "run" for run in PASSES)


def test_every_module_of_the_package_is_a_pass_or_shared():
    modules = {p.stem for p in FOLDER.glob("*.py")} - {"__init__"}
    assert modules == set(_pass_modules()) | SHARED


def test_passes_do_not_import_each_other():
    for name in _pass_modules() + sorted(SHARED):
        tree = pyast.parse((FOLDER / f"{name}.py").read_text(encoding="utf-8"))
        siblings = set()
        for node in pyast.walk(tree):
            if isinstance(node, pyast.ImportFrom) and node.level == 1:
                siblings.add(node.module or "")
        allowed = SHARED if name not in SHARED else {"state", "expressions"}
        assert siblings <= allowed - {name}, f"{name}.py imports {sorted(siblings - allowed)}"


def test_a_prefix_of_the_passes_runs_alone(tmp_path):
    path = tmp_path / "a.llmarch"
    path.write_text("settings { month = 28 days }\nparam a = 2 tokens\nparam b = a * 3\n"
                    "model m { input = 1 USD/Mtok; output = 1 USD/Mtok }\n", encoding="utf-8")
    modules, sources = load_modules(path)
    state = State(modules, Collector(sources))
    for run in PASSES[:5]:   # up to and with the parameters
        run(state)
    assert state.month_days == 28
    assert list(state.params) == ["time", "a", "b"]
    assert state.prices == {} and state.components == {}
    assert not state.collector.has_errors
