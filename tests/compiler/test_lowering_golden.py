"""Golden files for lowering: each tests/golden/export/NAME.llmarch has NAME.json, the
`llmarch export` document (lowered nodes, edges, numbers). LLMARCH_REGEN=1 rewrites them;
a reviewer reads the diff."""

import json
import os
from pathlib import Path

import pytest

import llmarch

FOLDER = Path(__file__).resolve().parents[1] / "golden" / "export"
CASES = sorted(FOLDER.glob("*.llmarch"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_export_golden(path):
    data = llmarch.load(path).export()
    text = json.dumps(data, indent=2) + "\n"
    golden = path.with_suffix(".json")
    if os.environ.get("LLMARCH_REGEN") == "1":
        golden.write_text(text)
    assert golden.exists(), f"missing golden {golden.name}: run with LLMARCH_REGEN=1"
    assert text == golden.read_text()


def test_retry_ladder_structure():
    data = llmarch.load(FOLDER / "retry_ladder.llmarch").export()
    edges = {(e["source"], e["target"]): e["probability"] for e in data["edges"]}
    assert data["entry"] == "draft#1"
    assert edges[("draft#1", "draft#2")] == pytest.approx(0.2)
    assert edges[("draft#2", "rescue")] == pytest.approx(0.2)      # exhausted -> fallback component
    assert edges[("rescue", "rescue@big")] == pytest.approx(0.1)   # -> the same call on the big model
    assert ("rescue@big", "failure") not in edges                 # the copy never fails
    small_draft = 1000e-6 + 100 * 2e-6
    small_rescue = 2000e-6 + 100 * 2e-6
    big = 2000 * 10e-6 + 100 * 20e-6
    expected = small_draft * 1.2 + 0.04 * small_rescue + 0.004 * big
    assert data["results"]["cost_per_request"] == pytest.approx(expected, rel=1e-12)


def test_overlay_sits_in_front_of_the_entry_and_cache_hits_go_to_on_hit():
    data = llmarch.load(FOLDER / "cache_and_overlay.llmarch").export()
    edges = {(e["source"], e["target"]): e["probability"] for e in data["edges"]}
    assert data["entry"] == "tracing" and edges[("tracing", "c")] == 1
    assert edges[("c", "log")] == pytest.approx(0.3)
    assert edges[("c", "answer")] == pytest.approx(0.7)
    assert edges[("check", "answer")] == pytest.approx(0.1)
    assert edges[("check", "log")] == pytest.approx(0.89)
