"""`llmarch lsp` through a real client session: pygls's client starts `python -m llmarch lsp`
as a subprocess and talks JSON-RPC to it over standard input and output."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types  # noqa: E402
from pygls.lsp.client import BaseLanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.llmarch"


class _Session:
    """A client with the diagnostics it has received, by document."""

    def __init__(self) -> None:
        self.client = BaseLanguageClient("llmarch-test", "1")
        self.diagnostics: dict[str, asyncio.Queue] = {}
        self.logs: list[str] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics.setdefault(params.uri, asyncio.Queue()).put_nowait(params)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _logged(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

    async def start(self, cwd: Path, debounce: float | None = None) -> None:
        await self.client.start_io(sys.executable, "-m", "llmarch", "lsp", cwd=str(cwd))
        options = {"debounce": debounce} if debounce is not None else None
        await self.client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                                  root_uri=from_fs_path(str(cwd)),
                                                                  initialization_options=options))
        self.client.initialized(types.InitializedParams())

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = from_fs_path(str(path))
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="llmarch", version=version, text=text)))
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    async def published(self, uri: str) -> list[types.Diagnostic]:
        return list((await self.publication(uri)).diagnostics)

    async def publication(self, uri: str) -> types.PublishDiagnosticsParams:
        """The next diagnostics published for `uri`, with the version they are of."""
        queue = self.diagnostics.setdefault(uri, asyncio.Queue())
        return await asyncio.wait_for(queue.get(), timeout=60)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), timeout=20)


def _run(coroutine):
    return asyncio.run(coroutine)


def test_a_session_diagnostics_hover_definition_symbols(tmp_path):
    valid = tmp_path / "quickstart.llmarch"
    text = QUICKSTART.read_text(encoding="utf-8")
    valid.write_text(text, encoding="utf-8")
    broken = tmp_path / "broken.llmarch"
    broken_text = text.replace("model = small\n", "model = smal\n")
    lines = text.splitlines()

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            # a broken file: the compiler's code, at the compiler's span, help in the message
            uri = s.open(broken, broken_text)
            found = await s.published(uri)
            assert [d.code for d in found] == ["E216"], found
            line = next(i for i, ln in enumerate(broken_text.splitlines()) if "model = smal" in ln)
            column = broken_text.splitlines()[line].index("smal")
            assert (found[0].range.start.line, found[0].range.start.character) == (line, column)
            assert (found[0].range.end.line, found[0].range.end.character) == (line, column + len("smal"))
            assert found[0].severity == types.DiagnosticSeverity.Error
            assert "help: did you mean `small`?" in found[0].message

            # fixing it clears the diagnostics
            s.change(uri, text, 2)
            assert await s.published(uri) == []

            # a valid file: no diagnostics, then hover and definition answer from it
            uri = s.open(valid, text)
            assert await s.published(uri) == []

            def at(needle: str, occurrence: int = 0, offset: int = 0) -> types.Position:
                hits = [(i, ln.index(needle)) for i, ln in enumerate(lines) if needle in ln]
                i, c = hits[occurrence]
                return types.Position(line=i, character=c + offset)

            doc = types.TextDocumentIdentifier(uri=uri)
            # on a component in the flow: visits, per request, per month, share (as `llmarch cost` prints them)
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=at("-> answer }", 0, 4)))
            assert hover is not None
            value = hover.contents.value
            assert "**answer** (llm, inference)" in value
            assert "| `answer` | 0.7385 | $0.000164 | $24.10 | 22.0% |" in value, value
            assert "| `answer@large` |" in value

            # on a parameter: value, unit, range, description
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=at("hit_rate = hit_rate", 0, 12)))
            value = hover.contents.value
            assert "**hit_rate**" in value and "range [0, 0.8]" in value and "semantic cache hit rate" in value

            # on a catalog reference: the entry and its prices
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=at('"openai:gpt-4o-mini"', 0, 3)))
            assert "openai:gpt-4o-mini" in hover.contents.value and "per million tokens" in hover.contents.value

            # definition of a model used by a component: its declaration's name
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=doc, position=at("model = small", 0, 9)))
            assert location.uri == uri
            declared = at("model small", 0, len("model "))
            assert (location.range.start.line, location.range.start.character) == (declared.line, declared.character)
            assert location.range.end.character == declared.character + len("small")

            # the outline
            symbols = await s.client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
            assert [(x.name, x.detail) for x in symbols] == [
                ("questions", "parameter"), ("hit_rate", "parameter"), ("small", "model"), ("large", "model"),
                ("answers", "cache"), ("answer", "llm"), ("vector_db", "fixed"), ("launch", "scenario")]
        finally:
            await s.stop()
        assert s.client.stopped

    _run(session())


def test_a_diagnostic_in_an_imported_file_is_reported_at_the_import(tmp_path):
    (tmp_path / "shared.llmarch").write_text("param rate = 10% \"a share\nllm x {\n", encoding="utf-8")
    main = tmp_path / "main.llmarch"
    text = 'architecture "m"\nimport "shared.llmarch"\nparam n = 10 requests/day\ntraffic = n\n'
    main.write_text(text, encoding="utf-8")

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            found = await s.published(s.open(main, text))
            assert found and all(d.range.start.line == 1 for d in found), found
            assert found[0].related_information[0].location.uri == from_fs_path(str(tmp_path / "shared.llmarch"))
        finally:
            await s.stop()

    _run(session())


def test_a_scenario_file_model_errors_at_its_header_and_its_own_at_their_place(tmp_path):
    """A scenario file (`scenarios for`): a problem in the model it names is reported at the
    `scenarios for` line, with the model's place as related information; its own problems
    where they are; its outline is its own scenarios; definition goes into the model."""
    model = tmp_path / "model.llmarch"
    model.write_text('architecture "m"\nparam daily = 100 requests/day\ntraffic = daily\n'
                     'tool db { cost = 0.001 USD/call }\nflow { start -> db }\n', encoding="utf-8")
    path = tmp_path / "observed.llmarch"
    good = '# fitted\nscenarios for "model.llmarch"\nscenario observed { daily = 150 requests/day }\n'
    bad_own = good.replace("daily = 150", "dayly = 150")

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, good)
            assert await s.published(uri) == []
            symbols = await s.client.text_document_document_symbol_async(types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            assert [x.name for x in symbols] == ["observed"]
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=22)))
            assert location.uri == from_fs_path(str(model)) and location.range.start.line == 1
            s.change(uri, bad_own, 2)
            found = await s.published(uri)
            assert [(d.code, d.range.start.line, d.range.start.character) for d in found] == [("E201", 2, 20)]
            model.write_text(model.read_text(encoding="utf-8").replace("USD/call", "USDD/call"), encoding="utf-8")
            s.change(uri, good, 3)
            found = await s.published(uri)
            assert [(d.code, d.range.start.line) for d in found] == [("E004", 1)]
            assert found[0].related_information[0].location.uri == from_fs_path(str(model))
        finally:
            await s.stop()
        assert not any("internal error" in m for m in s.logs), s.logs

    _run(session())


def test_every_prefix_of_the_quickstart_leaves_the_server_standing(tmp_path):
    """Feeds the quickstart line by line, as someone typing it would; every version gets
    its diagnostics and the server answers hover afterwards."""
    path = tmp_path / "quickstart.llmarch"
    lines = QUICKSTART.read_text(encoding="utf-8").splitlines(keepends=True)

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, "")
            await s.published(uri)
            for n in range(1, len(lines) + 1):
                s.change(uri, "".join(lines[:n]), n + 1)
                found = await s.published(uri)
                assert all(d.code for d in found)
            assert found == []
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=19, character=8)))  # `vector_db`
            assert "**vector_db** (fixed, retrieval)" in hover.contents.value
        finally:
            await s.stop()
        assert not any("internal error" in m for m in s.logs), s.logs

    _run(session())


def test_definition_goes_into_an_imported_file(tmp_path):
    shared = tmp_path / "shared.llmarch"
    shared.write_text('param daily = 100 requests/day "requests a day"\n', encoding="utf-8")
    main = tmp_path / "main.llmarch"
    text = ('architecture "m"\nimport "shared.llmarch"\ntraffic = daily\n'
            'tool db { cost = 0.001 USD/call }\nflow { start -> db }\n')
    main.write_text(text, encoding="utf-8")

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(main, text)
            assert await s.published(uri) == []
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=2, character=12)))
            assert location.uri == from_fs_path(str(shared))
            assert (location.range.start.line, location.range.start.character, location.range.end.character) == (0, 6, 11)
            symbols = await s.client.text_document_document_symbol_async(types.DocumentSymbolParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
            assert [x.name for x in symbols] == ["db"]   # the outline is this file's own
        finally:
            await s.stop()

    _run(session())


def test_without_pygls_the_command_says_how_to_install_it():
    import subprocess
    script = ("import sys; sys.modules['pygls'] = None\n"
              "from llmarch import cli; sys.exit(cli.main(['lsp']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "error[E600]: the language server needs pygls" in done.stderr
    assert "pip install 'llmarch[lsp]'" in done.stderr


def test_notes_become_related_locations_and_the_help_is_appended(tmp_path):
    from llmarch.dsl.diagnostics import Diagnostic, Span

    from llmarch.lsp import to_lsp_diagnostics
    path = tmp_path / "a.llmarch"
    here = Span(str(path), 3, 5, 3, 9)
    note_here = Span(str(path), 1, 1, 1, 4)
    found = to_lsp_diagnostics([Diagnostic("warning", "L101", "too many tokens", here, "trim the prompt",
                                           (("declared here", note_here), ("a note without a place", None)))],
                               str(path), "abc\n\nxx  name\n")
    (d,) = found
    assert d.code == "L101" and d.severity == types.DiagnosticSeverity.Warning
    assert (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) == (2, 4, 2, 8)
    assert d.message == "too many tokens\nhelp: trim the prompt\nnote: a note without a place"
    (related,) = d.related_information
    assert related.message == "declared here" and related.location.uri == from_fs_path(str(path))
    assert (related.location.range.start.line, related.location.range.end.character) == (0, 3)


# --- completion, references, rename, debouncing (issue 15 item 1) ----------------------------

def _position(text: str, needle: str, offset: int = 0, occurrence: int = 0) -> types.Position:
    """Where the `occurrence`-th `needle` starts in `text`, plus `offset` characters."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    return types.Position(line=line, character=at - (text.rfind("\n", 0, at) + 1) + offset)


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with `edits` applied (from the last to the first, so positions stay right)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(p: types.Position) -> int:
        return offsets[p.line] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def _complete(s: _Session, uri: str, position: types.Position) -> list[str]:
    found = await s.client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position))
    return [item.label for item in found.items]


