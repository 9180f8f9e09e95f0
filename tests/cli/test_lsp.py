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
            self.diagnostics.setdefault(params.uri, asyncio.Queue()).put_nowait(params.diagnostics)

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _logged(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

    async def start(self, cwd: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "llmarch", "lsp", cwd=str(cwd))
        await self.client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                                  root_uri=from_fs_path(str(cwd))))
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
        queue = self.diagnostics.setdefault(uri, asyncio.Queue())
        return list(await asyncio.wait_for(queue.get(), timeout=60))

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
