"""The VS Code extension (editors/vscode): its manifest, its TextMate grammar against the
real parser, and the grammar's scope assertions run by VS Code's own engine
(`vscode-tmgrammar-test`, when `npm ci --prefix editors/vscode` has installed it)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from lark import Lark, Token
from lark.lexer import PatternRE, PatternStr
from llmarch.dsl import parser as dsl_parser
from llmarch.dsl.vocabulary import CALENDAR_WORDS, UNIT_WORDS, unit_word_pattern

from .textmate import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = json.loads((EXTENSION / "syntaxes" / "llmarch.tmLanguage.json").read_text(encoding="utf-8"))
SCOPE_TESTS = sorted((EXTENSION / "tests").glob("*.test.llmarch"))
#: Every file the highlighting is checked on: the examples, the standard library, and the
#: scope-assertion files (which hold every keyword at least once).
CORPUS = sorted([*ROOT.glob("examples/**/*.llmarch"), *ROOT.glob("stdlib/*.llmarch"), *SCOPE_TESTS])

#: What the highlighting must call each kind of token the parser reads (a scope prefix).
EXPECTED = {"KIND": "storage.type.component.", "UNIT": "keyword.other.unit.", "NUMBER": "constant.numeric.",
            "STRING": "string.quoted.double.", "PERCENT": "keyword.other.unit.percent.",
            "BUDGET_OP": "keyword.operator.comparison."}


def _grammar_text() -> str:
    text = resources.files(dsl_parser.__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return text.replace("%UNIT_WORDS%", unit_word_pattern())


@functools.lru_cache(maxsize=1)
def _keywords() -> dict[str, str]:
    """The language's keywords, by the lark grammar: terminal name -> the word."""
    words = {}
    for terminal in Lark(_grammar_text(), parser="lalr", lexer="contextual").terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr) and pattern.value.isidentifier():
            words[terminal.name] = pattern.value
        elif isinstance(pattern, PatternRE) and pattern.value.endswith("(?![A-Za-z0-9_])") \
                and pattern.value[:-len("(?![A-Za-z0-9_])")].isidentifier():   # `_AS`: /as(?![A-Za-z0-9_])/
            words[terminal.name] = pattern.value[:-len("(?![A-Za-z0-9_])")]
    return words


#: The `_AS`, `_IN`, … tokens the lexer saw during the last parse (the tree leaves them out).
_FILTERED: list = []


@functools.lru_cache(maxsize=1)
def _token_parser() -> Lark:
    keep = lambda token: _FILTERED.append(token) or token
    return Lark(_grammar_text(), parser="lalr", lexer="contextual", maybe_placeholders=False, keep_all_tokens=True,
                lexer_callbacks={name: keep for name in _keywords() if name.startswith("_")})


def _parsed_tokens(text: str) -> list:
    """Every token the real parser (the same grammar, LALR with the contextual lexer) reads:
    those the tree keeps (`keep_all_tokens`), and the filtered `_AS`, `_IN`, … seen by the lexer."""
    _FILTERED.clear()
    tree = _token_parser().parse(text)
    filtered = list(_FILTERED)
    checked = {*_keywords(), *EXPECTED, "NAME"}
    tokens = {(t.line, t.column): t for t in [*tree.scan_values(lambda v: isinstance(v, Token)), *filtered]
              if t.type in checked}
    return [tokens[place] for place in sorted(tokens)]


def test_the_keywords_are_what_the_language_has():
    # an oracle for _keywords itself: the statement words, the connectives, the edge words
    assert set(_keywords().values()) == {
        "architecture", "import", "param", "choice", "correlate", "traffic", "budget", "settings", "model", "of",
        "scenario", "template", "use", "flow", "p", "otherwise", "on_failure", "as", "in", "to", "with", "extends",
        "scenarios", "for"}