def test_completion_offers_what_the_compiler_accepts_there(tmp_path):
    from llmarch.compiler.elaborate.components import FIELDS
    from llmarch.compiler.elaborate.prices import CATALOG_MODEL_FIELDS
    from llmarch.compiler.loader import stdlib_modules
    from llmarch.dsl.parser import statement_keywords
    text = QUICKSTART.read_text(encoding="utf-8")
    # places to complete at, each on a line of its own added to the valid quickstart
    text += ('\n\nllm draft {\n  \n  model = \n  fallback = \n  output = 250 \n}\n'
             'model cheap = "openai:gpt-4o-m" { \n}\nimport \nuse \nscenario busy { \n}\n'
             'flow { answer -> \n}\nuse semantic_cache as faq { \n}\n# a comment \n')
    path = tmp_path / "quickstart.llmarch"

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, text)
            await s.published(uri)   # broken at the end (half-written): the quickstart's compile answers

            # a statement's first word: exactly what the parser accepts there
            assert sorted(await _complete(s, uri, types.Position(line=len(text.splitlines()), character=0))) \
                == sorted(statement_keywords())
            assert {"param", "llm", "template", "use", "import", "model"} <= set(statement_keywords())
            # a field of an llm: the compiler's own table, in its order
            assert await _complete(s, uri, _position(text, "  \n  model = ", 2)) == list(FIELDS["llm"])
            # the value of `model =`: the declared models (the file does not compile: as the text declares
            # them); of `fallback =`: components, not fixed costs
            assert await _complete(s, uri, _position(text, "model = \n", len("model = "))) \
                == ["cheap", "large", "small"]
            assert await _complete(s, uri, _position(text, "fallback = \n", len("fallback = "))) \
                == ["answer", "answers", "draft"]
            # after a number: unit words
            assert "tokens" in await _complete(s, uri, _position(text, "output = 250 \n", len("output = 250 ")))
            # inside a catalog reference: the catalog's ids matching what is typed
            refs = await _complete(s, uri, _position(text, '"openai:gpt-4o-m"', len('"openai:gpt-4o-m')))
            assert "openai:gpt-4o-mini" in refs and all("openai:gpt-4o-m" in r for r in refs)
            # a catalog model's body: its fields (with `discount`)
            assert await _complete(s, uri, _position(text, "{ \n}\nimport", 2)) == list(CATALOG_MODEL_FIELDS)
            # after `import`: the standard library's modules
            assert await _complete(s, uri, _position(text, "import \n", len("import "))) == stdlib_modules()
            # after `use`: templates, with their parameters and the import they need
            found = await s.client.text_document_completion_async(types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=_position(text, "use \n", len("use "))))
            cache = next(item for item in found.items if item.label == "semantic_cache")
            assert cache.detail == "template(hit_rate, lookup_cost) from `import caching`"
            assert cache.additional_text_edits[0].new_text == "import caching\n"
            # a scenario's body: the parameters it may set
            assert await _complete(s, uri, _position(text, "busy { ", len("busy { "))) == ["hit_rate", "questions"]
            # a flow: components and the flow's own nodes
            flow = await _complete(s, uri, _position(text, "answer -> \n", len("answer -> ")))
            assert {"answer", "answers", "draft", "start", "success", "failure"} <= set(flow)
            assert "vector_db" not in flow and "small" not in flow
            # a `use` body: the template's parameters
            assert await _complete(s, uri, _position(text, "faq { ", len("faq { "))) == ["hit_rate", "lookup_cost"]
            # nothing in a comment
            assert await _complete(s, uri, _position(text, "a comment ", len("a comment "))) == []
        finally:
            await s.stop()
        assert not any("failed" in m or "internal error" in m for m in s.logs), s.logs

    _run(session())


