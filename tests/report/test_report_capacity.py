"""The report's latency and capacity sections and the diagram's limit marks, without a
browser: hand-derived figures (docs/capacity.md's example), the expressions the page's
script evaluates against `Capacity`, golden snippets, and the support example.

The golden snippets are tests/golden/report/limits.*; LLMARCH_REGEN=1 rewrites them. The
browser checks (the page's JavaScript against Python after moving sliders) are in
test_report_browser.py."""

import html as html_module
import os
import random
import re
from pathlib import Path

import pytest
from llmarch.compiler import render
from llmarch.compiler.codegen import generate_function
from llmarch.compiler.report.capacity import binding_sentence, capacity_blocks

import llmarch

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "examples" / "support_assistant.llmarch"
GOLDEN = ROOT / "tests" / "golden" / "report"

#: docs/capacity.md's example: one request a minute, a peak of 3, `answer` calling `m`
#: 1.11 times a request and its fallback `big` 0.001 times.
LIMITS = """architecture "limits"
param per_day = 1440 requests/day in [100, 5000] "requests a day"
traffic = per_day
settings { peak = 3 }
model m { input = 1 USD/Mtok; output = 2 USD/Mtok; ttft = 400 ms; tokens_per_second = 50 tokens/s
          rpm = 60 requests/min; tpm = 5000 tokens/min; output_tpm = 1000 tokens/min; concurrency = 2 requests }
model big { input = 5 USD/Mtok; output = 15 USD/Mtok; ttft = 800 ms; tokens_per_second = 25 tokens/s
            rpm = 10 requests/min }
llm answer {
  model = m; input = 1000 tokens; output = 200 tokens
  fail_rate = 10%; attempts = 3; backoff = 1 s; fallback_model = big
}
flow { start -> answer -> success }
"""


@pytest.fixture(scope="module")
def limits(tmp_path_factory):
    path = tmp_path_factory.mktemp("limits") / "limits.llmarch"
    path.write_text(LIMITS, encoding="utf-8")
    return llmarch.load(path)


@pytest.fixture(scope="module")
def support():
    return llmarch.load(SUPPORT)


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">.*?</section>', html, flags=re.DOTALL)
    assert match, name
    return match.group(0)


