"""`llmarch lsp`: a Language Server Protocol server over standard input and output.

Built on pygls (installed with the `lsp` extra, imported only here). It compiles the open
document with the same API the command uses (`api.serve_lsp` hands it `api.loads`, which it
calls with the document's real path so imports resolve) and answers from the `Model`:

- diagnostics as you type: the compiler's codes, messages and spans (1-based lines and
  columns become 0-based LSP positions), the help appended to the message, notes as related
  information; a diagnostic in an imported file is reported at the `import` line (in a
  scenario file, at its `scenarios for` line), with the real place as related information;
- hover: on a component, its visits, cost per request, per month and share of the monthly
  total in the default scenario; on a parameter, its default value, unit, range and
  description; on a model name or its catalog reference, the catalog entry, dates and prices;
- go to definition of a parameter, component, fixed cost or model (also into imported files);
- document symbols: the outline of what the document declares.

A half-written file never stops the server: any exception while compiling becomes a log
message, and hover and definition keep answering from the last version that compiled.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from llmarch.compiler import present
from llmarch.dsl.diagnostics import Diagnostic, LlmarchError, Span

__all__ = ["server", "serve", "to_lsp_diagnostics"]

_log = logging.getLogger(__name__)
Model = object   # an `llmarch.api.Model`; the API imports this module, so not the other way round
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


@dataclass
class _Document:
    """What the server knows about one open document: the last model that compiled."""

    path: str
    model: Optional[Model] = None
    _cost: object = field(default=None, repr=False)

    def compiled(self, model) -> None:
        """A new version compiled: answer from it from now on."""
        self.model, self._cost = model, None

    def cost(self):
        """The default scenario's `CostResult`, computed once per compiled version (None when it fails)."""
        if self._cost is None and self.model is not None:
            try:
                self._cost = self.model.cost()
            except Exception:   # a model can compile and still be invalid at its defaults
                self._cost = False
        return self._cost or None


class LlmarchServer(LanguageServer):
    def __init__(self) -> None:
        from llmarch import __version__
        super().__init__("llmarch", __version__)
        self.documents: dict[str, _Document] = {}
        self.loads = None   # `llmarch.api.loads`, given by `serve`


server = LlmarchServer()


# --- positions -----------------------------------------------------------------------------

def _disk_path(shown: str, model: Optional[Model]) -> Optional[str]:
    """Where a span's file is on disk: diagnostics show paths relative to the working folder,
    and standard-library modules as `<stdlib>/name.llmarch`."""
    if model is not None:
        origins = model.compiled.sources.origins
        if shown in origins:
            return os.path.abspath(origins[shown])
    if shown.startswith("<stdlib>/"):
        import llmarch.stdlib
        return os.path.join(os.path.dirname(llmarch.stdlib.__file__), shown[len("<stdlib>/"):])
    if shown.startswith("<"):
        return None
    return os.path.abspath(shown)


def _range(span: Span) -> types.Range:
    return types.Range(start=types.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0)),
                       end=types.Position(line=max(span.end_line - 1, 0), character=max(span.end_column - 1, 0)))


def _same_file(span: Span, path: str, model: Optional[Model] = None) -> bool:
    where = _disk_path(span.file, model)
    return where is not None and os.path.normcase(where) == os.path.normcase(os.path.abspath(path))


def _import_line(text: str, other: str) -> int:
    """The 0-based line of the `import` that brings in the file shown as `other`; in a
    scenario file, else its `scenarios for` line, through which every other file comes in
    (0 when neither is found)."""
    stem = os.path.splitext(os.path.basename(other))[0]
    header = 0
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped.startswith("import") and re.search(rf"\b{re.escape(stem)}\b", stripped):
            return number
        if re.match(r"scenarios\s+for\b", stripped) and not header:
            header = number
    return header