def test_references_and_rename_of_a_parameter_and_a_component(tmp_path):
    import llmarch
    text = QUICKSTART.read_text(encoding="utf-8")
    path = tmp_path / "quickstart.llmarch"
    path.write_text(text, encoding="utf-8")
    before = llmarch.loads(text, path=str(path)).cost().monthly_total

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, text)
            assert await s.published(uri) == []
            doc = types.TextDocumentIdentifier(uri=uri)

            # `hit_rate`: declared, given to the cache, set by the scenario; the cache's own
            # field `hit_rate = …` is not the parameter
            found = await s.client.text_document_references_async(types.ReferenceParams(
                text_document=doc, position=_position(text, "param hit_rate", 7),
                context=types.ReferenceContext(include_declaration=True)))
            where = sorted((x.range.start.line, x.range.start.character, x.range.end.character) for x in found)
            assert where == [(4, 6, 14), (10, 27, 35), (23, 50, 58)], where
            assert {x.uri for x in found} == {uri}
            without = await s.client.text_document_references_async(types.ReferenceParams(
                text_document=doc, position=_position(text, "hit_rate;", 0),
                context=types.ReferenceContext(include_declaration=False)))
            assert len(without) == 2

            # rename it: the edits give a file that compiles to the same cost
            prepared = await s.client.text_document_prepare_rename_async(types.PrepareRenameParams(
                text_document=doc, position=_position(text, "hit_rate = hit_rate", 13)))
            assert (prepared.start.line, prepared.start.character, prepared.end.character) == (10, 27, 35)
            edit = await s.client.text_document_rename_async(types.RenameParams(
                text_document=doc, position=_position(text, "param hit_rate", 7), new_name="cache_hit_rate"))
            renamed = _apply(text, edit.changes[uri])
            assert renamed.count("cache_hit_rate") == 3
            assert "cache answers { hit_rate = cache_hit_rate;" in renamed
            assert llmarch.loads(renamed, path=str(path)).cost().monthly_total == before

            # a component: its declaration and the flow
            edit = await s.client.text_document_rename_async(types.RenameParams(
                text_document=doc, position=_position(text, "-> answer }", 3), new_name="reply"))
            renamed = _apply(text, edit.changes[uri])
            assert "llm reply {" in renamed and "start -> answers -> reply }" in renamed
            assert llmarch.loads(renamed, path=str(path)).cost().monthly_total == before

            # refused: a keyword, a name that is taken, a name that is no name, something not renameable
            for position, new_name, message in [
                    (_position(text, "param hit_rate", 7), "model", "`model` is a keyword"),
                    (_position(text, "param hit_rate", 7), "questions", "`questions` is already declared (as a parameter)"),
                    (_position(text, "param hit_rate", 7), "small", "`small` is already declared (as a model)"),
                    (_position(text, "param hit_rate", 7), "2fast", "`2fast` is not a name"),
                    (_position(text, "param hit_rate", 7), "start", "`start` is built in"),
                    (_position(text, "scenario launch", 10), "go", "only a parameter, model or component")]:
                with pytest.raises(Exception) as refused:
                    await s.client.text_document_rename_async(types.RenameParams(
                        text_document=doc, position=position, new_name=new_name))
                assert message in str(refused.value), (new_name, refused.value)
        finally:
            await s.stop()

    _run(session())


