"""The command line: exit codes, formats, and the export contract."""

import json
from pathlib import Path

import pytest

from llmarch.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = str(ROOT / "examples" / "support_assistant.llmarch")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_check_ok(capsys):
    code, out, _ = run(capsys, "check", SUPPORT)
    assert code == EXIT_OK and "ok" in out


def test_cost_table_lists_components_vectors_and_totals(capsys):
    code, out, _ = run(capsys, "cost", SUPPORT, "--scenario", "production")
    assert code == EXIT_OK
    for word in ("summarize", "per request", "inference", "retrieval", "human", "ops", "infra",
                 "P(success)", "cost per successful request", "happy-path", "monthly total"):
        assert word in out


def test_cost_json_matches_export_results(capsys):
    _, out, _ = run(capsys, "cost", SUPPORT, "-s", "production", "--format", "json")
    cost = json.loads(out)
    _, out, _ = run(capsys, "export", SUPPORT, "-s", "production")
    export = json.loads(out)
    assert cost["results"] == export["results"]
    assert {"name", "expected_visits", "cost_per_visit", "cost_per_request", "monthly", "share"} <= set(cost["components"][0])


def test_export_schema(capsys):
    _, out, _ = run(capsys, "export", SUPPORT, "--scenario", "rag", "--set", "tickets_per_day=2000")
    data = json.loads(out)
    assert data["format_version"] == 2 and data["scenario"] == "rag"
    assert set(data) >= {"architecture", "entry", "nodes", "edges", "requests_per_month", "fixed_monthly", "results"}
    ids = {n["id"] for n in data["nodes"]}
    assert data["entry"] in ids
    for node in data["nodes"]:
        assert node["category"] in {"inference", "retrieval", "human", "ops", "infra"}
        assert node["outcome"] in {None, "success", "failure"}
    for edge in data["edges"]:
        assert edge["source"] in ids and edge["target"] in ids and 0 <= edge["probability"] <= 1
    assert data["requests_per_month"] == pytest.approx(2000 * 30)
    assert set(data["results"]) >= {"cost_per_request", "p_success", "cost_per_success", "monthly_total",
                                     "by_category", "happy_path_cost_per_request"}


def test_markdown(capsys):
    code, out, _ = run(capsys, "cost", SUPPORT, "-f", "markdown")
    assert code == EXIT_OK and out.startswith("### ") and "| cost vector |" in out


def test_explain_prints_closed_forms_and_latex(capsys):
    code, out, _ = run(capsys, "explain", SUPPORT, "--scenario", "pilot")
    assert code == EXIT_OK and "LaTeX:" in out and "cost per request" in out


def test_output_is_deterministic(capsys):
    first = run(capsys, "export", SUPPORT)[1]
    second = run(capsys, "export", SUPPORT)[1]
    assert first == second


@pytest.mark.parametrize("argv", [
    ["cost", SUPPORT, "--scenario", "nope"],
    ["cost", SUPPORT, "--set", "nope=3"],
    ["cost", SUPPORT, "--set", "tickets_per_day"],
    ["cost", SUPPORT, "--set", "tickets_per_day=3 tokens"],
    ["cost", SUPPORT, "--set", "tickets_per_day=__import__('os')"],
    ["cost", SUPPORT, "--format", "yaml"],
    [],
])
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    out, err = capsys.readouterr()
    assert info.value.code == EXIT_USAGE
    assert "Traceback" not in err and err.strip()


def test_invalid_input_exits_1_with_located_diagnostic(capsys, tmp_path):
    path = tmp_path / "bad.llmarch"
    path.write_text("traffic = 10 requests/day\nparam a = 3 tokens + 2 USD\n")
    code, _, err = run(capsys, "check", str(path))
    assert code == EXIT_INVALID
    assert "bad.llmarch:2:11: error[E301]: cannot add tokens and USD" in err
    assert " 2 | param a = 3 tokens + 2 USD" in err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nothing.llmarch"))
    assert code == EXIT_INVALID and "error[E010]" in err


def test_python_module_entry_point():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "llmarch", "cost", SUPPORT, "-f", "json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["results"]["monthly_total"] > 0


def test_render_summary_draws_one_box_per_cost_vector(capsys):
    """`render --summary` is the report's summary by cost vector: a box per vector that has
    a component (the support example has all five), no component boxes."""
    import re
    assert main(["render", SUPPORT, "--summary", "-f", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("// llmarch render: summary by cost vector")
    nodes = re.findall(r"^\t(\w+) \[label=", dot, re.M)
    assert nodes == ["start", "v_inference", "v_retrieval", "v_human", "v_ops", "v_infra", "success", "failure",
                     "legend"]


def test_an_output_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    """`sweep -o`, `report -o` and `pr-comment -o` share one writer: a folder as the output
    is exit 2 with one line, never an internal error."""
    assert main(["sweep", SUPPORT, "--grid", "cache_hit=0:0.5:3", "-o", str(tmp_path)]) == EXIT_USAGE
    assert main(["report", SUPPORT, "-f", "markdown", "-o", str(tmp_path)]) == EXIT_USAGE
    assert "cannot write" in capsys.readouterr().err
