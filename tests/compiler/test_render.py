"""`llmarch render`: the cost-annotated Graphviz diagram.

Golden DOT files: tests/golden/dot/NAME.dot for every example (at its defaults);
LLMARCH_REGEN=1 rewrites them and a reviewer reads the diff. The tests with the real
`dot` program need Graphviz installed (CI installs it)."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import llmarch
from llmarch.compiler import render
from llmarch.compiler.pipeline import compile_file
from llmarch.cli import main
from llmarch.compiler.render import architecture_dot, escape_html, render_dot
from llmarch.dsl.diagnostics import LlmarchError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").rglob("*.llmarch"))
GOLDEN = ROOT / "tests" / "golden" / "dot"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _golden_name(path: Path) -> str:
    return "-".join(path.relative_to(ROOT / "examples").with_suffix("").parts) + ".dot"


def _dot_of(path, scenario=None, text=None, sets=None):
    compiled = compile_file(path, text=text)
    return architecture_dot(compiled, compiled.evaluator.evaluation(scenario, sets))


def _svg_texts(svg_text: str) -> list[str]:
    """Every <text> of an SVG, XML entities resolved (what a reader sees)."""
    root = ET.fromstring(svg_text)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _svg_nodes(svg_text: str) -> list[str]:
    root = ET.fromstring(svg_text)
    return [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "node"]


# --- goldens ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: _golden_name(p)[:-4])
def test_dot_golden(path):
    text = _dot_of(path)
    golden = GOLDEN / _golden_name(path)
    if os.environ.get("LLMARCH_REGEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing golden {golden.name}: run with LLMARCH_REGEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_every_golden_has_its_example():
    names = {_golden_name(p) for p in EXAMPLES}
    assert {p.name for p in GOLDEN.glob("*.dot")} == names


# --- numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: _golden_name(p)[:-4])
def test_node_visits_equal_the_cost_result_in_every_scenario(path):
    """The diagram's numbers (the evaluation's visits of every lowered node) agree with an
    independent dense solve of the lowered chain and with the cost table."""
    from .oracle import lowered_visits
    compiled = compile_file(path)
    for scenario in [None, *compiled.arch.scenarios]:
        evaluation = compiled.evaluator.evaluation(scenario)
        result, numbers = evaluation.result, evaluation.graph
        oracle_visits, oracle_probability = lowered_visits(compiled, result.parameters)
        assert numbers.visits.keys() == oracle_visits.keys()
        for node, visits in oracle_visits.items():
            assert numbers.visits[node] == pytest.approx(visits, rel=1e-9, abs=1e-12)
        for edge, p in oracle_probability.items():
            assert numbers.probability[edge] == pytest.approx(p, rel=1e-12, abs=1e-15)
        rows = {r.name: r for r in result.components}
        dot = architecture_dot(compiled, evaluation)
        for name, nodes in compiled.flow.nodes_of.items():
            attempts = sum(numbers.visits[n] for n in nodes if "@" not in n)
            assert attempts == pytest.approx(rows[name].expected_visits, rel=1e-9, abs=1e-12)
            for copy in (n for n in nodes if "@" in n):
                assert numbers.visits[copy] == pytest.approx(rows[copy].expected_visits, rel=1e-9, abs=1e-12)
            shown = render._visits(rows[name].expected_visits)
            # ids of dotted names (template instances) are quoted in DOT
            pattern = re.compile(rf'id="?component_{re.escape(name)}"?\]')
            assert pattern.search(dot)
            label = next(line for line in dot.splitlines() if pattern.search(line))
            assert shown in label


CHAIN = """
architecture "chain"
param share = 0.3
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
cache front { hit_rate = 20%; cost = 0.001 USD/query }
llm a { model = m; input = 1000 tokens; output = 100 tokens }
llm b { model = m; input = 2000 tokens; output = 100 tokens; fail_rate = 10%; attempts = 2 }
tool c { cost = 0.01 USD/call }
flow {
  start -> front -> a
  a -> b (p = share)
  a -> c (otherwise)
  b -> c
}
"""


def test_edge_flows_by_hand():
    """front: 1 visit, hits 0.2 to success, misses 0.8 to a. a: 0.8 visits; p = 0.3 to b
    (0.24), otherwise c (0.56). b: first tries 0.24, retries 0.024 (10% of them),
    exhausted 0.0024 -> failure; leaves to c with (0.24 + 0.024) × 0.9 = 0.2376.
    c: 0.56 + 0.2376 = 0.7976 visits, all of which end the request successfully."""
    dot = _dot_of("chain.llmarch", text=CHAIN)
    # components in declaration order: c1 front, c2 a, c3 b, c4 c
    assert "\tstart -> c1 [label=<1 / request>]\n" in dot
    assert "\tc1 -> c2 [label=<p 100%<BR/>0.8 / request>]\n" in dot
    assert "\tc2 -> c3 [label=<p 30%<BR/>0.24 / request>]\n" in dot
    assert "\tc2 -> c4 [label=<p 70%<BR/>0.56 / request>]\n" in dot
    assert "\tc3 -> c4 [label=<p 100%<BR/>0.2376 / request>]\n" in dot
    assert ('\tc1 -> success [label=<hit 20%<BR/>0.2 / request> color="#27ae60" fontcolor="#1e8449"]\n'
            in dot)
    assert "\tc3 -> c3 [label=<retry ×1 max<BR/>0.024 / request>" in dot
    assert "\tc3 -> failure [label=<fails after 2 tries<BR/>0.0024 / request>" in dot
    assert "\tc4 -> success [label=<ends here<BR/>0.7976 / request>" in dot
    assert "0.264 visits / request" in dot          # b's two attempts
    assert "0.7976 visits / request" in dot         # c
    # P(success) = 1 - 0.0024, in the legend
    assert "<TD>99.76%</TD>" in dot
    # a's visits and costs: 0.8 × (1000 × 1e-6 + 100 × 2e-6) = $0.000960 per request;
    # 1000 requests a day × 30 days = 30,000 requests → $28.80 a month
    assert "$0.000960 / request" in dot and "$28.80 / month" in dot


@pytest.mark.parametrize("path", [None] + EXAMPLES, ids=lambda p: "chain" if p is None else _golden_name(p)[:-4])
def test_flows_are_conserved(path):
    """What enters a component (plus 1 at the entry) is what it is visited, and what leaves
    it (retries, the exhausted branch and ending here included) is the same amount."""
    compiled = compile_file("chain.llmarch", text=CHAIN) if path is None else compile_file(path)
    for scenario in [None, *compiled.arch.scenarios]:
        result = compiled.evaluator.evaluate(scenario)
        dot = architecture_dot(compiled, compiled.evaluator.evaluation(scenario))
        flows: dict = {}
        for source, target, flow in re.findall(r"\t(\w+) -> (\w+) \[label=<(?:[^<]*<BR/>)?([0-9.e+-]+) / request>",
                                               dot):
            flows[source, target] = flows.get((source, target), 0.0) + float(flow)
        ids = {f"c{i}": n for i, n in enumerate(compiled.arch.components, start=1)}
        rows = {r.name: r for r in result.components}
        for node, name in ids.items():
            if compiled.arch.components[name].kind == "observe":
                continue
            inflow = sum(f for (s, t), f in flows.items() if t == node)
            outflow = sum(f for (s, t), f in flows.items() if s == node)
            visits = rows[name].expected_visits
            assert inflow == pytest.approx(visits, rel=2e-3, abs=1e-9), (scenario, name)
            assert outflow == pytest.approx(visits, rel=2e-3, abs=1e-9), (scenario, name)


# --- determinism --------------------------------------------------------------------------

def test_dot_is_byte_identical_across_runs_and_hash_seeds():
    path = ROOT / "examples" / "support_assistant.llmarch"
    here = _dot_of(path, "production")
    assert here == _dot_of(path, "production")
    script = ("import sys; from llmarch.compiler.pipeline import compile_file; "
              "from llmarch.compiler.render import architecture_dot; "
              "c = compile_file(sys.argv[1]); "
              "sys.stdout.write(architecture_dot(c, c.evaluator.evaluation('production')))")
    for seed in ("4242",):
        done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        assert done.stdout == here


# --- escaping -----------------------------------------------------------------------------

NASTY = r'''
architecture "a <b>&amp; \"title\" {x} | y: z \\ end"
traffic = 100 requests/day
tool evil "<script>alert(1)</script>" { cost = 0.01 USD/call }
tool quote "say \"hi\" & <b>bold</b> ]] }} {a|b} c:d \\N \\G \\n back\\slash" { cost = 0.02 USD/call }
tool lines "first line\nsecond line" { cost = 0.03 USD/call }
fixed f "\\\"]; x -> y [label=\"owned\"" { cost = 5 USD/month; category = infra }
flow { start -> evil -> quote -> lines }
'''

NASTY_LABELS = [
    "<script>alert(1)</script>",
    'say "hi" & <b>bold</b> ]] }} {a|b} c:d \\N \\G \\n back\\slash',
    '\\"]; x -> y [label="owned"',
]


def test_escape_html_handles_markup_and_leaves_the_rest():
    assert escape_html('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert escape_html("a:b{c}|d[e]") == "a:b{c}|d[e]"
    # Graphviz expands \N and \G even in HTML-like labels: a backslash is written twice
    assert escape_html("\\N \\G \\") == "\\\\N \\\\G \\\\"
    assert escape_html("two\r\nlines\tand\x01") == "two<BR/>lines and\ufffd"


def test_user_strings_cannot_change_the_dot_structure():
    dot = _dot_of("nasty.llmarch", text=NASTY)
    assert "<script>" not in dot and "&lt;script&gt;alert(1)&lt;/script&gt;" in dot
    # node statements are the generated ids only
    statements = re.findall(r"^\t+(\w+) \[", dot, flags=re.M)
    # (no `failure` node: nothing in this file can fail)
    assert set(statements) == {"start", "success", "c1", "c2", "c3", "fixed", "legend", "graph", "node", "edge"}
    assert "owned" in dot and "x -> y" not in dot.replace("x -&gt; y", "")
    compiled = compile_file("nasty.llmarch", text=NASTY)
    titled = architecture_dot(compiled, compiled.evaluator.evaluation(), title="Review <draft> \\N")
    assert "label=<<B>Review &lt;draft&gt; \\\\N</B>>" in titled


@needs_dot
def test_labels_show_exactly_as_written_in_the_svg():
    svg_text = render_dot(_dot_of("nasty.llmarch", text=NASTY), "svg").decode("utf-8")
    assert "<script" not in svg_text
    texts = _svg_texts(svg_text)
    for label in NASTY_LABELS:
        assert label in texts, label
    assert 'a <b>&amp; "title" {x} | y: z \\ end' in texts
    assert "first line" in texts and "second line" in texts     # the newline is a line break
    # no node was injected: the SVG has exactly the generated nodes
    assert sorted(_svg_nodes(svg_text)) == sorted(["start", "success", "c1", "c2", "c3", "fixed", "legend"])


# --- the real dot -------------------------------------------------------------------------

@needs_dot
def test_support_example_renders_with_its_names_and_monthly_costs():
    path = ROOT / "examples" / "support_assistant.llmarch"
    compiled = compile_file(path)
    result = compiled.evaluator.evaluate("production")
    texts = _svg_texts(render.svg(compiled, compiled.evaluator.evaluation("production")))
    joined = "\n".join(texts)
    for name, comp in compiled.arch.components.items():
        assert name in texts
        assert comp.label in texts
    for row in result.components:
        if "@" in row.name:
            continue
        assert f"${row.monthly:,.2f} / month · {100 * row.share:.1f}%" in joined, row.name
    assert f"${result.monthly_total:,.2f}" in texts
    assert "retry ×2 max" in texts and "fixed monthly costs" in texts
    assert "Support ticket assistant — scenario production" in texts


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_render_formats(fmt, magic):
    dot = _dot_of(ROOT / "examples" / "quickstart.llmarch")
    assert render_dot(dot, fmt).startswith(magic)


def test_render_dot_refuses_unknown_formats():
    with pytest.raises(LlmarchError) as info:
        render_dot("digraph {}", "gif")
    assert info.value.diagnostics[0].code == "E600"


def _fake_dot(tmp_path, body: str) -> str:
    script = tmp_path / "fake-dot"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_render_dot_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "DOT_PROGRAM", _fake_dot(tmp_path, "exec sleep 30"))
    with pytest.raises(LlmarchError) as info:
        render_dot("digraph {}", "svg", timeout=0.3)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "E600" and "longer than 0.3 s" in diagnostic.message
    assert diagnostic.help.startswith("draw the summary by cost vector (`summary=True`), or write the DOT "
                                      "(`render(\"diagram.dot\")`)")     # the API's words
    from llmarch.api import command_words
    with command_words(), pytest.raises(LlmarchError) as info:
        render_dot("digraph {}", "svg", timeout=0.3)
    assert info.value.diagnostics[0].help.startswith("draw the summary by cost vector (`--summary`), or write the DOT "
                                                     "(`-o diagram.dot`)")   # the command's


def test_render_dot_reports_a_failing_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "DOT_PROGRAM", _fake_dot(tmp_path, "echo 'Error: syntax error in line 1' >&2; exit 1"))
    with pytest.raises(LlmarchError) as info:
        render_dot("digraph {", "svg")
    assert info.value.diagnostics[0].message == "Graphviz `dot` failed (exit code 1): Error: syntax error in line 1"


def test_render_dot_without_graphviz(monkeypatch):
    monkeypatch.setattr(render, "DOT_PROGRAM", "llmarch-no-such-dot-program")
    with pytest.raises(render.GraphvizMissing):
        render_dot("digraph {}", "svg")


# --- structure ----------------------------------------------------------------------------

def test_fixed_costs_sit_in_one_box_and_overlays_in_their_cluster():
    """The fixed costs are one node of stacked boxes: as nodes of their own, one per rank,
    they took the height of the flow's ranks and left large gaps between them."""
    dot = _dot_of(ROOT / "examples" / "support_assistant.llmarch")
    (fixed,) = re.findall(r"^\tfixed \[label=<(.*)> id=fixed_costs\]$", dot, flags=re.M)
    names = re.findall(r"<TR><TD><TABLE .*?<B>(?:<FONT COLOR=\"white\">)?(\w+)", fixed)
    assert names == ["dashboards_and_logs", "vector_cluster", "guardrails", "reindex"]   # declaration order
    assert "$1,200.00 / month" in fixed and "cluster_fixed" not in dot and "style=invis" not in dot
    observe = dot[dot.index("subgraph cluster_observability {"):]
    assert re.search(r"^\t\tc1 \[.*tracing", observe, flags=re.M)


