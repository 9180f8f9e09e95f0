"""The pages `llmarch watch` serves: the report with a reload script, and, while the file
does not compile, its diagnostics in place of a stale report.

Both pages poll the server's `/version` (`assets/watch.js`) and load themselves again when
it changes. Nothing the file says becomes markup: the diagnostics are escaped text in a
`<pre>`, the version an escaped attribute; the Content-Security-Policy allows the pages'
own inline script and style sheet (by hash) and requests to the page's own server only.
"""

from __future__ import annotations

from importlib import resources

from .htmlkit import content_security_policy, escape

__all__ = ["WATCH_JS", "diagnostics_html", "watch_script"]

WATCH_JS = resources.files("llmarch.compiler").joinpath("assets", "watch.js").read_text(encoding="utf-8")
if "</" in WATCH_JS or "<!--" in WATCH_JS:  # pragma: no cover - a bug in the asset
    raise ValueError("the watch script would close its element")

_CSS = """body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2731;background:#fff}
header{padding:18px 24px 8px;border-bottom:3px solid #c0392b}h1{font-size:22px;margin:0 0 4px}
.meta{color:#5d6d7e;margin:0}main{padding:12px 24px 40px}
pre{font:14px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;background:#fdf2f1;border:1px solid #f1c8c3;
border-radius:6px;padding:14px 16px;overflow-x:auto;white-space:pre}
.note{color:#5d6d7e}"""


def watch_script(version: str) -> str:
    """The `<script>` element that reloads a page served as `version` when the server's changes."""
    return f'<script id="llmarch-watch" data-version="{escape(version)}">{WATCH_JS}</script>'


def diagnostics_html(path: str, diagnostics: str, summary: str, version: str) -> str:
    """The page shown while `path` does not compile: `diagnostics`, the text `llmarch check`
    prints (code, message, source line, caret, help), and `summary` (`1 error`)."""
    policy = content_security_policy([WATCH_JS], [_CSS], connect=True)
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(summary)} · {escape(path)} · llmarch watch</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header><h1><code>{escape(path)}</code> does not compile</h1>',
        (f'<p class="meta" id="lm-watch-summary">{escape(summary)} · llmarch watch shows the report again '
         "as soon as the file compiles</p></header>"),
        f'<main><pre id="lm-diagnostics">{escape(diagnostics)}</pre>',
        ('<p class="note">The same text as <code>llmarch check</code>. This page reloads by itself when '
         "the file or a file it imports changes.</p></main>"),
        watch_script(version),
        "</body></html>\n",
    ])
