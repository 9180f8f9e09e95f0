"""`llmarch calibrate` on the shipped example traces: the golden table, the formats, and the
observed scenario file, which must compile and price (`cost --scenario observed`)."""

import json
import os
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
        assert " to " in text.split("scenario observed")[1]


def test_the_api_matches_the_command(capsys):
    cal = llmarch.load(MODEL).calibrate(TRACES, scenario="production")
    _, out, _ = _run(capsys)
    assert llmarch.api.format_calibration(cal) == out