def test_groups_become_clusters():
    """Template instances (Component.group) are drawn as one cluster each, in the order of
    `Architecture.groups`; set by hand here."""
    compiled = compile_file(ROOT / "examples" / "support_assistant.llmarch")
    arch = compiled.arch
    arch.groups = {"retrieval_stage": "Retrieval <RAG> & search", "answering": "answering"}
    for name in ("embed_query", "search"):
        arch.components[name].group = "retrieval_stage"
    for name in ("summarize", "summarize_strong"):
        arch.components[name].group = "answering"
    dot = architecture_dot(compiled, compiled.evaluator.evaluation())
    first = dot[dot.index("subgraph cluster_group1 {"):]
    first = first[:first.index("\n\t}")]
    assert "label=<<B>Retrieval &lt;RAG&gt; &amp; search</B> (retrieval_stage)>" in first
    assert re.findall(r"id=component_(\w+)\]", first) == ["embed_query", "search"]
    second = dot[dot.index("subgraph cluster_group2 {"):]
    second = second[:second.index("\n\t}")]
    assert re.findall(r"id=component_(\w+)\]", second) == ["summarize", "summarize_strong"]
    assert "label=<<B>answering</B>>" in second


TEMPLATES = """
import caching
import rag
model embed { input = 0.02 USD/Mtok; output = 0 USD/Mtok }
model mini { input = 0.15 USD/Mtok; output = 0.60 USD/Mtok }
traffic = 2000 requests/day
use semantic_cache as faq "FAQ <cache> & co" { hit_rate = 30% }
use rag_pipeline as kb { embed_model = embed; share = 60% }
use reindex_job as weekly { embed_model = embed; documents = 100000 docs; doc_tokens = 800 tokens/doc }
llm answer { model = mini; input = 1000 tokens; output = 250 tokens }
flow { start -> faq -> kb -> answer }
"""


