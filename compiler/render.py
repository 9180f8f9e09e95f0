"""Cost-annotated diagrams: the architecture as the user wrote it, in Graphviz DOT.

One node per declared component (not per lowered attempt): its kind, model, expected
visits per request, cost per request and monthly cost, filled by its share of the
monthly total (`SHADES`). A retry loop is drawn as a self-loop labelled with its
attempts; `fallback_model` is a line on the node; overlays sit in a cluster of their
own, fixed monthly costs in one box (`fixed`), template instances in one cluster each.
Edges carry the branch probability as written and the expected traversals per request.
When the file declares time, a component shows its seconds per request; when a model
declares provider limits, a component calling a model that is at or over one of them at
the peak is outlined in red, with the limit named in its label and its tooltip
(`LIMIT_COLOR`; the limits come from `compiler/capacity.py`).

The numbers come from the scenario's `Evaluation` (the evaluator's expected visits of
every lowered node and its edge probabilities); the tests check them against an
independent numeric solve of the lowered chain.

The python `graphviz` package assembles the DOT text; every user string (labels, the
title, scenario names) goes only into HTML-like labels through `escape_html`, node ids
are generated (`c3`, `f1`), so nothing a user writes can change the DOT's structure.
`render_dot` runs Graphviz's `dot` program under a timeout.

See docs/render.md for what each mark means.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional

import graphviz

from llmarch.dsl.diagnostics import usage_error

from . import ir, options, present
from .evaluate import CostResult, Evaluation, GraphNumbers, numeric
from .pipeline import Compiled
from .vectors import vector_links

__all__ = ["architecture_dot", "render_dot", "svg", "GraphvizMissing", "escape_html", "SHADES", "FORMATS", "SUMMARY_THRESHOLD", "FULL_LABELS", "INSTALL_HELP",
           "summary_dot", "count_edges", "SUMMARY_NAMES"]

#: Output formats `render_dot` produces (and `dot`, which is the text itself).
FORMATS = ("svg", "png", "pdf", "dot")

#: The colour scale: (lower bound of the share of the monthly total, fill, text colour).
#: A node takes the last step whose bound its share reaches; a node that costs nothing
#: is white. ColorBrewer's 5-class YlOrRd.
SHADES = (
    (0.00, "#ffffb2", "black"),
    (0.01, "#fecc5c", "black"),
    (0.05, "#fd8d3c", "black"),
    (0.15, "#f03b20", "white"),
    (0.35, "#bd0026", "white"),
)
_NO_COST = "#ffffff"

#: Above this many components the diagram is summarized (see docs/render.md).
SUMMARY_THRESHOLD = 150
#: In a summarized diagram, the components with the largest monthly cost keep full labels.
FULL_LABELS = 40

#: The program `render_dot` runs (tests point it elsewhere).
DOT_PROGRAM = "dot"

INSTALL_HELP = ("Graphviz's `dot` program is not installed (or not on PATH); install it with "
                "`apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz` (macOS) "
                "or from https://graphviz.org/download/")

#: The outline of a component whose model is at or over a provider limit at the peak.
LIMIT_COLOR = "#c0392b"

_FONT = "Helvetica"
_FAILURE_COLOR = "#c0392b"
_MUTED = "#7f8c8d"


class GraphvizMissing(Exception):
    """Graphviz's `dot` program is not on PATH."""

    def __init__(self, message: str = INSTALL_HELP):
        super().__init__(message)


# --- escaping ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_html(text: str) -> str:
    """`text` as the content of a Graphviz HTML-like label: shown exactly as written.

    `&`, `<`, `>`, `"` and `'` become entities (so the label's markup cannot be
    changed). Graphviz expands `\\N` (the node's id), `\\G` (the graph's name) and the
    other escString sequences even inside HTML-like labels, after resolving entities, so
    every backslash is doubled: `\\\\` shows as one backslash. A newline becomes a line
    break and a tab a space; control characters, which XML (and therefore SVG) cannot
    carry, become U+FFFD. `:`, braces, brackets and `|` mean nothing in an HTML-like
    label and are kept as they are.
    """
    text = text.replace("\r\n", "\n")
    text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;").replace("\\", "\\\\"))
    text = _CONTROL.sub("\ufffd", text)
    return text.replace("\t", " ").replace("\n", "<BR/>")


