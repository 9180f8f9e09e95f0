"""The compact summary a notebook shows for a model (no script)."""

from __future__ import annotations

from typing import Optional

from llmarch.dsl.diagnostics import LlmarchError

from .. import html_tables
from ..output import (COMPONENT_HEADER, category_rows, component_rows, price_rows, summary_rows)
from ..present import PRICE_SOURCE_HEADER
from ..pipeline import Compiled
from .htmlkit import diagram, escape

_COMPONENT_NUMBERS = {3, 4, 5, 6, 7, 8}


# --- Jupyter ------------------------------------------------------------------------------------

def summary_html(compiled: Compiled, scenario: Optional[str] = None, top: int = 10) -> str:
    """A compact summary for a notebook (`Model._repr_html_`): the totals, the cost vectors and
    the most expensive components as styled tables (`html_tables`: numbers right-aligned, in
    the CLI's formats) and, when Graphviz is there, the diagram (summarized by cost vector for
    a large architecture, with its note). No script: notebooks may not run it."""
    arch = compiled.arch
    try:
        evaluation = compiled.evaluator.evaluation(scenario)
        r = evaluation.result
    except LlmarchError as exc:
        return (f"<div><strong>{escape(arch.title)}</strong>: cannot evaluate"
                f"<pre>{escape(exc.render())}</pre></div>")
    out = ['<div class="llmarch-summary" style="font-size:13px;line-height:1.4">'
           f'<h3 style="margin:4px 0 8px">{escape(arch.title)}'
           + (f" — scenario {escape(scenario)}" if scenario else "") + "</h3>",
           '<div style="display:flex;flex-wrap:wrap;align-items:flex-start">',
           html_tables.table("Totals", [], summary_rows(r), {1}, row_heads=True)]
    categories = category_rows(r)
    out.append(html_tables.table("Cost vectors", ["cost vector", "per month", "share"], categories, {1, 2},
                                 prefixes=[html_tables.dot(c) for c, _, _ in categories]))
    out.append("</div>")
    rows = component_rows(r)
    caption = f"The {top} most expensive of {len(rows):,} components" if len(rows) > top else "Components"
    out.append(html_tables.table(caption, COMPONENT_HEADER, rows[:top], _COMPONENT_NUMBERS))
    if len(rows) > top:
        out.append(html_tables.note(f"{len(rows) - top:,} more components: <code>model.cost()</code> lists them all."))
    if r.prices:
        out.append(html_tables.table("Where the model prices come from", PRICE_SOURCE_HEADER, price_rows(r), set()))
    picture = diagram(compiled, evaluation)
    if picture.svg:
        if picture.note:
            out.append(html_tables.note(escape(picture.note)))
        out.append(f'<div style="max-width:100%;overflow:auto">{picture.svg}</div>')
    out.append("</div>")
    return "".join(out)
