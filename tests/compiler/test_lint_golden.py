"""What `llmarch lint` prints for every example in every scenario, pinned in
tests/golden/lint/ (one file per example: each scenario's exit code and stderr, run from
the repository root), and the sample in docs/lint.md is the support example's.

A change to a rule, a message or an example shows here as a diff to read. Regenerate
(then read the diff!) with:

    LLMARCH_REGEN=1 python -m pytest tests/compiler/test_lint_golden.py -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import llmarch
from llmarch import cli

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "lint"
REGEN = os.environ.get("LLMARCH_REGEN") == "1"
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("examples/**/*.llmarch"))


def _lint(relative: str, scenario: str | None, capsys) -> str:
    args = ["lint", relative] + (["--scenario", scenario] if scenario else [])
    code = cli.main(args)
    return f"$ llmarch {' '.join(args)}\nexit: {code}\n{capsys.readouterr().err}"


@pytest.mark.parametrize("relative", EXAMPLES)
def test_lint_output_matches_golden(relative, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    model = llmarch.load(relative)
    actual = "\n".join(_lint(relative, s, capsys) for s in [None, *model.scenarios])
    golden = GOLDEN / (relative.removeprefix("examples/").replace("/", "__").removesuffix(".llmarch") + ".txt")
    if REGEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with LLMARCH_REGEN=1"
    assert actual == golden.read_text(encoding="utf-8")


def test_the_sample_in_the_docs_is_what_lint_prints(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    shown = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    command = "$ llmarch lint examples/support_assistant.llmarch --scenario production\n"
    sample = shown.split(command, 1)[1].split("```", 1)[0]
    printed = _lint("examples/support_assistant.llmarch", "production", capsys).split("\n", 2)[2]
    assert sample == printed.rstrip("\n") + "\n"


def test_every_golden_is_used():
    expected = {p.removeprefix("examples/").replace("/", "__").removesuffix(".llmarch") + ".txt" for p in EXAMPLES}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