def test_definition_and_references_reach_into_the_standard_library(tmp_path):
    import llmarch.stdlib
    stdlib = Path(llmarch.stdlib.__file__).parent
    text = ('architecture "s"\nimport caching\nparam n = 1000 requests/day\ntraffic = n\n'
            'tool db { cost = 0.001 USD/call }\nuse semantic_cache as faq { hit_rate = 30% }\n'
            'flow { start -> faq -> db }\n')
    path = tmp_path / "main.llmarch"
    path.write_text(text, encoding="utf-8")
    caching = (stdlib / "caching.llmarch").read_text(encoding="utf-8")

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, text)
            assert await s.published(uri) == []
            doc = types.TextDocumentIdentifier(uri=uri)
            # an import opens its module
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=doc, position=_position(text, "caching", 2)))
            assert location.uri == from_fs_path(str(stdlib / "caching.llmarch"))
            # a template, and a template's parameter, are declared in it
            declared = _position(caching, "template semantic_cache", len("template "))
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=doc, position=_position(text, "semantic_cache", 3)))
            assert location.uri == from_fs_path(str(stdlib / "caching.llmarch"))
            assert (location.range.start.line, location.range.start.character) == (declared.line, declared.character)
            location = await s.client.text_document_definition_async(types.DefinitionParams(
                text_document=doc, position=_position(text, "hit_rate = 30%", 2)))
            param = _position(caching, "param hit_rate", len("param "))
            assert (location.range.start.line, location.range.start.character) == (param.line, param.character)
            # the instance is a name of this file, used in the flow
            found = await s.client.text_document_references_async(types.ReferenceParams(
                text_document=doc, position=_position(text, "faq ->", 0),
                context=types.ReferenceContext(include_declaration=True)))
            assert sorted((x.range.start.line, x.range.start.character) for x in found) == [(5, 22), (6, 16)]
            # the template's references: its declaration in the standard library and its use here
            found = await s.client.text_document_references_async(types.ReferenceParams(
                text_document=doc, position=_position(text, "semantic_cache", 3),
                context=types.ReferenceContext(include_declaration=True)))
            assert {x.uri for x in found} == {uri, from_fs_path(str(stdlib / "caching.llmarch"))}
            # hover on the template: its parameters
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=_position(text, "semantic_cache", 3)))
            assert "`use semantic_cache as NAME { hit_rate = …; lookup_cost = … }`" in hover.contents.value
        finally:
            await s.stop()

    _run(session())


