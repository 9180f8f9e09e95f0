"""`llmarch report` without a browser: the generated JavaScript, the JSON block, the
Content-Security-Policy, escaping, the Markdown golden and the CLI/API surface.

The Markdown golden is tests/golden/report/support_assistant.production.md;
LLMARCH_REGEN=1 rewrites it and a reviewer reads the diff. The browser tests are in
test_report_browser.py."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmarch.compiler.report.htmlkit import json_block
import sympy

import llmarch
from llmarch.cli import EXIT_OK, EXIT_USAGE, main
from llmarch.compiler import ir, render, report
from llmarch.compiler.jsgen import ALLOWED_BUILTINS, check_generated, js_expression, model_function
from llmarch.dsl.diagnostics import LlmarchError

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "examples" / "support_assistant.llmarch"
GROWTH = ROOT / "examples" / "growth_story.llmarch"
GOLDEN = ROOT / "tests" / "golden" / "report"


_IDENTIFIER = re.compile(r"(?<![\w.$])(?:Math\.[A-Za-z]+|[A-Za-z_$][\w$]*)")
_NUMBER = re.compile(r"(?<![\w$])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def identifiers(code: str) -> set[str]:
    """Every identifier of generated code (numbers, with their exponent letters, removed first)."""
    return set(_IDENTIFIER.findall(_NUMBER.sub(" 0 ", code)))


@pytest.fixture(scope="module")
def support():
    return llmarch.load(SUPPORT)


@pytest.fixture(scope="module")
def support_html(support):
    return support.report("production")


@pytest.fixture
def hostile(hostile_path):
    return llmarch.load(hostile_path)


def executed_scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, flags=re.S)


# --- the generated JavaScript -------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((ROOT / "examples").rglob("*.llmarch")), ids=lambda p: p.stem)
def test_generated_code_has_internal_names_only(path):
    model = llmarch.load(path)
    compiled = model.compiled
    for scenario in [None, *model.scenarios]:
        js = model_function(compiled, compiled.evaluator.resolve(scenario))
        names = identifiers(js.code)
        bad = {n for n in names if n not in ALLOWED_BUILTINS and not re.fullmatch(r"_[a-z_]+[0-9]*", n)}
        assert not bad, bad
        for user_name in compiled.arch.parameters:   # no user-chosen name reaches the code
            if not user_name.startswith("_"):
                assert user_name not in names
        assert "_evaluate" in names and "_phi" in names


def test_layout_covers_every_figure(support):
    compiled = support.compiled
    js = model_function(compiled, compiled.evaluator.resolve("production"))
    rows = len(compiled.evaluator._rows)
    assert js.sizes == {"totals": 3, "by_category": 5, "fixed_by_category": 5, "visits": rows, "cost": rows,
                        "fixed": len(compiled.arch.fixed), "params": len(compiled.arch.parameters),
                        "checks": len(js.checks), "latency": 1,   # the example declares latency
                        "latency_variance": 1, "row_latency": rows}
    # a check without a parameter held when the scenario was evaluated: it is left out
    assert 0 < len(js.checks) < len(compiled.arch.checks)
    assert all(compiled.arch.checks[k].expr.free_symbols for k in js.checks)
    offsets = list(js.layout.values())
    assert offsets == sorted(offsets) and offsets[0] == 0
    # a derived parameter is recomputed from its inputs unless a slider overrides it
    index = list(compiled.arch.parameters).index("context_tokens")
    assert f"_ov[{index}] ? _in[{index}] :" in js.code


def test_check_generated_refuses_anything_but_internal_code():
    check_generated("function _evaluate(_in, _ov, _phi) {\nconst _p0 = _in[0];\nreturn [Math.pow(_p0, 2), 1e-05,];\n}")
    for code in ("alert(1)", "const _p0 = 'x';", 'const _p0 = "</script>";', "_p0 </script>", "_p0 <!-- x",
                 "window._p0", "_P0", "_p0 = `x`", "_p0\\u0061", "constructor", "Math.random()", "_p0.x"):
        with pytest.raises(ValueError):
            check_generated(code)


def test_printer_shapes():
    """Sums, products, powers and numbers as codegen's printer writes them (each number and
    each operation in parentheses, as the numpy evaluator has them); the rest by sympy."""
    x, y = sympy.symbols("_p0 _p1", real=True)
    assert js_expression(x ** 2) == "Math.pow(_p0, (2))"
    assert js_expression(x ** -1) == "(1/_p0)"
    assert js_expression(x ** sympy.Rational(1, 2)) == "Math.sqrt(_p0)"
    assert js_expression(x ** sympy.Rational(3, 2)) == "Math.pow(_p0, (3/2))"
    assert js_expression(x / 3) == "((1/3)*_p0)"
    assert js_expression(sympy.Rational(-2, 7)) == "(-2/7)"
    assert js_expression(1 - 2 * x + y) in ("((1) - ((2)*_p0) + _p1)", "((1) + _p1 - ((2)*_p0))")
    assert js_expression(sympy.Max(x, y)) in ("(Math.max(_p0, _p1))", "(Math.max(_p1, _p0))")
    assert js_expression(sympy.Min(x, 1)) in ("(Math.min(1, _p0))", "(Math.min(_p0, 1))")
    assert js_expression(sympy.floor(x)) == "(Math.floor(_p0))"
    assert js_expression(sympy.ceiling(x)) == "(Math.ceil(_p0))"
    assert js_expression(sympy.Float(1) / 3 * x) == "((0.3333333333333333)*_p0)"   # full precision
    assert js_expression(sympy.oo) == "Infinity" and js_expression(sympy.Integer(10) ** 400) == "(1e999)"
    tiers = sympy.Piecewise((x * sympy.Rational(1, 100), x < 1000), (10 + (x - 1000) / 200, True))
    assert js_expression(tiers) == "(((_p0 < 1000) ? ( (1/100)*_p0 ) : ( 5 + (1/200)*_p0 )))"
    with pytest.raises(ValueError):
        js_expression(sympy.Symbol("alert"))


# --- the page ----------------------------------------------------------------------------------

def test_json_block_escaping():
    value = {"a": "</script><!-- & \u2028\u2029 > '\""}
    text = json_block(value)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert "\\u003c/script\\u003e" in text and "\\u2028" in text
    assert json.loads(text) == value


def test_csp_allows_exactly_the_inline_scripts_and_style(support_html):
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', support_html).group(1)
    policy = policy.replace("&#x27;", "'")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    scripts = executed_scripts(support_html)
    assert len(scripts) == 2          # the generated model, then the page's code

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["script-src"].split() == [digest(s) for s in scripts]
    (style,) = re.findall(r"<style>(.*?)</style>", support_html, flags=re.S)
    assert directives["style-src"].split() == [digest(style)]
    # the policy comes before anything that loads or runs
    assert support_html.index("Content-Security-Policy") < support_html.index("<style>")


def test_nothing_external(support_html):
    assert not re.search(r"\s(src|srcset|action|formaction|poster|data)=", support_html)
    assert "<link" not in support_html and "@import" not in support_html and "<iframe" not in support_html
    assert not re.search(r"url\((?!#)", support_html)
    # http(s) appears only as XML namespaces of the inline SVG
    for url in re.findall(r"https?://[^\s\"'<>]+", support_html):
        assert url.startswith(("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")), url
    assert not re.search(r"\sstyle=", support_html)   # inline style attributes would be refused by the policy


def test_sections_and_sliders(support, support_html):
    for section in ("summary", "diagram", "vectors", "components", "overhead", "scenarios", "tornado",
                    "projection", "diagnostics", "parameters"):
        assert f'id="{section}"' in support_html
    arch = support.compiled.arch
    sliders = re.findall(r'<input type="range" id="lm-p(\d+)" data-p="\d+" min="([^"]+)" max="([^"]+)" '
                         r'step="[^"]+" value="([^"]+)" aria-describedby="lm-d\1">', support_html)
    names = list(arch.parameters)
    used = support.compiled.evaluator.used_parameters
    # a slider for every parameter the results depend on, ranged or not (not the built-in time)
    assert [names[int(i)] for i, *_ in sliders] == [n for n, p in arch.parameters.items() if not p.builtin and n in used]
    production = support.cost("production").parameters
    default_spans = {}
    for i, low, high, value in sliders:
        p = arch.parameters[names[int(i)]]
        assert float(value) == production[p.name]          # the scenario's value, in its declared unit
        if p.low is not None:
            assert (float(low), float(high)) == (p.low, p.high)
        else:
            default_spans[p.name] = (float(low), float(high))
    # without a declared range: 0 … 2 × the value (docs/report.md), the derived context_tokens too
    assert default_spans == {"context_tokens": (0.0, 2 * 1 * 4 * 300), "doc_tokens": (0.0, 1600.0),
                             "reindex_per_month": (0.0, 8.6)}
    assert support_html.count("(default span)") == 3
    result = support.cost("production")
    assert f'data-fig="monthly_total" data-value="{result.monthly_total!r}">$7,568.40<' in support_html
    # every scenario in the comparison, with its own total
    for name in support.scenarios:
        assert f"<code>{name}</code>" in support_html
    optimized = support.cost("optimized").monthly_total
    assert f'data-value="{optimized!r}">${optimized:,.2f}<' in support_html
    assert "L401" in support_html and "monthly_total &lt; $8,000.00 a month" in support_html


def test_report_is_deterministic(support_html, tmp_path):
    out = tmp_path / "again.html"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-m", "llmarch", "report", str(SUPPORT), "--scenario", "production", "-o",
                    str(out)], check=True, env=env, cwd=ROOT)
    again = out.read_text(encoding="utf-8")
    # the file path is written as given; everything else must match byte for byte
    assert again.replace(str(SUPPORT), "PATH") == support_html.replace(str(SUPPORT), "PATH")


def test_hostile_text_is_escaped(hostile):
    page = hostile.report("big")
    assert page.count("<script") == 3            # the JSON block and the two scripts, nothing else
    assert page.count("</script>") == 3
    assert "<!-- co" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Evil &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; &amp; &lt;!-- co" in page
    data = json.loads(re.search(r'<script type="application/json" id="llmarch-data">(.*?)</script>', page,
                                flags=re.S).group(1))
    assert data["title"] == "Evil </script><script>alert(2)</script> & <!-- co"
    assert data["rows"][0]["label"] == "<script>alert(1)</script>"
    assert "\u2028" in data["params"][1]["description"]
    for script in executed_scripts(page):
        assert "alert" not in script and "Evil" not in script


def test_hostile_text_in_markdown(hostile):
    text = hostile.report("big", format="markdown")
    assert "<" not in text and ">" not in text.replace("->", "")
    assert text.startswith("### Evil &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt; &amp; &lt;!-- co")


# --- SVG ---------------------------------------------------------------------------------------------

def test_clean_svg_keeps_drawing_drops_everything_active():
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- made by hand -->\n'
           '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" '
           'viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script><g style="fill:red">'
           '<a xlink:href="javascript:alert(3)"><text x="1" y="2">&lt;script&gt;alert(4)&lt;/script&gt;</text></a>'
           '<rect fill="url(https://evil.example/x)" x="1"/><path d="M0 0" fill="url(#grad)"/>'
           '<foreignObject><div>x</div></foreignObject><image href="https://evil.example/i.png"/></g></svg>')
    clean = report.clean_svg(svg)
    assert clean.startswith("<svg") and "DOCTYPE" not in clean and "<?xml" not in clean and "made by" not in clean
    for gone in ("onload", "<script", "style=", "javascript:", "evil.example", "foreignObject", "<image", "href"):
        assert gone not in clean, gone
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in clean and 'fill="url(#grad)"' in clean


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_diagram_is_inline_svg_from_dot(hostile):
    page = hostile.report("big")
    diagram = re.search(r'<div class="diagram" data-diagram="full"[^>]*>(<svg.*?</svg>)</div>', page, flags=re.S).group(1)
    assert diagram.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in diagram and "<script" not in diagram


def test_diagram_note_without_graphviz(support, monkeypatch):
    from llmarch.compiler import render
    monkeypatch.setattr(render, "DOT_PROGRAM", "no-such-dot-program")
    page = support.report("production")
    assert "Diagram unavailable: install Graphviz" in page and '<div class="diagram"' not in page


# --- large architectures ----------------------------------------------------------------------------

def test_large_architecture_is_folded(tmp_path, generate, monkeypatch):
    monkeypatch.setattr(report.settings, "DIAGRAM_LIMIT", 60)       # the summary: dot's full layout is not waited for
    path = tmp_path / "big.llmarch"
    path.write_text(generate(100))
    model = llmarch.load(path)
    page = model.report("production")
    rows = len(model.cost("production").components)
    top = re.search(r'<tbody id="lm-rows-top">(.*?)</tbody>', page, flags=re.S).group(1)
    more = re.search(r'<tbody id="lm-rows-more">(.*?)</tbody>', page, flags=re.S).group(1)
    assert top.count("<tr ") == report.TABLE_ROWS and more.count("<tr ") == rows - report.TABLE_ROWS
    assert f"<summary>{rows - report.TABLE_ROWS:,} more components</summary>" in page
    assert ("Summarized by cost vector: this architecture has 100 components and fixed costs; the report draws "
            "the full diagram up to 60") in page
    if shutil.which("dot"):
        assert '<div class="diagram" data-diagram="summary"' in page
    used = model.compiled.evaluator.used_parameters
    moved = [p for p in model.compiled.arch.parameters.values() if not p.builtin and p.name in used]
    assert page.count('<input type="range"') == len(moved) == 37 and 'id="lm-filter"' in page    # a filter box
    assert page.count("<g data-t=") == report.TORNADO_ROWS
    shown = len(re.findall(r'<tr data-o="\d+">', page))
    assert shown == report.OVERHEAD_ROWS


def test_large_template_input_gets_the_summarized_diagram(tmp_path, large_inputs):
    """2,000 template instances (the large input of bench/bench_report.py --large, a tenth of
    its size): the diagram is the summary by cost vector, with its note; the page holds the
    top rows and the folded ones up to the limit, the rest counted; the overhead table only
    the rows it shows; the generated model only the checks that depend on a parameter."""
    template_chain, _ = large_inputs
    path = tmp_path / "chain.llmarch"
    path.write_text(template_chain(2000), encoding="utf-8")
    model = llmarch.load(path)
    page = model.report()
    assert ("Summarized by cost vector: this architecture has 2,000 components and fixed costs; the report draws "
            f"the full diagram up to {report.DIAGRAM_LIMIT}") in page
    if shutil.which("dot"):
        svg = re.search(r'<div class="diagram" data-diagram="summary"[^>]*>(<svg.*?</svg>)</div>', page, flags=re.S).group(1)
        assert 'id="vector_inference"' in svg and "2,000 components" in svg
        assert svg.count('class="node"') <= len(ir.CATEGORIES) + 4        # the vectors, start, outcomes, legend
    assert page.count("<tr data-row=") == report.TABLE_ROWS + report.FOLDED_ROWS
    assert f"… and {2000 - report.TABLE_ROWS - report.FOLDED_ROWS:,} cheaper rows, not written into the page" in page
    assert page.count("<tr data-o=") == report.OVERHEAD_ROWS
    assert len(page.encode()) < 2_500_000
    assert model.report() == page                                            # deterministic


def test_summary_dot_is_small_and_deterministic(large_inputs):
    _, tool_mesh = large_inputs
    model = llmarch.loads(tool_mesh(40), "mesh.llmarch")
    evaluation = model.compiled.evaluator.evaluation(None)
    text = render.summary_dot(model.compiled, evaluation)
    assert text == render.summary_dot(model.compiled, evaluation)
    assert "v_retrieval -> v_retrieval [label=<1,560 edges>]" in text      # 40 × 39 tool edges, one arrow
    assert render.count_edges(render.architecture_dot(model.compiled, evaluation)) > report.DIAGRAM_EDGES


# --- Markdown -----------------------------------------------------------------------------------------

def test_markdown_golden(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = llmarch.load("examples/support_assistant.llmarch").report("production", format="markdown")
    golden = GOLDEN / "support_assistant.production.md"
    if os.environ.get("LLMARCH_REGEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), "missing golden: run with LLMARCH_REGEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_markdown_numbers_are_the_models(support):
    text = report.report_markdown(support, "optimized")
    result = support.cost("optimized")
    assert text.startswith("### Support ticket assistant — scenario optimized\n")
    assert f"**${result.monthly_total:,.2f} a month**" in text
    assert "| **`optimized`** |" in text                                  # the report's scenario, marked
    assert "`monthly_total < $5,000.00 a month`" in text
    assert text == report.report_markdown(support.compiled, "optimized")   # a Model or its Compiled


# --- CLI and API -------------------------------------------------------------------------------------

def test_cli_report(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(SUPPORT), "--scenario", "production", "-o", str(out)]) == EXIT_OK
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert main(["report", str(SUPPORT), "-s", "production", "--format", "markdown"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("### Support ticket assistant — scenario production")
    md = tmp_path / "summary.md"
    assert main(["report", str(SUPPORT), "--set", "cache_hit=0.5", "-o", str(md)]) == EXIT_OK
    assert md.read_text().startswith("### Support ticket assistant\n\nWith `cache_hit=0.5`.")
    assert main(["report", str(SUPPORT), "-s", "nope", "-o", str(out)]) == EXIT_USAGE
    assert "unknown scenario `nope`" in capsys.readouterr().err
    assert main(["report", str(SUPPORT), "-o", str(tmp_path / "no" / "such" / "dir.html")]) == EXIT_USAGE
    with pytest.raises(SystemExit) as exc:
        main(["report", str(SUPPORT), "--format", "pdf"])
    assert exc.value.code == EXIT_USAGE


def test_api_report_and_notebook_summary(support):
    assert support.report("production", format="markdown") == report.report_markdown(support, "production")
    with pytest.raises(LlmarchError) as exc:
        support.report(format="pdf")
    assert exc.value.diagnostics[0].code == "E600"
    summary = support._repr_html_()
    assert "<script" not in summary and "<style" not in summary
    assert f"${support.cost().monthly_total:,.2f}" in summary and ">Support ticket assistant</h3>" in summary
    # styled with attributes (notebooks drop style sheets): rules, muted heads, numbers right-aligned
    assert summary.count('<table style="border-collapse:collapse') == 4     # totals, vectors, components, prices
    costliest = max(support.cost().components, key=lambda c: c.monthly)
    assert f'white-space:nowrap">${costliest.monthly:,.2f}</td>' in summary
    assert re.search(r'<td style="text-align:right;[^"]*white-space:nowrap">\$[0-9,.]+</td>', summary)
    assert '<th style="text-align:right;' in summary and "border-bottom:2px solid" in summary
    assert 'background:#4e79a7' in summary                                   # the cost vectors' colour dots


def test_notebook_summary_escapes(hostile):
    summary = hostile._repr_html_()
    assert "<script" not in summary.replace("&lt;script", "") and "&lt;/script&gt;" in summary


def test_report_resolves_and_checks_each_point_once():
    """The report, its tornado, projection, lint and scenario table share one evaluation per
    (scenario, --set values): nothing is resolved or checked twice."""
    from llmarch.compiler import report as report_module
    from llmarch.compiler.pipeline import compile_file
    compiled = compile_file(ROOT / "examples" / "support_assistant.llmarch")
    report_module.report_html(compiled, "production", {})
    report_module.report_markdown(compiled, "production", {})
    counts = compiled.evaluator.counts
    sampled = {k: counts.pop(k) for k in list(counts) if k[0] in ("resolve samples", "check samples")}
    assert counts and max(counts.values()) == 1, {k: v for k, v in counts.items() if v > 1}
    # Monte Carlo's chunks (new points each): one simulation chunk and the Sobol matrices
    # (A, B and one per uncertain parameter) for the page, the same again for the Markdown
    uncertain = len(compiled.evaluator.uncertain("production"))
    assert sampled[("resolve samples", "production", ())] == 2 * (1 + 2 + uncertain)
    shown = [None, *compiled.arch.scenarios]
    for scenario in shown:
        assert counts["resolve", scenario, ()] == 1 and counts["check", scenario, ()] == 1


def test_the_uncertainty_section_has_simulates_numbers():
    """The report's uncertainty section and its Markdown lines carry what `simulate` and
    `sobol` compute (same seeds), the chance each budget holds, and nothing for a file
    without uncertain parameters."""
    import llmarch
    from llmarch.compiler import present
    from llmarch.compiler.report.uncertainty import REPORT_SOBOL_BASE

    root = Path(__file__).resolve().parents[2]
    model = llmarch.load(root / "examples" / "support_assistant.llmarch")
    html = model.report("production")
    total = model.simulate("production", components=False).figures["monthly_total"]
    assert f"{present.whole_money(total.p5)} – {present.whole_money(total.p95)}" in html
    holds = total.probability("<", 8000)[0]
    assert f"holds in {present.percent(holds, 3)} of the samples" in html
    ranking = model.sobol("production", base=REPORT_SOBOL_BASE)
    first = html.index('id="lm-sobol"')
    assert html.index(f"<code>{ranking.indices[0].parameter}</code>", first) < \
        html.index(f"<code>{ranking.indices[-1].parameter}</code>", first)
    markdown = model.report("production", format="markdown")
    assert f"- monthly total: {present.whole_money(total.p5)} – {present.whole_money(total.p95)} (p5–p95)" in markdown
    assert model.report("production") == html                          # fixed seeds: the same page
    plain = llmarch.loads('architecture "x"\ntraffic = 10 requests/day\ntool t { cost = 1 USD }\nflow { start -> t }\n')
    assert 'id="uncertainty"' not in plain.report() and "Over the guesses" not in plain.report(format="markdown")
