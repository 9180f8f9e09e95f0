"""The on-disk cache of catalog lookups: same answers, no genai-prices import on a hit,
and a broken cache is ignored."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from llmarch.stdlib import catalog

REFS = [("openai:gpt-4o", None), ("openai:o3", date(2025, 6, 9)), ("google:gemini-2.5-pro", None),
        ("anthropic:claude-sonnet-4-0", date(2025, 6, 15)), ("openai:text-embedding-3-small", None)]


def test_a_cached_answer_equals_a_fresh_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    fresh = [catalog._lookup(ref, when) for ref, when in REFS]
    first = [catalog.lookup(ref, when) for ref, when in REFS]      # computed, kept
    catalog._LookupCache.flush_all()                                # written (at exit, normally)
    catalog._LookupCache._open.clear()                              # as a new process would
    files = list(tmp_path.glob("catalog-*.json"))
    assert len(files) == 1 and len(json.loads(files[0].read_text())) == len(REFS)
    second = [catalog.lookup(ref, when) for ref, when in REFS]     # read back
    assert first == fresh and second == fresh


def test_a_hit_does_not_load_genai_prices(tmp_path):
    env = {"LLMARCH_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = ("import sys; from llmarch.stdlib import catalog; p = catalog.lookup('openai:gpt-4o'); "
            "print(p.input.base, 'genai_prices' in sys.modules)")
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert cold.stdout.split()[1] == "True"
    assert warm.stdout.split() == [cold.stdout.split()[0], "False"]


def test_a_corrupt_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    expected = catalog._lookup("openai:gpt-4o")
    catalog.lookup("openai:gpt-4o")
    catalog._LookupCache.flush_all()
    path = next(tmp_path.glob("catalog-*.json"))
    path.write_text('{"openai:gpt-4o|": {"provider": 3}}')          # garbage entry
    catalog._LookupCache._open.clear()
    assert catalog.lookup("openai:gpt-4o") == expected
    path.write_text("not json")
    catalog._LookupCache._open.clear()
    assert catalog.lookup("openai:gpt-4o") == expected
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "file.txt" / "below"))
    (tmp_path / "file.txt").write_text("a file where a folder should be")
    assert catalog.lookup("openai:gpt-4o") == expected
    catalog._LookupCache.flush_all()                                # an unwritable folder: ignored


def test_errors_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        try:
            catalog.lookup("openai:gpt-4o-mni")
        except catalog.CatalogError as exc:
            assert exc.suggestions[0] == "openai:gpt-4o-mini"
        else:
            raise AssertionError("expected a CatalogError")
    catalog._LookupCache.flush_all()
    assert not list(tmp_path.glob("catalog-*.json"))