def _safe_id(name: str) -> str:
    """An SVG id made from a component name (identifiers already; anything else is replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _html(markup: str) -> str:
    """Mark `markup` (already escaped) as an HTML-like label for the graphviz package."""
    return f"<{markup}>"


# --- numbers ----------------------------------------------------------------------------


def _usd(x: float, per_request: bool = False) -> str:
    """Monthly amounts in cents; per request to the millionth of a dollar, three significant
    digits below a ten-thousandth (compiler/present.py)."""
    return present.money(x, per_request)


_count = present.count


_pct = present.percent


_probability = present.probability


def _visits(x: float) -> str:
    shown = _count(x)
    return f"{shown} visit{'' if shown == '1' else 's'} / request"


_share = present.share


_clean = present.clean


# --- the diagram ------------------------------------------------------------------------


@dataclass
class _Node:
    """What one source component shows."""

    name: str
    component: ir.Component
    visits: float                 # of its attempts
    cost_per_request: float       # attempts, fallback-model copy and overlay together
    monthly: float
    share: float
    fallback_visits: float = 0.0
    fallback_per_request: float = 0.0
    fallback_monthly: float = 0.0     # the `fallback_model` copy's share of `monthly`
    fallback_row: str = ""            # its row in `llmarch cost`: `name@model`
    retries: float = 0.0          # expected retries per request
    exhausted: float = 0.0        # expected times per request its last attempt fails
    through: float = 0.0          # expected visits that leave by the component's own branches
    ends: float = 0.0             # expected requests per request that end successfully here
    latency: Optional[float] = None   # seconds per request (its attempts and fallback copy), when timed
    limits: tuple = ()            # "gpt4 tpm at 124.3% at the peak" for each limit it reaches


def _shade(share: float, monthly: float) -> tuple[str, str]:
    if _clean(monthly) == 0:
        return _NO_COST, "black"
    fill, text = SHADES[0][1], SHADES[0][2]
    for bound, colour, font in SHADES:
        if share >= bound:
            fill, text = colour, font
    return fill, text


def _component_numbers(compiled: Compiled, result: CostResult, numbers: GraphNumbers, env: dict) -> dict[str, _Node]:
    arch, flow = compiled.arch, compiled.flow
    g = flow.graph
    rows: dict[str, list] = {}
    for row in result.components:
        if not row.is_fixed:
            rows.setdefault(row.component, []).append(row)
    out: dict[str, _Node] = {}
    for name, comp in arch.components.items():
        ids = flow.nodes_of.get(name, [])
        attempts = [n for n in ids if "@" not in n]
        copies = [n for n in ids if "@" in n]
        own = rows.get(name, [])
        per_request = sum(r.cost_per_request or 0.0 for r in own)
        monthly = sum(r.monthly for r in own)
        node = _Node(name, comp, visits=sum(numbers.visits[n] for n in attempts),
                     cost_per_request=per_request, monthly=monthly,
                     share=monthly / result.monthly_total if result.monthly_total else 0.0,
                     latency=(sum(r.latency_per_request or 0.0 for r in own) if result.has_latency else None))
        if comp.kind != "observe":
            retried = _retried(comp)
            f = float(numeric(comp.fail_rate, env)) if retried else 0.0
            node.retries = sum(numbers.visits[n] for n in attempts[1:])
            node.exhausted = numbers.visits[attempts[-1]] * f if retried else 0.0
            node.through = sum(numbers.visits[n] * ((1 - f) if retried else 1.0) for n in attempts)
            node.through += sum(numbers.visits[n] for n in copies)
            node.fallback_visits = sum(numbers.visits[n] for n in copies)
            node.fallback_per_request = sum(r.cost_per_request or 0.0 for r in own if "@" in r.name)
            node.fallback_monthly = sum(r.monthly for r in own if "@" in r.name)
            node.fallback_row = next((r.name for r in own if "@" in r.name), "")
            node.ends = sum(numbers.visits[n] * (1 - sum(numbers.probability[n, m] for m in g.successors(n)))
                            for n in ids)
        out[name] = node
    return out


def _retried(comp: ir.Component) -> bool:
    return comp.fail_rate != 0


def _table(rows: list[str], fill: str, *, dashed: bool = False, alarm: bool = False) -> str:
    """A component's box; `alarm` rings it in `LIMIT_COLOR`, a white gap between the ring
    and the fill so that it shows on the darkest shade too."""
    style = ' STYLE="ROUNDED,DASHED"' if dashed else ' STYLE="ROUNDED"'
    table = (f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" '
             f'BGCOLOR="{fill}" COLOR="#555555"{style}>' + "".join(f"<TR>{r}</TR>" for r in rows) + "</TABLE>")
    if not alarm:
        return table
    return (f'<TABLE BORDER="3" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="{LIMIT_COLOR}" '
            f'BGCOLOR="white" STYLE="ROUNDED"><TR><TD>{table}</TD></TR></TABLE>')


def limits_reached(arch: ir.Architecture, capacity) -> dict[str, tuple[str, ...]]:
    """Component -> the limits its models (its own and its `fallback_model`) are at or over
    at the peak, as `gpt4 tpm at 124.3% at the peak`; only components that reach one."""
    if capacity is None:
        return {}
    hot: dict[str, list[str]] = {}
    for row in capacity.limits:
        if row.peak_utilisation >= 1:
            hot.setdefault(row.model, []).append(f"{row.model} {row.limit} at {_share(row.peak_utilisation)} at the peak")
    out = {}
    for name, comp in arch.components.items():
        models = []
        own = arch.prices.get(comp.model) if comp.model else None
        for price in (own, comp.fallback_model):
            if price is not None and price.name not in models:
                models.append(price.name)
        lines = tuple(line for model in models for line in hot.get(model, ()))
        if lines:
            out[name] = lines
    return out


def _capacity_of(compiled: Compiled, evaluation: Evaluation, capacity):
    """The given `Capacity`, or the scenario's when a model declares a limit (else None)."""
    if capacity is not None or not any(p.limits for p in compiled.arch.prices.values()):
        return capacity
    from .capacity import capacity as compute

    return compute(compiled.arch, compiled.flow, evaluation)