def _documented_blocks() -> list:
    """The complete examples of the documentation (its ```llmarch blocks), by file and line."""
    blocks = []
    for path in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^```llmarch\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
            line = text[:match.start()].count("\n") + 1
            blocks.append(pytest.param(match.group(1), id=f"{path.name}:{line}"))
    return blocks


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_token_the_parser_reads_is_highlighted_as_what_it_is(path):
    """Keywords as keywords, kinds, units, numbers, strings and comparisons by their scope;
    and a name (a field called `model`, a parameter called `ms_budget`) never as a keyword."""
    _check_highlighting(path.name, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", _documented_blocks())
def test_the_documented_examples_are_highlighted_as_parsed(text):
    _check_highlighting("block", text)


def _check_highlighting(name: str, text: str) -> None:
    path = Path(name)
    scopes = Tokenizer(GRAMMAR).tokenize(text)
    keywords = _keywords()
    wrong = []
    for token in _parsed_tokens(text):
        line = scopes[token.line - 1]
        chars = [line[c] for c in range(token.column - 1, token.column - 1 + len(token))]   # one line each
        if token.type in keywords:
            ok = all(s[-1].startswith("keyword.") for s in chars)
        elif token.type == "NAME":
            ok = not any(scope.startswith(("keyword.", "storage.", "string.", "constant.numeric."))
                         for s in chars for scope in s)
        else:
            ok = all(any(scope.startswith(EXPECTED[token.type]) for scope in s) for s in chars)
        if not ok:
            wrong.append(f"{path.name}:{token.line}:{token.column}: {token.type} `{token}` is {sorted(set(chars))}")
    assert not wrong, "\n".join(wrong)


def test_every_keyword_and_kind_is_in_the_checked_files():
    """The corpus above covers every keyword of the lark grammar and every component kind, so a
    keyword added to the language fails here until the grammar and a scope test know it."""
    seen = set()
    for path in CORPUS:
        seen.update(t.type if t.type != "KIND" else f"KIND {t}" for t in _parsed_tokens(path.read_text("utf-8")))
    kinds = {f"KIND {k}" for k in ("llm", "embedding", "retrieval", "cache", "guardrail", "tool", "router", "human",
                                   "observe", "fixed")}
    missing = (set(_keywords()) | kinds) - seen
    assert not missing, f"no checked file uses {sorted(missing)}: add them to editors/vscode/tests/"


@pytest.mark.parametrize("word", sorted([*UNIT_WORDS, *CALENDAR_WORDS]))
def test_every_unit_word_is_highlighted_as_a_unit(word):
    line = f"param x = 2 {word}/day"
    scopes = Tokenizer(GRAMMAR).tokenize(line)[0]
    start = line.index(f" {word}/") + 1
    assert all(s[-1] == "keyword.other.unit.llmarch" for s in scopes[start:len(line)]), word
    assert scopes[line.index("2")][-1] == "constant.numeric.llmarch"


def test_a_unit_word_after_a_name_is_a_name():
    line = "param x = tokens_per_day * ms"     # no number before them: parameter names
    scopes = Tokenizer(GRAMMAR).tokenize(line)[0]
    assert scopes[line.index("tokens_per_day")][-1] == "variable.other.llmarch"
    assert scopes[line.index("ms")][-1] == "variable.other.llmarch"


def test_the_scope_test_files_are_llmarch_that_parses():
    """The assertion files are written in the language: every line the parser accepts
    (names need not resolve; these are syntax only)."""
    for path in SCOPE_TESTS:
        dsl_parser.parse(path.read_text(encoding="utf-8"), str(path))


def test_the_manifest_declares_the_language_grammar_and_server_setting():
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert language["id"] == "llmarch" and language["extensions"] == [".llmarch"]
    assert (EXTENSION / language["configuration"]).is_file()
    (grammar,) = manifest["contributes"]["grammars"]
    assert grammar["language"] == "llmarch" and grammar["scopeName"] == GRAMMAR["scopeName"] == "source.llmarch"
    assert (EXTENSION / grammar["path"]).resolve() == (EXTENSION / "syntaxes" / "llmarch.tmLanguage.json")
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["llmarch.server.command"]["default"] == "llmarch"
    assert settings["llmarch.server.args"]["default"] == ["lsp"]   # a command the CLI has:
    from llmarch.cli import _parser
    assert "lsp" in _parser()._subparsers._group_actions[0].choices
    assert (EXTENSION / manifest["main"]).is_file()
    config = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"]
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]


def _tmgrammar_test() -> Path | None:
    script = EXTENSION / "node_modules" / "vscode-tmgrammar-test" / "dist" / "unit.js"
    return script if script.is_file() and shutil.which("node") else None


def test_scope_assertions_with_vscode_textmate():
    """The assertion files in editors/vscode/tests/ through VS Code's tokenizer (vscode-textmate
    and Oniguruma). Needs Node and `npm ci --prefix editors/vscode`; .ci/run installs both and
    sets CI_REQUIRE_NODE=1, so there it fails rather than skips."""
    script = _tmgrammar_test()
    if script is None:
        message = "needs node and `npm ci --prefix editors/vscode` (vscode-tmgrammar-test)"
        if os.environ.get("CI_REQUIRE_NODE") == "1":
            pytest.fail(f"CI_REQUIRE_NODE=1 but the grammar test {message}")
        pytest.skip(message)
    assert len(SCOPE_TESTS) >= 4
    run = subprocess.run(["node", str(script), "-g", "syntaxes/llmarch.tmLanguage.json",
                          *[str(p.relative_to(EXTENSION)) for p in SCOPE_TESTS]],
                         cwd=EXTENSION, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("run successfuly") == len(SCOPE_TESTS), run.stdout


def test_the_client_starts_the_server_restarts_and_reports_failures():
    """extension.js against stand-ins for `vscode` and `vscode-languageclient` (Node's own test
    runner, no packages): the command and arguments it starts, `${workspaceFolder}`, the
    restart on a settings change and by command, the message when the server cannot start."""
    if shutil.which("node") is None:
        if os.environ.get("CI_REQUIRE_NODE") == "1":
            pytest.fail("CI_REQUIRE_NODE=1 but there is no node")
        pytest.skip("needs node")
    run = subprocess.run(["node", "--test", "tests/extension.test.js"], cwd=EXTENSION, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# pass 5" in run.stdout and "# fail 0" in run.stdout, run.stdout
