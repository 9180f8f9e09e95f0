"""How the parser builds the AST: inside lark's LALR parse (no tree, no second walk), with the
depth limits (E104) enforced bottom-up as nodes are built.

The exact trees and messages are pinned by test_ast_golden.py and the broken corpus; this
file checks the mechanisms: nodes are what pydantic's validation would make, the bottom-up
depth check agrees with the limits' definition (a walk from the root) on any nesting, and
absurd nesting stops the build early and fails cleanly.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from llmarch.dsl import LlmarchError, parse
from llmarch.dsl import parser as parser_module
from llmarch.dsl.diagnostics import Span
from llmarch.dsl.parser import MAX_EXPRESSION_DEPTH, MAX_TREE_DEPTH

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = sorted([*ROOT.glob("examples/**/*.llmarch"), *ROOT.glob("stdlib/*.llmarch")])


def _nodes(value):
    """Every pydantic object (nodes and spans) reachable from `value`, iteratively."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, BaseModel):
            yield item
            stack.extend(getattr(item, name) for name in type(item).model_fields)
        elif isinstance(item, tuple):
            stack.extend(item)


# every constructor of the builder, with each optional part present and absent
EVERY_FORM = """architecture "x"
import "prices.llmarch"
import vector_dbs.pinecone
param a = 1 in [0, 2] "d"
param b = -x ^ 2 / min(1, 2) - 3% + 1 USD
traffic = 1 requests/day
budget monthly_total < 1 USD/month
budget monthly_total <= 2 USD/month in peak
settings { month = 30 days }
model m "M" { input = 1 USD/Mtok }
model c = "openai:gpt-4o"
model d "D" = "openai:gpt-4o" as of "2025-05-01" { input = 1 USD/Mtok }
llm l "L" { model = m; input { user = 2 tokens } }
tool t { cost = 1 USD }
scenario s extends t "S" { a = 2 }
scenario u {}
template k "K" { param p; param q = 1 "Q"; tool x {}; use k as y; flow { in -> x -> out } }
use k as z "Z" { p = 1 }
use k as w
flow { start -> l (p = 10%, on_failure); l -> t.x (otherwise); t -> success }
"""


@pytest.mark.parametrize("path", [*SOURCES, None], ids=lambda p: p.relative_to(ROOT).as_posix() if p else "every_form")
def test_nodes_are_what_validation_would_make(path):
    """Nodes are built without validation (the builder guarantees the types); each must be
    exactly what `Model(**fields)` gives: equal, same fields set, same `__dict__` order,
    the same extra/private slots, hashable spans, plain `str`s (never lark Tokens)."""
    module = parse(path.read_text(encoding="utf-8") if path else EVERY_FORM, path.as_posix() if path else "x")
    count = 0
    for node in _nodes(module):
        assert all(type(v) is str for v in node.__dict__.values() if isinstance(v, str))
        cls = type(node)
        explicit = {name: getattr(node, name) for name in node.model_fields_set}
        validated = cls(**explicit)
        assert node == validated and validated == node
        assert node.model_fields_set == validated.model_fields_set
        assert list(node.__dict__) == list(validated.__dict__) == list(cls.model_fields)
        assert node.__pydantic_extra__ is None and node.__pydantic_private__ is None
        assert node.model_dump() == validated.model_dump()
        assert repr(node) == repr(validated)
        if isinstance(node, Span):
            assert hash(node) == hash(validated)
        count += 1
    assert count > 10


def test_a_model_that_checks_more_than_types_is_still_validated():
    from pydantic import field_validator

    from llmarch.dsl import ast

    class Checked(ast.Name):
        @field_validator("id")
        @classmethod
        def _not_empty(cls, value):
            if not value:
                raise ValueError("a name must not be empty")
            return value

    span = Span(file="f", line=1, column=1, end_line=1, end_column=2)
    makers = parser_module._makers(checked=(Checked, "span", "id"), plain=(ast.Name, "span", "id"))
    with pytest.raises(ValueError):
        makers.checked(span=span, id="")
    assert makers.plain(span=span, id="").id == ""   # not validated


def test_nodes_copy_and_stay_frozen():
    (param,) = parse("param a = 1 + b\n").statements
    copy = param.model_copy(update={"name": "c"})
    assert copy.name == "c" and param.name == "a" and copy.model_fields_set == param.model_fields_set
    assert copy.value is param.value
    with pytest.raises(Exception):
        param.value.op = "-"
    with pytest.raises(Exception):
        param.span.line = 2
    assert param.model_fields_set is not parse("param a = 1 + b\n").statements[0].model_fields_set


def test_parse_builds_no_lark_tree(monkeypatch):
    import lark.tree

    def no_trees(*args, **kwargs):
        raise AssertionError("a lark Tree was built")

    monkeypatch.setattr(lark.tree.Tree, "__init__", no_trees)
    module = parse((ROOT / "examples" / "support_assistant.llmarch").read_text(encoding="utf-8"))
    assert module.statements


