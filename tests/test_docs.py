"""Every complete example in the documentation (a code block marked `llmarch`) compiles
and prices, as the docs promise; fragments are unmarked blocks."""

import re
from pathlib import Path

import pytest

import llmarch

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```llmarch\n(.*?)^```", re.S | re.M)


def _blocks():
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for i, match in enumerate(BLOCK.finditer(text)):
            line = text[:match.start()].count("\n") + 1
            yield pytest.param(path, match.group(1), id=f"{path.name}:{line}")


@pytest.mark.parametrize("path,source", list(_blocks()))
def test_documented_example_compiles(path, source):
    model = llmarch.loads(source, path=str(path.parent / "example.llmarch"))
    model.check()
    result = model.cost()
    assert result.monthly_total >= 0


def test_the_docs_have_examples():
    assert len(list(_blocks())) >= 15


def test_the_readme_tour_shows_the_quickstart_file_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("`examples/quickstart.llmarch`:\n\n```\n", 1)[1].split("```", 1)[0]
    assert shown == (ROOT / "examples" / "quickstart.llmarch").read_text(encoding="utf-8")
