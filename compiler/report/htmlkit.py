"""HTML building blocks: escaping, the JSON data block, the Content-Security-Policy, the
inline SVG cleaner, and the number formats the page's script mirrors."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from dataclasses import dataclass
from typing import Optional


from .. import present
from ..evaluate import Evaluation
from ..pipeline import Compiled
from . import settings


def nice_max(v: float) -> float:
    """The axis maximum: the smallest 1, 2, 2.5 or 5 × 10^k at or above `v`."""
    if not (v > 0) or not math.isfinite(v):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(v))
    for f in (1, 2, 2.5, 5, 10):
        if f * magnitude >= v * (1 - 1e-12):
            return f * magnitude
    return 10 * magnitude  # pragma: no cover


# --- number formats (the JavaScript in _APP_JS mirrors each one) ----------------------------

def g4(x: float) -> str:
    return f"{x:.4g}"


pct = present.share
pct4 = present.p_success


def count(x: float) -> str:
    return f"{x:,.0f}" if math.isfinite(x) else "∞"


usd = present.money
usd0 = present.whole_money


def plain(x: float) -> str:
    """A parameter value: grouped digits from 1,000 up, four significant digits below."""
    if not math.isfinite(x):
        return g4(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}" if x == int(x) else f"{x:,.1f}"
    return g4(x)


def param_text(x: float, percent: bool) -> str:
    return g4(100 * x) + "%" if percent else plain(x)


def attr(x: float) -> str:
    return repr(float(x))


# --- HTML helpers -------------------------------------------------------------------------------

def escape(text) -> str:
    return html.escape(str(text), quote=True)


def json_block(data) -> str:
    """JSON for a `<script type="application/json">` element: nothing in it can end the
    element or start a comment, whatever the user wrote."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(scripts: list[str], styles: list[str], connect: bool = False) -> str:
    """The policy of the report: nothing from anywhere; only these inline scripts and style
    sheets (by hash) and `data:` images. `connect`: scripts may also ask the page's own
    server (`llmarch watch`'s `/version`), nothing else."""
    return ("default-src 'none'; script-src " + " ".join(_sha256(s) for s in scripts)
            + "; style-src " + " ".join(_sha256(s) for s in styles)
            + "; img-src data:" + ("; connect-src 'self'" if connect else "")
            + "; base-uri 'none'; form-action 'none'")


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG_TAGS = {"svg", "g", "title", "desc", "path", "polygon", "polyline", "ellipse", "circle", "rect", "line",
             "text", "tspan", "defs", "linearGradient", "radialGradient", "stop", "clipPath", "a"}


def clean_svg(text: str) -> str:
    """Graphviz's SVG made safe to inline: the XML prolog, DOCTYPE and comments removed, and
    only drawing elements and attributes kept (no script, no event handler, no style
    attribute, no link). Labels stay escaped: the tree is parsed and written out again."""
    import xml.etree.ElementTree as ET

    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>\[]*(\[[^\]]*\])?\s*>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    root = ET.fromstring(text.strip())

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def scrub(element) -> None:
        children = list(element)
        for child in children:
            if not isinstance(child.tag, str) or local(child.tag) not in _SVG_TAGS:
                element.remove(child)
                continue
            scrub(child)
        for name in list(element.attrib):
            bare = local(name).lower()
            value = element.attrib[name]
            if bare.startswith("on") or bare in ("style", "href", "src") or "javascript:" in value.lower() \
                    or ("url(" in value and not value.strip().startswith("url(#")):
                del element.attrib[name]

    if local(root.tag) != "svg":
        raise ValueError("not an SVG document")
    scrub(root)
    root.set("role", "img")
    return ET.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class Diagram:
    """The report's picture of the architecture: inline SVG (None when there is none), what
    it is (`full`, `summary` by cost vector, or None) and a note saying why, when it is not
    the full diagram."""

    svg: Optional[str]
    kind: Optional[str]
    note: str = ""


_NO_GRAPHVIZ = "Diagram unavailable: install Graphviz (the `dot` program) to include it."


def diagram(compiled: Compiled, evaluation: Evaluation, capacity=None) -> Diagram:
    """The full diagram up to `DIAGRAM_LIMIT` components and `DIAGRAM_EDGES` arrows, laid
    out in at most `DIAGRAM_SECONDS`; past any of these, the summary by cost vector
    (`render.summary_dot`), whose size does not grow with the architecture. Imports
    lazily: Graphviz is optional. `capacity` (a `Capacity`) marks the components whose
    model is at or over a provider limit at the peak."""
    try:
        from .. import render
    except ImportError:
        return Diagram(None, None, _NO_GRAPHVIZ)
    arch = compiled.arch
    count = len(arch.components) + len(arch.fixed)
    if count > settings.DIAGRAM_LIMIT:
        why = (f"this architecture has {count:,} components and fixed costs; the report draws the full "
               f"diagram up to {settings.DIAGRAM_LIMIT} (beyond, Graphviz takes minutes and the picture is unreadable)")
    else:
        text = render.architecture_dot(compiled, evaluation, capacity=capacity)
        arrows = render.count_edges(text)
        if arrows > settings.DIAGRAM_EDGES:
            why = (f"its full diagram has {arrows:,} arrows; the report draws it up to {settings.DIAGRAM_EDGES:,} "
                   f"(beyond, Graphviz can take minutes and hundreds of megabytes)")
        else:
            try:
                return Diagram(_cleaned(render.render_dot(text, "svg", timeout=settings.DIAGRAM_SECONDS)), "full")
            except Exception as exc:  # GraphvizMissing, a dot failure or time-out: try the summary
                if type(exc).__name__ == "GraphvizMissing":
                    return Diagram(None, None, _NO_GRAPHVIZ)
                why = f"Graphviz did not draw the full diagram: {_reason(exc)}"
    note = (f"Summarized by cost vector: {why}. Each box is one cost vector; each arrow stands for the edges "
            f"that join them. `llmarch render` draws every component.")
    try:
        return Diagram(_cleaned(render.render_dot(render.summary_dot(compiled, evaluation, capacity=capacity), "svg",
                                                  timeout=settings.DIAGRAM_SECONDS)), "summary", note)
    except Exception as exc:
        if type(exc).__name__ == "GraphvizMissing":
            return Diagram(None, None, _NO_GRAPHVIZ)
        return Diagram(None, None, f"Diagram unavailable: {_reason(exc)}")


def _reason(exc: Exception) -> str:
    diagnostics = getattr(exc, "diagnostics", None)
    return "; ".join(d.message for d in diagnostics) if diagnostics else str(exc) or type(exc).__name__


def _cleaned(svg: bytes) -> str:
    """Graphviz's SVG cleaned for inlining; malformed output raises (and the caller leaves it out)."""
    try:
        return clean_svg(svg.decode("utf-8"))
    except Exception as exc:
        raise ValueError(f"Graphviz's output could not be read ({type(exc).__name__})") from None