# --- depth limits -------------------------------------------------------------------------------

def _walk_finds_violation(text: str) -> bool:
    """The limits as defined: a walk of the whole tree from the root (the outline)."""
    outline = parser_module._parse(text + "\n", parser_module._outline_callbacks)[0]
    return parser_module._depth_diagnostic(outline, "x") is not None


def _e104(text: str) -> bool:
    try:
        parse(text)
    except LlmarchError as exc:
        codes = [d.code for d in exc.diagnostics]
        assert codes == ["E104"], exc.render()
        return True
    return False


_expression = st.recursive(
    st.sampled_from(["1", "x", "2 USD", "30%", "a.b"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner).map(" ".join),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"({e})"),
        st.lists(inner, min_size=1, max_size=3).map(lambda args: f"max({', '.join(args)})"),
    ),
    max_leaves=12,
)


@st.composite
def _nested_file(draw):
    """Blocks nested around an expression, often right at the limits: a few levels of
    blocks (2 nodes each), then an expression nested with unary minus, parentheses
    (which make no node) or calls, and more statements around it."""
    blocks = draw(st.one_of(st.integers(0, 60), st.integers(44, 50)))
    layers = draw(st.lists(st.sampled_from(["-", "(", "max(1, ", "2^"]), max_size=70))
    core = draw(_expression)
    expr = core
    for layer in reversed(layers):
        expr = {"-": f"-{expr}", "(": f"({expr})", "max(1, ": f"max(1, {expr})", "2^": f"2^{expr}"}[layer]
    body = "a { " * blocks + f"f = {expr}" + " }" * blocks
    before = draw(st.sampled_from(["", "param p = 1\n", "param q = " + "-" * 66 + "1\n"]))
    after = draw(st.sampled_from(["", "param r = 2\n", "llm y { " + "b { " * 50 + "}" * 50 + " }\n"]))
    return f"{before}llm x {{ {body} }}\n{after}"


@settings(max_examples=150, deadline=None)
@given(_nested_file())
def test_bottom_up_depth_check_agrees_with_the_walk(text):
    assert _e104(text) == _walk_finds_violation(text)


DEEP = 100_000   # `{` and `(` that deep (each about 300 kB); the other shapes are slower per level
DEEPISH = 10_000


@pytest.mark.parametrize("shape, opening, closing", [
    ("blocks", "llm x {\n" + "a {" * DEEP, "}" * DEEP + "\n}\n"),
    ("negation", "param a = " + "-(" * DEEP + "1", ")" * DEEP + "\n"),
    ("sum", "param a = " + "(1+" * DEEPISH + "1", ")" * DEEPISH + "\n"),
    ("left sum", "param a = " + "1+" * DEEPISH + "1", "\n"),
    ("power", "param a = " + "2^" * DEEPISH + "2", "\n"),
    ("calls", "param a = " + "max(1, " * DEEPISH + "1", ")" * DEEPISH + "\n"),
])
def test_absurd_nesting_fails_cleanly_and_stops_building_early(monkeypatch, shape, opening, closing):
    built = []
    for name in ("block", "body", "neg", "binop", "call"):   # not the leaves
        real = getattr(parser_module._new, name)
        monkeypatch.setattr(parser_module._new, name, lambda *a, _real=real, **k: built.append(1) or _real(*a, **k))
    start = time.process_time()
    with pytest.raises(LlmarchError) as info:
        parse(opening + closing, "deep.llmarch")
    elapsed = time.process_time() - start
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E104"
    assert len(built) <= MAX_TREE_DEPTH + MAX_EXPRESSION_DEPTH   # the build stopped at the limit
    assert elapsed < 30   # generous: about 1 s; the point is no quadratic blow-up and no recursion


def test_absurd_parentheses_make_no_nodes_and_parse():
    module = parse("param a = " + "(" * DEEP + "2.5" + ")" * DEEP + "\n")
    value = module.statements[0].value
    assert value.value == "2.5" and (value.span.column, value.span.end_column) == (100_011, 100_014)


def test_unclosed_nesting_is_a_syntax_error_not_a_depth_error():
    with pytest.raises(LlmarchError) as info:
        parse("param a = " + "(" * DEEP + "\n")
    assert [d.code for d in info.value.diagnostics] == ["E003"]
    with pytest.raises(LlmarchError) as info:
        parse("llm x {\n" + "a {" * DEEPISH + "}" * (DEEPISH - 1) + "\n")
    assert [d.code for d in info.value.diagnostics] == ["E001"]


def test_a_syntax_error_after_a_deep_part_wins():
    with pytest.raises(LlmarchError) as info:
        parse("param a = " + "-" * 1000 + "1\nparam = 2\n")
    assert [d.code for d in info.value.diagnostics] == ["E003"]


def test_literal_errors_are_not_reported_with_a_depth_error():
    with pytest.raises(LlmarchError) as info:
        parse("param a = 1e99\nparam b = " + "-" * 70 + "1\n")
    assert [d.code for d in info.value.diagnostics] == ["E104"]
