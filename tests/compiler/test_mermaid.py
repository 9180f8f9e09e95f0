"""The Mermaid flowchart of the pull-request comment: labels escaped (nothing a user writes
changes the chart or ends the Markdown code block), one box per component with the cost
table's monthly figure, arrows only between declared boxes, and one box per cost vector
past the bound. (mermaid 11 itself parsed and drew every example's chart once, in Chromium,
when this was written; it is not installed for the tests.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import llmarch
from llmarch.compiler import present
from llmarch.compiler.mermaid import LABEL_CHARS, MERMAID_COMPONENTS, architecture_mermaid, label, summarized

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.llmarch"))
NODE = re.compile(r'^  (\w+)(\[\(|\(\[|\[/|\[|\()"(.*)"(\)\]|\]\)|/\]|\]|\))$')
LINK = re.compile(r'^  (\w+) (-->|-\.->|-\.-)(?:\|"[^"]*"\|)? (\w+)$')


def test_label_escapes_everything_but_plain_text():
    assert label("answer_cache 1,234.5 $7: a/b+c=d-e") == '"answer_cache 1,234.5 $7: a/b+c=d-e"'
    assert label('a"b') == '"a#34;b"'
    assert label("```</script>") == '"#96;#96;#96;#60;/script#62;"'
    assert label("#35; %% [x] {y} |z| é") == '"#35;35#59; #37;#37; #91;x#93; #123;y#125; #124;z#124; #233;"'
    assert label("two\nlines\t here") == '"two lines here"'
    assert label("a", "b") == '"a<br>b"'
    long = label("x" * 100)
    assert long == '"' + "x" * (LABEL_CHARS - 1) + '#8230;"'


def _chain(n: int) -> str:
    tools = "".join(f"tool t{i} {{ cost = 0.00{i % 9 + 1} USD }}\n" for i in range(n))
    return ("traffic = 100 requests/day\n" + tools + "flow { start -> "
            + " -> ".join(f"t{i}" for i in range(n)) + " }\n")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_component_is_a_box_with_its_monthly_cost(path):
    model = llmarch.load(path, cache=False)
    compiled, evaluation = model.compiled, model.evaluation()
    chart = architecture_mermaid(compiled, evaluation)
    assert chart == architecture_mermaid(compiled, evaluation)      # deterministic
    lines = chart.splitlines()
    assert lines[0] == "flowchart TB"
    nodes = {}
    for line in lines[1:]:
        match = NODE.match(line)
        if match:
            nodes[match.group(1)] = match.group(3)
            continue
        link = LINK.match(line)
        if link:
            assert link.group(1) in nodes and link.group(3) in nodes, line   # arrows join declared boxes
            continue
        assert line.startswith(("  classDef ", "  class ")), line
    boxes = {k: v for k, v in nodes.items() if re.fullmatch(r"c\d+", k)}
    assert len(boxes) == len(compiled.arch.components)
    monthly: dict[str, float] = {}
    for row in evaluation.result.components:
        if row.kind != "fixed":
            monthly[row.component] = monthly.get(row.component, 0.0) + row.monthly
    for (ident, text), (name, comp) in zip(boxes.items(), compiled.arch.components.items()):
        assert text.startswith(f"{name}<br>{comp.kind} #183; {present.money(monthly.get(name, 0.0))} / month")


def test_past_the_bound_one_box_per_cost_vector(tmp_path):
    path = tmp_path / "chain.llmarch"
    path.write_text(_chain(MERMAID_COMPONENTS), encoding="utf-8")
    model = llmarch.load(path, cache=False)
    assert not summarized(model.compiled)
    assert f'  c{MERMAID_COMPONENTS}["t{MERMAID_COMPONENTS - 1}<br>' in architecture_mermaid(model.compiled,
                                                                                            model.evaluation())
    path.write_text(_chain(MERMAID_COMPONENTS + 1), encoding="utf-8")
    model = llmarch.load(path, cache=False)
    assert summarized(model.compiled)
    chart = architecture_mermaid(model.compiled, model.evaluation())
    total = model.cost().monthly_total
    # 41 tools, all retrieval: one box; 40 arrows between them, one from start, one to success
    assert chart == ("flowchart TB\n  start([\"start\"])\n"
                     f'  v_retrieval["retrieval<br>41 components<br>{present.money(total)} / month #183; 100.0#37;'
                     '<br>most expensive: t17, t26, t35"]\n'
                     '  success(["success"])\n'
                     '  start -->|"1 arrow"| v_retrieval\n'
                     '  v_retrieval -->|"40 arrows"| v_retrieval\n'
                     '  v_retrieval -->|"1 arrow"| success\n')


def test_the_comment_says_when_the_chart_is_by_cost_vector(tmp_path):
    from llmarch.compiler.pr_comment import _diagram
    for n, what in ((3, "diagram (3 components)</summary>"),
                    (MERMAID_COMPONENTS + 1, f"diagram ({MERMAID_COMPONENTS + 1} components, one box per cost vector)"
                                             "</summary>")):
        path = tmp_path / f"chain{n}.llmarch"
        path.write_text(_chain(n), encoding="utf-8")
        model = llmarch.load(path, cache=False)
        folded = _diagram(model.compiled, model.evaluation())
        assert folded.startswith(f"<details><summary>{what}\n\n```mermaid\nflowchart TB\n")
        assert folded.endswith("```\n\n</details>\n") and folded.count("```") == 2
