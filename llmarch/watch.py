"""`llmarch watch FILE`: the HTML report served on 127.0.0.1, reloaded in the browser
when the file or a file it imports changes.

Standard library only: `http.server` answers in a thread of its own; the files are polled
every `INTERVAL` seconds (their content's SHA-256: an editor that saves the same text
changes nothing, and no file-system event API is needed). When one changes, the file is
compiled again and the page rebuilt; the page (`compiler/report/live.py`) asks `/version`
about three times a second and loads itself again when the version it shows is no longer
the server's. While the file does not compile, the page shows its diagnostics (the text
`llmarch check` prints) instead of a stale report; the report comes back once it compiles.

The watched files are the file and every file it imports, as the last compile read them
(the standard library's only when it lives in the same git repository as the file, i.e.
in a checkout of llmarch). The version is a hash of their contents, the scenario and the
overrides, so it is the same for the same input.

The server listens on 127.0.0.1 only (never on every interface), answers GET and HEAD
for `/` and `/version` and nothing else, and only to requests addressed to 127.0.0.1 or
localhost (a page elsewhere cannot read the report by pointing its own name at this
address: DNS rebinding).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from llmarch.dsl.diagnostics import LlmarchError, usage_error

__all__ = ["HOST", "INTERVAL", "Watch"]

#: The only address `llmarch watch` listens on.
HOST = "127.0.0.1"
#: Seconds between two looks at the watched files.
INTERVAL = 0.3


class Watch:
    """One file's report, served at `url` until `close()`.

    Construction listens on `HOST`:`port` (0: a free port), compiles the file and starts
    answering requests. The files are then polled by `run()` (in the calling thread, until
    `close()` or Ctrl-C) or `start()` (in a thread of its own); `poll()` looks once.
    `log(line)` hears a line for every build: the monthly total, or the error count.
    """

    def __init__(self, path: str | os.PathLike, scenario: str | None = None,
                 sets: Mapping[str, object] | None = None, port: int = 0, interval: float = INTERVAL,
                 log: Callable[[str], None] | None = None):
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise usage_error(f"the port must be a number from 0 to 65535, got {port}",
                              "0 picks a free port and prints the address")
        self.path = os.fspath(path)
        self.scenario = scenario
        self.sets = dict(sets or {})
        self.interval = interval
        self._log = log or (lambda line: None)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._fingerprint: dict[str, str] = {}
        self._page: tuple[str, bytes] = ("", b"")
        self._poller: threading.Thread | None = None
        self._server = _listen(port, self)
        self.port: int = self._server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.hosts = frozenset({f"{HOST}:{self.port}", f"localhost:{self.port}"})
        try:
            self.rebuild()
        except BaseException:
            self._server.server_close()
            raise
        self._http = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="llmarch-watch-http", daemon=True)
        self._http.start()

    # --- what is served ---------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The version of the page served now (a hash of the input)."""
        return self.page()[0]

    def page(self) -> tuple[str, bytes]:
        """The version and the HTML of the page served now."""
        with self._lock:
            return self._page

    @property
    def files(self) -> list[str]:
        """The files watched: the file and what it imports (absolute paths)."""
        return sorted(self._fingerprint)

    def rebuild(self) -> None:
        """Compile the file and build the page again: the report, or the diagnostics."""
        from llmarch.compiler import present
        from llmarch.compiler.pipeline import compile_file
        from llmarch.compiler.report.live import diagnostics_html
        from llmarch.compiler.report.page import report_html

        main = os.path.abspath(self.path)
        before = _fingerprint(set(self._fingerprint) | {main})
        sources = None
        try:
            compiled = compile_file(self.path)
            sources = compiled.sources
            version = self._version(before, sources)
            html = report_html(compiled, self.scenario, self.sets, watch_version=version)
            total = compiled.evaluator.evaluate(self.scenario, self.sets).monthly_total
            line = f"{self.path}: {present.money(total)} a month"
        except LlmarchError as exc:
            sources = exc.sources if sources is None else sources
            version = self._version(before, sources, failed=True)
            errors = sum(d.severity == "error" for d in exc.diagnostics) or len(exc.diagnostics)
            summary = f"{errors} error{'s' if errors != 1 else ''}"
            html = diagnostics_html(self.path, exc.render(), summary, version)
            line = f"{self.path}: {summary} (shown in the page)"
        except RecursionError:
            version = self._version(before, sources, failed=True)
            html = diagnostics_html(self.path, "error: the input is nested too deeply to process", "1 error", version)
            line = f"{self.path}: the input is nested too deeply to process"
        except Exception as exc:  # noqa: BLE001 - a bug in llmarch: say so in the page, keep watching
            version = self._version(before, sources, failed=True)
            text = (f"llmarch: internal error: {type(exc).__name__}: {exc}\n"
                    "this is a bug in llmarch; please report it with the input file")
            html = diagnostics_html(self.path, text, "internal error", version)
            line = f"{self.path}: internal error: {type(exc).__name__}: {exc}"
        with self._lock:
            self._page = (version, html.encode("utf-8"))
        self._log(time.strftime("%H:%M:%S ") + line)

    def _version(self, before: dict[str, str], sources, failed: bool = False) -> str:
        """Record the files this build read (their contents as they were before it) and
        return the page's version. A build that failed keeps watching the files the last
        one read too: an import that went missing is watched until it comes back."""
        main = os.path.abspath(self.path)
        files = {main} | set(_files_read(sources, main)) | (set(before) if failed else set())
        now = _fingerprint(files - set(before))       # files new to this build
        self._fingerprint = {f: before[f] if f in before else now[f] for f in files}
        digest = hashlib.sha256()
        for name, value in sorted(self._fingerprint.items()):
            digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogateescape"))
        digest.update(repr((self.scenario, sorted((str(k), str(v)) for k, v in self.sets.items()))).encode())
        return digest.hexdigest()[:16]

    # --- polling ----------------------------------------------------------------------------

    def poll(self) -> bool:
        """Look at the watched files once; rebuild the page if one changed (True)."""
        if _fingerprint(self._fingerprint) == self._fingerprint:
            return False
        self.rebuild()
        return True

    def run(self) -> None:
        """Poll every `interval` seconds in this thread until `close()` (or Ctrl-C)."""
        while not self._stop.wait(self.interval):
            self.poll()

    def start(self) -> Watch:
        """Poll in a thread of its own; returns self."""
        if self._poller is None:
            self._poller = threading.Thread(target=self.run, name="llmarch-watch-poll", daemon=True)
            self._poller.start()
        return self

    def close(self) -> None:
        """Stop polling and serving, and free the port."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _fingerprint(paths: Iterable[str]) -> dict[str, str]:
    """Each file's content hash (or why it cannot be read)."""
    out = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                out[path] = hashlib.sha256(handle.read()).hexdigest()
        except FileNotFoundError:
            out[path] = "missing"
        except OSError as exc:
            out[path] = f"unreadable: {exc.strerror or exc}"
    return out


