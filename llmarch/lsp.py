"""`llmarch lsp`: a Language Server Protocol server over standard input and output.

Built on pygls (installed with the `lsp` extra, imported only here). It compiles the open
document with the same API the command uses (`api.serve_lsp` hands it `api.loads`, which it
calls with the document's real path so imports resolve) and answers from the `Model`:

- diagnostics as you type, debounced: a burst of changes compiles once, `debounce` seconds
  (default 0.15; the client's `initializationOptions`) after the last one, on one worker
  thread, so the editor never waits for a compile; a text identical to the last one
  compiled is not compiled again; a text that compiles is published as soon as the checks
  have run (`loads(…, checked=…)`), before its cost model is built. The compiler's codes,
  messages and spans (1-based lines and columns become 0-based LSP positions), the help
  appended to the message, notes as related information; a diagnostic in an imported file
  is reported at the `import` line (in a scenario file, at its `scenarios for` line), with
  the real place as related information;
- hover: on a component, its visits, cost per request, per month and share of the monthly
  total in the default scenario; on a parameter, its default value, unit, range or
  distribution, description and sensitivity (d monthly total / d parameter, elasticity); on
  a model name or its catalog reference, the catalog entry, dates and prices. The default
  scenario's cost and sensitivities are computed once per compiled version, on the worker,
  once the document has stayed unchanged for a moment after its diagnostics are out (or
  when a hover asks first), so a later hover only formats;
- completion: statement keywords, component kinds and their fields (from the compiler's
  tables), parameter, model and component names, catalog model ids, standard-library
  modules, templates with their parameters, unit words;
- go to definition, find references and rename (parameters, models, components, template
  instances, templates, their parameters, scenarios; imports open their file), through
  `llmarch.lsp_index.SymbolIndex`;
- document symbols: the outline of what the document declares; code lenses: the monthly
  cost of each component above its declaration.

A half-written file never stops the server: any exception while compiling becomes a log
message, and hover, definition and references keep answering from the last version that
compiled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from llmarch.compiler import present
from llmarch.dsl.diagnostics import Diagnostic, LlmarchError, Span
from llmarch.lsp_index import (
    Occurrence,
    SymbolIndex,
    completion_context,
    declared_in_text,
)

__all__ = ["DEBOUNCE_SECONDS", "serve", "server", "to_lsp_diagnostics"]

_log = logging.getLogger(__name__)
Model = object   # an `llmarch.api.Model`; the API imports this module, so not the other way round
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
#: how long after the last change a document is compiled (the client may set `debounce` in
#: its `initializationOptions`)
DEBOUNCE_SECONDS = 0.15
#: how long a document stays unchanged after a compile before its cost is computed, and
#: after that before its sensitivities are
_COST_IDLE_SECONDS = 0.3
_IDLE_SECONDS = 1.0
#: at most this many catalog ids in one completion answer (the list is marked incomplete)
_CATALOG_ITEMS = 100


@dataclass
class _Document:
    """What the server knows about one open document: the last model that compiled, the
    text it compiled from, its index of names and, once computed, its numbers."""

    path: str
    model: Optional[Model] = None
    text: Optional[str] = None             # the text `model` compiled from
    index: Optional[SymbolIndex] = None
    #: the default scenario's numbers for `model`, each computed once on the worker:
    #: "cost" (a `CostResult` or None) and "sensitivity" (parameter name -> `SensitivityRow`)
    numbers: dict[str, asyncio.Future] = field(default_factory=dict)
    attempted: Optional[str] = None         # the last text compiled, good or not
    published: list = field(default_factory=list)   # its diagnostics
    generation: int = 0                     # bumped by every change; a compile of an older one is dropped
    timer: Optional[asyncio.TimerHandle] = None
    compiling: Optional[asyncio.Future] = None   # the compile running now, if any


class LlmarchServer(LanguageServer):
    def __init__(self) -> None:
        from llmarch import __version__
        super().__init__("llmarch", __version__)
        self.documents: dict[str, _Document] = {}
        self.loads = None   # `llmarch.api.loads`, given by `serve`
        self.debounce = DEBOUNCE_SECONDS
        # one thread compiles and prices, one thing at a time: sympy's caches are shared
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmarch-compile")


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

@dataclass
class _Outcome:
    """What one compile gave (computed on the worker thread)."""

    model: Optional[Model] = None
    index: Optional[SymbolIndex] = None
    diagnostics: list = field(default_factory=list)
    failure: Optional[str] = None   # an internal error's description
    seconds: float = 0.0             # how long it took


def _compile_text(loads, text: str, path: str, checked) -> _Outcome:
    """Compile `text` as the file at `path` (on the worker thread); never raises.
    `checked()` is called as soon as the text is known to have no diagnostic."""
    started = time.perf_counter()
    try:
        model = loads(text, path=path, checked=checked)
        compiled = model.compiled
        outcome = _Outcome(model, SymbolIndex.build(compiled.modules, compiled.sources.line))
    except LlmarchError as error:
        outcome = _Outcome(diagnostics=error.diagnostics)
    except Exception as error:   # a bug on a half-written file: say so, keep serving
        _log.exception("compiling %s", path)
        outcome = _Outcome(failure=repr(error))
    outcome.seconds = time.perf_counter() - started
    return outcome


def _cost(model):
    """The default scenario's `CostResult` (on the worker thread), None when it fails."""
    try:
        return model.cost()
    except Exception:   # a model can compile and still be invalid at its defaults
        return None


