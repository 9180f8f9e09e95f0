"""What the report shows and where it stops: its limits, in one place."""

from __future__ import annotations

from ..html_tables import CATEGORY_COLORS  # noqa: F401 - one palette for the report and the notebook

#: Component rows shown before the rest folds under "N more components".
TABLE_ROWS = 50
#: Rows under "N more components"; cheaper rows than these are counted, not written (the
#: page stays a few megabytes at 20,000 components; `llmarch cost` lists every row).
FOLDED_ROWS = 1000
#: Components and fixed costs above which the diagram is summarized by cost vector (dot's
#: layout takes long and the picture is unreadable at that size).
DIAGRAM_LIMIT = 150
#: Arrows above which the diagram is summarized by cost vector: a dense flow is what makes
#: Graphviz slow (the 149-component benchmark architecture, 327 arrows, takes it 21 s; a
#: 20-tool mesh, 401 arrows, 4 s; a 100-tool mesh of 9,900 edges more than 30 s and 760 MB).
DIAGRAM_EDGES = 250
#: Seconds Graphviz may take to lay out the full diagram before the summary is shown instead.
DIAGRAM_SECONDS = 20
#: Parameters shown in the tornado chart (the widest swings).
TORNADO_ROWS = 15
#: Rows of the failure-overhead table.
OVERHEAD_ROWS = 20
#: Lint findings shown before the rest fold under "N more findings".
FINDINGS_SHOWN = 10
#: Sliders above which a filter box is shown.
SLIDERS_FILTER = 30
#: Tornado and projection are recomputed while a slider moves when (evaluations per
#: update) × (lowered nodes) is at most this; above it, when the slider is released.
LIVE_ANALYSIS_LIMIT = 20_000
#: Months of the projection chart.
PROJECTION_MONTHS = 12
#: Components named in the projection chart split by component (the rest are "other").
PROJECTION_COMPONENTS = 6
#: Components listed in the Markdown report.
MARKDOWN_COMPONENTS = 10

#: Components in the latency chart (the longest) and the Markdown report's latency table.
LATENCY_ROWS = 15
