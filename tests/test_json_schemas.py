"""Every JSON document a command prints validates against its published schema (the pydantic
model in llmarch.compiler.schemas; extra keys refused), and docs/schemas/ is current."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from llmarch.cli import main
from llmarch.compiler.schemas import DOCUMENTS

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = "examples/support_assistant.llmarch"
GROWTH = "examples/growth_story.llmarch"

COMMANDS = [
    ("cost", ["cost", SUPPORT, "--scenario", "production", "-f", "json"]),
    ("cost", ["cost", "examples/quickstart.llmarch", "-f", "json"]),
    ("export", ["export", SUPPORT, "--scenario", "production"]),
    ("sensitivity", ["sensitivity", SUPPORT, "-f", "json"]),
    ("sensitivity", ["tornado", GROWTH, "--at-month", "12", "-f", "json"]),
    ("project", ["project", GROWTH, "--months", "6", "--budget", "15000", "--driver", "documents", "-f", "json"]),
    ("solve", ["solve", SUPPORT, "--for", "cache_hit", "--monthly", "7000", "-f", "json"]),
    ("solve", ["solve", "examples/crossover/with_cache.llmarch", "--for", "questions_per_day", "--crossover", "-",
               "--against", "examples/crossover/without_cache.llmarch", "-f", "json"]),
    ("sweep", ["sweep", SUPPORT, "--grid", "cache_hit=0:0.5:3", "-f", "json"]),
    ("lint", ["lint", SUPPORT, "-f", "json"]),
    ("diff", ["diff", "examples/crossover/without_cache.llmarch", "examples/crossover/with_cache.llmarch",
              "-f", "json"]),
    ("prices", ["prices", "openai:gpt-4o*", "-f", "json"]),
    ("simulate", ["simulate", "examples/quickstart.llmarch", "--samples", "2000", "-f", "json"]),
    ("calibrate", ["calibrate", SUPPORT, "--scenario", "production", "--traces",
                   "examples/traces/support_assistant.otlp.jsonl", "-f", "json"]),
    ("capacity", ["capacity", SUPPORT, "--scenario", "production", "-f", "json"]),
    ("capacity", ["capacity", "examples/quickstart.llmarch", "-f", "json"]),
]


@pytest.mark.parametrize("document, argv", COMMANDS, ids=[" ".join(a[:1] + a[-1:]) + f"-{i}"
                                                          for i, (_, a) in enumerate(COMMANDS)])
def test_every_json_output_matches_its_schema(document, argv, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(argv)
    assert code in (0, 4, 5), capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    # 2: `prices` (cost, export), `requests` (capacity)
    assert data["format_version"] == (2 if document in ("cost", "export", "capacity") else 1)
    DOCUMENTS[document].model_validate(data)


def test_a_document_with_an_unknown_key_is_refused():
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        DOCUMENTS["sweep"].model_validate({"format_version": 1, "columns": ["a"], "rows": [[1.0]], "extra": 1})


def test_published_schemas_are_current():
    spec = importlib.util.spec_from_file_location("make_schemas", ROOT / "docs" / "make_schemas.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    for command in DOCUMENTS:
        path = ROOT / "docs" / "schemas" / f"{command}.schema.json"
        assert path.read_text(encoding="utf-8") == make.render(command), f"run python docs/make_schemas.py ({path.name})"