def _cell(text: str, *, size: Optional[int] = None, bold: bool = False, italic: bool = False,
          color: Optional[str] = None) -> str:
    if color is not None:
        text = f'<FONT COLOR="{color}">{text}</FONT>'
    if bold:
        text = f"<B>{text}</B>"
    if italic:
        text = f"<I>{text}</I>"
    if size is not None:
        text = f'<FONT POINT-SIZE="{size}">{text}</FONT>'
    return f"<TD>{text}</TD>"


def _component_label(node: _Node, compact: bool) -> str:
    comp = node.component
    fill, font = _shade(node.share, node.monthly)
    monthly = f"{_usd(node.monthly)} / month · {_share(node.share)}"
    alarm = bool(node.limits)
    warnings = [_cell(escape_html(line), size=8, bold=True, color=LIMIT_COLOR if font == "black" else "white")
                for line in node.limits]
    if compact:
        return _table([_cell(escape_html(comp.name), bold=True), _cell(monthly, size=9)] + warnings, fill,
                      alarm=alarm)
    rows = [_cell(escape_html(comp.name), bold=True)]
    if comp.label:
        rows.append(_cell(escape_html(comp.label), size=9, italic=True))
    kind = escape_html(comp.kind) + (f" · {escape_html(comp.model)}" if comp.model else "")
    rows.append(_cell(kind, size=9))
    if comp.kind == "observe":
        rows.append(_cell(f"{_visits(node.visits)} (every request)", size=9))
    else:
        rows.append(_cell(_visits(node.visits), size=9))
    rows.append(_cell(f"{_usd(node.cost_per_request, True)} / request", size=9))
    if node.latency is not None and comp.kind != "observe":
        rows.append(_cell(f"{present.duration(node.latency)} / request", size=9))
    rows.append(_cell(monthly, bold=True))
    if comp.fallback_model is not None and _retried(comp):
        rows.append(_cell(f"fallback_model {escape_html(comp.fallback_model.name)}: "
                          f"{_visits(node.fallback_visits).removesuffix(' / request')}, "
                          f"{_usd(node.fallback_per_request, True)} / request", size=8))
        rows.append(_cell(f"of which {_usd(node.fallback_monthly)} / month on the fallback "
                          f"(row {escape_html(node.fallback_row)} in the cost table)", size=8))
    return _table(rows + warnings, fill, dashed=comp.kind == "observe", alarm=alarm)