def test_hover_on_a_parameter_gives_its_sensitivity(tmp_path):
    # monthly = n × price × 30 days: d/dn = 0.002 × 30 = $0.06 per request/day, d/dprice =
    # 1000 × 30 = $30,000 per USD/call; both elasticities 1
    text = ('architecture "h"\nsettings { month = 30 days }\nparam n = 1000 requests/day in [0, 5000] "traffic"\n'
            'param price = 0.002 USD/call\ntraffic = n\ntool db { cost = price }\nflow { start -> db }\n')
    path = tmp_path / "h.llmarch"

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, text)
            assert await s.published(uri) == []
            doc = types.TextDocumentIdentifier(uri=uri)
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=_position(text, "traffic = n", len("traffic = "))))
            value = hover.contents.value
            assert "**n** = 1000 requests/day" in value and "range [0, 5000]" in value and "traffic" in value
            assert "d monthly / d n = +$0.06 per 1 requests/day" in value, value
            assert "elasticity +1.000" in value
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=_position(text, "cost = price", len("cost = "))))
            assert "d monthly / d price = +$30,000.00 per 1 USD/call" in hover.contents.value, hover.contents.value
            # the component: $60 a month, all of it
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=doc, position=_position(text, "tool db", 6)))
            assert "| `db` | 1 | $0.002000 | $60.00 | 100.0% |" in hover.contents.value, hover.contents.value
            lenses = await s.client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
            assert [(x.range.start.line, x.command.title) for x in lenses] == [(5, "$60.00/month · 100.0% of the total")]
        finally:
            await s.stop()

    _run(session())


