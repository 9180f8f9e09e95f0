import textwrap
from pathlib import Path

import pytest

import llmarch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def compile_text(tmp_path):
    """Compile a snippet written in a test (dedented) and return the `llmarch.Model`."""

    def run(text: str, name: str = "case.llmarch") -> llmarch.Model:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return llmarch.load(path)

    return run