def _sensitivity(model) -> dict:
    """Each parameter's `SensitivityRow` in the default scenario (on the worker thread)."""
    try:
        return {row.name: row for row in model.sensitivity()}
    except Exception:
        return {}


_NUMBERS = {"cost": _cost, "sensitivity": _sensitivity}


def _numbers(ls: LlmarchServer, state: _Document, name: str) -> asyncio.Future:
    """The future of one of the model's numbers ("cost", "sensitivity"), started on the
    worker the first time it is asked for."""
    if name not in state.numbers:
        loop = asyncio.get_running_loop()
        state.numbers[name] = asyncio.ensure_future(loop.run_in_executor(ls.worker, _NUMBERS[name], state.model))
    return state.numbers[name]


def _precompute(ls: LlmarchServer, state: _Document, generation: int) -> None:
    """After a compile, the numbers hover needs, each once the document has stayed unchanged
    for a while (a compile waits for the worker to finish what it is doing, so a change
    that follows at once must not find it busy): the cost `_COST_IDLE_SECONDS` after the
    compile (component hovers, code lenses), the sensitivities `_IDLE_SECONDS` after that
    (they take longer); a hover that comes first asks for them itself."""
    model = state.model

    def still(name: str) -> None:
        if state.generation == generation and state.model is model:
            _numbers(ls, state, name)

    def cost() -> None:
        if state.generation == generation and state.model is model:
            _numbers(ls, state, "cost").add_done_callback(
                lambda _done: loop.call_later(_IDLE_SECONDS, still, "sensitivity"))

    loop = asyncio.get_running_loop()
    loop.call_later(_COST_IDLE_SECONDS, cost)


def _schedule(ls: LlmarchServer, uri: str, delay: float) -> None:
    """Compile the document `delay` seconds from now, unless another change comes first."""
    path = to_fs_path(uri) or uri
    state = ls.documents.setdefault(uri, _Document(path))
    state.generation += 1
    if state.timer is not None:
        state.timer.cancel()
    generation = state.generation
    loop = asyncio.get_running_loop()
    state.timer = loop.call_later(delay, lambda: loop.create_task(_compile(ls, uri, generation)))


async def _compile(ls: LlmarchServer, uri: str, generation: int) -> None:
    state = ls.documents.get(uri)
    if state is None or state.generation != generation:
        return
    document = ls.workspace.get_text_document(uri)
    text, version = document.source, document.version
    published_early = False
    if text != state.attempted:
        loop = asyncio.get_running_loop()

        def publish_early() -> None:
            # the text has no diagnostic: say so now, while the worker builds the cost model
            nonlocal published_early
            if ls.documents.get(uri) is state and state.generation == generation:
                published_early = True
                ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                    uri=uri, version=version, diagnostics=[]))

        compiling = state.compiling = asyncio.ensure_future(loop.run_in_executor(
            ls.worker, _compile_text, ls.loads, text, state.path, lambda: loop.call_soon_threadsafe(publish_early)))
        try:
            outcome = await compiling
        finally:
            if state.compiling is compiling:   # (a newer compile may be waiting for the worker)
                state.compiling = None
        if ls.documents.get(uri) is not state or state.generation != generation:
            # the text changed meanwhile: the newer compile publishes; what compiled still
            # answers hover until then (its places are checked against the text)
            if outcome.model is not None and ls.documents.get(uri) is state:
                state.model, state.text, state.index, state.numbers = outcome.model, text, outcome.index, {}
            return
        ls.window_log_message(types.LogMessageParams(
            type=types.MessageType.Log,
            message=f"llmarch: compiled {state.path} version {version} in {outcome.seconds * 1000:.0f} ms"))
        if outcome.failure is not None:
            ls.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"llmarch: internal error compiling {state.path}: {outcome.failure}"))
        if outcome.model is not None:
            state.model, state.text, state.index = outcome.model, text, outcome.index
            state.numbers = {}
        state.attempted = text
        state.published = to_lsp_diagnostics(outcome.diagnostics, state.path, text, state.model)
    if not (published_early and not state.published):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=state.published))
    if state.model is not None:
        _precompute(ls, state, generation)