def test_a_burst_of_changes_compiles_once(tmp_path):
    """Ten changes sent at once (with a half-second debounce) give one compile: the first
    diagnostics after the burst are of its last version, and the next are of the next change."""
    text = QUICKSTART.read_text(encoding="utf-8")
    path = tmp_path / "quickstart.llmarch"

    async def session():
        s = _Session()
        await s.start(tmp_path, debounce=0.5)
        try:
            uri = s.open(path, text)
            assert (await s.publication(uri)).version == 1
            for version in range(2, 12):   # every other version broken in a different way
                s.change(uri, text.replace("model = small", "model = smal" if version % 2 else "model = "), version)
            after = await s.publication(uri)
            assert after.version == 11 and [d.code for d in after.diagnostics] == ["E216"], after
            s.change(uri, text, 12)
            after = await s.publication(uri)
            assert (after.version, list(after.diagnostics)) == (12, [])
        finally:
            await s.stop()

    _run(session())


def test_every_example_cut_anywhere_leaves_the_server_standing(tmp_path):
    """A fuzz test: every example, cut at 25 seeded places (15 line ends, 10 anywhere, inside
    words and strings too), is sent as a change; each version gets its diagnostics (with
    codes), and completion and hover at the cut never fail; then completion at 20 places of
    the whole file."""
    import random
    rng = random.Random(15)
    examples = sorted(ROOT.glob("examples/**/*.llmarch"))

    async def session():
        s = _Session()
        await s.start(tmp_path, debounce=0)
        try:
            for example in examples:
                text = example.read_text(encoding="utf-8")
                path = tmp_path / example.relative_to(ROOT)
                path.parent.mkdir(parents=True, exist_ok=True)
                for other in example.parent.glob("*.llmarch"):   # imports resolve beside it
                    (path.parent / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
                line_ends = [i for i, ch in enumerate(text) if ch == "\n"]
                cuts = sorted(set(rng.sample(line_ends, min(15, len(line_ends)))
                                  + rng.sample(range(len(text) + 1), 10))) + [len(text)]
                uri = s.open(path, "")
                await s.published(uri)
                for version, cut in enumerate(cuts, start=2):
                    prefix = text[:cut]
                    s.change(uri, prefix, version)
                    found = await s.published(uri)
                    assert all(d.code for d in found), (example, cut)
                    end = types.Position(line=prefix.count("\n"), character=cut - (prefix.rfind("\n") + 1))
                    doc = types.TextDocumentIdentifier(uri=uri)
                    await s.client.text_document_completion_async(types.CompletionParams(text_document=doc,
                                                                                         position=end))
                    await s.client.text_document_hover_async(types.HoverParams(text_document=doc, position=end))
                assert found == [], (example, found)
                # completion anywhere in the whole file
                lines = text.split("\n")
                for _ in range(20):
                    line = rng.randrange(len(lines))
                    position = types.Position(line=line, character=rng.randrange(len(lines[line]) + 1))
                    await s.client.text_document_completion_async(types.CompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri), position=position))
        finally:
            await s.stop()
        assert not any("failed" in m or "internal error" in m for m in s.logs), s.logs

    _run(session())