def _edge_label(probability: Optional[float], flow: float, compact: bool, prefix: str = "") -> str:
    """`prefix`, `p …` (the branch probability) and the expected traversals per request."""
    if compact:
        return _html(f"{prefix} {_count(flow)}".strip())
    head = " ".join(part for part in (prefix, f"p {_pct(probability)}" if probability is not None else "") if part)
    return _html((f"{head}<BR/>" if head else "") + f"{_count(flow)} / request")


def architecture_dot(compiled: Compiled, evaluation: Evaluation, *, title: Optional[str] = None,
                     capacity=None) -> str:
    """Deterministic DOT text of the architecture, annotated with `evaluation`'s numbers.

    `evaluation` is `compiled.evaluator.evaluation(scenario, sets)`; `title` replaces the
    heading (the architecture's title and scenario); `capacity` is the scenario's
    `Capacity` (computed here when a model declares a limit and none is given). The same
    input gives byte-identical text. Above `SUMMARY_THRESHOLD` components, labels are
    shortened (docs/render.md).
    """
    arch = compiled.arch
    result, numbers, env = evaluation.result, evaluation.graph, evaluation.env
    nodes = _component_numbers(compiled, result, numbers, env)
    for name, lines in limits_reached(arch, _capacity_of(compiled, evaluation, capacity)).items():
        nodes[name].limits = lines
    summarized = len(arch.components) > SUMMARY_THRESHOLD
    full = set(arch.components)
    if summarized:
        order = {name: i for i, name in enumerate(arch.components)}
        ranked = sorted(nodes.values(), key=lambda n: (-n.monthly, order[n.name]))
        full = {n.name for n in ranked[:FULL_LABELS]}
    ids = {name: f"c{i}" for i, name in enumerate(arch.components, start=1)}

    if title is None:
        title = arch.title + (f" — scenario {result.scenario}" if result.scenario else "")
    dot = graphviz.Digraph("architecture", strict=False, comment="llmarch render")
    dot.graph_attr.update({
        "label": _html(f"<B>{escape_html(title)}</B>"), "labelloc": "t", "fontname": _FONT, "fontsize": "14",
        "rankdir": "TB", "nodesep": "0.3", "ranksep": "0.45", "newrank": "true", "charset": "UTF-8",
        # bounded network simplex: `dot` positions 1,000 components in about a second
        **({"nslimit": "0.2", "mclimit": "0.5"} if summarized else {}),
    })
    dot.node_attr.update({"shape": "plain", "fontname": _FONT, "fontsize": "10"})
    dot.edge_attr.update({"fontname": _FONT, "fontsize": "8", "color": "#34495e", "arrowsize": "0.7"})

    dot.node("start", _html("start"), shape="circle", style="filled", fillcolor="#2c3e50",
             fontcolor="white", fontsize="9", width="0.5", fixedsize="true")
    outcome_style = {
        "success": dict(shape="doublecircle", style="filled", fillcolor="#d5f5e3", fontsize="9", width="0.55",
                        fixedsize="true"),
        "failure": dict(shape="doubleoctagon", style="filled", fillcolor="#fadbd8", fontsize="9",
                        color=_FAILURE_COLOR),
    }
    drawn: set[str] = set()

    def outcome(name: str, source: str) -> str:
        """The node an edge into `success` or `failure` ends at, drawn when first used. A
        summarized diagram gives every source its own small copy: one shared outcome node
        would pull edges across the whole height of the layout (hundreds of thousands of
        virtual nodes in `dot`)."""
        if not summarized:
            if name not in drawn:
                drawn.add(name)
                dot.node(name, _html(name), **outcome_style[name])
            return name
        copy = f"{name}_{source}"
        if copy not in drawn:
            drawn.add(copy)
            dot.node(copy, _html(name), **{**outcome_style[name], "fontsize": "7", "width": "0.4"})
        return copy

    # nodes: components, by group (template instance) in the order the groups were declared
    flow_names = [n for n, c in arch.components.items() if c.kind != "observe"]
    observers = [n for n, c in arch.components.items() if c.kind == "observe"]
    group_order = list(arch.groups)
    for name in flow_names:
        group = arch.components[name].group
        if group is not None and group not in group_order:
            group_order.append(group)

    def add_component(graph, name: str) -> None:
        node = nodes[name]
        _, font = _shade(node.share, node.monthly)
        extra = {"tooltip": "; ".join(node.limits)} if node.limits else {}
        graph.node(ids[name], _html(_component_label(node, name not in full)), fontcolor=font,
                   id=f"component_{_safe_id(name)}", **extra)

    for name in flow_names:
        if arch.components[name].group is None:
            add_component(dot, name)
    for index, group in enumerate(group_order, start=1):
        members = [n for n in flow_names if arch.components[n].group == group]
        if not members:
            continue
        with dot.subgraph(name=f"cluster_group{index}") as cluster:
            label = arch.groups.get(group) or group
            cluster.attr(label=_html(f"<B>{escape_html(label)}</B>"
                                     + (f" ({escape_html(group)})" if label != group else "")),
                         style="rounded,dashed", color="#95a5a6", fontname=_FONT, fontsize="11")
            for name in members:
                add_component(cluster, name)
    if observers:
        with dot.subgraph(name="cluster_observability") as cluster:
            cluster.attr(label=_html("observability: priced on every request"), style="rounded,dotted",
                         color="#95a5a6", fontname=_FONT, fontsize="10")
            for name in observers:
                add_component(cluster, name)

    # edges
    def target_id(name: str, source: str) -> str:
        return ids[name] if name in ids else outcome(name, source)

    if arch.entry != "start":
        dot.edge("start", ids[arch.entry], label=_edge_label(None, 1.0, summarized))
    for name in observers:
        dot.edge("start", ids[name], style="dotted", arrowhead="none", color=_MUTED)
    for edge in arch.edges:
        if edge.source == "start":
            # the request branches as it enters (an instance whose `in` branches): every
            # request starts once, so the flow is the branch probability
            p = float(numeric(edge.probability, env))
            dot.edge("start", target_id(edge.target, "start"), label=_edge_label(p, p, summarized))
            continue
        node = nodes[edge.source]
        comp = node.component
        p = float(numeric(edge.probability, env))
        miss = 1.0
        if comp.kind == "cache" and comp.hit_rate is not None:
            miss = 1.0 - float(numeric(comp.hit_rate, env))
        flow_value = node.through * miss * p
        style = {"style": "dashed", "color": _FAILURE_COLOR, "fontcolor": _FAILURE_COLOR} if edge.on_failure else {}
        source = ids[edge.source]
        dot.edge(source, target_id(edge.target, source), label=_edge_label(p, flow_value, summarized), **style)
    for name in flow_names:
        node = nodes[name]
        comp = node.component
        source = ids[name]
        if comp.kind == "cache" and comp.hit_rate is not None:
            h = float(numeric(comp.hit_rate, env))
            dot.edge(source, target_id(comp.on_hit, source),
                     label=_edge_label(None, node.through * h, summarized, prefix=f"hit {_pct(h)}"),
                     color="#27ae60", fontcolor="#1e8449")
        attempts = [n for n in compiled.flow.nodes_of[name] if "@" not in n]
        failure = {"style": "dashed", "color": _FAILURE_COLOR, "fontcolor": _FAILURE_COLOR}
        if len(attempts) > 1:
            between = " " if summarized else "<BR/>"
            dot.edge(source, source, label=_html(f"retry ×{len(attempts) - 1} max{between}"
                                                 f"{_count(node.retries)} / request"), **failure)
        if _retried(comp) and comp.fallback_model is None:
            tries = f"after {len(attempts)} tr{'ies' if len(attempts) > 1 else 'y'}"
            if comp.fallback is not None:
                dot.edge(source, target_id(comp.fallback, source),
                         label=_edge_label(None, node.exhausted, summarized, prefix=f"fallback {tries}"),
                         **failure)
            else:
                dot.edge(source, outcome("failure", source),
                         label=_edge_label(None, node.exhausted, summarized, prefix=f"fails {tries}"),
                         **failure)
        if node.ends > 1e-12 and not summarized:
            dot.edge(source, outcome("success", source),
                     label=_edge_label(None, node.ends, summarized, prefix="ends here"),
                     style="dotted", color=_MUTED, fontcolor=_MUTED)

    # fixed monthly costs: one box of boxes, stacked without gaps (as nodes of their own, one
    # per rank, they took the height of the flow's ranks beside them: large empty gaps)
    fixed_rows = {r.name: r for r in result.components if r.is_fixed}
    if arch.fixed:
        items = []
        for name, fixed in arch.fixed.items():
            row = fixed_rows[name]
            fill, font = _shade(row.share, row.monthly)
            color = None if font == "black" else font
            rows = [_cell(escape_html(name), bold=True, color=color)]
            if fixed.label:
                rows.append(_cell(escape_html(fixed.label), size=9, italic=True, color=color))
            rows.append(_cell(f"{fixed.kind} · {escape_html(fixed.category)}", size=9, color=color))
            if fixed.group is not None:
                group_label = arch.groups.get(fixed.group) or fixed.group
                rows.append(_cell(f"in {escape_html(group_label)}", size=9, color=color))
            rows.append(_cell(f"{_usd(row.monthly)} / month · {_share(row.share)}", bold=True, color=color))
            items.append(f"<TR><TD>{_table(rows, fill)}</TD></TR>")
        dot.node("fixed", _html('<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="5" CELLPADDING="0" COLOR="#95a5a6" '
                                'STYLE="ROUNDED"><TR><TD><FONT POINT-SIZE="11"><B>fixed monthly costs</B></FONT></TD></TR>'
                                + "".join(items) + "</TABLE>"), id="fixed_costs")

    dot.node("legend", _html(_legend(result, summarized, len(arch.components),
                                     any(node.limits for node in nodes.values()))))
    return dot.source