def _warm_up() -> None:
    """Import the compiler and build the parser (on the worker, while the editor is still
    sending its first requests), so the first document's compile does not pay for them."""
    try:
        from llmarch.compiler import pipeline  # noqa: F401
        from llmarch.dsl.parser import statement_keywords
        statement_keywords()
    except Exception:   # the first compile reports whatever this is
        _log.exception("warm-up")


@server.feature(types.INITIALIZE)
def _initialize(ls: LlmarchServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)) \
            and 0 <= options["debounce"] <= 10:
        ls.debounce = float(options["debounce"])
    ls.worker.submit(_warm_up)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def _did_open(ls: LlmarchServer, params: types.DidOpenTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def _did_change(ls: LlmarchServer, params: types.DidChangeTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri, ls.debounce)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: LlmarchServer, params: types.DidCloseTextDocumentParams) -> None:
    state = ls.documents.pop(params.text_document.uri, None)
    if state is not None and state.timer is not None:
        state.timer.cancel()
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))


async def _settled(ls: LlmarchServer, uri: str) -> None:
    """Wait for a compile under way (its diagnostics may be out before its model is), so an
    answer is of the version the editor was last told about."""
    state = ls.documents.get(uri)
    if state is not None and state.compiling is not None:
        await asyncio.wait([state.compiling])


async def _number(ls: LlmarchServer, state: _Document, name: str):
    """One of the numbers of the last compiled version, waiting for the worker if needed."""
    return await asyncio.shield(_numbers(ls, state, name))


# --- what is under the cursor ----------------------------------------------------------------

@dataclass
class _Cursor:
    """The document, the name under the cursor, the quoted string under it ("" when none),
    and what the index says is there (`occurrence` only when the text is the compiled one)."""

    state: Optional[_Document]
    word: str
    quoted: str
    key: Optional[tuple[str, str]] = None
    occurrence: Optional[Occurrence] = None


def _main_file(state: _Document) -> str:
    """The edited file as the compiler shows it (its spans' `file`): the main module, or for
    a scenario file (`scenarios for`), the last module (the loader reads the model first)."""
    modules = state.model.compiled.modules
    return modules[-1].path if modules[-1].over is not None else modules[0].path


def _at(ls: LlmarchServer, uri: str, position: types.Position) -> _Cursor:
    document = ls.workspace.get_text_document(uri)
    lines = document.source.splitlines()
    line = lines[position.line] if position.line < len(lines) else ""
    word = next((m.group() for m in _WORD.finditer(line) if m.start() <= position.character <= m.end()), "")
    quoted = next((m.group(1) for m in re.finditer(r'"([^"]*)"', line)
                   if m.start() <= position.character < m.end()), "")
    state = ls.documents.get(uri)
    cursor = _Cursor(state, word, quoted)
    if state is None or state.index is None:
        return cursor
    if state.text == document.source:
        cursor.occurrence = state.index.at(_main_file(state), position.line + 1, position.character + 1)
        if cursor.occurrence is not None:
            cursor.key = cursor.occurrence.key
            return cursor
    if word and not quoted:   # the text changed since it compiled: by the word alone
        cursor.key = next((k for k in (("name", word), ("template", word), ("scenario", word))
                           if k in state.index.kinds), None)
    return cursor


def _component_hover(name: str, state: _Document, result) -> Optional[str]:
    arch = state.model.compiled.arch
    kind = arch.components[name].kind if name in arch.components else "fixed"
    text = [f"**{name}** ({kind}, {(arch.components.get(name) or arch.fixed[name]).category})"]
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