def test_template_instances_from_the_stdlib_become_clusters():
    compiled = compile_file(ROOT / "examples" / "templates.llmarch", text=TEMPLATES)
    arch = compiled.arch
    assert list(arch.groups)[:2] == ["faq", "kb"]
    dot = architecture_dot(compiled, compiled.evaluator.evaluation())
    ids = {name: f"c{i}" for i, name in enumerate(arch.components, start=1)}
    clusters = {}
    for block in dot.split("subgraph ")[1:]:
        name = block.split(" ", 1)[0]
        clusters[name] = re.findall(r"^\t\t(\w+) \[", block[:block.index("\n\t}")], flags=re.M)
    for index, group in enumerate(arch.groups, start=1):
        members = [ids[n] for n, c in arch.components.items() if c.group == group]
        if members:
            assert clusters[f"cluster_group{index}"] == members
    assert "FAQ &lt;cache&gt; &amp; co" in dot
    ungrouped = [ids[n] for n, c in arch.components.items() if c.group is None]
    assert ungrouped and all(re.search(rf"^\t{i} \[", dot, flags=re.M) for i in ungrouped)
    fixed = [f for f in arch.fixed.values() if f.group == "weekly"]
    assert fixed and f"in {escape_html(arch.groups['weekly'])}" in dot


