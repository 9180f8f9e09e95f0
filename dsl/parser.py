"""Parse `.llmarch` source text into the typed AST (`llmarch.dsl.ast`).

This is the only module that sees lark's `Tree` and `Token`; every lark error is turned
into a `Diagnostic` here, so nothing downstream (and no user) ever sees a lark traceback.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .diagnostics import Collector, Diagnostic, LlmarchError, SourceCache, Span
from .source_files import MAX_SOURCE_BYTES
from .vocabulary import KNOWN_UNIT_WORDS, unit_word_pattern

__all__ = ["parse", "MAX_EXPRESSION_DEPTH", "MAX_LITERAL_DIGITS", "MAX_LITERAL_EXPONENT"]

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
    "PERCENT": "`%`", "$END": "the end of the file",
}


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    grammar = grammar.replace("%UNIT_WORDS%", unit_word_pattern())
    # strict=True: terminal collisions and shift/reduce conflicts are grammar errors.
    # The grammar is checked in strict mode by the test suite; at run time the parser
    # is built from lark's cache of the analysed tables so start-up stays fast.
    try:
        return Lark(grammar, parser="lalr", lexer="contextual", strict=True,
                    propagate_positions=True, maybe_placeholders=False, cache=True)
    except OSError:  # read-only temp dir: build without the cache
        return Lark(grammar, parser="lalr", lexer="contextual", strict=True,
                    propagate_positions=True, maybe_placeholders=False)


def parse(text: str, path: str = "<input>", sources: SourceCache | None = None) -> ast.Module:
    """Parse one file's text into an `ast.Module`, or raise `LlmarchError`."""
    sources = sources if sources is not None else SourceCache()
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark is not part of the text
        text = text[1:]
    sources.add(path, text)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise LlmarchError([Diagnostic("error", "E100", f"file is larger than {MAX_SOURCE_BYTES} bytes",
                                       Span(file=path, line=1, column=1, end_line=1, end_column=2))], sources)
    try:
        tree = _parser().parse(text + "\n")
    except UnexpectedInput as exc:
        raise LlmarchError([_syntax_diagnostic(exc, path, text)], sources) from None
    collector = Collector(sources)
    _check_depth(tree, path, collector)
    collector.raise_if_errors()
    builder = _Builder(path, collector)
    try:
        module = builder.transform(tree)
    except VisitError as exc:  # pragma: no cover - a bug in the builder, not user input
        raise exc.orig_exc
    collector.raise_if_errors()
    return module


def _span_of_token(tok: Token, path: str) -> Span:
    return Span(file=path, line=tok.line or 1, column=tok.column or 1,
                end_line=tok.end_line or tok.line or 1, end_column=tok.end_column or (tok.column or 1) + 1,
                start=tok.start_pos or 0, end=tok.end_pos or 0)


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


def _check_depth(tree: Tree, path: str, collector: Collector) -> None:
    """Reject absurdly nested expressions iteratively, before any recursive stage sees them."""
    stack = [(tree, 0, 0)]
    while stack:
        node, depth, nesting = stack.pop()
        if not isinstance(node, Tree):
            continue
        nesting += 1
        if nesting > MAX_TREE_DEPTH:
            meta = node.meta
            span = Span(file=path, line=meta.line, column=meta.column, end_line=meta.line,
                        end_column=meta.column + 1, start=meta.start_pos, end=meta.start_pos + 1)
            collector.error("E104", f"nested more than {MAX_TREE_DEPTH} levels deep", span)
            return
        if node.data in _EXPRESSION_RULES:
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                meta = node.meta
                span = Span(file=path, line=meta.line, column=meta.column, end_line=meta.line,
                            end_column=meta.column + 1, start=meta.start_pos, end=meta.start_pos + 1)
                collector.error("E104", f"expression nested more than {MAX_EXPRESSION_DEPTH} levels deep",
                                span, help="split it into named parameters")
                return
        stack.extend((child, depth, nesting) for child in node.children)