def _parameter_hover(name: str, state: _Document, sensitivity: dict) -> str:
    parameter = state.model.compiled.arch.parameters[name]
    value = state.model.parameters.get(name)
    shown = present.number(value) if value is not None else "—"
    unit = f" {parameter.unit}" if parameter.unit else ""
    lines = [f"**{name}** = {shown}{unit}"]
    if parameter.distribution is not None:
        written = parameter.distribution.written or parameter.distribution.kind
        lines.append(f"uncertain: `{written}` ({parameter.distribution.kind}); the value is its median")
    if parameter.low is not None or parameter.high is not None:
        low = present.number(parameter.low) if parameter.low is not None else "…"
        high = present.number(parameter.high) if parameter.high is not None else "…"
        lines.append(f"range [{low}, {high}]")
    if parameter.description:
        lines.append(parameter.description)
    row = sensitivity.get(name)
    if row is not None and row.derivative is not None:
        per = f"per 1{unit}" if unit else "per unit"
        sensitivity = f"sensitivity: d monthly / d {name} = {present.signed_money(row.derivative)} {per}"
        if row.elasticity is not None:
            sensitivity += (f"; elasticity {present.signed(row.elasticity)} "
                            f"(+1% {name} moves the monthly total {present.signed(row.elasticity)}%)")
        lines.append(sensitivity)
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


def _template_hover(name: str, state: _Document) -> str:
    params = state.index.template_params.get(name, [])
    lines = [f"**template {name}** ({state.index.template_files.get(name, '')})",
             f"`use {name} as NAME {{ " + "; ".join(f"{p} = …" for p, _ in params) + " }`"]
    lines.extend(f"- `{p}`: {description}" for p, description in params if description)
    return "\n\n".join(lines)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def _hover(ls: LlmarchServer, params: types.HoverParams) -> Optional[types.Hover]:
    await _settled(ls, params.text_document.uri)
    cursor = _at(ls, params.text_document.uri, params.position)
    state = cursor.state
    if state is None or state.model is None:
        return None
    try:
        arch = state.model.compiled.arch
        text = None
        namespace, name = cursor.key or ("", cursor.word)
        if cursor.quoted:
            name = next((n for n, p in arch.prices.items()
                         if p.source and cursor.quoted in (p.source.reference, p.source.entry)), None)
            text = _price_hover(name, state) if name else None
        elif namespace == "template":
            text = _template_hover(name, state)
        elif namespace == "import":
            text = f"**import** `{state.index.imports.get(cursor.key, '')}`"
        elif namespace not in ("", "name"):
            text = None
        elif name in arch.components or name in arch.fixed:
            text = _component_hover(name, state, await _number(ls, state, "cost"))
        elif name in arch.parameters and not arch.parameters[name].builtin:
            text = _parameter_hover(name, state, await _number(ls, state, "sensitivity"))
        elif name in arch.prices:
            text = _price_hover(name, state)
    except Exception as error:
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                     message=f"llmarch: hover failed: {error!r}"))
        return None
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


# --- definitions, references, rename ---------------------------------------------------------

def _file_uri(shown: str, state: _Document, uri: str) -> Optional[str]:
    """The URI of a file shown as `shown` in the compile of the document at `uri`."""
    if shown == _main_file(state):
        return uri
    other = _disk_path(shown, state.model)
    return from_fs_path(other) if other is not None else None


def _location(occurrence: Occurrence, state: _Document, uri: str) -> Optional[types.Location]:
    target = _file_uri(occurrence.file, state, uri)
    if target is None:
        return None
    start = types.Position(line=occurrence.line - 1, character=occurrence.column - 1)
    end = types.Position(line=occurrence.line - 1, character=occurrence.column - 1 + occurrence.length)
    return types.Location(uri=target, range=types.Range(start=start, end=end))


def _import_target(key, state: _Document, uri: str) -> Optional[types.Location]:
    """Where an `import` leads: the first line of the file it reads."""
    target = state.index.imports.get(key)
    if target is None:
        return None
    if target.startswith("<stdlib>/"):
        path = _disk_path(target, state.model)
    else:
        importer = key[1].split("\0")[0]
        base = state.path if importer == _main_file(state) else (_disk_path(importer, state.model) or state.path)
        path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base)), target))
    if path is None:
        return None
    zero = types.Position(line=0, character=0)
    return types.Location(uri=from_fs_path(path), range=types.Range(start=zero, end=zero))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