def _legend(result: CostResult, summarized: bool, count: int, limited: bool = False) -> str:
    total = result.monthly_total
    rows = [_cell("<B>monthly total</B>") + _cell(f"<B>{_usd(total)}</B>")]
    rows.append(_cell("cost / request") + _cell(_usd(result.cost_per_request, True)))
    rows.append(_cell("P(success)") + _cell(_probability(result.p_success)))
    rows.append(_cell("requests / month") + _cell(present.whole(result.requests_per_month)))
    for category, monthly in result.by_category.items():
        rows.append(_cell(escape_html(category), size=9)
                    + _cell(f"{_usd(monthly)} · {_share(monthly / total if total else 0.0)}", size=9))
    scale = "".join(
        f'<TD BGCOLOR="{fill}"><FONT POINT-SIZE="8" COLOR="{font}">'
        + (f"≥ {_share(bound)}" if bound else "&gt; 0") + "</FONT></TD>"
        for bound, fill, font in SHADES)
    rows.append('<TD COLSPAN="2"><FONT POINT-SIZE="8">fill: share of the monthly total</FONT></TD>')
    rows.append('<TD COLSPAN="2"><TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2"><TR>'
                f'<TD BGCOLOR="{_NO_COST}"><FONT POINT-SIZE="8">0</FONT></TD>' + scale + "</TR></TABLE></TD>")
    if any("@" in r.name for r in result.components):
        rows.append('<TD COLSPAN="2"><FONT POINT-SIZE="8">a component\'s figures include its fallback_model '
                    'copy, which the cost table lists as its own row (name@model)</FONT></TD>')
    if summarized:
        rows.append(f'<TD COLSPAN="2"><FONT POINT-SIZE="8">{count} components: the {FULL_LABELS} most '
                    "expensive in full, the rest name and monthly cost</FONT></TD>")
    if limited:
        rows.append(f'<TD COLSPAN="2"><FONT POINT-SIZE="8" COLOR="{LIMIT_COLOR}"><B>red outline</B>: its model is at '
                    "or over a provider limit at the peak</FONT></TD>")
    if result.prices:   # which catalog entry, date and snapshot priced each model
        rows.append('<TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="8"><B>model prices</B></FONT></TD>')
        rows += [f'<TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="8">{escape_html(present.price_source_line(p))}'
                 "</FONT></TD>" for p in result.prices]
    return ('<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" COLOR="#95a5a6" BGCOLOR="white">'
            + "".join(f"<TR>{r}</TR>" for r in rows) + "</TABLE>")