def _text(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


# --- hand-derived -------------------------------------------------------------------------------

def test_limits_table_by_hand(limits):
    html = limits.report()
    section = _section(html, "capacity")
    rows = {m.group(1): _text(m.group(2)) for m in re.finditer(r'<tr data-lim="(\d)"[^>]*>(.*?)</tr>', section)}
    # m: 1 + 0.1 + 0.01 = 1.11 calls; tpm 1.11 × 1,200 = 1,332 tokens a request, 3,996 a minute at
    # the peak = 79.9% of 5,000; binds at 1,440 × 5,000 / 3,996 = 1,802 requests a day
    assert rows["0"] == "m rpm 60 requests/min 1.11 calls 1.11 3.33 5.5% 56.67 0.0% 25,946 requests/day"
    assert rows["1"] == "m tpm 5000 tokens/min 1332 tokens 1332 3996 79.9% 1004 0.0% 1802 requests/day"
    assert rows["2"] == "m output_tpm 1000 tokens/min 222 tokens 222 666 66.6% 334 0.0% 2162 requests/day"
    # a call takes 0.4 + 200 / 50 = 4.4 s: 1.11 × 4.4 = 4.884 s of calls a request
    assert rows["3"] == "m concurrency 2 requests 4.88 s of calls 0.0814 0.2442 12.2% 1.756 0.0% 11,794 requests/day"
    assert rows["4"] == "big rpm 10 requests/min 0.001 calls 0.001 0.003 0.0% 9.997 0.0% 4,800,000 requests/day"
    assert 'class="bad"' not in section
    assert _text(re.search(r'<p class="binding">.*?</p>', section).group(0)) == (
        "m tpm binds first: at 1802 requests/day mean traffic (1.25x today's mean); "
        "0.0% of its peak demand is throttled now.")
    # in flight: answer holds a request 1.11 × 4.4 + 0.11 × 1 s of backoff = 4.994 s, 4.994 / 60 at the mean
    flight = {_text(m.group(1)).split(" ")[0]: _text(m.group(1)) for m in
              re.finditer(r'<tr data-fl="\d+">(.*?)</tr>', section)}
    assert flight["answer"] == "answer 4.99 s 0.08323 0.2497"
    assert flight["answer@big"] == "answer@big 8.8 ms 0.0001467 0.00044"   # 0.0088 s / 60, × 3


def test_over_the_limit_is_marked_by_hand(limits):
    # 2,400 requests a day: tpm's peak 3 × 2400/1440 × 1,332 = 6,660 tokens a minute, 133.2% of
    # 5,000, 1 − 5000/6660 = 24.9% throttled; output_tpm 3 × 2400/1440 × 222 = 1,110, 111.0%
    html = limits.report(set={"per_day": "2400"})
    section = _section(html, "capacity")
    bad = [_text(m.group(1)) for m in re.finditer(r'<tr data-lim="\d" class="bad">(.*?)</tr>', section)]
    assert bad == ["m tpm 5000 tokens/min 1332 tokens 2220 6660 133.2% −1660 24.9% 1802 requests/day",
                   "m output_tpm 1000 tokens/min 222 tokens 370 1110 111.0% −110 9.9% 2162 requests/day"]
    assert "over the limit already); 24.9% of its peak demand is throttled now." in _text(section)
    evaluation = limits.compiled.evaluator.evaluation(None, {"per_day": "2400"})
    dot = render.architecture_dot(limits.compiled, evaluation)
    line = re.search(r"\tc1 \[label=.*", dot).group(0)
    assert f'COLOR="{render.LIMIT_COLOR}"' in line and 'BORDER="3"' in line
    assert "m tpm at 133.2% at the peak" in line and "m output_tpm at 111.0% at the peak" in line
    assert 'tooltip="m tpm at 133.2% at the peak; m output_tpm at 111.0% at the peak"' in line
    assert "red outline" in dot
    # the seconds of a request in `answer`: 4.994 s, and 0.001 × 8.8 s in its fallback copy
    assert "5 s / request" in line
    summary = render.summary_dot(limits.compiled, evaluation)
    box = re.search(r"\tv_inference \[label=.*", summary).group(0)
    assert "m tpm at 133.2% at the peak" in box and render.LIMIT_COLOR in box
    # at the mean traffic nothing is over: no ring, no line, no legend entry
    calm = render.architecture_dot(limits.compiled, limits.compiled.evaluator.evaluation())
    assert 'BORDER="3"' not in calm and "at the peak" not in calm and "tooltip" not in calm
    assert "red outline" not in calm


def test_latency_section_by_hand(limits):
    section = _section(limits.report(), "latency")
    # 4.4 × 1.11 + 1 × 0.11 + 8.8 × 0.001 = 5.0028 s; happy path 4.4 s
    assert 'data-fig="latency_per_request" data-value="5.0028' in section
    assert ">5 s<" in section and ">4.4 s<" in section
    assert ">+603 ms<" in section        # 5.0028 − 4.4
    names = re.findall(r'<text data-l-name="\d+"[^>]*>([^<]*)</text>', section)
    assert names == ["answer", "answer@big"]


# --- the expressions the page's script evaluates ---------------------------------------------------

@pytest.mark.parametrize("which", ["limits", "support"])
def test_script_expressions_agree_with_capacity(which, limits, support):
    """The amounts per request and limit values the page's script gets are what `Capacity`
    computes, at random parameter values (evaluated here by the numpy code generator)."""
    model = limits if which == "limits" else support
    compiled = model.compiled
    blocks = dict(capacity_blocks(compiled))
    outputs = blocks["traffic"] + blocks["limit_amounts"] + blocks["limit_values"]
    function = generate_function(compiled.evaluator.arguments, outputs, compiled.model.definitions)
    params = list(compiled.arch.parameters.values())
    rng = random.Random(13)
    scenario = None if which == "limits" else "production"
    for _ in range(5):
        sets = {p.name: str(rng.uniform(float(p.low), float(p.high))) for p in params
                if p.low is not None and p.high is not None and not p.builtin}
        evaluation = compiled.evaluator.evaluation(scenario, sets)
        capacity = model.capacity(scenario, set=sets)
        args = [evaluation.resolution.values[p.name] for p in params] + [1.0]
        values = [float(v) for v in function(*args)]
        n = len(capacity.limits)
        assert values[0] == pytest.approx(capacity.traffic, rel=1e-12)
        for k, row in enumerate(capacity.limits):
            assert values[1 + k] == pytest.approx(row.per_request, rel=1e-9, abs=1e-15), (row.model, row.limit)
            assert values[1 + n + k] == pytest.approx(row.value, rel=1e-12), (row.model, row.limit)


# --- what shows when -----------------------------------------------------------------------------

def test_no_time_no_limit_no_section(tmp_path):
    path = tmp_path / "plain.llmarch"
    path.write_text('architecture "plain"\ntraffic = 100 requests/day\nmodel m { input = 1 USD/Mtok; '
                    'output = 2 USD/Mtok }\nllm a { model = m; input = 10 tokens; output = 5 tokens }\n'
                    "flow { start -> a }\n", encoding="utf-8")
    model = llmarch.load(path)
    html, markdown = model.report(), model.report(format="markdown")
    assert 'id="latency"' not in html and 'id="capacity"' not in html and "#### Latency" not in markdown
    assert "#### Capacity" not in markdown


def test_peak_without_limits(tmp_path):
    path = tmp_path / "peak.llmarch"
    path.write_text('architecture "peak"\ntraffic = 100 requests/day\nsettings { peak = 2 }\n'
                    'tool a { cost = 0.01 USD; latency = 2 s }\nflow { start -> a }\n', encoding="utf-8")
    section = _section(llmarch.load(path).report(), "capacity")
    assert "No model declares a provider limit." in section and "lm-limits" not in section
    # Little's law: 100 requests a day × 2 s = 0.002315 in flight, twice that at the peak
    assert _text(re.search(r'<tr data-fl="0">(.*?)</tr>', section).group(1)) == "a 2 s 0.002315 0.00463"


# --- the support example ---------------------------------------------------------------------------

def test_support_shows_where_production_traffic_hits_a_limit(support):
    html = support.report("production")
    section = _section(html, "capacity")
    capacity = support.capacity("production")
    assert binding_sentence(capacity) == ("gpt4 tpm binds first: at 2011 requests/day mean traffic (1.39x today's "
                                          "mean); 0.0% of its peak demand is throttled now.")
    assert html_module.escape(binding_sentence(capacity)) in section
    assert 'class="bad"' not in section and "at the peak</text>" not in html
    # 2,500 tickets a day: GPT-4's tokens a minute at 124.3% of the limit at the peak, marked in
    # the table and on `summarize` (GPT-4) in the diagram, not on `check` (GPT-4o mini)
    busy = support.report("production", set={"tickets_per_day": "2500"})
    rows = [_text(m.group(1)) for m in re.finditer(r'<tr data-lim="\d+" class="bad">(.*?)</tr>', busy)]
    assert rows == ["gpt4 tpm 10,000 tokens/min 2387 tokens 4145 12,434 124.3% −2434 19.6% 2011 requests/day"]
    if "<svg" in _section(busy, "diagram"):        # Graphviz is installed
        assert "gpt4 tpm at 124.3% at the peak" in _section(busy, "diagram")
    evaluation = support.compiled.evaluator.evaluation("production", {"tickets_per_day": "2500"})
    dot = render.architecture_dot(support.compiled, evaluation)
    marked = [line.split(" ")[0].strip() for line in dot.splitlines() if "tooltip=" in line]
    ids = {f"c{i}": n for i, n in enumerate(support.compiled.arch.components, start=1)}
    assert [ids[m] for m in marked] == ["summarize"]


def test_golden_snippets(limits):
    """The two sections of docs/capacity.md's example at 2,400 requests a day, as HTML and
    Markdown (a reviewer reads the diff)."""
    html = limits.report(set={"per_day": "2400"})
    snippet = _section(html, "latency") + "\n" + _section(html, "capacity") + "\n"
    markdown = limits.report(set={"per_day": "2400"}, format="markdown")
    md = markdown[markdown.index("#### Latency"):markdown.index("#### Model prices")]
    for name, text in (("limits.sections.html", snippet), ("limits.sections.md", md)):
        golden = GOLDEN / name
        if os.environ.get("LLMARCH_REGEN") == "1":
            golden.write_text(text, encoding="utf-8")
        assert golden.exists(), "missing golden: run with LLMARCH_REGEN=1"
        assert text == golden.read_text(encoding="utf-8"), name


def test_from_the_command_line(tmp_path, capsys):
    """`llmarch report` (HTML and Markdown) and `llmarch render` show the limit GPT-4 goes over."""
    from llmarch.cli import EXIT_OK, main

    page, dot = tmp_path / "busy.html", tmp_path / "busy.dot"
    busy = ["--scenario", "production", "--set", "tickets_per_day=2500"]
    assert main(["report", str(SUPPORT), *busy, "-o", str(page)]) == EXIT_OK
    assert '<tr data-lim="1" class="bad">' in page.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", str(SUPPORT), *busy, "--format", "markdown"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "#### Latency" in out and "#### Capacity" in out
    assert "| `gpt4` | tpm | 10,000 tokens/min | 2387 tokens | 4145 | 12,434 | 124.3% | −2434 | 19.6% |" in out
    assert main(["render", str(SUPPORT), *busy, "--format", "dot", "-o", str(dot)]) == EXIT_OK
    assert "gpt4 tpm at 124.3% at the peak" in dot.read_text(encoding="utf-8")