async def _definition(ls: LlmarchServer, params: types.DefinitionParams) -> Optional[types.Location]:
    await _settled(ls, params.text_document.uri)
    cursor = _at(ls, params.text_document.uri, params.position)
    state = cursor.state
    if cursor.key is None:
        return None
    if cursor.key[0] == "import":
        return _import_target(cursor.key, state, params.text_document.uri)
    declared = state.index.declarations(cursor.key)
    return _location(declared[0], state, params.text_document.uri) if declared else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def _references(ls: LlmarchServer, params: types.ReferenceParams) -> list[types.Location]:
    await _settled(ls, params.text_document.uri)
    cursor = _at(ls, params.text_document.uri, params.position)
    if cursor.key is None:
        return []
    found = [_location(o, cursor.state, params.text_document.uri) for o in cursor.state.index.references(cursor.key)
             if params.context.include_declaration or not o.declaration]
    return [location for location in found if location is not None]


_RENAMEABLE = ("parameter", "model", "llm", "embedding", "retrieval", "cache", "guardrail", "tool", "router",
               "human", "observe", "fixed")


class _RenameRefused(Exception):
    pass


def _renameable(cursor: _Cursor) -> Occurrence:
    """The occurrence to rename, or `_RenameRefused` saying why not."""
    state = cursor.state
    if state is None or state.index is None:
        raise _RenameRefused("the file has not compiled yet")
    if cursor.occurrence is None:
        if cursor.key is not None:
            raise _RenameRefused("the file has changed since it last compiled: fix its errors first")
        raise _RenameRefused("only a parameter, model or component can be renamed")
    key = cursor.occurrence.key
    if key[0] != "name" or state.index.kinds.get(key) not in _RENAMEABLE:
        raise _RenameRefused("only a parameter, model or component can be renamed")
    declared = state.index.declarations(key)
    if declared and declared[0].file.startswith("<stdlib>/"):
        raise _RenameRefused(f"`{key[1]}` is declared in the standard library ({declared[0].file})")
    return cursor.occurrence


def _refuse(reason: str):
    return JsonRpcInvalidRequest(reason, code=-32803)   # RequestFailed: the editor shows the message


@server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
async def _prepare_rename(ls: LlmarchServer, params: types.PrepareRenameParams):
    await _settled(ls, params.text_document.uri)
    cursor = _at(ls, params.text_document.uri, params.position)
    try:
        occurrence = _renameable(cursor)
    except _RenameRefused as refused:
        raise _refuse(str(refused)) from None
    return _location(occurrence, cursor.state, params.text_document.uri).range


@server.feature(types.TEXT_DOCUMENT_RENAME)
async def _rename(ls: LlmarchServer, params: types.RenameParams) -> Optional[types.WorkspaceEdit]:
    await _settled(ls, params.text_document.uri)
    from llmarch.dsl.parser import keywords
    cursor = _at(ls, params.text_document.uri, params.position)
    try:
        occurrence = _renameable(cursor)
    except _RenameRefused as refused:
        raise _refuse(str(refused)) from None
    state, new = cursor.state, params.new_name
    old = occurrence.key[1]
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", new):
        raise _refuse(f"`{new}` is not a name (letters, digits and `_`, not starting with a digit)")
    if new in keywords():
        raise _refuse(f"`{new}` is a keyword")
    if new in ("start", "success", "failure") or new in state.model.compiled.arch.parameters \
            and state.model.compiled.arch.parameters[new].builtin:
        raise _refuse(f"`{new}` is built in")
    if new != old and (("name", new) in state.index.kinds
                       or new in {name for _, name in declared_in_text(state.text)}):
        kind = state.index.kinds.get(("name", new), "name")
        raise _refuse(f"`{new}` is already declared (as a {kind})")
    changes: dict[str, list[types.TextEdit]] = {}
    for o in state.index.references(occurrence.key):
        if o.file.startswith("<stdlib>/"):
            continue
        location = _location(o, state, params.text_document.uri)
        if location is not None:
            changes.setdefault(location.uri, []).append(types.TextEdit(range=location.range, new_text=new))
    return types.WorkspaceEdit(changes=changes)


# --- completion ------------------------------------------------------------------------------

def _catalog_refs() -> list:
    from llmarch.stdlib import catalog
    return catalog.list_prices()


