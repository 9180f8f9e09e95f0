"""`llmarch pr-comment BASE HEAD`: golden Markdown on a temporary repository with two
commits (a changed file with an uncertain parameter and a budget, an added and a deleted
file; with `--all`, also a file that did not change and one whose import did), exit codes,
the marker, the collapsed Mermaid diagrams, and git's safety rules."""

import os
import subprocess
from pathlib import Path

import pytest

import llmarch
import llmarch.api
from llmarch.cli import EXIT_BUDGET, EXIT_INVALID, EXIT_OK, EXIT_USAGE, main

GOLDEN = Path(__file__).parent / "golden" / "pr_comment.md"
GOLDEN_ALL = Path(__file__).parent / "golden" / "pr_comment_all.md"
REGEN = os.environ.get("LLMARCH_REGEN") == "1"

BEFORE = """architecture "answer bot"
param questions = 2000 requests/day
param hit_rate = 10% to 30% in [0, 0.9] "cache hit rate (a guess)"
traffic = questions
cache answers { hit_rate = hit_rate; cost = 0.0001 USD/query }
tool search { cost = 0.002 USD }
tool rerank { cost = 0.001 USD }
flow { start -> answers -> search -> rerank }
budget monthly_total < 300 USD/month
"""
AFTER = BEFORE.replace("10% to 30%", "30% to 50%").replace("tool rerank { cost = 0.001 USD }\n", "").replace(
    "-> search -> rerank", "-> search")
MODULE = "param unit = 0.01 USD\n"     # a price sheet: imported, no architecture of its own
ADDED = "traffic = 100 requests/day\ntool t { cost = 0.01 USD }\nflow { start -> t }\n"
DELETED = "traffic = 50 requests/day\ntool t { cost = 0.02 USD }\nflow { start -> t }\n"
STEADY = "traffic = 10 requests/day\ntool t { cost = 0.1 USD }\nflow { start -> t }\n"      # never changes
USES_PRICES = 'import "prices.llmarch"\ntraffic = 100 requests/day\ntool t { cost = unit }\nflow { start -> t }\n'


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo), *args],
                   check=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "arch").mkdir()
    (repo / "arch" / "bot.llmarch").write_text(BEFORE)
    (repo / "old.llmarch").write_text(DELETED)
    (repo / "prices.llmarch").write_text(MODULE)
    (repo / "steady.llmarch").write_text(STEADY)
    (repo / "uses_prices.llmarch").write_text(USES_PRICES)
    (repo / "README.md").write_text("not an architecture\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    (repo / "arch" / "bot.llmarch").write_text(AFTER)
    (repo / "new.llmarch").write_text(ADDED)
    (repo / "prices.llmarch").write_text(MODULE.replace("0.01", "0.02"))
    (repo / "README.md").write_text("changed, not an architecture\n")
    git(repo, "rm", "-q", "old.llmarch")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "two")
    monkeypatch.chdir(repo)
    return repo


def test_golden_markdown(repo, capsys):
    assert main(["pr-comment", "HEAD~1", "HEAD", "-n", "2000"]) == EXIT_OK
    out = capsys.readouterr().out
    if REGEN:
        GOLDEN.write_text(out, encoding="utf-8")
    assert out == GOLDEN.read_text(encoding="utf-8")
    assert out.startswith("<!-- llmarch -->\n")


def test_files_named_and_a_failing_budget(repo, capsys):
    (repo / "arch" / "bot.llmarch").write_text(AFTER.replace("< 300 USD/month", "< 50 USD/month"))
    git(repo, "commit", "-qam", "three")
    os.chdir(repo / "arch")    # FILES are paths from the working directory
    assert main(["pr-comment", "HEAD~2", "HEAD", "bot.llmarch", "-n", "2000"]) == EXIT_BUDGET
    out = capsys.readouterr().out
    assert "**budgets at `HEAD`**: 1 not met" in out and "does not hold" in out
    assert "new.llmarch" not in out     # only the files named


def test_invalid_at_head_and_nothing_changed(repo, capsys):
    (repo / "new.llmarch").write_text("tool t { cost = }\n")
    git(repo, "commit", "-qam", "broken")
    assert main(["pr-comment", "HEAD~1", "HEAD"]) == EXIT_INVALID
    out = capsys.readouterr().out
    assert "### `new.llmarch` (does not compile at `HEAD`)" in out and "error[" in out
    assert main(["pr-comment", "HEAD", "HEAD"]) == EXIT_OK
    assert "No `.llmarch` file changed between `HEAD` and `HEAD`." in capsys.readouterr().out


