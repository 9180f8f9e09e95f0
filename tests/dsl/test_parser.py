"""Grammar and AST: the grammar is conflict-free in lark's strict mode, and the AST keeps spans."""

from importlib import resources

import pytest
from lark import Lark

from llmarch.dsl import LlmarchError, ast, parse


def test_grammar_builds_in_strict_mode_without_cache():
    grammar = resources.files("llmarch.dsl").joinpath("grammar.lark").read_text()
    Lark(grammar, parser="lalr", lexer="contextual", strict=True)


def test_param_with_unit_range_and_description():
    module = parse('param top_k = 4 in [1, 10] "chunks"\n', "f.llmarch")
    (param,) = module.statements
    assert isinstance(param, ast.Param)
    assert param.name == "top_k"
    assert param.value == ast.Quantity(span=param.value.span, value="4", unit=None)
    assert param.low.value == "1" and param.high.value == "10"
    assert param.description == "chunks"
    assert (param.name_span.line, param.name_span.column) == (1, 7)


def test_units_bind_to_numbers_and_percent():
    module = parse("param price = 2.50 USD/Mtok\nparam share = 30%\nparam big = 1_000_000 tokens\n")
    price, share, big = module.statements
    assert price.value.unit == "USD/Mtok" and price.value.value == "2.50"
    assert isinstance(share.value, ast.Percent) and share.value.value == "30"
    assert big.value.value == "1000000" and big.value.unit == "tokens"


def test_operator_precedence_and_power_right_associative():
    (param,) = parse("param x = 1 + 2 * 3 ^ 2 ^ 3 - -4\n").statements
    expr = param.value
    assert isinstance(expr, ast.BinOp) and expr.op == "-"
    add = expr.left
    assert add.op == "+" and add.right.op == "*"
    power = add.right.right
    assert power.op == "^" and power.right.op == "^"
    assert isinstance(expr.right, ast.Neg)


def test_component_body_blocks_and_flow_chains():
    module = parse("""
        llm answer "Answer" {
          model = m
          input { system = 300 tokens; user = 50 tokens }
          output = 20 tokens
        }
        flow {
          start -> answer -> check
          check -> answer (p = 10%, on_failure)
          check -> success (otherwise)
        }
    """)
    component, flow = module.statements
    assert component.kind == "llm" and component.label == "Answer"
    block = component.body.items[1]
    assert isinstance(block, ast.Block) and [f.name for f in block.body.items] == ["system", "user"]
    chains = flow.chains
    assert chains[0].nodes == ("start", "answer", "check") and chains[0].attrs == ()
    assert [a.kind for a in chains[1].attrs] == ["p", "on_failure"]
    assert chains[2].attrs[0].kind == "otherwise"


def test_keywords_can_name_things_where_names_are_expected():
    module = parse("llm cache { model = llm }\n")
    (component,) = module.statements
    assert component.kind == "llm" and component.name == "cache"


def test_nodes_are_frozen():
    (param,) = parse("param a = 1\n").statements
    with pytest.raises(Exception):
        param.name = "b"


@pytest.mark.parametrize("text, code, line, column", [
    ("param = 3", "E003", 1, 7),
    ("param a = 2 Mtoks", "E004", 1, 13),
    ("param a = 'x'", "E002", 1, 11),
    ("flow {", "E001", 1, 7),
    ("param a = 1e99", "E103", 1, 11),
    ("param a = " + "-(" * 80 + "1" + ")" * 80, "E104", 1, None),
])
def test_syntax_errors_have_codes_and_positions(text, code, line, column):
    with pytest.raises(LlmarchError) as info:
        parse(text, "bad.llmarch")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == code
    assert diagnostic.span.line == line
    if column is not None:
        assert diagnostic.span.column == column
    rendered = info.value.render()
    assert rendered.startswith(f"bad.llmarch:{line}:")
    assert "^" in rendered


def test_string_escapes_are_decoded_without_eval():
    (arch,) = parse('architecture "a \\"quoted\\" \\\\ name"\n').statements
    assert arch.title == 'a "quoted" \\ name'


def test_a_utf8_byte_order_mark_is_ignored():
    module = parse('\ufeffarchitecture "x"\n', "bom.llmarch")
    assert module.statements[0].title == "x"