def test_colour_scale():
    assert render._shade(0.0, 0.0) == ("#ffffff", "black")
    assert render._shade(0.0, 0.01) == ("#ffffb2", "black")
    assert render._shade(0.0099, 1.0) == ("#ffffb2", "black")
    assert render._shade(0.01, 1.0) == ("#fecc5c", "black")
    assert render._shade(0.149, 1.0) == ("#fd8d3c", "black")
    assert render._shade(0.15, 1.0) == ("#f03b20", "white")
    assert render._shade(0.9, 1.0) == ("#bd0026", "white")
    dot = _dot_of(ROOT / "examples" / "support_assistant.llmarch", "production")
    summarize = next(line for line in dot.splitlines() if "id=component_summarize]" in line)
    assert 'BGCOLOR="#bd0026"' in summarize and "fontcolor=white" in summarize   # 46% of the total


def test_fallback_model_is_a_line_on_its_node():
    compiled = compile_file(ROOT / "examples" / "quickstart.llmarch")
    result = compiled.evaluator.evaluate()
    rows = {r.name: r for r in result.components}
    dot = architecture_dot(compiled, compiled.evaluator.evaluation())
    answer = next(line for line in dot.splitlines() if "id=component_answer]" in line)
    copy = rows["answer@large"]
    assert f"fallback_model large: {copy.expected_visits:.4g} visits" in answer
    # the node's costs include the copy's
    total = rows["answer"].monthly + copy.monthly
    assert f"${total:,.2f} / month" in answer