# --- the summary by cost vector ----------------------------------------------------------

#: Most expensive components named in each box of the summary by cost vector.
SUMMARY_NAMES = 3


_DOT_EDGE = re.compile(r"^\t+\S+ -> \S+", re.M)


def count_edges(dot_text: str) -> int:
    """How many arrows DOT text of `architecture_dot` draws (labels are escaped, so no label
    holds an arrow). Graphviz's layout time grows with the arrows and their crossings more
    than with the boxes: a 20-tool mesh (401 arrows) takes it 4 s, a 30-tool one a minute,
    the 149-component benchmark architecture (327 arrows) 21 s, and a 100-tool mesh (9,900
    edges) runs past 30 s and 760 MB."""
    return len(_DOT_EDGE.findall(dot_text))


def summary_dot(compiled: Compiled, evaluation: Evaluation, *, title: Optional[str] = None,
                capacity=None) -> str:
    """Deterministic DOT text of the architecture summarized by cost vector: one box per
    cost vector that has a component or a fixed cost (how many, their expected visits, cost
    per request, monthly cost and share of the total, and the most expensive by name), and
    one arrow per pair of vectors that declared edges join, labelled with how many edges it
    stands for. For architectures too large to draw component by component (the report's
    limits); its size does not depend on the architecture's. Built from the cost table
    (`evaluation.result`) and the declared flow, without the lowered graph's numbers. A box
    holding a component whose model is at or over a provider limit at the peak is outlined
    in red and names the limits (`capacity`, computed when not given)."""
    arch = compiled.arch
    result, env = evaluation.result, evaluation.env
    reached = limits_reached(arch, _capacity_of(compiled, evaluation, capacity))
    total = result.monthly_total
    if title is None:
        title = arch.title + (f" — scenario {result.scenario}" if result.scenario else "")
    members: dict[str, list] = {c: [] for c in ir.CATEGORIES}
    for row in result.components:
        members[row.category].append(row)
    drawn = [c for c in ir.CATEGORIES if members[c]]

    dot = graphviz.Digraph("architecture", strict=False, comment="llmarch render: summary by cost vector")
    dot.graph_attr.update({"label": _html(f"<B>{escape_html(title)}</B>"), "labelloc": "t", "fontname": _FONT,
                           "fontsize": "14", "rankdir": "TB", "nodesep": "0.5", "ranksep": "0.6",
                           "charset": "UTF-8"})
    dot.node_attr.update({"shape": "plain", "fontname": _FONT, "fontsize": "10"})
    dot.edge_attr.update({"fontname": _FONT, "fontsize": "9", "color": "#34495e", "arrowsize": "0.7"})
    dot.node("start", _html("start"), shape="circle", style="filled", fillcolor="#2c3e50", fontcolor="white",
             fontsize="9", width="0.5", fixedsize="true")
    for category in drawn:
        rows = members[category]
        flow_rows = [r for r in rows if not r.is_fixed]
        fixed_rows = [r for r in rows if r.is_fixed]
        monthly = result.by_category[category]
        share = monthly / total if total else 0.0
        fill, font = _shade(share, monthly)
        components = {r.component for r in flow_rows}
        lines = [_cell(escape_html(category), bold=True)]
        counted = []
        if components:
            counted.append(f"{len(components):,} component{'' if len(components) == 1 else 's'}")
        if fixed_rows:
            counted.append(f"{len(fixed_rows):,} fixed cost{'' if len(fixed_rows) == 1 else 's'}")
        lines.append(_cell(" · ".join(counted), size=9))
        if flow_rows:
            lines.append(_cell(_visits(sum(r.expected_visits or 0.0 for r in flow_rows)), size=9))
            lines.append(_cell(f"{_usd(sum(r.cost_per_request or 0.0 for r in flow_rows), True)} / request", size=9))
        if fixed_rows:
            lines.append(_cell(f"fixed {_usd(sum(r.monthly for r in fixed_rows))} / month", size=9))
        lines.append(_cell(f"{_usd(monthly)} / month · {_share(share)}", bold=True))
        ranked = sorted(rows, key=lambda r: (-r.monthly, r.name))[:SUMMARY_NAMES]
        if ranked:
            lines.append(_cell("most expensive:", size=8, italic=True))
            lines += [_cell(f"{escape_html(r.name)} {_usd(r.monthly)}", size=8) for r in ranked]
        hot = list(dict.fromkeys(line for name in sorted(components) for line in reached.get(name, ())))
        lines += [_cell(escape_html(line), size=8, bold=True, color=LIMIT_COLOR if font == "black" else "white")
                  for line in hot[:SUMMARY_NAMES]]
        if len(hot) > SUMMARY_NAMES:
            lines.append(_cell(f"and {len(hot) - SUMMARY_NAMES:,} more limits reached", size=8))
        dot.node(f"v_{category}", _html(_table(lines, fill, alarm=bool(hot))), fontcolor=font, id=f"vector_{category}")

    # arrows: declared edges, fallbacks, cache hits and final failures, counted per pair
    links = vector_links(arch, env)
    for outcome in ("success", "failure"):
        if any(v == outcome for _, v in links):
            style = {"success": dict(shape="doublecircle", style="filled", fillcolor="#d5f5e3", fontsize="9",
                                     width="0.55", fixedsize="true"),
                     "failure": dict(shape="doubleoctagon", style="filled", fillcolor="#fadbd8", fontsize="9",
                                     color=_FAILURE_COLOR)}[outcome]
            dot.node(outcome, _html(outcome), **style)
    for (u, v), (count, failures) in links.items():
        text = f"{count:,} edge{'' if count == 1 else 's'}"
        if v in ("success", "failure") and u != "start":
            how = "end a request successfully" if v == "success" else "fail a request"
            text = f"{count:,} component{'' if count == 1 else 's'} can {how} here"
        if failures == count:
            dot.edge(u, v, label=_html(text), style="dashed", color=_FAILURE_COLOR, fontcolor=_FAILURE_COLOR)
        else:
            dot.edge(u, v, label=_html(text))
    dot.node("legend", _html(_legend(result, False, len(arch.components), bool(reached))))
    return dot.source