def to_lsp_diagnostics(diagnostics: list[Diagnostic], path: str, text: str,
                       model: Optional[Model] = None) -> list[types.Diagnostic]:
    """The compiler's diagnostics as LSP diagnostics of the document at `path`."""
    lines = text.splitlines() or [""]
    out = []
    for d in diagnostics:
        message = d.message + (f"\nhelp: {d.help}" if d.help else "")
        related = []
        if d.span is None:
            where = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
        elif _same_file(d.span, path, model):
            where = _range(d.span)
        else:   # in an imported file: at the import, with the real place as related information
            line = _import_line(text, d.span.file)
            where = types.Range(start=types.Position(line=line, character=0),
                                end=types.Position(line=line, character=len(lines[line]) if line < len(lines) else 0))
            message = f"in {d.span}: {message}"
            other = _disk_path(d.span.file, model)
            if other is not None:
                related.append(types.DiagnosticRelatedInformation(
                    location=types.Location(uri=from_fs_path(other), range=_range(d.span)), message=d.message))
        for note, span in d.notes:
            if span is not None and _disk_path(span.file, model) is not None:
                related.append(types.DiagnosticRelatedInformation(
                    location=types.Location(uri=from_fs_path(_disk_path(span.file, model)), range=_range(span)),
                    message=note))
            else:
                message += f"\nnote: {note}"
        out.append(types.Diagnostic(range=where, message=message, severity=_SEVERITY.get(d.severity),
                                    code=d.code, source="llmarch", related_information=related or None))
    return out


# --- compiling -----------------------------------------------------------------------------

def _compile(ls: LlmarchServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    path = to_fs_path(uri) or uri
    state = ls.documents.setdefault(uri, _Document(path))
    found: list[Diagnostic] = []
    try:
        model = ls.loads(document.source, path=path)
        state.compiled(model)
    except LlmarchError as error:
        found = error.diagnostics
    except Exception as error:   # a bug on a half-written file: say so, keep serving
        ls.window_log_message(types.LogMessageParams(
            type=types.MessageType.Error, message=f"llmarch: internal error compiling {path}: {error!r}"))
        _log.exception("compiling %s", path)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=uri, version=document.version,
        diagnostics=to_lsp_diagnostics(found, path, document.source, state.model)))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: LlmarchServer, params: types.DidOpenTextDocumentParams) -> None:
    _compile(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: LlmarchServer, params: types.DidChangeTextDocumentParams) -> None:
    _compile(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: LlmarchServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


# --- what is under the cursor ----------------------------------------------------------------

def _at(ls: LlmarchServer, uri: str, position: types.Position) -> tuple[Optional[_Document], str, str]:
    """The document, the name under the cursor and the quoted string under it ("" when none)."""
    document = ls.workspace.get_text_document(uri)
    lines = document.source.splitlines()
    line = lines[position.line] if position.line < len(lines) else ""
    word = next((m.group() for m in _WORD.finditer(line) if m.start() <= position.character <= m.end()), "")
    quoted = next((m.group(1) for m in re.finditer(r'"([^"]*)"', line)
                   if m.start() <= position.character < m.end()), "")
    return ls.documents.get(uri), word, quoted


def _component_hover(name: str, state: _Document) -> Optional[str]:
    arch = state.model.compiled.arch
    kind = arch.components[name].kind if name in arch.components else "fixed"
    text = [f"**{name}** ({kind}, {(arch.components.get(name) or arch.fixed[name]).category})"]
    result = state.cost()
    if result is None:
        return "\n\n".join(text + ["no cost at the defaults (see the diagnostics)"])
    rows = [r for r in result.components if r.component == name]
    table = ["| | visits | per request | per month | share |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        table.append(f"| `{r.name}` | {present.count(r.expected_visits) if r.expected_visits is not None else ''} "
                     f"| {present.money(r.cost_per_request, per_request=True) if r.cost_per_request is not None else ''} "
                     f"| {present.money(r.monthly)} | {present.share(r.share)} |")
    scenario = "the defaults" + (" (uncertain parameters at their medians)" if result.uncertain else "")
    return "\n\n".join(text + ["\n".join(table), f"at {scenario}; monthly total {present.money(result.monthly_total)}"])


def _parameter_hover(name: str, state: _Document) -> str:
    parameter = state.model.compiled.arch.parameters[name]
    value = state.model.parameters.get(name)
    shown = present.number(value) if value is not None else "—"
    lines = [f"**{name}** = {shown}" + (f" {parameter.unit}" if parameter.unit else "")]
    if parameter.distribution is not None:
        lines.append("uncertain: the value is its median")
    if parameter.low is not None or parameter.high is not None:
        low = present.number(parameter.low) if parameter.low is not None else "…"
        high = present.number(parameter.high) if parameter.high is not None else "…"
        lines.append(f"range [{low}, {high}]")
    if parameter.description:
        lines.append(parameter.description)
    return "\n\n".join(lines)


def _price_hover(name: str, state: _Document) -> str:
    price = state.model.compiled.arch.prices[name]
    lines = [f"**model {name}**"]
    source = price.source
    if source is not None and source.entry:
        lines.append(f"{present.price_source_line(source)}")
    if price.gpu is not None:
        lines.append(f"self-hosted on GPUs: no per-token price; its replicas are the fixed cost `{name} (GPUs)` "
                     "(`llmarch capacity` shows them)")
        return "\n\n".join(lines)
    try:
        per_million = [(label, float(expr) * 1e6) for label, expr in
                       (("input", price.input), ("output", price.output), ("cached input", price.cached_input))]
        lines.append(", ".join(f"{label} {present.money(value)}" for label, value in per_million) + " per million tokens")
    except TypeError:   # a price over parameters: no single number
        pass
    return "\n\n".join(lines)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: LlmarchServer, params: types.HoverParams) -> Optional[types.Hover]:
    state, word, quoted = _at(ls, params.text_document.uri, params.position)
    if state is None or state.model is None:
        return None
    try:
        arch = state.model.compiled.arch
        text = None
        if quoted:
            name = next((n for n, p in arch.prices.items() if p.source and quoted in (p.source.reference, p.source.entry)),
                        None)
            text = _price_hover(name, state) if name else None
        elif word in arch.components or word in arch.fixed:
            text = _component_hover(word, state)
        elif word in arch.parameters and not arch.parameters[word].builtin:
            text = _parameter_hover(word, state)
        elif word in arch.prices:
            text = _price_hover(word, state)
    except Exception as error:
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                     message=f"llmarch: hover failed: {error!r}"))
        return None
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


