"""Styled HTML tables for notebooks (`CostResult._repr_html_`, `Model._repr_html_`).

Styled with `style` attributes only: notebook front ends drop or scope `<style>` elements in
an output (JupyterLab's sanitizer, GitHub's and VS Code's renderers) but keep these. Header
cells muted, rules between rows, numbers right-aligned in tabular figures and never wrapped.
Every text is escaped here; only `prefix` markup (a colour dot) is passed through.

A leaf module: it imports nothing of llmarch.
"""

from __future__ import annotations

import html
from typing import Iterable, Optional, Sequence

__all__ = ["table", "note", "dot", "CATEGORY_COLORS"]

#: The cost vectors' colours, as the report draws them.
CATEGORY_COLORS = {"inference": "#4e79a7", "retrieval": "#f28e2b", "human": "#e15759", "ops": "#76b7b2",
                   "infra": "#59a14f"}

_MUTED = "#59636e"
_TABLE = ('style="border-collapse:collapse;margin:4px 16px 12px 0;font-size:13px;'
          'font-variant-numeric:tabular-nums"')
_CAPTION = 'style="caption-side:top;text-align:left;font-weight:600;padding:0 0 4px;color:inherit"'
_HEAD = 'style="text-align:{align};padding:3px 10px;border-bottom:2px solid #d1d9e0;color:' + _MUTED + ';font-weight:600"'
_ROW_HEAD = ('style="text-align:left;padding:3px 10px;border-bottom:1px solid #eaeef2;font-weight:normal;color:'
             + _MUTED + '"')
_CELL = 'style="text-align:{align};padding:3px 10px;border-bottom:1px solid #eaeef2{extra}"'


def _cell(text: str, right: bool, prefix: str = "") -> str:
    style = _CELL.format(align="right" if right else "left", extra=";white-space:nowrap" if right else "")
    return f"<td {style}>{prefix}{html.escape(str(text))}</td>"


def table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]], right: set[int],
          row_heads: bool = False, prefixes: Optional[Sequence[str]] = None) -> str:
    """A table: `head` (none when empty), `rows` of texts; the columns in `right` are numbers.
    With `row_heads`, each row's first cell is its heading; `prefixes[i]` goes before the
    first cell of row i."""
    header = "".join(f'<th {_HEAD.format(align="right" if k in right else "left")}>{html.escape(h)}</th>'
                     for k, h in enumerate(head))
    body = []
    for i, row in enumerate(rows):
        prefix = prefixes[i] if prefixes else ""
        cells = [f"<th {_ROW_HEAD}>{prefix}{html.escape(str(row[0]))}</th>" if row_heads
                 else _cell(row[0], 0 in right, prefix)]
        cells += [_cell(text, k in right) for k, text in enumerate(row) if k]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table {_TABLE}><caption {_CAPTION}>{html.escape(caption)}</caption>"
            + (f"<thead><tr>{header}</tr></thead>" if header else "") + "<tbody>" + "".join(body) + "</tbody></table>")


def note(text: str) -> str:
    """A muted line of text; `text` is markup (escape what it quotes)."""
    return f'<p style="color:{_MUTED};margin:0 0 8px">{text}</p>'


def dot(category: str) -> str:
    """The colour dot of a cost vector."""
    color = CATEGORY_COLORS.get(category, "#999999")
    return (f'<span style="display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px;'
            f'background:{color}"></span>')
