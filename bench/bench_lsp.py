"""Language-server benchmark: `llmarch lsp` driven over standard input and output, as an editor does.

    python bench/bench_lsp.py                    # the 1,000-component file, 5 runs of each step
    python bench/bench_lsp.py --size 100 --runs 9
    python bench/bench_lsp.py --debounce 0       # without the server's wait after a change

It generates the benchmark architecture of `bench_compile.py` (N components, a chain of
10-component blocks), starts `python -m llmarch lsp` as a subprocess with pygls's client,
opens the file and times, from the client's side (request sent -> answer read):

    open          didOpen -> its diagnostics (the first compile, in a fresh server)
    edit          didChange of one number -> its diagnostics (the debounce, then the
                  compile up to its checks: a text that compiles is published before
                  its cost model is built)
    edit, broken  didChange that misspells a model -> its diagnostics (an E216)
    hover, first  hover on a component right after an edit's diagnostics (it waits for the
                  rest of the compile and the default scenario's cost)
    the server's whole compile
                  the edit's compile on the server's worker, cost model included (its log)
    hover         hover on a component, then on a parameter (its sensitivity), once computed
    completion    completion of a value (every parameter in scope)
    references    every use of a parameter
    rename        the edits that rename a component
    compile in process (yardstick)
                  `llmarch.loads` of an edited text in the bench's own process: what
                  an edit's diagnostics cannot beat (the machine's speed at the time)

Each step runs `--runs` times (an edit alternates between two values, so every edit
compiles); the table prints min and median in milliseconds. Not a pytest test: numbers,
no assertions. Whole-process timings (`farm-bench`) are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compile import generate  # noqa: E402


class _Client:
    def __init__(self) -> None:
        self.client = BaseLanguageClient("llmarch-bench", "1")
        self.queue: asyncio.Queue = asyncio.Queue()
        self.compiled: dict[int, float] = {}   # version -> the server's own compile time, seconds

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def _logged(params: types.LogMessageParams) -> None:
            found = re.search(r"version (\d+) in (\d+) ms$", params.message)
            if found:
                self.compiled[int(found.group(1))] = int(found.group(2)) / 1000

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(params: types.PublishDiagnosticsParams) -> None:
            self.queue.put_nowait((time.perf_counter(), params))

    async def diagnostics_of(self, version: int) -> tuple[float, types.PublishDiagnosticsParams]:
        while True:
            at, params = await asyncio.wait_for(self.queue.get(), timeout=120)
            if params.version == version:
                return at, params


def _position(text: str, needle: str, offset: int = 0) -> types.Position:
    at = text.index(needle)
    return types.Position(line=text.count("\n", 0, at), character=at - (text.rfind("\n", 0, at) + 1) + offset)


async def _bench(size: int, runs: int, debounce: float | None) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="llmarch-bench-lsp-"))
    path = folder / f"bench_{size}.llmarch"
    text = generate(size)
    path.write_text(text, encoding="utf-8")
    c = _Client()
    await c.client.start_io(sys.executable, "-m", "llmarch", "lsp", cwd=str(folder))
    options = {"debounce": debounce} if debounce is not None else None
    await c.client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(folder)), initialization_options=options))
    c.client.initialized(types.InitializedParams())
    uri = from_fs_path(str(path))
    doc = types.TextDocumentIdentifier(uri=uri)
    times: dict[str, list[float]] = {}

    def keep(step: str, seconds: float) -> None:
        times.setdefault(step, []).append(seconds * 1000)

    sent = time.perf_counter()
    c.client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="llmarch", version=1, text=text)))
    at, params = await c.diagnostics_of(1)
    assert not params.diagnostics, params.diagnostics
    keep("open", at - sent)

    # the edits: one number, alternating, so that every change is a new text
    number = "param answer_tokens = 300 tokens"
    assert number in text, "the generator's file changed: pick another edit"
    component = _position(text, "llm answer_0", len("llm "))
    parameter = _position(text, "param answer_tokens", len("param "))
    hover_at = types.HoverParams(text_document=doc, position=component)
    version = 1
    for run in range(runs):
        version += 1
        edited = text.replace(number, number.replace("300", "301" if run % 2 == 0 else "300"))
        sent = time.perf_counter()
        c.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
        at, params = await c.diagnostics_of(version)
        assert not params.diagnostics, params.diagnostics
        keep("edit", at - sent)
        sent = time.perf_counter()
        hover = await c.client.text_document_hover_async(hover_at)
        keep("hover, first", time.perf_counter() - sent)
        keep("the server's whole compile", c.compiled.get(version, float("nan")))
        assert hover is not None and "answer_0" in hover.contents.value, hover
    broken_text = text.replace("  model = claude\n", "  model = claud\n", 1)
    assert broken_text != text, "the generator's file changed: pick another edit"
    for _ in range(runs):
        version += 1
        sent = time.perf_counter()
        c.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken_text if version % 2 else
                                                                          text)]))
        at, params = await c.diagnostics_of(version)
        if version % 2:
            assert [d.code for d in params.diagnostics] == ["E216"], params.diagnostics
            keep("edit, broken", at - sent)
    if version % 2:   # end on the valid text, so the requests below answer from it
        version += 1
        c.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        await c.diagnostics_of(version)
    await c.client.text_document_hover_async(types.HoverParams(text_document=doc, position=parameter))  # computed once
    for _ in range(runs):
        sent = time.perf_counter()
        await c.client.text_document_hover_async(hover_at)
        keep("hover, component", time.perf_counter() - sent)
        sent = time.perf_counter()
        hover = await c.client.text_document_hover_async(types.HoverParams(text_document=doc, position=parameter))
        keep("hover, parameter", time.perf_counter() - sent)
        assert "elasticity" in hover.contents.value, hover.contents.value
        sent = time.perf_counter()
        found = await c.client.text_document_completion_async(types.CompletionParams(
            text_document=doc, position=_position(text, "traffic = ", len("traffic = "))))
        keep("completion", time.perf_counter() - sent)
        assert found.items
        sent = time.perf_counter()
        found = await c.client.text_document_references_async(types.ReferenceParams(
            text_document=doc, position=parameter, context=types.ReferenceContext(include_declaration=True)))
        keep("references", time.perf_counter() - sent)
        assert len(found) > 1
        sent = time.perf_counter()
        edit = await c.client.text_document_rename_async(types.RenameParams(
            text_document=doc, position=component, new_name="reply_0"))
        keep("rename", time.perf_counter() - sent)
        assert edit.changes[uri]
    # the yardstick: the same compile in this process, no server (`llmarch.loads`), after a warm-up
    import llmarch
    llmarch.loads(text, path=str(path))
    for run in range(runs):
        edited = text.replace(number, number.replace("300", "301" if run % 2 == 0 else "300"))
        sent = time.perf_counter()
        llmarch.loads(edited, path=str(path))
        keep("compile in process (yardstick)", time.perf_counter() - sent)
    await c.client.shutdown_async(None)
    c.client.exit(None)
    await asyncio.wait_for(c.client.stop(), timeout=20)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="components in the file (a multiple of 10)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--debounce", type=float, default=None,
                        help="the server's wait after a change, seconds (default: the server's, 0.15)")
    args = parser.parse_args(argv)
    times = asyncio.run(_bench(args.size, args.runs, args.debounce))
    debounce = "the server's default" if args.debounce is None else f"{args.debounce:g} s"
    print(f"llmarch lsp over stdio, {args.size} components, {args.runs} runs, debounce {debounce}; "
          f"Python {platform.python_version()}, {os.cpu_count()} cores")
    print()
    print("| step | min | median |")
    print("|---|---:|---:|")
    for step, values in times.items():
        print(f"| {step} | {min(values):.1f} ms | {statistics.median(values):.1f} ms |")
    print(f"\nload average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