# --- definitions and the outline -------------------------------------------------------------

def _declarations(state: _Document):
    """(name, kind, span) of every parameter, model, component, fixed cost and scenario."""
    arch = state.model.compiled.arch
    for name, p in arch.parameters.items():
        if not p.builtin:
            yield name, "parameter", p.span
    for name, p in arch.prices.items():
        yield name, "model", p.span
    for name, c in arch.components.items():
        yield name, c.kind, c.span
    for name, f in arch.fixed.items():
        if f.hosts is None:      # a self-hosted model's GPUs are its model's, declared with it
            yield name, "fixed", f.span
    for name, s in arch.scenarios.items():
        yield name, "scenario", s.span


def _name_range(span: Span, name: str, state: _Document) -> types.Range:
    """The range of `name` in its declaration's first line, in the text that compiled (the
    whole declaration when the name is not written there, as for a template's parts)."""
    line = state.model.compiled.sources.line(span.file, span.line) or ""
    found = re.search(rf"\b{re.escape(name)}\b", line[span.column - 1:])
    if not found:
        return _range(span)
    start = span.column - 1 + found.start()
    return types.Range(start=types.Position(line=span.line - 1, character=start),
                       end=types.Position(line=span.line - 1, character=start + len(name)))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: LlmarchServer, params: types.DefinitionParams) -> Optional[types.Location]:
    state, word, _ = _at(ls, params.text_document.uri, params.position)
    if state is None or state.model is None or not word:
        return None
    for name, _kind, span in _declarations(state):
        if name == word:
            if _same_file(span, state.path, state.model):
                return types.Location(uri=params.text_document.uri, range=_name_range(span, name, state))
            other = _disk_path(span.file, state.model)
            if other is None:
                return None
            return types.Location(uri=from_fs_path(other), range=_name_range(span, name, state))
    return None


_SYMBOL_KIND = {"parameter": types.SymbolKind.Variable, "model": types.SymbolKind.Class,
                "fixed": types.SymbolKind.Constant, "scenario": types.SymbolKind.Namespace}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def _symbols(ls: LlmarchServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    state = ls.documents.get(params.text_document.uri)
    if state is None or state.model is None:
        return []
    out = []
    for name, kind, span in _declarations(state):
        if _same_file(span, state.path, state.model):
            out.append(types.DocumentSymbol(name=name, detail=kind,
                                            kind=_SYMBOL_KIND.get(kind, types.SymbolKind.Function),
                                            range=_range(span), selection_range=_name_range(span, name, state)))
    out.sort(key=lambda s: (s.range.start.line, s.range.start.character))
    return out


def serve(loads) -> None:
    """Run the server on standard input and output until the client says `exit`; `loads`
    compiles a text at a path into a `Model` (`llmarch.api.loads`)."""
    server.loads = loads
    server.start_io()