def _repository(path: Path) -> Path | None:
    """The top folder of the git repository `path` is in, or None."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _files_read(sources, main: str) -> list[str]:
    """The files a compile read from disk; the standard library's only when it is in the
    same git repository as the main file (a checkout of llmarch)."""
    if sources is None:
        return []
    files = list(sources.origins.values())
    stdlib_names = [name for name in sources.texts() if name.startswith("<stdlib>/")]
    if stdlib_names:
        import llmarch.stdlib
        stdlib = Path(llmarch.stdlib.__file__).resolve().parent
        repository = _repository(stdlib)
        if repository is not None and repository == _repository(Path(main).resolve().parent):
            files += [str(stdlib / name.removeprefix("<stdlib>/")) for name in stdlib_names]
    return files


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    watch: Watch

    def handle_error(self, request, client_address) -> None:
        pass   # a browser that went away mid-answer (a reload): nothing to report


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    server_version = "llmarch-watch"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool) -> None:
        watch = self.server.watch
        if self.headers.get("Host", "") not in watch.hosts:
            self._send(403, b"llmarch watch answers requests for 127.0.0.1 and localhost only\n", "text/plain", body)
            return
        version, page = watch.page()
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, page, "text/html; charset=utf-8", body)
        elif path == "/version":
            self._send(200, version.encode("ascii"), "text/plain; charset=utf-8", body)
        else:
            self._send(404, b"not found: llmarch watch serves / and /version\n", "text/plain", body)

    def _send(self, status: int, data: bytes, content_type: str, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        pass   # no line per request: the terminal shows builds


def _listen(port: int, watch: Watch) -> _Server:
    try:
        server = _Server((HOST, port), _Handler)
    except OSError as exc:
        raise usage_error(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                          "choose another port, or 0 for a free one") from None
    server.watch = watch
    return server
