"""Parse `.llmarch` source text into the typed AST (`llmarch.dsl.ast`).

This is the only module that sees lark's `Token`s; every lark error is turned into a
`Diagnostic` here, so nothing downstream (and no user) ever sees a lark traceback.

The AST is built while the LALR parser runs (lark's tables, driven by `_fast_parse` or by
lark itself): every reduction calls one of this module's callbacks with the values of the
rule's symbols (tokens, and what the callbacks returned for sub-rules), so no lark `Tree`
is built and nothing walks the text twice. A
rule's value on the parser's stack is a tuple `(value, first, last, height, expression
height)`: the first and last tokens it covers (parentheses around an expression
included, as lark's `propagate_positions` counts them) give every node its `Span`, and
the heights enforce the depth limits (E104) bottom-up, so a file nested too deep stops
the parse at the first node over a limit, long before any recursive stage could see it.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from importlib import resources
from operator import itemgetter
from types import SimpleNamespace

from lark import Lark, Token
from lark.grammar import Rule
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import BasicLexer, ContextualLexer, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from pydantic import BaseModel

from . import ast
from .diagnostics import Collector, Diagnostic, LlmarchError, SourceCache, Span
from .source_files import MAX_SOURCE_BYTES
from .vocabulary import KNOWN_UNIT_WORDS, unit_word_pattern

__all__ = ["parse", "statement_keywords", "keywords", "MAX_EXPRESSION_DEPTH", "MAX_LITERAL_DIGITS", "MAX_LITERAL_EXPONENT"]

#: Deeper expressions are rejected with E104 rather than risking a stack overflow later.
MAX_EXPRESSION_DEPTH = 64
#: Blocks and expressions together may not nest deeper than this.
MAX_TREE_DEPTH = 100
#: Literals are limited to 1e-18 … 1e18 in magnitude and 40 characters.
MAX_LITERAL_EXPONENT = 18
MAX_LITERAL_DIGITS = 40

_EXPRESSION_RULES = frozenset({"add", "sub", "mul", "div", "neg", "pow", "call"})


_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a quoted string", "UNIT": "a unit",
    "_NL": "a new line", "KIND": "a component kind", "LBRACE": "`{`", "RBRACE": "`}`",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "EQUAL": "`=`", "COMMA": "`,`",
    "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`", "CIRCUMFLEX": "`^`",
    "PERCENT": "`%`", "COLON": "`:`", "_AS": "`as`", "_IN": "`in`", "_TO": "`to`", "_WITH": "`with`", "_EXTENDS": "`extends`", "$END": "the end of the file",
}


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    grammar = grammar.replace("%UNIT_WORDS%", unit_word_pattern())
    # strict=True: terminal collisions and shift/reduce conflicts are grammar errors.
    # The grammar is checked in strict mode by the test suite; at run time the parser
    # is built from lark's cache of the analysed tables so start-up stays fast. The
    # parser's own tree builder is never used (`_parse` has this module's callbacks),
    # so positions are not propagated by lark.
    try:
        return Lark(grammar, parser="lalr", lexer="contextual", strict=True,
                    maybe_placeholders=False, cache=True)
    except OSError:  # read-only temp dir: build without the cache
        return Lark(grammar, parser="lalr", lexer="contextual", strict=True,
                    maybe_placeholders=False)


@functools.lru_cache(maxsize=1)
def statement_keywords() -> tuple[str, ...]:
    """The words a statement may start with (`param`, `model`, `llm`, …), read from the
    parser's own tables: the terminals it accepts at the start of a file."""
    parser = _parser()
    words = {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str"}
    accepted = parser.parse_interactive("").accepts()
    found = [words[name] for name in accepted if name in words and words[name].isidentifier()]
    if "KIND" in accepted:
        found.extend(ast.COMPONENT_KINDS)
    return tuple(sorted(found))


@functools.lru_cache(maxsize=1)
def keywords() -> tuple[str, ...]:
    """Every word the grammar reserves somewhere (statement words, component kinds, `as`,
    `in`, `of`, `otherwise`, …): a name must not be renamed to one of these."""
    parser = _parser()
    found = {t.pattern.value for t in parser.terminals if t.pattern.type == "str" and t.pattern.value.isidentifier()}
    for t in parser.terminals:   # whole-word keywords are regular expressions: `as(?![A-Za-z0-9_])`
        if t.name.startswith("_") and t.pattern.type == "re":
            word = t.pattern.value.split("(?!")[0]
            if word.isidentifier():
                found.add(word)
    found.update(ast.COMPONENT_KINDS)
    return tuple(sorted(found))


def parse(text: str, path: str = "<input>", sources: SourceCache | None = None) -> ast.Module:
    """Parse one file's text into an `ast.Module`, or raise `LlmarchError`."""
    sources = sources if sources is not None else SourceCache()
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is not part of the text
        text = text[1:]
    sources.add(path, text)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise LlmarchError([Diagnostic("error", "E100", f"file is larger than {MAX_SOURCE_BYTES} bytes",
                                       Span(file=path, line=1, column=1, end_line=1, end_column=2))], sources)
    collectors: list[Collector] = []

    def builder_callbacks() -> dict:
        collectors.append(Collector(sources))   # a new one if the text is parsed a second time
        return _Builder(path, collectors[-1]).callbacks()

    try:
        try:
            module = _parse(text + "\n", builder_callbacks)[0]
        except _TooDeep:
            module = None  # (outside the handler, so the abandoned parse is freed first)
        if module is None:
            # Some node is over a depth limit. Which one the message names is decided on the
            # whole file (a syntax error further on wins, and of several places nested too
            # deep the last in the file is named), so the file is parsed again into a bare
            # outline of its nodes and walked the way the limits are defined.
            diagnostic = _depth_diagnostic(_parse(text + "\n", _outline_callbacks)[0], path)
            assert diagnostic is not None, "a callback found a node over a depth limit that the walk does not"
            raise LlmarchError([diagnostic], sources)
    except UnexpectedInput as exc:
        raise LlmarchError([_syntax_diagnostic(exc, path, text)], sources) from None
    collectors[-1].raise_if_errors()
    return module


def _parse(text: str, new_callbacks):
    """Parse `text`, calling `callbacks[rule](values)` at each reduction (`new_callbacks()`
    makes them): with `_fast_parse` and, if that stops at anything it does not handle (a
    syntax error), again with lark's own loop, which raises lark's own exception."""
    tables = _fast_tables()
    if tables is not None:
        result = _fast_parse(text, new_callbacks(), *tables)
        if result is not _STOPPED:
            return result
        _lark_parse(text, {})  # raises the error, building nothing on the way (lark: no callbacks, no values)
    return _lark_parse(text, new_callbacks())


def _lark_parse(text: str, callbacks: dict):
    """Run lark's LALR parser over `text`, calling `callbacks[rule](values)` at each reduction."""
    interactive = _parser().parse_interactive(text)
    # the ParseConf is this parse's own (lark makes one per parse), so are its callbacks
    interactive.parser_state.parse_conf.callbacks = callbacks
    return interactive.resume_parse()


# --- lark's lexer and parser loop, written out ---------------------------------------------------
#
# Once the AST is built directly, lark's contextual lexer and LALR loop are most of the
# time: for the 329,447 tokens of a generated 10,000-component file they take 1.05 s of
# CPU even with callbacks that do nothing, through their generality (a generator, a line
# counter object and several method calls per token, a Token made through a constructor
# that checks its keywords). `_fast_parse` is the same two loops over lark's own tables,
# 0.61 s: the same terminals matched by the same compiled regular expressions in the same
# order, per parser state; the same keyword resolution (lark's `UnlessCallback` scanners);
# lines and columns counted as lark's `LineCounter` counts them; the same shift/reduce
# table. It handles no error: at the first character no terminal matches, or the first
# token the table does not accept, it gives up and lark's loop parses the text again and
# raises its own exception, from which the diagnostic is made as before. Where lark is not
# laid out as expected, lark's loop does all the parsing. tests/dsl/test_parser_loop.py
# holds the two loops to the same result on every file of the repository and on random
# and damaged texts.

_STOPPED = object()


@functools.lru_cache(maxsize=1)
def _fast_tables():
    """lark's tables, as `_fast_parse` reads them, or None if this version of lark is not
    laid out as expected (the parse then runs in lark's own loop, only slower)."""
    try:
        lark = _parser()
        conf = lark.parse_interactive("").parser_state.parse_conf
        lexer = lark.parser.lexer
        if type(lexer) is not ContextualLexer or lark.options.postlex is not None or lark.options.lexer_callbacks:
            return None
        # Token(...) checks its keywords for a deprecated spelling, then calls this
        new_token = getattr(Token, "_future_new", Token)
        return (conf.parse_table.states, conf.start_state, conf.end_state, _StateLexers(lexer.lexers), Shift,
                new_token)
    except AttributeError:
        return None


class _StateLexers(dict):
    """Parser state -> (matchers, ignored terminals, terminals that may hold a new line,
    keyword resolution) of the state's lexer in lark's contextual lexer; made on first use,
    as lark makes its lexers' scanners (all of them would cost a few milliseconds at start)."""

    def __init__(self, lexers: dict):
        super().__init__()
        self.lexers = lexers

    def __missing__(self, state):
        basic = self.lexers.get(state)
        entry = ((), frozenset(), frozenset(), {})  # matches nothing: the parse goes to lark's loop
        if type(basic) is BasicLexer and not basic.use_bytes:
            scanner = basic.scanner   # (lark builds the scanner and its keyword callbacks on first use)
            unless = {terminal: callback.scanner.fullmatch for terminal, callback in basic.callback.items()
                      if type(callback) is UnlessCallback and terminal not in basic.ignore_types}
            if len(unless) == len(basic.callback):
                entry = (tuple(mre.match for mre in scanner._mres), frozenset(basic.ignore_types),
                         frozenset(basic.newline_types), unless)
        self[state] = entry
        return entry


def _fast_parse(text: str, callbacks: dict, states, start_state, end_state, lexers, shift, new_token):
    """The LALR parse of `text` by lark's tables, or `_STOPPED` at the first error."""
    state_stack = [start_state]
    value_stack = []
    pos, line, line_start, end = 0, 1, 0, len(text)
    while True:
        # the next token, lexed in the parser's current state (as lark's contextual lexer does)
        matchers, ignore, newline_types, unless = lexers[state_stack[-1]]
        while pos < end:
            for match in matchers:
                m = match(text, pos)
                if m is not None:
                    break
            else:
                return _STOPPED
            value = m.group(0)
            kind = m.lastgroup
            stop = pos + len(value)
            if kind in newline_types and "\n" in value:
                next_line, next_line_start = line + value.count("\n"), pos + value.rindex("\n") + 1
            else:
                next_line, next_line_start = line, line_start
            if kind in ignore:
                pos, line, line_start = stop, next_line, next_line_start
                continue
            if kind in unless:
                kind = unless[kind](value) or kind
            token = new_token(kind, value, pos, line, pos - line_start + 1, next_line, stop - next_line_start + 1, stop)
            pos, line, line_start = stop, next_line, next_line_start
            break
        else:
            token, kind = None, "$END"
        # shift it, after the reductions it calls for
        while True:
            action = states[state_stack[-1]].get(kind)
            if action is None:
                return _STOPPED
            if action[0] is shift:
                if token is None:
                    return _STOPPED
                state_stack.append(action[1])
                value_stack.append(token)
                break
            rule = action[1]
            size = len(rule.expansion)
            if size:
                values = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                values = []
            value_stack.append(callbacks[rule](values))
            state_stack.append(states[state_stack[-1]][rule.origin.name][1])
            if token is None and state_stack[-1] == end_state:
                return value_stack[-1]


# --- fast construction of AST nodes -------------------------------------------------------------

# The four slots of every pydantic model, set the way `BaseModel.__copy__` sets them (frozen
# models refuse `setattr`); the descriptors' own setters are the fastest way in.
_SLOT_SETTERS = {f"_set_{slot.strip('_')}": BaseModel.__dict__[slot].__set__
                 for slot in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")}


def _makers(**specs: tuple) -> SimpleNamespace:
    """For each `key=(cls, *passed)`, a function `key(**values)` that builds
    `cls(**values)`, for exactly the fields `passed`, without validation.

    The builder below only ever passes values of the declared types (it makes them from
    tokens), so validating them again would be wasted work: it was the largest part of
    building the AST. The result is what pydantic's validated `__init__` gives: `__dict__`
    holds every field in declaration order (the default for those not passed),
    `model_fields_set` is a new set of exactly `passed`, no extra and no private values
    (the four slots `BaseModel.__copy__` sets too). tests/dsl/test_parser_build.py checks
    every node of every example against its validated self. The functions are written out
    (one `exec` for all) because a generic one looping over the fields costs as much as
    validating.
    """
    scope: dict = {"_new": object.__new__, **_SLOT_SETTERS}
    source = []
    for key, (cls, *passed) in specs.items():
        decorators = cls.__pydantic_decorators__
        if (decorators.validators or decorators.field_validators or decorators.root_validators
                or decorators.model_validators or cls.__pydantic_post_init__ is not None):
            scope[key] = cls  # a model that checks more than types is validated
            continue
        fields = cls.model_fields
        assert set(passed) <= set(fields), (cls, set(passed) - set(fields))
        assert {n for n, f in fields.items() if f.is_required()} <= set(passed), cls
        scope[f"_cls_{key}"] = cls
        items = []
        for n, f in fields.items():
            if n in passed:
                items.append(f"{n!r}: {n}")
            else:
                assert f.default_factory is None, (cls, n)
                scope[f"_default_{key}_{n}"] = f.default
                items.append(f"{n!r}: _default_{key}_{n}")
        source.append(f"def {key}({', '.join(passed)}):\n"
                      f"    o = _new(_cls_{key})\n"
                      f"    _set_dict(o, {{{', '.join(items)}}})\n"
                      f"    _set_pydantic_fields_set(o, {{{', '.join(map(repr, passed))}}})\n"
                      f"    _set_pydantic_extra(o, None)\n"
                      f"    _set_pydantic_private(o, None)\n"
                      f"    return o\n")
    exec("\n".join(source), scope)  # noqa: S102 - written from the models' own field names
    return SimpleNamespace(**{key: scope[key] for key in specs})


_new = _makers(
    module=(ast.Module, "span", "path", "statements"),
    architecture=(ast.Architecture, "span", "title"),
    import_path=(ast.Import, "span", "path"),
    scenarios_for=(ast.ScenariosFor, "span", "path"),
    import_module=(ast.Import, "span", "module"),
    param=(ast.Param, "span", "name", "name_span", "value", "low", "high", "description"),
    traffic=(ast.Traffic, "span", "value"),
    budget=(ast.Budget, "span", "metric", "metric_span", "op", "limit", "scenario", "scenario_span"),
    budget_statistic=(ast.Budget, "span", "metric", "metric_span", "op", "limit", "scenario", "scenario_span",
                      "statistic", "statistic_span", "event_op", "event_limit"),
    correlation=(ast.Correlation, "span", "first", "first_span", "second", "second_span", "value", "description"),
    interval=(ast.Interval, "span", "low", "high"),
    choice=(ast.Choice, "span", "items"),
    choice_item=(ast.ChoiceItem, "span", "weight", "value"),
    settings=(ast.Settings, "span", "body"),
    model=(ast.Model, "span", "name", "name_span", "label", "body"),
    catalog_model=(ast.Model, "span", "name", "name_span", "label", "body", "catalog", "catalog_span",
                   "as_of", "as_of_span"),
    template=(ast.Template, "span", "name", "name_span", "label", "params", "items"),
    template_param=(ast.TemplateParam, "span", "name", "name_span", "default", "description"),
    use=(ast.Use, "span", "template", "template_span", "name", "name_span", "label", "body"),
    component=(ast.Component, "span", "kind", "name", "name_span", "label", "body"),
    scenario=(ast.Scenario, "span", "name", "name_span", "extends", "extends_span", "description", "body"),
    body=(ast.Body, "span", "items"),
    field=(ast.Field, "span", "name", "value"),
    text=(ast.Text, "span", "value"),
    field_role=(ast.Field, "span", "name", "value", "role", "role_span"),
    block=(ast.Block, "span", "name", "body"),
    flow=(ast.Flow, "span", "chains"),
    chain=(ast.Chain, "span", "nodes", "node_spans", "attrs"),
    edge_value=(ast.EdgeAttr, "span", "kind", "value"),
    edge=(ast.EdgeAttr, "span", "kind"),
    quantity=(ast.Quantity, "span", "value", "unit"),
    percent=(ast.Percent, "span", "value"),
    name=(ast.Name, "span", "id"),
    call=(ast.Call, "span", "func", "args"),
    binop=(ast.BinOp, "span", "op", "left", "right"),
    neg=(ast.Neg, "span", "operand"),
)


def _span_of_token(tok: Token, path: str) -> Span:
    return Span(file=path, line=tok.line or 1, column=tok.column or 1, end_line=tok.end_line or tok.line or 1,
                     end_column=tok.end_column or (tok.column or 1) + 1, start=tok.start_pos or 0,
                     end=tok.end_pos or 0)


def _syntax_diagnostic(exc: UnexpectedInput, path: str, text: str) -> Diagnostic:
    line, column = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        span = Span(file=path, line=line, column=column, end_line=line, end_column=column + 1)
        return Diagnostic("error", "E001", "unexpected end of file", span,
                          help=_expected_help(getattr(exc, "expected", None) or getattr(exc, "accepts", None)))
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(text) else "?"
        span = Span(file=path, line=line, column=column, end_line=line, end_column=column + 1)
        shown = repr(char)[1:-1]
        hint = None
        if char == '"':
            return Diagnostic("error", "E005", "unterminated string", span,
                              help="close the string with `\"` on the same line")
        if char == "'":
            hint = "strings use double quotes"
        elif char in "<>!&|":
            hint = "llmarch expressions use + - * / ^ and min(), max(), ceil(), floor()"
        else:
            hint = _expected_help(exc.allowed)
        return Diagnostic("error", "E002", f"unexpected character `{shown}`", span, help=hint)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    span = _span_of_token(tok, path)
    shown = f"`{tok.strip()}`" if tok.type == "_NL" and tok.strip() == ";" else (
        "new line" if tok.type == "_NL" else f"`{tok}`")
    expected = exc.accepts or exc.expected
    if tok.type == "NAME" and "UNIT" in (exc.expected or ()):
        return Diagnostic("error", "E004", f"unknown unit `{tok}`", span,
                          help="known units: " + ", ".join(KNOWN_UNIT_WORDS)
                          + "; write them without spaces around `/`, e.g. `2.5 USD/Mtok`")
    return Diagnostic("error", "E003", f"unexpected {shown}", span, help=_expected_help(expected))


def _expected_help(expected) -> str | None:
    if not expected:
        return None
    names = sorted({_TERMINAL_NAMES.get(t, f"`{t.lower()}`" if t.isupper() else t) for t in expected
                    if not t.startswith("__")})
    if not names:
        return None
    if len(names) > 8:
        names = names[:8] + ["…"]
    return "expected " + ", ".join(names)


# --- the parser's callbacks ---------------------------------------------------------------------
#
# lark turns the grammar's `x?`, `(…)*` and `(…)+` into several plain rules each: one per
# combination of optional parts, and helper rules named `__origin_star_N` for repetitions.
# Each gets a callback made from a plan (`_plans`): which of its symbols to keep (anonymous
# tokens such as `{` and `param` are dropped, as lark's tree builder drops them, but still
# count for the span), and what kind of rule it is:
#
#   node    a rule that makes a node of the tree lark's own tree builder would make: its
#           `_Builder` method gets the kept values; its span and depth are worked out here
#   list    a `__…` repetition helper: the kept values in a list its parent splices in
#   pass    `_statement`, `_item` and `?expr: sum`-style rules with one child: that child
#   paren   `?atom: "(" expr ")"`: the expression, its extent widened to the parentheses

_TOK, _VAL, _LIST = 0, 1, 2


class _TooDeep(Exception):
    """Raised by a callback when the node it built is over a depth limit."""


@functools.lru_cache(maxsize=1)
def _plans() -> tuple:
    # Keyed by the very Rule objects of the parse table: lark looks each reduction's rule up
    # in the callbacks, and an equal but distinct key (`Lark.rules` holds copies when the
    # parser comes from the cache) costs a Python-level `Rule.__eq__` per reduction.
    table = _parser().parse_interactive("").parser_state.parse_conf.parse_table
    reduced = {arg for actions in table.states.values() for _, arg in actions.values() if isinstance(arg, Rule)}
    by_equality = {rule: rule for rule in reduced}
    plans = []
    for rule in _parser().rules:
        rule = by_equality.get(rule, rule)
        origin, expansion = rule.origin.name, rule.expansion
        assert not rule.options.keep_all_tokens, rule
        kept = tuple((i, _TOK if sym.is_term else _LIST if sym.name.startswith("__") else _VAL)
                     for i, sym in enumerate(expansion) if not (sym.is_term and sym.filter_out))
        if origin.startswith("__"):
            kind = "list"
        elif origin.startswith("_") or (rule.options.expand1 and not rule.alias):
            assert len(kept) == 1 and kept[0][1] == _VAL, rule
            kind = "pass" if len(expansion) == 1 else "paren"
            assert kind == "pass" or (len(expansion) == 3 and kept[0][0] == 1), rule
        else:
            kind = "node"
        name = rule.alias or origin
        first_is_token = bool(expansion) and expansion[0].is_term
        last_is_token = bool(expansion) and expansion[-1].is_term
        plans.append((rule, kind, name, kept, len(expansion), first_is_token, last_is_token,
                      bool(expansion) and expansion[0].name == origin))
    return tuple(plans)


def _node_callback(kept, size, first_is_token, last_is_token, is_expression, is_root):
    """`make(build)` for a node's callback: the kept values go to `build(values, first, last)`
    (a method of the parse's `_Builder`); the span's tokens and the heights are worked out
    here. The heights are one more than the children's greatest (the expression height
    counts `_EXPRESSION_RULES` only, and is 0 for other nodes).

    A node of height h at depth d reaches depth d + h - 1. Every node but the file's own
    (`start`, at depth 1) is at depth 2 or more, so height MAX_TREE_DEPTH is too deep
    wherever the node turns out to be; and the file is as deep as its deepest statement.
    """
    limit = MAX_TREE_DEPTH + 1 if is_root else MAX_TREE_DEPTH
    expression_limit = MAX_EXPRESSION_DEPTH
    last_index = size - 1

    def make(build):
        def callback(s):
            if not s:  # `start` of an empty file (cannot happen: the text always ends with a new line)
                return build([], None, None), None, None, 1, 0
            values = []
            height = expression_height = 0
            for i, kind in kept:
                v = s[i]
                if kind is _TOK:
                    values.append(v)
                    continue
                if kind is _VAL:
                    values.append(v[0])
                else:
                    values.extend(v[0])
                if v[3] > height:
                    height = v[3]
                if v[4] > expression_height:
                    expression_height = v[4]
            first = s[0] if first_is_token else s[0][1]
            last = s[last_index] if last_is_token else s[last_index][2]
            height += 1
            if is_expression:
                expression_height += 1
                if expression_height > expression_limit:
                    raise _TooDeep
            else:
                expression_height = 0
            if height >= limit:
                raise _TooDeep
            return build(values, first, last), first, last, height, expression_height
        return callback
    return make


def _list_callback(kept, size, first_is_token, last_is_token, recursive):
    """A repetition helper's callback: the kept values in a list (its parent splices them in),
    with the children's greatest heights; a left-recursive one (`__x: __x a b`) appends to
    its first child's list."""
    last_index = size - 1
    if recursive:
        kept = kept[1:]

    def callback(s):
        if recursive:
            head = s[0]
            values, first, height, expression_height = head[0], head[1], head[3], head[4]
        else:
            values, first, height, expression_height = [], s[0] if first_is_token else s[0][1], 0, 0
        for i, kind in kept:
            v = s[i]
            if kind is _TOK:
                values.append(v)
                continue
            if kind is _VAL:
                values.append(v[0])
            else:
                values.extend(v[0])
            if v[3] > height:
                height = v[3]
            if v[4] > expression_height:
                expression_height = v[4]
        return values, first, s[last_index] if last_is_token else s[last_index][2], height, expression_height
    return callback


def _paren(s):
    inner = s[1]
    return inner[0], s[0], s[2], inner[3], inner[4]


_pass = itemgetter(0)


@functools.lru_cache(maxsize=1)
def _callback_makers() -> tuple:
    """(rule, callback, None) for rules whose callback is the same in every parse, (rule, make,
    name) for nodes, whose callback calls the parse's own `_Builder` method `name`."""
    makers = []
    for rule, kind, name, kept, size, first_is_token, last_is_token, recursive in _plans():
        if kind == "pass":
            makers.append((rule, _pass, None))
        elif kind == "paren":
            makers.append((rule, _paren, None))
        elif kind == "list":
            makers.append((rule, _list_callback(kept, size, first_is_token, last_is_token, recursive), None))
        else:
            makers.append((rule, _node_callback(kept, size, first_is_token, last_is_token,
                                                name in _EXPRESSION_RULES, name == "start"), name))
    return tuple(makers)


def _callbacks(builder: "_Builder") -> dict:
    return {rule: make(getattr(builder, name)) if name else make for rule, make, name in _callback_makers()}


# --- the depth limits, when one is exceeded -----------------------------------------------------
#
# The outline is the tree lark would have built, reduced to what the limits need: a node is
# `(is_expression, first_token, children)`; values on the stack are `(node, first, last)`.

@functools.lru_cache(maxsize=1)
def _outline_callbacks() -> dict:
    def node(kept, first_is_token, last_is_token, is_expression):
        def callback(s):
            children = []
            for i, kind in kept:
                if kind is _VAL:
                    children.append(s[i][0])
                elif kind is _LIST:
                    children.extend(s[i][0])
            first = (s[0] if first_is_token else s[0][1]) if s else None
            last = (s[-1] if last_is_token else s[-1][2]) if s else None
            return (is_expression, first, children), first, last
        return callback

    def helper(kept, first_is_token, last_is_token):
        def callback(s):
            children = []
            for i, kind in kept:
                if kind is _VAL:
                    children.append(s[i][0])
                elif kind is _LIST:
                    children.extend(s[i][0])
            return children, s[0] if first_is_token else s[0][1], s[-1] if last_is_token else s[-1][2]
        return callback

    callbacks = {}
    for rule, kind, name, kept, _, first_is_token, last_is_token, _ in _plans():
        if kind == "pass":
            callbacks[rule] = _pass
        elif kind == "paren":
            callbacks[rule] = lambda s: (s[1][0], s[0], s[2])
        elif kind == "list":
            callbacks[rule] = helper(kept, first_is_token, last_is_token)
        else:
            callbacks[rule] = node(kept, first_is_token, last_is_token, name in _EXPRESSION_RULES)
    return callbacks


def _depth_diagnostic(root, path: str) -> Diagnostic | None:
    """The E104 for the first node over a limit in the order the limits were always checked
    (a depth-first walk from the file, last child first), or None if none is."""
    stack = [(root, 0, 0)]
    while stack:
        (is_expression, first, children), depth, nesting = stack.pop()
        nesting += 1
        if nesting > MAX_TREE_DEPTH:
            return Diagnostic("error", "E104", f"nested more than {MAX_TREE_DEPTH} levels deep", _point(first, path))
        if is_expression:
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                return Diagnostic("error", "E104", f"expression nested more than {MAX_EXPRESSION_DEPTH} levels deep",
                                  _point(first, path), help="split it into named parameters")
        stack.extend((child, depth, nesting) for child in children)
    return None


def _point(tok: Token, path: str) -> Span:
    return Span(file=path, line=tok.line, column=tok.column, end_line=tok.line, end_column=tok.column + 1,
                     start=tok.start_pos, end=tok.start_pos + 1)


def _decode_string(tok: Token) -> str:
    body = tok[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Builder:
    """Builds `ast` nodes; one method per grammar rule that makes a node. Each gets the
    rule's kept values (tokens and the values of sub-rules) and the first and last tokens
    the rule covers."""

    def __init__(self, path: str, collector: Collector):
        self.path = path
        self.collector = collector

    def callbacks(self) -> dict:
        return _callbacks(self)

    def _span(self, first: Token | None, last: Token | None) -> Span:
        if first is None:  # an empty file (lark's meta was "empty")
            return Span(file=self.path, line=1, column=1, end_line=1, end_column=2)
        return Span(file=self.path, line=first.line, column=first.column, end_line=last.end_line,
                         end_column=last.end_column, start=first.start_pos, end=last.end_pos)

    def _tspan(self, tok: Token) -> Span:
        return _span_of_token(tok, self.path)

    def _number(self, tok: Token) -> str:
        digits = str(tok).replace("_", "")
        problem = None
        if len(digits) > MAX_LITERAL_DIGITS:
            problem = f"number literal is longer than {MAX_LITERAL_DIGITS} characters"
        else:
            try:
                value = Decimal(digits)
            except InvalidOperation:
                value = None
                problem = f"`{tok}` is not a number"
            if value is not None and value != 0 and not (-MAX_LITERAL_EXPONENT <= value.adjusted() <= MAX_LITERAL_EXPONENT):
                problem = f"number `{tok}` is out of range (1e-{MAX_LITERAL_EXPONENT} … 1e{MAX_LITERAL_EXPONENT})"
        if problem:
            self.collector.error("E103", problem, self._tspan(tok),
                                 help="use a unit such as Mtok, or a parameter, to keep numbers readable")
            return "0"
        return digits

    # statements
    def start(self, children, first, last):
        return _new.module(span=self._span(first, last), path=self.path, statements=tuple(children))

    def architecture(self, children, first, last):
        return _new.architecture(span=self._span(first, last), title=_decode_string(children[0]))

    def scenarios_for(self, children, first, last):
        return _new.scenarios_for(span=self._span(first, last), path=_decode_string(children[0]))

    def import_stmt(self, children, first, last):
        target = children[0]
        if isinstance(target, Token) and target.type == "STRING":
            return _new.import_path(span=self._span(first, last), path=_decode_string(target))
        return _new.import_module(span=self._span(first, last), module=str(target))

    def dotted(self, children, first, last):
        # one token for `a.b.c`, spanning all of it
        if len(children) == 1:
            return children[0]
        head, tail = children[0], children[-1]
        return Token("NAME", ".".join(str(c) for c in children), start_pos=head.start_pos,
                     line=head.line, column=head.column, end_line=tail.end_line,
                     end_column=tail.end_column, end_pos=tail.end_pos)

    def param(self, children, first, last):
        name, value, *rest = children
        low = high = description = None
        for item in rest:
            if isinstance(item, tuple):
                low, high = item
            else:
                description = _decode_string(item)
        return _new.param(span=self._span(first, last), name=str(name), name_span=self._tspan(name), value=value,
                          low=low, high=high, description=description)

    def param_range(self, children, first, last):
        return (children[0], children[1])

    def traffic(self, children, first, last):
        return _new.traffic(span=self._span(first, last), value=children[0])

    def budget(self, children, first, last):
        metric, op, limit, *scope = children
        scenario = scope[0] if scope else None
        return _new.budget(span=self._span(first, last), metric=str(metric), metric_span=self._tspan(metric),
                           op=str(op), limit=limit, scenario=str(scenario) if scenario else None,
                           scenario_span=self._tspan(scenario) if scenario else None)

    def budget_statistic(self, children, first, last):
        statistic, metric, op, limit, *scope = children
        return self._probabilistic_budget(statistic, metric, None, None, op, limit, scope, first, last)

    def budget_probability(self, children, first, last):
        statistic, metric, event_op, event_limit, op, limit, *scope = children
        return self._probabilistic_budget(statistic, metric, str(event_op), event_limit, op, limit, scope, first, last)

    def _probabilistic_budget(self, statistic, metric, event_op, event_limit, op, limit, scope, first, last):
        scenario = scope[0] if scope else None
        return _new.budget_statistic(span=self._span(first, last), metric=str(metric), metric_span=self._tspan(metric),
                                     op=str(op), limit=limit, scenario=str(scenario) if scenario else None,
                                     scenario_span=self._tspan(scenario) if scenario else None,
                                     statistic=str(statistic), statistic_span=self._tspan(statistic),
                                     event_op=event_op, event_limit=event_limit)

    def correlation(self, children, first, last):
        a, b, value, *rest = children
        return _new.correlation(span=self._span(first, last), first=str(a), first_span=self._tspan(a), second=str(b),
                                second_span=self._tspan(b), value=value,
                                description=_decode_string(rest[0]) if rest else None)

    def interval(self, children, first, last):
        return _new.interval(span=self._span(first, last), low=children[0], high=children[1])

    def choice(self, children, first, last):
        return _new.choice(span=self._span(first, last), items=tuple(children))

    def choice_item(self, children, first, last):
        return _new.choice_item(span=self._span(first, last), weight=children[0], value=children[1])

    def budget_scope(self, children, first, last):
        return children[0]

    def settings(self, children, first, last):
        return _new.settings(span=self._span(first, last), body=children[0])

    def model(self, children, first, last):
        name = children[0]
        label = _decode_string(children[1]) if len(children) == 3 else None
        return _new.model(span=self._span(first, last), name=str(name), name_span=self._tspan(name),
                          label=label, body=children[-1])

    def catalog_model(self, children, first, last):
        name, *rest = children
        strings = [c for c in rest if isinstance(c, Token)]       # ["label",] "provider:model"
        label, ref = (strings[0], strings[1]) if len(strings) == 2 else (None, strings[0])
        as_of = next((c[1] for c in rest if isinstance(c, tuple)), None)
        body = next((c for c in rest if isinstance(c, ast.Body)), None)
        span = self._span(first, last)
        return _new.catalog_model(span=span, name=str(name), name_span=self._tspan(name),
                                  label=_decode_string(label) if label is not None else None,
                                  body=body if body is not None else _new.body(span=span, items=()),
                                  catalog=_decode_string(ref), catalog_span=self._tspan(ref),
                                  as_of=_decode_string(as_of) if as_of is not None else None,
                                  as_of_span=self._tspan(as_of) if as_of is not None else None)

    def catalog_date(self, children, first, last):
        return ("as_of", children[0])

    def template(self, children, first, last):
        name, *rest = children
        label = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        params, items = rest[-1]
        return _new.template(span=self._span(first, last), name=str(name), name_span=self._tspan(name), label=label,
                             params=params, items=items)

    def template_body(self, children, first, last):
        params = tuple(c for c in children if isinstance(c, ast.TemplateParam))
        items = tuple(c for c in children if not isinstance(c, ast.TemplateParam))
        return params, items

    def template_param(self, children, first, last):
        name, *rest = children
        default = next((c for c in rest if not isinstance(c, Token)), None)
        description = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        return _new.template_param(span=self._span(first, last), name=str(name), name_span=self._tspan(name),
                                   default=default, description=description)

    def use(self, children, first, last):
        template, name, *rest = children
        label = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        body = next((c for c in rest if isinstance(c, ast.Body)), None)
        return _new.use(span=self._span(first, last), template=str(template), template_span=self._tspan(template),
                        name=str(name), name_span=self._tspan(name), label=label, body=body)

    def component(self, children, first, last):
        kind, name = children[0], children[1]
        label = _decode_string(children[2]) if len(children) == 4 else None
        return _new.component(span=self._span(first, last), kind=str(kind), name=str(name),
                              name_span=self._tspan(name), label=label, body=children[-1])

    def scenario(self, children, first, last):
        name, *rest = children
        extends = extends_span = description = None
        for item in rest:
            if isinstance(item, Token) and item.type == "STRING":
                description = _decode_string(item)
            elif isinstance(item, Token):
                extends, extends_span = str(item), self._tspan(item)
        return _new.scenario(span=self._span(first, last), name=str(name), name_span=self._tspan(name),
                             extends=extends, extends_span=extends_span, description=description,
                             body=rest[-1])

    def extends(self, children, first, last):
        return children[0]

    def body(self, children, first, last):
        return _new.body(span=self._span(first, last), items=tuple(children))

    def field(self, children, first, last):
        if len(children) == 3:
            role = children[2]
            return _new.field_role(span=self._span(first, last), name=str(children[0]), value=children[1],
                                   role=str(role), role_span=self._tspan(role))
        return _new.field(span=self._span(first, last), name=str(children[0]), value=children[1])

    def role(self, children, first, last):
        return children[0]

    def text(self, children, first, last):
        return _new.text(span=self._span(first, last), value=_decode_string(children[0]))

    def block(self, children, first, last):
        return _new.block(span=self._span(first, last), name=str(children[0]), body=children[1])

    def flow(self, children, first, last):
        return _new.flow(span=self._span(first, last), chains=tuple(children))

    def chain(self, children, first, last):
        names = [c for c in children if isinstance(c, Token)]
        attrs = next((c for c in children if isinstance(c, tuple)), ())
        return _new.chain(span=self._span(first, last), nodes=tuple(str(n) for n in names),
                          node_spans=tuple(self._tspan(n) for n in names), attrs=attrs)

    def edge_attrs(self, children, first, last):
        return tuple(children)

    def edge_probability(self, children, first, last):
        return _new.edge_value(span=self._span(first, last), kind="p", value=children[0])

    def edge_otherwise(self, children, first, last):
        return _new.edge(span=self._span(first, last), kind="otherwise")

    def edge_on_failure(self, children, first, last):
        return _new.edge(span=self._span(first, last), kind="on_failure")

    # expressions
    def quantity(self, children, first, last):
        unit = str(children[1]) if len(children) > 1 else None
        return _new.quantity(span=self._span(first, last), value=self._number(children[0]), unit=unit)

    def percent(self, children, first, last):
        return _new.percent(span=self._span(first, last), value=self._number(children[0]))

    def name(self, children, first, last):
        return _new.name(span=self._span(first, last),
                         id=str(children[0]) if len(children) == 1 else ".".join(str(c) for c in children))

    def call(self, children, first, last):
        return _new.call(span=self._span(first, last), func=str(children[0]), args=tuple(children[1:]))

    def _binop(self, op, children, first, last):
        return _new.binop(span=self._span(first, last), op=op, left=children[0], right=children[1])

    def add(self, children, first, last):
        return self._binop("+", children, first, last)

    def sub(self, children, first, last):
        return self._binop("-", children, first, last)

    def mul(self, children, first, last):
        return self._binop("*", children, first, last)

    def div(self, children, first, last):
        return self._binop("/", children, first, last)

    def pow(self, children, first, last):
        return self._binop("^", children, first, last)

    def neg(self, children, first, last):
        return _new.neg(span=self._span(first, last), operand=children[0])