def _stdlib_templates() -> dict[str, tuple[str, list[tuple[str, Optional[str]]]]]:
    """template name -> (the standard-library module declaring it, its parameters)."""
    import llmarch.stdlib
    from llmarch.compiler.loader import stdlib_modules
    from llmarch.dsl import ast
    from llmarch.dsl.parser import parse
    found = {}
    folder = os.path.dirname(llmarch.stdlib.__file__)
    for module in stdlib_modules():
        with open(os.path.join(folder, f"{module}.llmarch"), encoding="utf-8") as handle:
            parsed = parse(handle.read(), f"<stdlib>/{module}.llmarch")
        for s in parsed.statements:
            if isinstance(s, ast.Template):
                found[s.name] = (module, [(p.name, p.description) for p in s.params])
    return found


_cached: dict[str, object] = {}


def _once(name: str, make):
    if name not in _cached:
        _cached[name] = make()
    return _cached[name]


def _item(label: str, kind: types.CompletionItemKind, detail: str = "", documentation: str = "",
          **more) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail or None,
                                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=documentation)
                                if documentation else None, **more)


def _names(state: Optional[_Document], text: str) -> dict[str, str]:
    """Every name in scope -> what it declares: the last compile's, and what the text declares now."""
    names = state.index.names() if state is not None and state.index is not None else {}
    for word, name in declared_in_text(text):
        if word not in ("template", "scenario"):
            names.setdefault(name, word if word != "param" else "parameter")
    return names


def _completions(ls: LlmarchServer, uri: str, position: types.Position) -> types.CompletionList:
    from llmarch.compiler.elaborate.components import FIELDS
    from llmarch.compiler.elaborate.prices import CATALOG_MODEL_FIELDS, MODEL_FIELDS
    from llmarch.compiler.settings import SETTING_NAMES
    from llmarch.dsl.parser import statement_keywords
    from llmarch.dsl.vocabulary import KNOWN_UNIT_WORDS
    K = types.CompletionItemKind
    document = ls.workspace.get_text_document(uri)
    state = ls.documents.get(uri)
    context = completion_context(document.source, position.line, position.character)
    names = _names(state, document.source)
    items: list[types.CompletionItem] = []
    incomplete = False

    def by_kind(wanted) -> list[types.CompletionItem]:
        return [_item(n, K.Variable if k == "parameter" else K.Class if k == "model" else K.Module, k)
                for n, k in sorted(names.items()) if wanted(k)]

    what = context.what
    if what == "statement":
        words = statement_keywords() if context.block != "template" else \
            ("param", "flow", "use") + tuple(k for k in statement_keywords() if k in FIELDS)
        items = [_item(w, K.Keyword, "component kind" if w in FIELDS else "keyword") for w in words]
    elif what == "field":
        block = context.block
        fields = (FIELDS.get(block) or (MODEL_FIELDS if block == "model" else CATALOG_MODEL_FIELDS
                                        if block == "catalog model" else SETTING_NAMES if block == "settings" else ()))
        items = [_item(f, K.Field, f"field of {block}") for f in fields]
        if block == "scenario":
            items = by_kind(lambda k: k == "parameter")
        elif block == "use":
            local = state.index.template_params if state is not None and state.index is not None else {}
            params = local.get(context.block_name) or \
                _once("templates", _stdlib_templates).get(context.block_name, ("", []))[1]
            items = [_item(p, K.Field, f"parameter of template {context.block_name}", d or "") for p, d in params]
    elif what == "value":
        if context.field in ("model", "fallback_model"):
            items = by_kind(lambda k: k == "model")
        elif context.field in ("fallback", "on_hit"):
            items = by_kind(lambda k: k in FIELDS and k != "fixed")
        else:
            items = by_kind(lambda k: k == "parameter") + [_item("time", K.Variable, "built in: months since launch")]
    elif what == "unit":
        items = [_item(w, K.Unit, "unit") for w in KNOWN_UNIT_WORDS]
    elif what == "flow":
        items = by_kind(lambda k: (k in FIELDS and k != "fixed") or k == "instance") + \
            [_item(n, K.Keyword, "flow node") for n in ("start", "success", "failure")]
    elif what == "catalog":
        typed = context.prefix.lower()
        found = [p for p in _once("catalog", _catalog_refs) if typed in p.ref.lower()]
        incomplete = len(found) > _CATALOG_ITEMS
        start = types.Position(line=position.line, character=position.character - len(context.prefix))
        edit_range = types.Range(start=start, end=position)
        for p in found[:_CATALOG_ITEMS]:
            prices = []
            if p.input is not None:
                prices.append(f"input ${p.input.base}/Mtok")
            if p.output is not None:
                prices.append(f"output ${p.output.base}/Mtok")
            items.append(_item(p.ref, K.Value, ", ".join(prices), p.name or "", filter_text=p.ref,
                               text_edit=types.TextEdit(range=edit_range, new_text=p.ref)))
    elif what == "import":
        from llmarch.compiler.loader import stdlib_modules
        items = [_item(m, K.Module, "standard-library module") for m in stdlib_modules()]
    elif what == "import path":
        folder = os.path.dirname(os.path.abspath(state.path if state else to_fs_path(uri) or "."))
        try:
            files = sorted(f for f in os.listdir(folder) if f.endswith(".llmarch"))
        except OSError:
            files = []
        here = os.path.basename(to_fs_path(uri) or "")
        items = [_item(f, K.File, "project file") for f in files if f != here]
    elif what == "template name":
        local = state.index.template_params if state is not None and state.index is not None else {}
        for name, params in sorted(local.items()):
            items.append(_item(name, K.Snippet, "template(" + ", ".join(p for p, _ in params) + ")",
                               "\n".join(f"- `{p}`: {d or ''}" for p, d in params)))
        for name, (module, params) in sorted(_once("templates", _stdlib_templates).items()):
            if name not in local:
                items.append(_item(name, K.Snippet, "template(" + ", ".join(p for p, _ in params)
                                   + f") from `import {module}`",
                                   "\n".join(f"- `{p}`: {d or ''}" for p, d in params),
                                   additional_text_edits=[_import_edit(document.source, module)]))
    return types.CompletionList(is_incomplete=incomplete, items=items)


