"""What the language server knows about the names of a compiled file, without the protocol.

`SymbolIndex` walks the parsed files a compile kept (`Compiled.modules`, the main file
first, then its imports) and records every declaration and every use of a name, each
with the place of the name itself (line, first column, length; 1-based like the
compiler's spans). Names live in the compiler's namespaces:

- `("name", x)`: parameters, models, components and template instances (one namespace:
  the compiler refuses a name declared twice, E101);
- `("scenario", x)` and `("template", x)`;
- `("template:T", x)`: a template's own parameters and components, seen inside `T` and
  as the fields of a `use T as …{ }`;
- `("import", file)`: an `import`, by the file it reads.

A field name is a use only where it names something: in a scenario (the parameter it
overrides) and in a `use` (the template's parameter); `hit_rate = hit_rate` in a cache
is a field (not indexed) and a use of the parameter.

`completion_context` reads the text before the cursor (any text, half-written or not)
and says what may be written there. Nothing here imports pygls; `llmarch.lsp` turns both
into LSP answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Span

__all__ = ["Context", "Occurrence", "SymbolIndex", "completion_context", "declared_in_text"]

Key = tuple[str, str]


@dataclass(frozen=True)
class Occurrence:
    """One place a name is written: `file` as the compiler shows it, 1-based `line` and
    `column` of the name's first character, its `length`; `declaration` when it declares."""

    key: Key
    file: str
    line: int
    column: int
    length: int
    declaration: bool = False

    def covers(self, file: str, line: int, column: int) -> bool:
        """Whether the 1-based `line`, `column` is on this name (or just after it)."""
        return file == self.file and line == self.line and self.column <= column <= self.column + self.length


@dataclass
class SymbolIndex:
    """Every declaration and use of a name in a compiled file and its imports."""

    occurrences: list[Occurrence] = field(default_factory=list)
    #: what a key declares: "parameter", "model", a component kind, "instance", "scenario", "template", …
    kinds: dict[Key, str] = field(default_factory=dict)
    #: template name -> its parameters, in order, with their descriptions
    template_params: dict[str, list[tuple[str, Optional[str]]]] = field(default_factory=dict)
    #: the file each template is declared in (as shown)
    template_files: dict[str, str] = field(default_factory=dict)
    #: import occurrences' keys -> the file they read (a stdlib module: `<stdlib>/rag.llmarch`)
    imports: dict[Key, str] = field(default_factory=dict)

    @classmethod
    def build(cls, modules, line_of) -> SymbolIndex:
        """The index of `modules` (`ast.Module`s); `line_of(file, number)` gives a source line."""
        index = cls()
        for module in modules:
            _Walker(index, module.path, line_of).module(module)
        return index

    def at(self, file: str, line: int, column: int) -> Optional[Occurrence]:
        """The occurrence under a 1-based position (the declaration first when both touch)."""
        found = [o for o in self.occurrences if o.covers(file, line, column)]
        found.sort(key=lambda o: (not o.declaration, -(o.column <= column < o.column + o.length)))
        return found[0] if found else None

    def declarations(self, key: Key) -> list[Occurrence]:
        return [o for o in self.occurrences if o.key == key and o.declaration]

    def references(self, key: Key) -> list[Occurrence]:
        """Every occurrence of `key`, declarations included, in file order."""
        return [o for o in self.occurrences if o.key == key]

    def names(self, namespace: str = "name") -> dict[str, str]:
        """Declared names of a namespace -> what they declare."""
        return {k[1]: kind for k, kind in self.kinds.items() if k[0] == namespace}


def _is_word_character(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] == "_")


def _find_word(line: str, name: str, start: int) -> int:
    """Where `name` is written as a whole word in `line` from `start` on (-1 when not):
    `str.find`, not a regular expression per name (thousands of names would thrash `re`'s cache)."""
    at = line.find(name, start)
    while at >= 0 and (_is_word_character(line, at - 1) or _is_word_character(line, at + len(name))):
        at = line.find(name, at + 1)
    return at


