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


@pytest.fixture(autouse=True, scope="session")
def _catalog_cache_in_a_temporary_folder(tmp_path_factory):
    """Catalog lookups are cached on disk (`llmarch.stdlib.catalog`); the tests keep that
    cache in a folder of their own, shared by the session, never the user's."""
    import os
    folder = tmp_path_factory.mktemp("llmarch-cache")
    previous = os.environ.get("LLMARCH_CACHE_DIR")
    os.environ["LLMARCH_CACHE_DIR"] = str(folder)
    yield
    if previous is None:
        os.environ.pop("LLMARCH_CACHE_DIR", None)
    else:
        os.environ["LLMARCH_CACHE_DIR"] = previous