def _decode_string(tok: Token) -> str:
    body = tok[1:-1]
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


@v_args(meta=True)
class _Builder(Transformer):
    """Turns lark's tree into `ast` nodes; one method per grammar rule."""

    def __init__(self, path: str, collector: Collector):
        super().__init__()
        self.path = path
        self.collector = collector

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(file=self.path, line=1, column=1, end_line=1, end_column=2)
        return Span(file=self.path, line=meta.line, column=meta.column, end_line=meta.end_line,
                    end_column=meta.end_column, start=meta.start_pos, end=meta.end_pos)

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
    def start(self, meta, children):
        return ast.Module(span=self._span(meta), path=self.path, statements=tuple(children))

    def architecture(self, meta, children):
        return ast.Architecture(span=self._span(meta), title=_decode_string(children[0]))

    def import_stmt(self, meta, children):
        target = children[0]
        if isinstance(target, Token) and target.type == "STRING":
            return ast.Import(span=self._span(meta), path=_decode_string(target))
        return ast.Import(span=self._span(meta), module=str(target))

    def dotted(self, meta, children):
        # one token for `a.b.c`, spanning all of it
        first, last = children[0], children[-1]
        return Token("NAME", ".".join(str(c) for c in children), start_pos=first.start_pos,
                     line=first.line, column=first.column, end_line=last.end_line,
                     end_column=last.end_column, end_pos=last.end_pos)

    def param(self, meta, children):
        name, value, *rest = children
        low = high = description = None
        for item in rest:
            if isinstance(item, tuple):
                low, high = item
            else:
                description = _decode_string(item)
        return ast.Param(span=self._span(meta), name=str(name), name_span=self._tspan(name), value=value,
                         low=low, high=high, description=description)

    def param_range(self, meta, children):
        return (children[0], children[1])

    def traffic(self, meta, children):
        return ast.Traffic(span=self._span(meta), value=children[0])

    def budget(self, meta, children):
        metric, op, limit, *scope = children
        scenario = scope[0] if scope else None
        return ast.Budget(span=self._span(meta), metric=str(metric), metric_span=self._tspan(metric), op=str(op),
                          limit=limit, scenario=str(scenario) if scenario else None,
                          scenario_span=self._tspan(scenario) if scenario else None)

    def budget_scope(self, meta, children):
        return children[0]

    def settings(self, meta, children):
        return ast.Settings(span=self._span(meta), body=children[0])

    def model(self, meta, children):
        name = children[0]
        label = _decode_string(children[1]) if len(children) == 3 else None
        return ast.Model(span=self._span(meta), name=str(name), name_span=self._tspan(name),
                         label=label, body=children[-1])

    def catalog_model(self, meta, children):
        name, *rest = children
        strings = [c for c in rest if isinstance(c, Token)]       # ["label",] "provider:model"
        label, ref = (strings[0], strings[1]) if len(strings) == 2 else (None, strings[0])
        as_of = next((c[1] for c in rest if isinstance(c, tuple)), None)
        body = next((c for c in rest if isinstance(c, ast.Body)), None)
        span = self._span(meta)
        return ast.Model(span=span, name=str(name), name_span=self._tspan(name),
                         label=_decode_string(label) if label is not None else None,
                         body=body if body is not None else ast.Body(span=span, items=()),
                         catalog=_decode_string(ref), catalog_span=self._tspan(ref),
                         as_of=_decode_string(as_of) if as_of is not None else None,
                         as_of_span=self._tspan(as_of) if as_of is not None else None)

    def catalog_date(self, meta, children):
        return ("as_of", children[0])

    def template(self, meta, children):
        name, *rest = children
        label = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        params, items = rest[-1]
        return ast.Template(span=self._span(meta), name=str(name), name_span=self._tspan(name), label=label,
                            params=params, items=items)

    def template_body(self, meta, children):
        params = tuple(c for c in children if isinstance(c, ast.TemplateParam))
        items = tuple(c for c in children if not isinstance(c, ast.TemplateParam))
        return params, items

    def template_param(self, meta, children):
        name, *rest = children
        default = next((c for c in rest if not isinstance(c, Token)), None)
        description = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        return ast.TemplateParam(span=self._span(meta), name=str(name), name_span=self._tspan(name),
                                 default=default, description=description)

    def use(self, meta, children):
        template, name, *rest = children
        label = next((_decode_string(c) for c in rest if isinstance(c, Token)), None)
        body = next((c for c in rest if isinstance(c, ast.Body)), None)
        return ast.Use(span=self._span(meta), template=str(template), template_span=self._tspan(template),
                       name=str(name), name_span=self._tspan(name), label=label, body=body)

    def component(self, meta, children):
        kind, name = children[0], children[1]
        label = _decode_string(children[2]) if len(children) == 4 else None
        return ast.Component(span=self._span(meta), kind=str(kind), name=str(name),
                             name_span=self._tspan(name), label=label, body=children[-1])

    def scenario(self, meta, children):
        name, *rest = children
        extends = extends_span = description = None
        for item in rest:
            if isinstance(item, Token) and item.type == "STRING":
                description = _decode_string(item)
            elif isinstance(item, Token):
                extends, extends_span = str(item), self._tspan(item)
        return ast.Scenario(span=self._span(meta), name=str(name), name_span=self._tspan(name),
                            extends=extends, extends_span=extends_span, description=description,
                            body=rest[-1])

    def extends(self, meta, children):
        return children[0]

    def body(self, meta, children):
        return ast.Body(span=self._span(meta), items=tuple(children))

    def field(self, meta, children):
        return ast.Field(span=self._span(meta), name=str(children[0]), value=children[1])

    def block(self, meta, children):
        return ast.Block(span=self._span(meta), name=str(children[0]), body=children[1])

    def flow(self, meta, children):
        return ast.Flow(span=self._span(meta), chains=tuple(children))

    def chain(self, meta, children):
        names = [c for c in children if isinstance(c, Token)]
        attrs = next((c for c in children if isinstance(c, tuple)), ())
        return ast.Chain(span=self._span(meta), nodes=tuple(str(n) for n in names),
                         node_spans=tuple(self._tspan(n) for n in names), attrs=attrs)

    def edge_attrs(self, meta, children):
        return tuple(children)

    def edge_probability(self, meta, children):
        return ast.EdgeAttr(span=self._span(meta), kind="p", value=children[0])

    def edge_otherwise(self, meta, children):
        return ast.EdgeAttr(span=self._span(meta), kind="otherwise")

    def edge_on_failure(self, meta, children):
        return ast.EdgeAttr(span=self._span(meta), kind="on_failure")

    # expressions
    def quantity(self, meta, children):
        unit = str(children[1]) if len(children) > 1 else None
        return ast.Quantity(span=self._span(meta), value=self._number(children[0]), unit=unit)

    def percent(self, meta, children):
        return ast.Percent(span=self._span(meta), value=self._number(children[0]))

    def name(self, meta, children):
        return ast.Name(span=self._span(meta), id=".".join(str(c) for c in children))

    def call(self, meta, children):
        return ast.Call(span=self._span(meta), func=str(children[0]), args=tuple(children[1:]))

    def _binop(self, op, meta, children):
        return ast.BinOp(span=self._span(meta), op=op, left=children[0], right=children[1])

    def add(self, meta, children):
        return self._binop("+", meta, children)

    def sub(self, meta, children):
        return self._binop("-", meta, children)

    def mul(self, meta, children):
        return self._binop("*", meta, children)

    def div(self, meta, children):
        return self._binop("/", meta, children)

    def pow(self, meta, children):
        return self._binop("^", meta, children)

    def neg(self, meta, children):
        return ast.Neg(span=self._span(meta), operand=children[0])