def test_output_file(repo, capsys):
    assert main(["pr-comment", "HEAD~1", "HEAD", "-n", "2000", "-o", "comment.md"]) == EXIT_OK
    assert (repo / "comment.md").read_text(encoding="utf-8").startswith("<!-- llmarch -->\n")


def test_revisions_cannot_smuggle_git_options(repo, capsys):
    assert main(["pr-comment", "--", "--output=/tmp/x", "HEAD"]) == EXIT_USAGE
    assert "is not a git revision" in capsys.readouterr().err
    assert main(["pr-comment", "HEAD~9", "HEAD"]) == EXIT_USAGE
    assert "`HEAD~9` is not a revision" in capsys.readouterr().err
    assert sorted(p.name for p in repo.iterdir()) == [".git", "README.md", "arch", "new.llmarch", "prices.llmarch",
                                                      "steady.llmarch", "uses_prices.llmarch"]


def test_outside_a_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["pr-comment", "HEAD~1", "HEAD"]) == EXIT_USAGE
    assert "runs inside a git repository" in capsys.readouterr().err


def test_a_scenario_one_file_lacks_and_full_commit_ids(repo, capsys):
    (repo / "arch" / "bot.llmarch").write_text(AFTER + "scenario production { questions = 4000 requests/day }\n")
    git(repo, "commit", "-qam", "three")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert main(["pr-comment", "HEAD~2", head, "--scenario", "production", "-n", "2000"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"## llmarch: `HEAD~2` → `{head[:12]}`" in out and head not in out
    # the file had no `production` at the base: the diff is at the defaults, and says so
    assert "> no scenario `production` at `HEAD~2`: priced at the file's defaults" in out
    assert "> no scenario `production` at `" + head[:12] + "`" in out     # new.llmarch has none


def test_all_files_golden_markdown(repo, capsys):
    """Every file at HEAD and the deleted one: the unchanged file in one line, the file whose
    import changed with its diff ($30.00 -> $60.00: 3,000 calls at 0.01 then 0.02 USD)."""
    assert main(["pr-comment", "HEAD~1", "HEAD", "--all", "-n", "2000"]) == EXIT_OK
    out = capsys.readouterr().out
    if REGEN:
        GOLDEN_ALL.write_text(out, encoding="utf-8")
    assert out == GOLDEN_ALL.read_text(encoding="utf-8")
    headings = [line for line in out.splitlines() if line.startswith("### ")]
    assert headings == ["### `arch/bot.llmarch`: `HEAD~1` → `HEAD`", "### `new.llmarch` (added)",
                        "### `old.llmarch` (deleted)", "### `prices.llmarch` (a module)",
                        "### `steady.llmarch` (no change)", "### `uses_prices.llmarch`: `HEAD~1` → `HEAD`"]
    assert ("$30.00 a month at `HEAD`, as at `HEAD~1`: neither the file nor a file it imports changed."
            in out)   # 10 requests a day, 300 a month, 0.1 USD each
    assert "| monthly total | $30.00 | $60.00 | +$30.00 | +100.0% |" in out
    # one collapsed diagram per file that compiles at HEAD
    assert out.count("<details><summary>diagram (") == 4 and out.count("```mermaid\n") == 4


def test_all_and_files_together_is_a_usage_error(repo, capsys):
    assert main(["pr-comment", "HEAD~1", "HEAD", "new.llmarch", "--all"]) == EXIT_USAGE
    assert "name the files to compare or ask for every file with `--all`, not both" in capsys.readouterr().err
    with pytest.raises(llmarch.LlmarchError, match="with `all_files=True`, not both"):
        llmarch.api.pr_comment("HEAD~1", "HEAD", ["new.llmarch"], all_files=True)


def test_the_diagram_in_the_comment(repo, capsys):
    assert main(["pr-comment", "HEAD~1", "HEAD", "new.llmarch"]) == EXIT_OK
    out = capsys.readouterr().out
    diagram = out[out.index("<details>"):]
    assert diagram == ("<details><summary>diagram (1 component)</summary>\n\n```mermaid\nflowchart TB\n"
                       '  start(["start"])\n'
                       '  c1["t<br>tool #183; $30.00 / month #183; 100.0#37;"]\n'
                       '  success(["success"])\n'
                       "  start --> c1\n"
                       "  c1 --> success\n"
                       "```\n\n</details>\n")
