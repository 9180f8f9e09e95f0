"""`llmarch calibrate` on the shipped example traces: the golden table, the formats, and the
observed scenario file, which must compile and price (`cost --scenario observed`): a
scenario file over the model (`scenarios for`), never a copy of it."""

import json
import os
import re
from pathlib import Path

import pytest

import llmarch
from llmarch.cli import main

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "examples" / "support_assistant.llmarch"
TRACES = ROOT / "examples" / "traces" / "support_assistant.otlp.jsonl"
GOLDEN = ROOT / "tests" / "golden" / "calibrate"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["calibrate", str(MODEL), "--scenario", "production", "--traces", str(TRACES), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_golden(capsys, fmt):
    code, out, _ = _run(capsys, "--format", fmt)
    assert code == 0
    golden = GOLDEN / f"support_assistant.production.{'txt' if fmt == 'table' else 'md'}"
    if os.environ.get("LLMARCH_REGEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert golden.exists(), "missing golden: run with LLMARCH_REGEN=1"
    assert out == golden.read_text(encoding="utf-8")


def test_json(capsys):
    code, out, _ = _run(capsys, "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["traces"] == 120
    assert data["fitted"]["cache_hit"] == pytest.approx(next(e["value"] for e in data["estimates"]
                                                             if e["field"] == "answer_cache.hit_rate"))
    assert any(r["row"] == "summarize" and r["recorded"] is not None for r in data["reconciliation"])


@pytest.mark.parametrize("fit", ["points", "distributions"])
def test_observed_file_compiles_and_prices(capsys, tmp_path, fit):
    target = tmp_path / "observed.llmarch"
    os.environ.pop("LLMARCH_REGEN", None)
    code, _, err = _run(capsys, "-o", str(target), "--fit", fit)
    assert code == 0 and "wrote" in err
    text = target.read_text(encoding="utf-8")
    assert "scenario observed extends production" in text and "# n=" in text
    # the model named by a path that leads to it from the file's folder (relative, or
    # absolute when the two share no folder but the root)
    (reference,) = re.findall(r'^scenarios for "([^"]+)"$', text, re.MULTILINE)
    assert (target.parent / reference).resolve() == MODEL.resolve()
    shared = os.path.commonpath([MODEL.resolve(), target.parent.resolve()])
    assert Path(reference).is_absolute() == (os.path.dirname(shared) == shared)
    assert "architecture" not in text and "flow {" not in text       # named, not copied
    assert main(["cost", str(target), "--scenario", "observed"]) in (0, 4)   # 4: a budget may not hold
    capsys.readouterr()
    observed = llmarch.load(target, cache=False)
    cal = llmarch.load(MODEL, cache=False).calibrate([TRACES], scenario="production")
    if fit == "points":
        for e in cal.fitted:
            value = observed.evaluation("observed").resolution.values[e.parameter]
            assert value == pytest.approx(e.value * (100 if e.kind == "share" else 1), rel=1e-3) or \
                value == pytest.approx(e.value, rel=1e-3)
    else:
        assert " to " in text.split("\nscenario observed")[1]


def test_the_api_matches_the_command(capsys):
    cal = llmarch.load(MODEL).calibrate(TRACES, scenario="production")
    _, out, _ = _run(capsys)
    assert llmarch.api.format_calibration(cal) == out


def test_the_shipped_observed_example_is_what_calibrate_writes(capsys, tmp_path):
    """examples/observed.llmarch is the README's loop: regenerate with LLMARCH_REGEN=1."""
    shipped = ROOT / "examples" / "observed.llmarch"
    cal = llmarch.load(MODEL, cache=False).calibrate([TRACES], scenario="production")
    text = cal.observed_source(str(MODEL), str(shipped))
    if os.environ.get("LLMARCH_REGEN") == "1":
        shipped.write_text(text, encoding="utf-8")
    assert shipped.read_text(encoding="utf-8") == text
    assert text.splitlines()[4] == 'scenarios for "support_assistant.llmarch"'


def test_an_edit_to_the_model_shows_through_the_observed_file(capsys, tmp_path):
    model = tmp_path / "support_assistant.llmarch"
    model.write_text(MODEL.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "fitted").mkdir()
    target = tmp_path / "fitted" / "observed.llmarch"
    assert main(["calibrate", str(model), "--scenario", "production", "--traces", str(TRACES), "-o", str(target)]) == 0
    capsys.readouterr()
    assert 'scenarios for "../support_assistant.llmarch"' in target.read_text(encoding="utf-8")
    before = llmarch.load(target, cache=False).cost("observed").monthly_total
    # the dashboards' fixed cost is not fitted: production's new figure is the observed scenario's
    model.write_text(model.read_text(encoding="utf-8").replace("  dashboards = 1750 USD/month",
                                                               "  dashboards = 2750 USD/month"), encoding="utf-8")
    after = llmarch.load(target, cache=False).cost("observed").monthly_total
    assert after - before == pytest.approx(1000.0)


def test_the_model_itself_is_never_overwritten(capsys, tmp_path):
    model = tmp_path / "model.llmarch"
    text = MODEL.read_text(encoding="utf-8")
    model.write_text(text, encoding="utf-8")
    assert main(["calibrate", str(model), "--traces", str(TRACES), "-o", str(model)]) == 1
    assert f"llmarch: error: -o {model} is the model itself" in capsys.readouterr().err
    assert model.read_text(encoding="utf-8") == text


def test_calibrating_an_observed_file_writes_the_next_name_over_it(capsys, tmp_path):
    first, second = tmp_path / "observed.llmarch", tmp_path / "again.llmarch"
    assert main(["calibrate", str(MODEL), "--scenario", "production", "--traces", str(TRACES), "-o", str(first)]) == 0
    assert main(["calibrate", str(first), "--scenario", "observed", "--traces", str(TRACES), "-o", str(second)]) == 0
    assert "`llmarch cost " + str(second) + " --scenario observed_2` prices it" in capsys.readouterr().err
    text = second.read_text(encoding="utf-8")
    assert 'scenarios for "observed.llmarch"' in text and "scenario observed_2 extends observed " in text
    again = llmarch.load(second, cache=False)
    assert list(again.scenarios)[-2:] == ["observed", "observed_2"]
    # the same traces fit the same values: observed_2 over observed changes nothing
    assert again.cost("observed_2").monthly_total == pytest.approx(again.cost("observed").monthly_total)
