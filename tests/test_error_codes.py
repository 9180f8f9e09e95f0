"""The registry of diagnostic codes (dsl/codes.py) matches the source and the docs.

Every code literal in the source is registered, every registered code is emitted by the
source, docs/errors.md is what docs/make_errors.py generates from the registry, and every
code in the broken corpus's golden files is registered. Code literals are found with
`ast`: a string constant that is exactly a code (`"E201"`, also inside an f-string);
comments and docstrings that mention a code do not count.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from llmarch import cli
from llmarch.dsl.codes import CODES, STAGES, Code, describe

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("dsl", "compiler", "stdlib", "llmarch")
CODE = re.compile(r"[ELW][0-9]{3}")
GOLDEN_CODE = re.compile(r"(?:error|warning)\[([ELW][0-9]{3})\]")

#: Codes the source produces without writing them as a literal (built by formatting, or
#: passed through from data), each with where and how. They count as used. Empty today:
#: every code is a literal at its call site. An entry here must be registered and must not
#: also be a literal (then it would not need to be here).
INDIRECT: dict[str, str] = {}


def code_literals(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, code) for every string constant in `source` that is exactly a code, in plain
    strings and in the literal parts of f-strings; docstrings and other bare string
    statements are skipped, and comments never reach the syntax tree."""
    tree = ast.parse(source, filename)
    bare = {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in bare and CODE.fullmatch(node.value))


def _source_files() -> list[Path]:
    return [path for folder in SOURCE_FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))]


def _used() -> dict[str, list[str]]:
    """Each code literal in the source, with the places (`path:line`) that write it."""
    used: dict[str, list[str]] = {}
    for path in _source_files():
        for line, code in code_literals(path.read_text(encoding="utf-8"), str(path)):
            used.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{line}")
    return used


def unregistered(used: dict[str, list[str]]) -> list[str]:
    """`path:line: CODE` for every use of a code that the registry does not have."""
    return sorted(f"{where}: {code}" for code, places in used.items() if code not in CODES for where in places)


def _make_errors():
    spec = importlib.util.spec_from_file_location("make_errors", ROOT / "docs" / "make_errors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_source_has_codes():
    used = _used()
    assert len(used) >= 80
    assert "E201" in used and "L101" in used and "E600" in used


def test_every_code_in_the_source_is_registered():
    missing = unregistered(_used())
    assert not missing, ("codes used in the source but missing from dsl/codes.py (add them, then run "
                         "`python docs/make_errors.py`):\n" + "\n".join(missing))


def test_every_registered_code_is_emitted():
    used = set(_used())
    dead = sorted(set(CODES) - used - set(INDIRECT))
    assert not dead, f"registered in dsl/codes.py but never emitted by the source: {dead}"


def test_indirect_codes_are_registered_and_not_literals():
    used = set(_used())
    assert set(INDIRECT) <= set(CODES)
    assert not set(INDIRECT) & used, "a code in INDIRECT is now a literal: remove it from INDIRECT"


def test_the_scanner_reports_an_unregistered_code():
    snippet = '''
"""A docstring naming E998 does not count."""
# neither does a comment naming "E997"
def f(collector, name):
    """Nor E996 here."""
    collector.error("E201", f"unknown parameter `{name}`", None)
    collector.error("E999", "made up", None)
    collector.warning(f"L998", "made up too", None)
    return "E1234", "see E995"
'''
    found = code_literals(snippet)
    assert found == [(6, "E201"), (7, "E999"), (8, "L998")]
    assert unregistered({code: [f"snippet:{line}"] for line, code in found}) == \
        ["snippet:7: E999", "snippet:8: L998"]


def test_the_docs_are_generated_from_the_registry():
    generated = _make_errors().render()
    current = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert current == generated, "docs/errors.md is stale: run `python docs/make_errors.py`"
    for code in CODES:
        assert f"| {code} |" in current


def test_every_code_in_the_golden_files_is_registered():
    seen = {}
    for path in sorted((ROOT / "tests" / "corpus" / "broken").rglob("*.expected")):
        for code in GOLDEN_CODE.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(code, path.name)
    assert len(seen) >= 50
    missing = {code: name for code, name in seen.items() if code not in CODES}
    assert not missing, f"codes in golden files but not in dsl/codes.py: {missing}"


def test_the_entries_are_well_formed():
    for key, entry in CODES.items():
        assert isinstance(entry, Code) and entry.code == key and CODE.fullmatch(key)
        assert entry.stage in STAGES, f"{key}: unknown stage {entry.stage!r}"
        assert entry.title and entry.title == entry.title.strip() and "\n" not in entry.title
        assert entry.title[0] == entry.title[0].lower() or entry.title.startswith("RAG"), key
        assert not entry.title.endswith("."), key
        assert entry.severity == ("warning" if key[0] in "LW" else "error"), key
    assert all(any(c.stage == stage for c in CODES.values()) for stage in STAGES), "a stage without codes"


def test_exit_codes_agree_with_the_cli():
    """The CLI decides by prefix: all E6xx is a usage error, all E7xx a budget, lint
    findings (L) exit 5, other warnings (W) do not change the exit code; anything else is
    invalid input."""
    for key, entry in CODES.items():
        expected = (cli.EXIT_USAGE if key.startswith("E6") else cli.EXIT_BUDGET if key.startswith("E7")
                    else cli.EXIT_LINT if key.startswith("L") else cli.EXIT_OK if key.startswith("W")
                    else cli.EXIT_INVALID)
        assert entry.exit_code == expected, key


def test_describe():
    assert describe("E201").title == "unknown parameter"
    assert describe("E701").exit_code == 4
    with pytest.raises(KeyError):
        describe("E999")


def test_the_registry_is_a_leaf():
    """dsl/codes.py imports nothing from llmarch, so anything can read it."""
    tree = ast.parse((ROOT / "dsl" / "codes.py").read_text(encoding="utf-8"))
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert not relative and imported <= {"__future__", "dataclasses"}
