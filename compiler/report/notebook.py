"""The compact summary a notebook shows for a model (no script)."""

from __future__ import annotations

from typing import Optional

from llmarch.dsl.diagnostics import LlmarchError

from ..output import (COMPONENT_HEADER, category_rows, component_rows, price_rows, summary_rows)
from ..present import PRICE_SOURCE_HEADER
from ..pipeline import Compiled
from .htmlkit import diagram, escape


# --- Jupyter ------------------------------------------------------------------------------------

def summary_html(compiled: Compiled, scenario: Optional[str] = None, top: int = 10) -> str:
    """A compact summary for a notebook (`Model._repr_html_`): plain tables and, when Graphviz
    is there and the architecture is small, the diagram. No script: notebooks may not run it."""
    arch = compiled.arch
    try:
        evaluation = compiled.evaluator.evaluation(scenario)
        r = evaluation.result
    except LlmarchError as exc:
        return (f"<div><strong>{escape(arch.title)}</strong>: cannot evaluate"
                f"<pre>{escape(exc.render())}</pre></div>")
    out = [f'<div class="llmarch-summary"><h3>{escape(arch.title)}'
           + (f" — scenario {escape(scenario)}" if scenario else "") + "</h3>"]
    out.append("<table><tbody>" + "".join(f"<tr><th style=\"text-align:left\">{escape(k)}</th>"
                                            f"<td style=\"text-align:right\">{escape(v)}</td></tr>"
                                            for k, v in summary_rows(r)) + "</tbody></table>")
    out.append("<table><thead><tr><th>cost vector</th><th>per month</th><th>share</th></tr></thead><tbody>"
               + "".join(f"<tr><td>{escape(c)}</td><td style=\"text-align:right\">{escape(v)}</td>"
                         f"<td style=\"text-align:right\">{escape(s)}</td></tr>" for c, v, s in category_rows(r))
               + "</tbody></table>")
    rows = component_rows(r)
    out.append(f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in COMPONENT_HEADER)}</tr></thead><tbody>"
               + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows[:top])
               + "</tbody></table>")
    if len(rows) > top:
        out.append(f"<p>{len(rows) - top:,} more components: <code>model.cost()</code> lists them all.</p>")
    if r.prices:
        out.append(f"<table><thead><tr>{''.join(f'<th>{escape(h)}</th>' for h in PRICE_SOURCE_HEADER)}</tr></thead>"
                   "<tbody>" + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                                       for row in price_rows(r)) + "</tbody></table>")
    picture = diagram(compiled, evaluation)
    if picture.svg:
        out.append(f"<div>{picture.svg}</div>")
    out.append("</div>")
    return "".join(out)
