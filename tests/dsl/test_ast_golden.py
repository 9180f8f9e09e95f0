"""The parser's exact output, pinned: every example and standard-library file, and a set of
snippets for the corners of the grammar, is parsed and its AST dumped (every field of every
node, every span, which fields were set explicitly) and compared with a golden dump in
tests/golden/ast/. Snippets that must fail record their rendered diagnostics instead.

The goldens were written by the parser as it was before its rewrite for speed (the commit
that adds them changes nothing else), so the rewritten parser is held to the same trees,
spans and messages. Regenerate (then read the diff!) with:

    LLMARCH_REGEN=1 python -m pytest tests/dsl/test_ast_golden.py -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from llmarch.dsl import LlmarchError, parse
from llmarch.dsl.diagnostics import Span

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = ROOT / "tests" / "golden" / "ast"
REGEN = os.environ.get("LLMARCH_REGEN") == "1"

FILES = sorted(p.relative_to(ROOT).as_posix()
               for p in [*ROOT.glob("examples/**/*.llmarch"), *ROOT.glob("stdlib/*.llmarch")])

# Corners of the grammar the examples may not reach: parentheses at either end of a node
# (a node's span runs from its first to its last token, parentheses included), CRLF,
# comments, `;`, blank lines, a missing final newline, every optional part.
SNIPPETS: dict[str, str] = {
    "parentheses": (
        "param a = (1 + 2) * (3 - x)\n"
        "param b = ((y))\n"
        "param c = -(2)^(3)\n"
        "param d = (((1 USD) + 2 USD)) in [(0), ((10))] \"bounds\"\n"
        "param e = min((a), max(b, (c)), (2)) / ((a.b.c))\n"
        "param f = ((-(-1)))\n"
        "traffic = (100 requests/day)\n"
        "budget monthly_total < (1000 USD/month) in peak\n"
    ),
    "parentheses_in_bodies": (
        "llm a { model = (m); input { user = ((20 tokens) * 2) }; output = 2 * (3 tokens) }\n"
        "flow { start -> a (p = (10%), on_failure) }\n"
    ),
    "separators_comments_crlf": (
        "\r\n# a comment\r\n\r\narchitecture \"x\" # trailing\r\n"
        "param a = 1;param b = 2 ; param c = 3\r\n"
        "settings {\r\n  month = 30 days # c\r\n\r\n}\r\n"
        "tool t { cost = 0.01 USD; }\n"
        "flow { start -> t; t -> success }\n"
        "# final comment without newline"
    ),
    "every_statement": (
        "architecture \"All \\\"parts\\\" \\\\ here\"\n"
        "import \"shared/prices.llmarch\"\n"
        "import vector_dbs.pinecone\n"
        "param top_k = 4 in [1, 10] \"chunks\"\n"
        "param share = 30%\n"
        "param p = 1.5e3 tokens\n"
        "traffic = 1_000 requests/day\n"
        "budget monthly_total <= 10000 USD/month\n"
        "budget cost_per_request >= 0 USD in production\n"
        "settings { month = 30 days }\n"
        "model m \"M\" { input = 2.50 USD/Mtok; output = 10 USD/Mtok }\n"
        "model c = \"openai:gpt-4o\"\n"
        "model d \"D\" = \"openai:gpt-4o\" as of \"2025-05-01\"\n"
        "model e = \"openai:gpt-4o\" as of \"2025-05-01\" { input = 1 USD/Mtok }\n"
        "model f = \"openai:gpt-4o\" {}\n"
        "llm answer \"Answer\" {\n  model = m\n  input { system = 300 tokens; user = 50 tokens }\n  output = 20 tokens\n}\n"
        "cache hit {}\n"
        "scenario low \"quiet\" { top_k = 2 }\n"
        "scenario high extends low \"busy\" { top_k = 8 }\n"
        "scenario plain extends low {}\n"
        "template rag \"RAG\" {\n  param k = 4 \"k\"\n  param q\n  param r = 2\n  param s \"only a description\"\n"
        "  retrieval search { cost = 1 USD }\n  use inner as deep\n  flow { in -> search -> out }\n}\n"
        "template empty {}\n"
        "use rag as docs \"Docs\" { k = 8 }\n"
        "use rag as other\n"
        "flow {\n  start -> answer -> hit\n  hit -> answer (p = 10%, on_failure)\n  hit -> success (otherwise)\n"
        "  docs.search -> a.b.c\n}\n"
        "flow {}\n"
    ),
    "input_roles": (
        "llm a {\n  input {\n    system = 400 tokens as instructions\n    history = 6 * (turn) as history\n"
        "    as = 3 tokens as user; assets = (2 tokens)\n    doc = 5 tokens as payload  # a comment\n  }\n}\n"
        "use rag as assistant { k = 2 }\n"
        "model d = \"openai:gpt-4o\" as of \"2025-05-01\"\n"
    ),
    "expressions": (
        "param x = 1 + 2 * 3 ^ 2 ^ 3 - -4\n"
        "param y = - - 2 ^ -3 / 4 * 5 % \n"
        "param z = a.b / c.d.e - f(1) + g(1, 2, h(3))\n"
        "param w = 1_0.5_0 USD/Mtok * 0.000001 + 1E5 + 2e-3\n"
    ),
    "empty": "",
    "only_comments": "# nothing\n# here",
    "blank_lines": "\n\n\n",
    "byte_order_mark": "\ufeffarchitecture \"bom\"\n",
    "no_final_newline": "param a = 1",
    # as deep as the limits allow (one level more fails: see BROKEN)
    "deepest_expression": "param a = " + "-" * 64 + "1\n",
    "deepest_blocks": "llm x {\n" + "a {" * 48 + "}" * 48 + "\n}\n",
    "deepest_blocks_and_expression": "llm x {\n" + "a {" * 47 + " b = -1 " + "}" * 47 + "\n}\n",
    "deep_parentheses": "param a = " + "(" * 5000 + "2.5" + ")" * 5000 + "\n",
}

# Each must fail; the golden holds the rendered diagnostics. The depth limits are checked on
# the whole tree after parsing: syntax errors win, and of several places nested too deep the
# one reported is fixed by the order in which the tree is walked.
BROKEN: dict[str, str] = {
    "deep_expression": "param a = " + "-(" * 80 + "1" + ")" * 80 + "\n",
    "deep_sum_then_syntax_error": "param a = " + "(1+" * 70 + "1" + ")" * 70 + "\nparam = 3\n",
    "two_deep_expressions": ("param a = " + "-" * 70 + "1\n" + "param b = " + "(1*" * 70 + "1" + ")" * 70 + "\n"),
    "deep_expression_then_deep_blocks": ("param a = " + "-" * 70 + "1\nllm x {\n" + "a {" * 110 + "}" * 110 + "\n}\n"),
    "deep_blocks_then_deep_expression": ("llm x {\n" + "a {" * 110 + "}" * 110 + "\n}\nparam a = " + "-" * 70 + "1\n"),
    "blocks_and_expression_just_past_the_limit": ("llm x {\n" + "a {" * 60 + " b = " + "-" * 40 + "1 "
                                                  + "}" * 60 + "\n}\n"),
    "blocks_and_expression_one_past_the_limit": ("llm x {\n" + "a {" * 47 + " b = " + "-" * 2 + "1 "
                                                 + "}" * 47 + "\n}\n"),
    "blocks_one_past_the_limit": "llm x {\n" + "a {" * 49 + "}" * 49 + "\n}\n",
    "expression_one_past_the_limit": "param a = " + "-" * 65 + "1\n",
    "deep_power_chain": "param a = " + "2^" * 70 + "2\n",
    "deep_calls_and_blocks": ("llm x {\n" + "a {" * 30 + " b = " + "max(1, " * 70 + "1" + ")" * 70 + " "
                              + "}" * 30 + "\n}\n"),
    "deep_template": ("template t {\n llm x {\n" + "a {" * 110 + "}" * 110 + "\n}\n}\n"),
    "huge_literal_and_deep": "param a = 1e99\nparam b = " + "-" * 70 + "1\n",
    "huge_literals": "param a = 1e99\nparam b = 1" + "0" * 50 + "\nparam c = 1e-30 USD\n",
    "syntax_error": "param = 3\n",
    "unexpected_end": "flow {",
    "unknown_unit": "param a = 2 Mtoks\n",
    "unterminated_string": "architecture \"x\nparam a = 1\n",
    # `as` is a whole word: not the start of `assistant`
    "as_is_a_whole_word": "use rag assistant\n",
    "role_is_a_name": "llm a { input { q = 3 tokens as 5 } }\n",
}


def _span(span: Span, path: str) -> str:
    where = "" if span.file == path else f" in {span.file!r}"
    return f"{span.line}:{span.column}-{span.end_line}:{span.end_column} [{span.start}:{span.end}]{where}"


def _value(value, path: str, indent: str, out: list[str], label: str) -> None:
    if isinstance(value, Span):
        out.append(f"{indent}{label}: {_span(value, path)}")
    elif isinstance(value, BaseModel):
        _node(value, path, indent, out, label)
    elif isinstance(value, tuple) and value:
        out.append(f"{indent}{label}: tuple of {len(value)}")
        for i, item in enumerate(value):
            _value(item, path, indent + "  ", out, f"[{i}]")
    elif value is None or isinstance(value, (str, tuple)):
        out.append(f"{indent}{label}: {value!r}")
    else:
        out.append(f"{indent}{label}: {type(value).__name__} {value!r}")


def _node(node: BaseModel, path: str, indent: str, out: list[str], label: str) -> None:
    out.append(f"{indent}{label}: {type(node).__name__} {_span(node.span, path)}")
    for name in type(node).model_fields:
        if name == "span":
            continue
        mark = "" if name in node.model_fields_set else " (default)"
        _value(getattr(node, name), path, indent + "  ", out, name + mark)


def dump(module: BaseModel, path: str) -> str:
    """Every field of every node, in declaration order, spans written `line:col-line:col [start:end]`."""
    out: list[str] = []
    _node(module, path, "", out, "module")
    return "\n".join(out) + "\n"


def _check(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if REGEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with LLMARCH_REGEN=1"
    assert actual == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FILES)
def test_file_ast_matches_golden(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    _check(path.replace("/", "__").removesuffix(".llmarch") + ".ast", dump(parse(text, path), path))


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_ast_matches_golden(name):
    path = f"{name}.llmarch"
    _check(f"snippet__{name}.ast", dump(parse(SNIPPETS[name], path), path))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_snippet_diagnostics_match_golden(name):
    path = f"{name}.llmarch"
    with pytest.raises(LlmarchError) as info:
        parse(BROKEN[name], path)
    _check(f"broken__{name}.txt", info.value.render() + "\n")


def test_every_golden_is_used():
    expected = {p.replace("/", "__").removesuffix(".llmarch") + ".ast" for p in FILES}
    expected |= {f"snippet__{n}.ast" for n in SNIPPETS} | {f"broken__{n}.txt" for n in BROKEN}
    assert {p.name for p in GOLDEN.iterdir()} == expected
