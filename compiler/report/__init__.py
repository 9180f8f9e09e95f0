"""The report: one self-contained, interactive HTML file; a Markdown summary for a pull
request; and the compact HTML a notebook shows for a model.

The HTML report is a single file with inline CSS and JavaScript and nothing else: no font,
no stylesheet, no script from anywhere, so it opens from a `file://` URL or as an e-mail
attachment and makes no network request. A Content-Security-Policy meta tag allows exactly
the inline scripts and the style sheet it carries (by their SHA-256) and nothing else.

Every figure is first written by Python, so the file reads without JavaScript. With
JavaScript, a slider per parameter (over its declared range, or a default span:
`page.slider_of`) recomputes every figure in the browser: the cost model is compiled to one JavaScript function (`jsgen.model_function`)
whose code holds only internal names; user text (names, labels, descriptions) travels in
a JSON block (`<script type="application/json">`, with `<`, `>`, `&`, U+2028 and U+2029
escaped) and is only ever put on the page as text.

Large architectures stay usable: the component table shows the `TABLE_ROWS` most
expensive rows and folds the next `FOLDED_ROWS` under "N more" (the rest are counted), the
diagram is summarized by cost vector above `DIAGRAM_LIMIT` components or `DIAGRAM_EDGES`
arrows, the tornado shows its `TORNADO_ROWS` widest bars, lint findings past
`FINDINGS_SHOWN` fold too, and above `SLIDERS_FILTER` sliders a filter box narrows them by
name.

The package's parts, in the order the page is built: `settings` (limits), `facts` (the
numbers, computed once), `htmlkit` (escaping, CSP, SVG cleaning, number formats),
`charts`, `page` (the HTML report), `markdown`, `notebook`.
"""

from __future__ import annotations

from .htmlkit import clean_svg, content_security_policy
from .markdown import report_markdown
from .notebook import summary_html
from .page import report_html
from .settings import (DIAGRAM_EDGES, DIAGRAM_LIMIT, FINDINGS_SHOWN, FOLDED_ROWS, LIVE_ANALYSIS_LIMIT,
                       OVERHEAD_ROWS, SLIDERS_FILTER, TABLE_ROWS, TORNADO_ROWS)

__all__ = ["report_html", "report_markdown", "summary_html", "content_security_policy", "TABLE_ROWS",
           "DIAGRAM_LIMIT", "DIAGRAM_EDGES", "FOLDED_ROWS", "TORNADO_ROWS", "OVERHEAD_ROWS", "FINDINGS_SHOWN",
           "SLIDERS_FILTER", "LIVE_ANALYSIS_LIMIT", "clean_svg"]