def _generate(n: int) -> str:
    spec = importlib.util.spec_from_file_location("bench_compile", ROOT / "bench" / "bench_compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(n)


def test_large_architectures_are_summarized():
    n = 200
    assert n > render.SUMMARY_THRESHOLD
    compiled = compile_file("big.llmarch", text=_generate(n))
    dot = architecture_dot(compiled, compiled.evaluator.evaluation())
    labels = [line for line in dot.splitlines() if "id=component_" in line]
    assert len(labels) == len(compiled.arch.components) > render.SUMMARY_THRESHOLD
    full = [line for line in labels if "/ request" in line]
    assert len(full) == render.FULL_LABELS
    # the full labels are the most expensive components
    cheapest_full = min(float(re.search(r"\$([0-9,.]+) / month", line).group(1).replace(",", "")) for line in full)
    compact = [line for line in labels if "/ request" not in line]
    dearest_compact = max(float(re.search(r"\$([0-9,.]+) / month", line).group(1).replace(",", "")) for line in compact)
    assert cheapest_full >= dearest_compact
    assert "-> success [label=<ends here" not in dot
    assert f"{len(labels)} components: the {render.FULL_LABELS} most expensive in full" in dot


# --- API and CLI --------------------------------------------------------------------------

def test_api_to_dot_render_and_repr(tmp_path, monkeypatch):
    model = llmarch.load(ROOT / "examples" / "quickstart.llmarch")
    assert model.to_dot("launch") == _dot_of(ROOT / "examples" / "quickstart.llmarch", "launch")
    assert model.to_dot(set={"hit_rate": 0.5}) != model.to_dot()
    assert model.render(tmp_path / "q.dot") == "dot"
    assert (tmp_path / "q.dot").read_text(encoding="utf-8") == model.to_dot()
    if HAS_DOT:
        assert model.render(tmp_path / "q.svg") == "svg"
        assert "<svg" in (tmp_path / "q.svg").read_text(encoding="utf-8")
        assert "<svg" in model._repr_svg_()
    with pytest.raises(LlmarchError):
        model.render(tmp_path / "q.gif")
    monkeypatch.setattr(render, "DOT_PROGRAM", "llmarch-no-such-dot-program")
    assert model._repr_svg_() is None
    with pytest.raises(render.GraphvizMissing, match="apt-get install graphviz"):
        model.render(tmp_path / "r.png")
    assert (tmp_path / "r.dot").read_text(encoding="utf-8") == model.to_dot()
    assert not (tmp_path / "r.png").exists()


def _cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "llmarch", *args], capture_output=True, env=env, cwd=cwd)