class _Walker:
    """Records one module's occurrences into the index."""

    def __init__(self, index: SymbolIndex, file: str, line_of) -> None:
        self.index, self.file, self.line_of = index, file, line_of

    # --- recording -----------------------------------------------------------------------
    def _add(self, key: Key, span: Optional[Span], name: str, declaration: bool = False, kind: str = "") -> None:
        """The occurrence of `name` at or after the start of `span` on its first line."""
        if span is None or not name:
            return
        line = self.line_of(self.file, span.line) or ""
        at = _find_word(line, name, max(span.column - 1, 0))
        if at < 0:
            return
        column = at + 1
        self.index.occurrences.append(Occurrence(key, self.file, span.line, column, len(name), declaration))
        if declaration and kind:
            self.index.kinds.setdefault(key, kind)

    def _name(self, dotted: str, span: Span, scope: frozenset, template: Optional[str]) -> None:
        """A name in an expression or a flow: the first part of `a.b` names `a`."""
        first = dotted.split(".")[0]
        if first in ("start", "success", "failure"):
            return
        if template is not None and first in scope:
            self._add((f"template:{template}", first), span, first)
        elif template is None or first not in ("in", "out"):
            self._add(("name", first), span, first)

    def _expr(self, node, scope: frozenset = frozenset(), template: Optional[str] = None) -> None:
        if node is None:
            return
        if isinstance(node, ast.Name):
            self._name(node.id, node.span, scope, template)
        elif isinstance(node, ast.BinOp):
            self._expr(node.left, scope, template)
            self._expr(node.right, scope, template)
        elif isinstance(node, ast.Neg):
            self._expr(node.operand, scope, template)
        elif isinstance(node, ast.Call):
            for arg in node.args:
                self._expr(arg, scope, template)
        elif isinstance(node, ast.Interval):
            self._expr(node.low, scope, template)
            self._expr(node.high, scope, template)
        elif isinstance(node, ast.Choice):
            for item in node.items:
                self._expr(item.weight, scope, template)
                self._expr(item.value, scope, template)

    def _body(self, body: Optional[ast.Body], scope: frozenset = frozenset(), template: Optional[str] = None,
              field_key=None) -> None:
        """A body's values; `field_key(name)` gives the key a field's own name uses, if any."""
        if body is None:
            return
        for item in body.items:
            if isinstance(item, ast.Block):
                self._body(item.body, scope, template)
                continue
            if field_key is not None:
                self._add(field_key(item.name), item.span, item.name)
            if not isinstance(item.value, ast.Text) and item.name != "category":   # a category is a word, not a name
                self._expr(item.value, scope, template)

    # --- statements ----------------------------------------------------------------------
    def module(self, module: ast.Module) -> None:
        for s in module.statements:
            getattr(self, f"visit_{type(s).__name__}", lambda s: None)(s)

    def visit_Param(self, s: ast.Param) -> None:
        self._add(("name", s.name), s.name_span, s.name, True, "parameter")
        self._expr(s.value)
        self._expr(s.low)
        self._expr(s.high)

    def visit_Traffic(self, s: ast.Traffic) -> None:
        self._expr(s.value)

    def visit_Model(self, s: ast.Model) -> None:
        self._add(("name", s.name), s.name_span, s.name, True, "model")
        self._body(s.body)

    def visit_Component(self, s: ast.Component, scope: frozenset = frozenset(), template: Optional[str] = None):
        namespace = f"template:{template}" if template else "name"
        self._add((namespace, s.name), s.name_span, s.name, True, s.kind)
        self._body(s.body, scope, template)

    def visit_Flow(self, s: ast.Flow, scope: frozenset = frozenset(), template: Optional[str] = None) -> None:
        for chain in s.chains:
            for name, span in zip(chain.nodes, chain.node_spans):
                self._name(name, span, scope, template)
            for attr in chain.attrs:
                self._expr(attr.value, scope, template)

    def visit_Scenario(self, s: ast.Scenario) -> None:
        self._add(("scenario", s.name), s.name_span, s.name, True, "scenario")
        if s.extends:
            self._add(("scenario", s.extends), s.extends_span, s.extends)
        self._body(s.body, field_key=lambda name: ("name", name))

    def visit_Budget(self, s: ast.Budget) -> None:
        self._expr(s.limit)
        self._expr(s.event_limit)
        if s.scenario:
            self._add(("scenario", s.scenario), s.scenario_span, s.scenario)

    def visit_Correlation(self, s: ast.Correlation) -> None:
        self._add(("name", s.first), s.first_span, s.first)
        self._add(("name", s.second), s.second_span, s.second)
        self._expr(s.value)

    def visit_Template(self, s: ast.Template) -> None:
        self._add(("template", s.name), s.name_span, s.name, True, "template")
        self.index.template_params[s.name] = [(p.name, p.description) for p in s.params]
        self.index.template_files[s.name] = self.file
        local = frozenset([p.name for p in s.params]
                          + [i.name for i in s.items if isinstance(i, (ast.Component, ast.Use))])
        for p in s.params:
            self._add((f"template:{s.name}", p.name), p.name_span, p.name, True, "template parameter")
            self._expr(p.default, local, s.name)
        for item in s.items:
            if isinstance(item, ast.Component):
                self.visit_Component(item, local, s.name)
            elif isinstance(item, ast.Flow):
                self.visit_Flow(item, local, s.name)
            elif isinstance(item, ast.Use):
                self.visit_Use(item, local, s.name)

    def visit_Use(self, s: ast.Use, scope: frozenset = frozenset(), template: Optional[str] = None) -> None:
        namespace = f"template:{template}" if template else "name"
        self._add(("template", s.template), s.template_span, s.template)
        self._add((namespace, s.name), s.name_span, s.name, True, "instance")
        self._body(s.body, scope, template, field_key=lambda name: (f"template:{s.template}", name))

    def visit_Import(self, s: ast.Import) -> None:
        target = f"<stdlib>/{s.module}.llmarch" if s.module else s.path
        key = ("import", target if s.module else f"{self.file}\0{s.path}")
        self._add(key, s.span, s.module or s.path, True, "import")
        self.index.imports[key] = target


