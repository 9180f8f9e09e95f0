"""The composite GitHub Action (`action.yml`) and its comment poster, run here as GitHub
would run them: the step that writes the comment in bash with the runner's variables, and
`action/post-comment.sh` against a stand-in `gh` that records its calls."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTER = ROOT / "action" / "post-comment.sh"

from .test_pr_comment import repo  # noqa: F401,E402  (the two-commit repository fixture)


def _steps():
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    return {s.get("name"): s for s in action["runs"]["steps"]}


@pytest.mark.parametrize("every", ["false", "true"])
def test_the_action_writes_the_comment(repo, tmp_path, every):  # noqa: F811
    step = _steps()["Write the comment"]
    output, summary = tmp_path / "output", tmp_path / "summary"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
           "LLMARCH_BASE": "HEAD~1", "LLMARCH_HEAD": "HEAD", "LLMARCH_SCENARIO": "", "LLMARCH_FILES": "",
           "LLMARCH_ALL": every}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["exit-code"] == "0"
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert comment.startswith("<!-- llmarch -->\n") and "### `new.llmarch` (added)" in comment
    assert ("### `steady.llmarch` (no change)" in comment) == (every == "true")    # `all: "true"`: --all
    assert summary.read_text(encoding="utf-8") == comment


FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
if [ "$2" = "--paginate" ]; then printf '%s' "$FAKE_EXISTING"; fi
"""


@pytest.mark.parametrize("existing, verb", [("", "POST"), ("4242\n", "PATCH")])
def test_post_or_update_the_comment(tmp_path, existing, verb):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    comment = tmp_path / "comment.md"
    comment.write_text("<!-- llmarch -->\nhello\n")
    log = tmp_path / "gh.log"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GH_LOG": str(log),
           "FAKE_EXISTING": existing}
    done = subprocess.run(["bash", str(POSTER), str(comment), "owner/repo", "17"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("api --paginate repos/owner/repo/issues/17/comments --jq ")
    target = "repos/owner/repo/issues/comments/4242" if verb == "PATCH" else "repos/owner/repo/issues/17/comments"
    assert calls[1] == f"api --method {verb} {target} -F body=@{comment} --silent"


def test_poster_refuses_a_bad_pull_request_number(tmp_path):
    done = subprocess.run(["bash", str(POSTER), str(tmp_path / "c.md"), "owner/repo", "17; rm -rf /"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not a pull-request number" in done.stderr


@pytest.mark.parametrize("hook", ["llmarch-check", "llmarch-lint"])
def test_pre_commit_hooks_run_on_every_file(tmp_path, hook):
    """The hook's entry as pre-commit runs it: the entry's words, then the file names."""
    import shlex
    yaml = pytest.importorskip("yaml")
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    entry = shlex.split(hooks[hook]["entry"])
    good = tmp_path / "good.llmarch"
    good.write_text("traffic = 100 requests/day\ntool t { cost = 0.01 USD }\nflow { start -> t }\n")
    bad = tmp_path / "bad.llmarch"
    bad.write_text("tool t { cost = }\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    assert subprocess.run(entry + [str(good)], env=env, capture_output=True).returncode == 0
    done = subprocess.run(entry + [str(bad), str(good)], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "bad.llmarch" in done.stderr