def _import_edit(text: str, module: str) -> types.TextEdit:
    """A new `import module` line after the file's last import (else after its `architecture`)."""
    lines = text.splitlines()
    after = max((i + 1 for i, line in enumerate(lines) if re.match(r"\s*(import|architecture)\b", line)), default=0)
    at = types.Position(line=after, character=0)
    return types.TextEdit(range=types.Range(start=at, end=at), new_text=f"import {module}\n")


@server.feature(types.TEXT_DOCUMENT_COMPLETION,
                types.CompletionOptions(trigger_characters=['"', ":", "=", " ", "."]))
def _completion(ls: LlmarchServer, params: types.CompletionParams) -> types.CompletionList:
    try:
        return _completions(ls, params.text_document.uri, params.position)
    except Exception as error:   # never let a half-written line stop the server
        _log.exception("completion")
        ls.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                     message=f"llmarch: completion failed: {error!r}"))
        return types.CompletionList(is_incomplete=False, items=[])


# --- the outline and code lenses ---------------------------------------------------------------

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


_SYMBOL_KIND = {"parameter": types.SymbolKind.Variable, "model": types.SymbolKind.Class,
                "fixed": types.SymbolKind.Constant, "scenario": types.SymbolKind.Namespace}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def _symbols(ls: LlmarchServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
    await _settled(ls, params.text_document.uri)
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


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
async def _code_lenses(ls: LlmarchServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """Above each component and fixed cost of this file: its monthly cost and share."""
    await _settled(ls, params.text_document.uri)
    state = ls.documents.get(params.text_document.uri)
    if state is None or state.model is None:
        return []
    result = await _number(ls, state, "cost")
    if result is None:
        return []
    monthly: dict[str, tuple[float, float]] = {}
    for row in result.components:
        before = monthly.get(row.component, (0.0, 0.0))
        monthly[row.component] = (before[0] + row.monthly, before[1] + row.share)
    lenses = []
    for name, kind, span in _declarations(state):
        if name in monthly and _same_file(span, state.path, state.model):
            cost, share = monthly[name]
            lenses.append(types.CodeLens(range=_name_range(span, name, state), command=types.Command(
                title=f"{present.money(cost)}/month · {present.share(share)} of the total", command="")))
    return lenses


def serve(loads) -> None:
    """Run the server on standard input and output until the client says `exit`; `loads`
    compiles a text at a path into a `Model` (`llmarch.api.loads`)."""
    server.loads = loads
    server.start_io()