def test_completion_context_reads_any_text_without_failing():
    """`completion_context` at 400 seeded places of every example, and at every place of
    every prefix of the quickstart's first lines, answers one of its kinds."""
    import random

    from llmarch.lsp_index import completion_context
    kinds = {"statement", "field", "value", "unit", "flow", "catalog", "import", "import path", "template name",
             "nothing"}
    rng = random.Random(1)
    for example in sorted(ROOT.glob("examples/**/*.llmarch")):
        lines = example.read_text(encoding="utf-8").split("\n")
        for _ in range(400):
            line = rng.randrange(len(lines))
            context = completion_context("\n".join(lines), line, rng.randrange(len(lines[line]) + 1))
            assert context.what in kinds
    text = "\n".join(QUICKSTART.read_text(encoding="utf-8").split("\n")[:14])
    for cut in range(len(text) + 1):
        prefix = text[:cut]
        assert completion_context(prefix, prefix.count("\n"), cut - (prefix.rfind("\n") + 1)).what in kinds
    assert completion_context('llm a {\n  model = ', 1, 10).field == "model"
    assert completion_context('model m = "openai:gpt', 0, 21).prefix == "openai:gpt"


def test_a_note_of_a_diagnostic_is_a_related_location(tmp_path):
    """E101 says where the name was first declared: the editor gets that place as related
    information, in the same file."""
    text = ('architecture "d"\nparam n = 10 requests/day\nparam n = 20 requests/day\ntraffic = n\n'
            'tool db { cost = 0.001 USD/call }\nflow { start -> db }\n')
    path = tmp_path / "d.llmarch"

    async def session():
        s = _Session()
        await s.start(tmp_path)
        try:
            uri = s.open(path, text)
            (found,) = await s.published(uri)
            assert found.code == "E101" and found.range.start.line == 2
            (related,) = found.related_information
            assert related.message == "first declared here" and related.location.uri == uri
            assert (related.location.range.start.line, related.location.range.start.character) == (1, 6)
        finally:
            await s.stop()

    _run(session())


def test_a_change_right_after_the_diagnostics_still_answers_from_a_compile(tmp_path):
    """The diagnostics of a text that compiles go out before its cost model is built; a
    change sent the moment they arrive (no debounce) queues the next compile while the
    first is finishing, and a hover sent the moment the next diagnostics arrive answers
    from that next compile (it waits for the one under way). On the benchmark's generator
    at 500 components, so that building the cost model takes a while."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "bench_compile.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text = bench.generate(500)
    path = tmp_path / "big.llmarch"
    edited = text.replace("\n", "\n\n", 1)   # every line one lower
    component = _position(edited, "llm answer_0", len("llm "))

    async def session():
        s = _Session()
        await s.start(tmp_path, debounce=0)
        try:
            uri = s.open(path, text)
            assert await s.published(uri) == []
            s.change(uri, edited, 2)
            assert (await s.publication(uri)).version == 2
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=component))
            assert hover is not None and "**answer_0** (llm" in hover.contents.value, hover
        finally:
            await s.stop()

    _run(session())


def test_every_line_prefix_of_every_example_and_every_prefix_of_the_quickstart_compile_without_a_failure():
    """What the server's worker does with a half-written file (`_compile_text`, the function
    each debounced change runs), for every prefix that ends a line of every example and every
    character prefix of the quickstart: a model or diagnostics with codes, never an internal
    failure; and `completion_context` reads the place at the end of each prefix."""
    from llmarch import lsp
    from llmarch.api import loads
    from llmarch.lsp_index import completion_context

    checked = 0
    for example in sorted(ROOT.glob("examples/**/*.llmarch")):
        text = example.read_text(encoding="utf-8")
        cuts = [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        if example == QUICKSTART:
            cuts = range(len(text) + 1)
        for cut in cuts:
            prefix = text[:cut]
            outcome = lsp._compile_text(loads, prefix, str(example), None)
            assert outcome.failure is None, (example, cut, outcome.failure)
            assert outcome.model is not None or (outcome.diagnostics and all(d.code for d in outcome.diagnostics)), \
                (example, cut)
            completion_context(prefix, prefix.count("\n"), cut - (prefix.rfind("\n") + 1))
            checked += 1
    assert checked > 2000
