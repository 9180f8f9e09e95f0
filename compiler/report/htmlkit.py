"""HTML building blocks: escaping, the JSON data block, the Content-Security-Policy, the
inline SVG cleaner, and the number formats the page's script mirrors."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from typing import Optional


from .. import present
from ..evaluate import Evaluation
from ..pipeline import Compiled
from . import settings


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


def content_security_policy(scripts: list[str], styles: list[str]) -> str:
    """The policy of the report: nothing from anywhere; only these inline scripts and style
    sheets (by hash) and `data:` images."""
    return ("default-src 'none'; script-src " + " ".join(_sha256(s) for s in scripts)
            + "; style-src " + " ".join(_sha256(s) for s in styles)
            + "; img-src data:; base-uri 'none'; form-action 'none'")


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


def diagram(compiled: Compiled, evaluation: Evaluation) -> tuple[Optional[str], str]:
    """(inline SVG or None, a note). Import lazily: Graphviz is optional."""
    count = len(compiled.arch.components) + len(compiled.arch.fixed)
    if count > settings.DIAGRAM_LIMIT:
        return None, (f"The diagram is left out above {settings.DIAGRAM_LIMIT} components (this architecture has "
                      f"{count:,}); the tables below list every component.")
    try:
        from .. import render
    except ImportError:
        return None, "Diagram unavailable: install Graphviz (the `dot` program) to include it."
    try:
        text = render.svg(compiled, evaluation)
    except Exception as exc:  # GraphvizMissing, a dot failure or time-out: the report goes on without it
        if type(exc).__name__ == "GraphvizMissing":
            return None, "Diagram unavailable: install Graphviz (the `dot` program) to include it."
        return None, f"Diagram unavailable: {exc}"
    try:
        return clean_svg(text), ""
    except Exception as exc:  # malformed SVG from dot: leave it out rather than inline it
        return None, f"Diagram unavailable: Graphviz's output could not be read ({type(exc).__name__})"
