"""The parser's own lexer and LALR loop (`_fast_parse`) against lark's (`_lark_parse`).

`_fast_parse` reads lark's tables and must behave exactly as lark's loop does wherever it
returns: the same tokens (so the same AST, spans included, and the same literal errors),
and it must return nothing for a text lark rejects (it stops, and lark parses again to
raise its own error). Compared on every file of the repository and on random and
randomly damaged texts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmarch.dsl import parse
from llmarch.dsl import parser as parser_module
from llmarch.dsl.diagnostics import Collector, SourceCache

ROOT = Path(__file__).resolve().parent.parent.parent
FILES = sorted([*ROOT.glob("examples/**/*.llmarch"), *ROOT.glob("stdlib/*.llmarch"),
                *ROOT.glob("tests/**/*.llmarch")])
TEXTS = [p.read_text(encoding="utf-8", errors="replace") for p in FILES if p.stat().st_size < 200_000]


def _run(loop, text: str):
    """('ok', AST, diagnostics) or ('error', exception type) for one loop over `text`."""
    collector = Collector(SourceCache())
    callbacks = parser_module._Builder("x", collector).callbacks()
    try:
        if loop == "fast":
            result = parser_module._fast_parse(text, callbacks, *parser_module._fast_tables())
            if result is parser_module._STOPPED:
                return ("error",)
        else:
            result = parser_module._lark_parse(text, callbacks)
    except parser_module._TooDeep:
        return ("too deep",)
    except Exception as exc:  # lark's errors
        if loop == "fast":
            raise
        return ("error",)
    return ("ok", result[0], [d.render() for d in collector.diagnostics])


def _same(text: str) -> str:
    text = text + "\n"   # as parse() gives it
    fast, lark = _run("fast", text), _run("lark", text)
    assert fast == lark
    return lark[0]


def test_the_fast_loop_is_used():
    assert parser_module._fast_tables() is not None


@pytest.mark.parametrize("index", range(len(TEXTS)), ids=[p.relative_to(ROOT).as_posix() for p in FILES
                                                          if p.stat().st_size < 200_000])
def test_same_result_on_every_file(index):
    _same(TEXTS[index])


FRAGMENTS = [
    "param", "p", "in", "as", "assistant", "of", "use", "llm", "tool", "model", "flow", "template", "scenario", "extends",
    "budget", "traffic", "settings", "import", "architecture", "otherwise", "on_failure", "start", "success",
    "x", "a_b", "Mtok", "USD", "USD/Mtok", "requests/day", "tokens", "1", "2.5", "1_000", "1e3", "3e-2", "0",
    '"s"', '"a \\" b"', '"', "'", "=", "<", "<=", ">=", "->", "+", "-", "*", "/", "^", "%", "(", ")", "[", "]",
    "{", "}", ",", ".", ";", " ", "  ", "\t", "\n", "\r\n", "\n\n", "# c\n", "#", "!", "\u00e9",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(" ".join))
def test_same_result_on_random_token_soup(text):
    _same(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(TEXTS) - 1), st.lists(
    st.tuples(st.sampled_from(["delete", "insert", "repeat"]), st.floats(0, 1), st.integers(1, 12),
              st.sampled_from(FRAGMENTS)), min_size=1, max_size=4))
def test_same_result_on_damaged_files(index, edits):
    text = TEXTS[index]
    for action, where, length, fragment in edits:
        at = int(where * len(text))
        if action == "delete":
            text = text[:at] + text[at + length:]
        elif action == "insert":
            text = text[:at] + fragment + text[at:]
        else:
            text = text[:at] + text[at:at + length] * 2 + text[at + length:]
    _same(text)


def test_damaged_files_are_mostly_errors_and_mostly_not():
    """The two property tests above are only worth something if they see both outcomes."""
    outcomes = {_same(t[: len(t) // 2]) for t in TEXTS} | {_same(t) for t in TEXTS}
    assert {"ok", "error"} <= outcomes


def test_without_the_fast_loop_the_results_are_the_same(monkeypatch):
    tables = parser_module._fast_tables()
    texts = [("x.llmarch", t) for t in TEXTS[:12]] + [("bad.llmarch", "param = 3\n"),
                                                      ("deep.llmarch", "param a = " + "-" * 70 + "1\n")]

    def outcome(path, text):
        try:
            module = parse(text, path)
        except Exception as exc:
            return type(exc).__name__, str(exc)
        return "ok", module

    with_fast = [outcome(*t) for t in texts]
    with monkeypatch.context() as patch:   # a state whose lexer is not as expected: lark's loop takes over
        patch.setattr(parser_module._StateLexers, "__missing__", lambda self, state: ((), set(), set(), {}))
        patch.setattr(parser_module, "_fast_tables", lambda: (*tables[:3], parser_module._StateLexers({}), *tables[4:]))
        assert [outcome(*t) for t in texts] == with_fast
    monkeypatch.setattr(parser_module, "_fast_tables", lambda: None)   # lark not laid out as expected
    assert [outcome(*t) for t in texts] == with_fast