# --- completion ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """What may be written at the cursor.

    `what` is one of: "statement" (a statement's first word), "field" (a field of the body
    `block`: a component kind, "model", "catalog model", "scenario", "settings", "use",
    "template", "input"), "value" (an expression; `field` is the field it is the value of),
    "unit" (after a number), "flow" (a flow's node), "catalog" (inside the quoted catalog
    reference of a model; `prefix` is what is typed), "import" (a module after `import`),
    "import path" (inside `import "`), "template name" (after `use`), "nothing" (a comment,
    a string, a name being declared)."""

    what: str
    prefix: str = ""
    block: str = ""
    field: str = ""
    block_name: str = ""


_KINDS = ast.COMPONENT_KINDS
_HEADER = re.compile(r"^\s*(?P<word>[A-Za-z_]\w*)(?:\s+(?P<name>[A-Za-z_][\w.]*))?(?:\s+(?P<rest>.*))?$", re.DOTALL)


def _strip(line: str) -> tuple[str, bool]:
    """`line` up to a comment, and whether it ends inside a quoted string."""
    inside = False
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if inside and ch == "\\":
            out.append(line[i:i + 2])
            i += 2
            continue
        if ch == '"':
            inside = not inside
        elif ch == "#" and not inside:
            break
        out.append(ch)
        i += 1
    return "".join(out), inside


def _blocks(before: str) -> list[str]:
    """The headers of the `{ }` blocks open at the end of `before` (outermost first): the
    text of the statement before each `{`."""
    stack: list[str] = []
    statement = ""
    for raw in before.split("\n"):
        line, _ = _strip(raw)
        for ch in line:
            if ch == "{":
                stack.append(statement.strip())
                statement = ""
            elif ch == "}":
                if stack:
                    stack.pop()
                statement = ""
            elif ch == ";":
                statement = ""
            else:
                statement += ch
        statement = ""   # a line ends a statement (a header and its `{` share a line)
    return stack


def completion_context(text: str, line: int, character: int) -> Context:
    """What may be written at 0-based `line`, `character` of `text`."""
    lines = text.split("\n")
    current = lines[line][:character] if line < len(lines) else ""
    before = "\n".join(lines[:line] + [current])
    code, in_string = _strip(current)
    if len(code) < len(current) and not in_string:
        return Context("nothing")   # in a comment
    if in_string:
        quoted = code[code.rfind('"') + 1:]
        head = code[:code.rfind('"')]
        if re.match(r"^\s*model\s+[A-Za-z_]\w*\s*(\"[^\"]*\"\s*)?=\s*$", head):
            return Context("catalog", quoted)
        if re.match(r"^\s*import\s*$", head):
            return Context("import path", quoted)
        return Context("nothing")
    segment = re.split(r"[;{]", code)[-1]
    word = re.search(r"[A-Za-z_][\w.]*$", segment)
    prefix = word.group() if word else ""
    start = segment[:len(segment) - len(prefix)]
    stack = _blocks(before[:len(before) - len(current)] + code[:len(code) - len(segment)])
    if not stack:
        if re.match(r"^\s*import\s+$", start):
            return Context("import", prefix)
        if re.match(r"^\s*use\s+$", start):
            return Context("template name", prefix)
        if re.match(r"^\s*$", start):
            return Context("statement", prefix)
        return _value_context(start, prefix, "", "")
    header = _HEADER.match(stack[0])
    outer = header.group("word") if header else ""
    inner = _HEADER.match(stack[-1])
    block, block_name = (inner.group("word"), inner.group("name") or "") if inner else ("", "")
    if outer == "flow" or (outer == "template" and block == "flow"):
        return Context("flow", prefix, block="flow", block_name=header.group("name") or "" if outer == "template" else "")
    if outer == "template" and len(stack) == 1:
        if re.match(r"^\s*$", start):
            return Context("statement", prefix, block="template", block_name=header.group("name") or "")
        if re.match(r"^\s*use\s+$", start):
            return Context("template name", prefix)
        return _value_context(start, prefix, "template", header.group("name") or "")
    if block == "model":
        block = "catalog model" if "=" in (inner.group("rest") or "") else "model"
    elif block == "use":
        block_name = block_name or ""
    elif block not in _KINDS and block not in ("scenario", "settings", "choice") and len(stack) > 1:
        block = "input"
    if re.match(r"^\s*$", start) and block != "choice":
        return Context("field", prefix, block=block, block_name=block_name)
    return _value_context(start, prefix, block, block_name)


def _value_context(start: str, prefix: str, block: str, block_name: str) -> Context:
    if re.search(r"[0-9][0-9_.]*\s+$", start) and not re.search(r"[A-Za-z_]\w*\s+$", start):
        return Context("unit", prefix, block=block, block_name=block_name)
    assigned = re.match(r"^\s*([A-Za-z_]\w*)\s*=", start)
    if re.match(r"^\s*(param|model|template|scenario|use\s+\w+\s+as)\s+$", start) or re.match(
            r"^\s*(" + "|".join(_KINDS) + r")\s+$", start):
        return Context("nothing")   # a name being declared
    return Context("value", prefix, block=block, field=assigned.group(1) if assigned else "", block_name=block_name)


_DECLARED = re.compile(r"^\s*(?P<word>param|model|template|scenario|" + "|".join(_KINDS)
                       + r")\s+(?P<name>[A-Za-z_]\w*)", re.MULTILINE)
_USED_AS = re.compile(r"^\s*use\s+[A-Za-z_]\w*\s+as\s+(?P<name>[A-Za-z_]\w*)", re.MULTILINE)


def declared_in_text(text: str) -> Iterator[tuple[str, str]]:
    """(word, name) of the declarations a text writes at the start of its lines (`param x`,
    `llm answer`, `use rag as a` as ("instance", "a")): what completion offers before the
    text compiles."""
    for m in _DECLARED.finditer(text):
        yield m.group("word"), m.group("name")
    for m in _USED_AS.finditer(text):
        yield "instance", m.group("name")
