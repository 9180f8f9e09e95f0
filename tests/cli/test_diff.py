"""`llmarch diff`: deltas computed by hand, added and removed components, parameters, and
git revisions in a temporary repository."""

import json
import subprocess

import pytest

from llmarch.cli import EXIT_OK, EXIT_USAGE, main
from llmarch.compiler.diff import compile_side, diff_results

BEFORE = """
architecture "bot"
param rpd = 1000 requests/day
param hit = 20%
traffic = rpd
cache c { hit_rate = hit; cost = 0.001 USD }
tool answer { cost = 0.01 USD; category = inference }
fixed db { cost = 100 USD/month; category = retrieval }
flow { start -> c -> answer }
scenario big { rpd = 2000 requests/day }
"""

AFTER = """
architecture "bot"
param rpd = 1000 requests/day
param hit = 50%
traffic = rpd
cache c { hit_rate = hit; cost = 0.001 USD }
tool answer { cost = 0.01 USD; category = inference }
human review { time = 2 min; rate = 30 USD/hour }
flow {
  start -> c -> answer
  answer -> review (p = 10%)
}
scenario big { rpd = 2000 requests/day }
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_deltas_by_hand(tmp_path):
    old, new = write(tmp_path, "old.llmarch", BEFORE), write(tmp_path, "new.llmarch", AFTER)
    d = diff_results(compile_side(old), compile_side(new), old, new)
    totals = {t.name: t for t in d.totals}
    # before: 30,000 requests × (0.001 + 0.8 × 0.01) + 100 = 370
    # after:  30,000 × (0.001 + 0.5 × 0.01 + 0.5 × 0.1 × 1) = 30,000 × 0.056 = 1,680
    assert totals["monthly total"].before == pytest.approx(370)
    assert totals["monthly total"].after == pytest.approx(1680)
    assert totals["monthly total"].delta == pytest.approx(1310)
    assert totals["monthly total"].percent == pytest.approx(1310 / 370 * 100)
    components = {c.name: c for c in d.components}
    assert components["db"].status == "removed" and components["db"].delta == pytest.approx(-100)
    assert components["review"].status == "added" and components["review"].after == pytest.approx(1500)
    assert components["answer"].delta == pytest.approx(30000 * (0.005 - 0.008))
    categories = {c.name: c for c in d.categories}
    assert categories["human"].after == pytest.approx(1500) and categories["retrieval"].delta == pytest.approx(-100)
    (param,) = d.parameters
    assert (param.name, param.before, param.after) == ("hit", "0.2", "0.5")


def test_scenario_applies_to_both_sides(tmp_path, capsys):
    old, new = write(tmp_path, "old.llmarch", BEFORE), write(tmp_path, "new.llmarch", AFTER)
    assert main(["diff", old, new, "--scenario", "big", "--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    total = next(t for t in data["totals"] if t["name"] == "monthly total")
    assert total["before"] == pytest.approx(60000 * 0.009 + 100)
    assert total["after"] == pytest.approx(60000 * 0.056)
    assert main(["diff", old, new, "--scenario", "nope"]) == EXIT_USAGE


def test_markdown_for_a_pull_request(tmp_path, capsys):
    old, new = write(tmp_path, "old.llmarch", BEFORE), write(tmp_path, "new.llmarch", AFTER)
    assert main(["diff", old, new, "-f", "markdown"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("### ") and "| `review` (added) |" in out and "| `db` (removed) |" in out


def test_git_revisions_with_imports(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run(git[:-2] + ["init", "-q", str(repo)], check=True)
    (repo / "prices.llmarch").write_text("param unit = 0.01 USD\n")
    (repo / "arch.llmarch").write_text('import "prices.llmarch"\ntraffic = 100 requests/day\n'
                                       "tool t { cost = unit }\nflow { start -> t }\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    (repo / "prices.llmarch").write_text("param unit = 0.03 USD\n")
    subprocess.run(git + ["commit", "-qam", "two"], check=True)
    (repo / "prices.llmarch").write_text("param unit = 0.05 USD\n")   # uncommitted
    monkeypatch.chdir(repo)
    assert main(["diff", "HEAD~1:arch.llmarch", "HEAD:arch.llmarch", "-f", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    total = next(t for t in data["totals"] if t["name"] == "monthly total")
    # the import is read from each revision, not from the working tree
    assert total["before"] == pytest.approx(3000 * 0.01) and total["after"] == pytest.approx(3000 * 0.03)
    assert main(["diff", "HEAD:arch.llmarch", "arch.llmarch", "-f", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    total = next(t for t in data["totals"] if t["name"] == "monthly total")
    assert total["after"] == pytest.approx(3000 * 0.05)
    assert main(["diff", "HEAD~5:arch.llmarch", "arch.llmarch"]) == EXIT_USAGE
    assert "`HEAD~5` is not a revision" in capsys.readouterr().err


def test_revision_cannot_smuggle_git_options(tmp_path, monkeypatch, capsys):
    """Argument injection: text before `:` is never handed to git as an option, a directory
    at a revision is a clear error, and nothing is written."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run(git[:-2] + ["init", "-q", str(repo)], check=True)
    (repo / "sub").mkdir()
    (repo / "sub" / "arch.llmarch").write_text("traffic = 100 requests/day\ntool t { cost = 0.01 USD }\n"
                                               "flow { start -> t }\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "one"], check=True)
    monkeypatch.chdir(repo)
    for spec in ("--output=out.txt:sub/arch.llmarch", "-o:sub/arch.llmarch", "--exec=touch pwned:sub/arch.llmarch"):
        assert main(["diff", "--", spec, "sub/arch.llmarch"]) == EXIT_USAGE
        assert "is not a git revision" in capsys.readouterr().err
    assert sorted(p.name for p in repo.iterdir()) == [".git", "sub"]
    assert main(["diff", "HEAD:sub", "sub/arch.llmarch"]) == 1
    assert "`sub` is a directory, not a file, at revision `HEAD`" in capsys.readouterr().err
    assert main(["diff", "HEAD:sub/none.llmarch", "sub/arch.llmarch"]) == 1
    assert "file `sub/none.llmarch` not found at revision `HEAD`" in capsys.readouterr().err
    assert main(["diff", "no-such-branch:sub/arch.llmarch", "sub/arch.llmarch"]) == EXIT_USAGE
    assert "`no-such-branch` is not a revision" in capsys.readouterr().err
    assert main(["diff", "HEAD:sub/arch.llmarch", "sub/arch.llmarch"]) == EXIT_OK