# --- rendering --------------------------------------------------------------------------


def render_dot(dot_text: str, fmt: str, *, timeout: float = 30.0) -> bytes:
    """Run Graphviz's `dot -T<fmt>` on `dot_text` (fmt: svg, png or pdf); raise
    `GraphvizMissing` when `dot` is not on PATH, and `LlmarchError` (E600) when it fails
    or takes longer than `timeout` seconds."""
    if fmt not in FORMATS or fmt == "dot":
        raise usage_error(f"unknown diagram format `{fmt}`", "formats: svg, png, pdf, dot")
    program = shutil.which(DOT_PROGRAM)
    if program is None:
        raise GraphvizMissing()
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise usage_error(f"Graphviz `dot` took longer than {timeout:g} s to lay out the diagram",
                          f"draw the summary by cost vector ({options.summary()}), or write the DOT "
                          f"({options.dot_output()}) and lay it out separately") from None
    except OSError as exc:
        raise usage_error(f"cannot run Graphviz `dot`: {exc.strerror or exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise usage_error(f"Graphviz `dot` failed (exit code {done.returncode})"
                          + (f": {message[0]}" if message else ""))
    return done.stdout


def svg(compiled: Compiled, evaluation: Evaluation) -> str:
    """The diagram as SVG text (needs Graphviz's `dot`; raises `GraphvizMissing`)."""
    return render_dot(architecture_dot(compiled, evaluation), "svg").decode("utf-8")