def test_cli_render_without_graphviz_writes_the_dot_and_exits_6(tmp_path, monkeypatch, capsys):
    """A real process with a PATH that has no `dot`; then the same in-process."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    example = ROOT / "examples" / "quickstart.llmarch"
    done = _cli("render", str(example), "-o", str(tmp_path / "q.svg"), env=env)
    assert done.returncode == 6, done.stderr
    stderr = done.stderr.decode()
    assert "apt-get install graphviz" in stderr and "brew install graphviz" in stderr
    assert "https://graphviz.org/download/" in stderr and str(tmp_path / "q.dot") in stderr
    assert (tmp_path / "q.dot").read_text(encoding="utf-8") == llmarch.load(example).to_dot()
    assert not (tmp_path / "q.svg").exists()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["render", str(example), "--format", "svg"]) == 6
    assert "`--format dot` prints the DOT text without Graphviz" in capsys.readouterr().err
    # DOT itself needs no Graphviz
    assert main(["render", str(example)]) == 0
    assert capsys.readouterr().out == llmarch.load(example).to_dot()


def test_cli_render(tmp_path, capsysbinary):
    example = str(ROOT / "examples" / "support_assistant.llmarch")

    def run(*args):
        code = main(["render", example, *args])
        out, err = capsysbinary.readouterr()
        return code, out, err

    code, out, _ = run("--scenario", "optimized", "--set", "cache_hit=0.3", "-o", "-")
    assert code == 0 and out.decode() == llmarch.load(example).to_dot("optimized", {"cache_hit": "0.3"})
    code, _, err = run("-o", str(tmp_path / "x.txt"))
    assert code == 2 and b"cannot tell the diagram format" in err
    code, _, err = run("--scenario", "nope")
    assert code == 2 and b"unknown scenario `nope`" in err
    code, _, err = run("-o", str(tmp_path / "missing" / "x.dot"))
    assert code == 2 and b"cannot write" in err
    code, _, err = run("-o", str(tmp_path / "x.dot"))
    assert code == 0 and (tmp_path / "x.dot").read_text(encoding="utf-8") == llmarch.load(example).to_dot()
    if HAS_DOT:
        code, _, err = run("-o", str(tmp_path / "x.png"))
        assert code == 0 and (tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")
        code, out, _ = run("--format", "svg")
        assert code == 0 and b"<svg" in out
        code, _, _ = run("-o", str(tmp_path / "diagram"), "--format", "pdf")
        assert code == 0 and (tmp_path / "diagram").read_bytes().startswith(b"%PDF")


def test_a_flow_that_branches_as_it_starts_draws_both_entry_edges():
    # `start -> kb`, where the rag_pipeline instance branches at its `in` (60% retrieve)
    model = llmarch.loads("""
import rag
model embed { input = 0.02 USD/Mtok; output = 0 USD/Mtok }
model mini { input = 0.15 USD/Mtok; output = 0.60 USD/Mtok }
traffic = 2000 requests/day
use rag_pipeline as kb "Knowledge base" { embed_model = embed; share = 60% }
llm answer { model = mini; input = 1000 tokens; output = 250 tokens }
flow { start -> kb -> answer }
""", path="branching.llmarch")
    text = model.to_dot()
    entry_edges = re.findall(r"start -> (\w+) \[label=<p (\d+)%<BR/>([0-9.]+) / request>\]", text)
    assert sorted((p, flow) for _, p, flow in entry_edges) == [("40", "0.4"), ("60", "0.6")]
    assert "cluster_group1" in text and "Knowledge base" in text


def test_fallback_model_copy_shows_both_figures():
    """The node folds the copy into its component and says how much of that is the copy,
    naming the cost table's row; the two figures add up to the table's two rows."""
    compiled = compile_file(ROOT / "examples" / "quickstart.llmarch")
    rows = {r.name: r for r in compiled.evaluator.evaluate().components}
    dot = architecture_dot(compiled, compiled.evaluator.evaluation())
    answer = next(line for line in dot.splitlines() if "id=component_answer]" in line)
    total = rows["answer"].monthly + rows["answer@large"].monthly
    assert f"{render._usd(total)} / month" in answer
    assert f"of which {render._usd(rows['answer@large'].monthly)} / month on the fallback (row answer@large" in answer
    legend = next(line for line in dot.splitlines() if line.lstrip().startswith("legend"))
    assert "include its fallback_model copy" in legend
