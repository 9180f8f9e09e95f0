"""The numeric path (the compile cache's model: generated code and plain data, no sympy)
against the symbolic one: the same `CostResult` to the last bit, the same diagnostics, on
every example and scenario, with `--set` values, on random architectures and on the broken
corpus; and the compile cache itself: hits, misses on every kind of change, corrupt entries."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import llmarch
from llmarch.cli import main
from llmarch.compiler import compile_cache
from llmarch.compiler.compile_cache import build_artifact
from llmarch.compiler.numeric import NeedsCompiler, NumericModel
from llmarch.compiler.pipeline import compile_file
from llmarch.dsl.diagnostics import LlmarchError

from .test_property_markov import architectures, to_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").rglob("*.llmarch"))
CORPUS = sorted((ROOT / "tests" / "corpus" / "broken").glob("*.llmarch"))


def numeric_of(compiled) -> NumericModel:
    # through marshal, as the cache stores it
    return NumericModel(marshal.loads(marshal.dumps(build_artifact(compiled))))


def outcome(call):
    try:
        return "ok", call()
    except LlmarchError as exc:
        return "error", exc.render()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_and_scenario_gives_the_same_result(path):
    compiled = compile_file(path)
    numeric = numeric_of(compiled)
    assert numeric.scenarios == list(compiled.arch.scenarios)
    assert numeric.components == list(compiled.arch.components)
    for scenario in [None, *compiled.arch.scenarios]:
        assert outcome(lambda: numeric.cost(scenario)) == outcome(lambda: compiled.evaluator.evaluate(scenario))
        assert numeric.values(scenario) == compiled.evaluator.resolve(scenario).values


SETS = [
    {"tickets_per_day": "5000"}, {"tickets_per_day": "200 requests/hour"}, {"tickets_per_day": "-3"},
    {"cache_hit": "40%"}, {"cache_hit": 0.35}, {"cache_hit": "1.5"}, {"cache_hit": "4_0%"},
    {"tickets_per_day": 2500}, {"tickets_per_day": "1e3 requests/day"}, {"tickets_per_day": "3 requests/month"},
]


@pytest.mark.parametrize("sets", SETS, ids=lambda s: repr(s))
def test_set_values_read_exactly_as_the_compiler_reads_them(sets):
    compiled = compile_file(ROOT / "examples" / "support_assistant.llmarch")
    numeric = numeric_of(compiled)
    for scenario in (None, "production"):
        try:
            mine = outcome(lambda: numeric.cost(scenario, sets))
        except NeedsCompiler:
            continue
        assert mine == outcome(lambda: compiled.evaluator.evaluate(scenario, sets))


def test_what_the_numeric_model_leaves_to_the_compiler():
    numeric = numeric_of(compile_file(ROOT / "examples" / "support_assistant.llmarch"))
    for sets in ({"tickets_per_day": "5000 tokens"}, {"tickets_per_day": "2 * 3"}, {"dashboards": 100},
                 {"tickets_per_day": "1e40"}):
        with pytest.raises(NeedsCompiler):
            numeric.cost("production", sets)
    with pytest.raises(LlmarchError, match="unknown parameter `tickets`"):
        numeric.cost(None, {"tickets": "3"})
    with pytest.raises(LlmarchError, match="unknown scenario `prod`"):
        numeric.cost("prod")


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_broken_files_that_compile_fail_the_same_way(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        compiled = compile_file(path.relative_to(ROOT))
    except LlmarchError:
        return            # a compile error: the cache never holds such a file
    numeric = numeric_of(compiled)
    for scenario in [None, *compiled.arch.scenarios]:
        expected = outcome(lambda: compiled.evaluator.evaluate(scenario))
        try:
            assert outcome(lambda: numeric.cost(scenario)) == expected
        except NeedsCompiler:   # only a scenario whose parameters form a circle (E232) is left over
            assert expected[0] == "error" and "error[E232]" in expected[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures())
def test_random_architectures(specs):
    model = llmarch.loads(to_source(specs))
    compiled = model.compiled
    assert outcome(lambda: numeric_of(compiled).cost()) == outcome(lambda: compiled.evaluator.evaluate())


# --- the cache ---------------------------------------------------------------------------------

MAIN = 'import "prices.llmarch"\narchitecture "cached"\ntraffic = 100 requests/day\ntool t {{ cost = unit * {k} }}\n' \
       'flow {{ start -> t }}\nscenario busy {{ unit = 0.02 USD }}\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prices.llmarch").write_text("param unit = 0.01 USD\n")
    (tmp_path / "main.llmarch").write_text(MAIN.format(k=1))
    return tmp_path


def monthly(path="main.llmarch", scenario=None) -> tuple[float, bool]:
    model = llmarch.load(path)
    return model.cost(scenario).monthly_total, model._numeric is not None


def test_second_load_comes_from_the_cache(project):
    assert monthly() == (pytest.approx(30.0), False)
    assert monthly() == (pytest.approx(30.0), True)
    assert monthly(scenario="busy") == (pytest.approx(60.0), True)
    assert len(list((project / "cache" / "compiled").glob("*.bin"))) == 1


def test_an_edit_to_the_file_or_an_import_is_a_miss(project):
    monthly(), monthly()
    (project / "main.llmarch").write_text(MAIN.format(k=2))
    assert monthly() == (pytest.approx(60.0), False)
    assert monthly() == (pytest.approx(60.0), True)
    (project / "prices.llmarch").write_text("param unit = 0.05 USD\n")
    assert monthly() == (pytest.approx(300.0), False)
    assert monthly() == (pytest.approx(300.0), True)
    (project / "prices.llmarch").unlink()
    with pytest.raises(LlmarchError, match="not found"):
        llmarch.load("main.llmarch")


def test_a_scenario_file_is_a_miss_when_the_model_it_names_changes(project):
    """`scenarios for "main.llmarch"`: the entry of the scenario file lists the model (and
    the model's imports) with their digests, so an edit to either is a miss."""
    (project / "observed.llmarch").write_text('scenarios for "main.llmarch"\nscenario observed extends busy '
                                              '{ unit = 0.03 USD }\n')
    assert monthly("observed.llmarch", "observed") == (pytest.approx(90.0), False)
    assert monthly("observed.llmarch", "observed") == (pytest.approx(90.0), True)
    assert monthly("observed.llmarch") == (pytest.approx(30.0), True)
    (project / "main.llmarch").write_text(MAIN.format(k=2))
    assert monthly("observed.llmarch", "observed") == (pytest.approx(180.0), False)
    assert monthly("observed.llmarch", "observed") == (pytest.approx(180.0), True)
    (project / "prices.llmarch").write_text("param unit = 0.05 USD\n")
    assert monthly("observed.llmarch") == (pytest.approx(300.0), False)


def test_another_llmarch_or_python_is_a_miss(project, monkeypatch):
    monthly(), monthly()
    monkeypatch.setattr(compile_cache, "_fingerprint", b"another llmarch build")
    assert monthly() == (pytest.approx(30.0), False)


def test_corrupt_or_foreign_entries_are_misses_and_get_rewritten(project):
    monthly()
    (entry,) = (project / "cache" / "compiled").glob("*.bin")
    for garbage in (b"", b"llmarch-compiled\x00", entry.read_bytes()[:100], b"\x00" * 1000,
                    b"llmarch-compiled\x00" + marshal.dumps({"imports": [], "artifact": {"format": 999}})):
        entry.write_bytes(garbage)
        assert monthly() == (pytest.approx(30.0), False)        # compiled again, and rewritten
        assert monthly() == (pytest.approx(30.0), True)


def test_no_cache_when_turned_off_or_unwritable(project, monkeypatch):
    monkeypatch.setenv("LLMARCH_NO_CACHE", "1")
    monthly(), monthly()
    assert monthly()[1] is False and not (project / "cache").exists()
    monkeypatch.delenv("LLMARCH_NO_CACHE")
    (project / "cache").write_text("a file where the folder should be")
    assert monthly() == (pytest.approx(30.0), False)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_command_prints_the_same_cold_and_warm(path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    monkeypatch.chdir(ROOT)
    relative = str(path.relative_to(ROOT))
    scenario = ["--scenario", "production"] if "production" in compile_file(relative).arch.scenarios else []
    runs = []
    for _ in range(2):
        codes = [main(["cost", relative, *scenario, "-f", fmt]) for fmt in ("table", "json", "markdown")]
        codes.append(main(["check", relative]))
        captured = capsys.readouterr()
        runs.append((codes, captured.out, captured.err))
    assert runs[0] == runs[1]
    assert list(tmp_path.rglob("*.bin"))


UNCERTAIN = """architecture "risk"
param tokens = 300 to 900 tokens
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 0 USD/Mtok }
llm answer { model = m; input { q = tokens }; output = 0 tokens }
flow { start -> answer }
budget P(monthly_total > 20 USD/month) < 50%
budget p95(monthly_total) < 40 USD/month
budget mean(cost_per_request) < 0.01 USD
budget monthly_total < 30 USD/month
"""


def test_probabilistic_budgets_survive_the_cache(tmp_path, monkeypatch, capsys):
    # the cache once kept only (metric, op, limit): `P(monthly_total > $20) < 50%` came back
    # as `monthly_total < $0.50 a month`, so a warm `cost` failed a budget a cold one passed
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "risk.llmarch"
    path.write_text(UNCERTAIN)
    compiled = compile_file(path)
    assert numeric_of(compiled).budgets == compiled.arch.budgets
    runs = []
    for _ in range(2):
        codes = [main(["cost", str(path)]), main(["check", str(path)])]
        captured = capsys.readouterr()
        runs.append((codes, captured.out, captured.err))
    assert runs[0] == runs[1]
    assert runs[1][0] == [0, 0]
    assert llmarch.load(path)._numeric is not None
