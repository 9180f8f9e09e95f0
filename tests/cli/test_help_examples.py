"""Every command's `--help` ends with examples, and the examples run: each is executed here,
from a copy of the repository's examples folder made into a git repository (for `diff
REV:path` and `pr-comment`), and must exit as a working command does."""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from llmarch.cli import EXAMPLES, _parser, main

ROOT = Path(__file__).resolve().parents[2]
#: Commands whose example is not run here, and why.
NOT_RUN = {"lsp": "a server: it waits for an editor on standard input",
           "watch": "a server: it serves the page until Ctrl-C (tests/report/test_watch*.py run it)"}
#: The files an example writes, and how each begins.
WRITES = {"render": {"quickstart.svg": "<?xml"}, "report": {"report.html": "<!DOCTYPE html>", "summary.md": "#"},
          "calibrate": {"observed.llmarch": "#"}, "init": {"architecture.llmarch": "#"},
          "pr-comment": {"comment.md": "<!-- llmarch", "all.md": "<!-- llmarch"}}
#: Exit codes an example may end with besides 0: lint exits 5 when it finds a cost archetype.
ALSO_OK = {"lint": {5}}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _examples(help_text: str) -> list[list[str]]:
    """The example command lines of a help text: each `llmarch …` line after `examples:`, cut at
    a comment or a redirection (`> FILE` is where the user keeps the output), split at `&&`."""
    lines = help_text.split("\nexamples:\n", 1)[1].splitlines()
    commands = []
    for line in lines:
        if not line.startswith("  llmarch "):
            continue
        line = line.split("  #")[0].split(" > ")[0]
        commands += [shlex.split(part) for part in line.split("&&")]
    return commands


def test_every_command_has_examples_in_its_help(capsys):
    commands = _subcommands()
    assert set(commands) == set(EXAMPLES)
    for name, sub in commands.items():
        help_text = sub.format_help()
        examples = _examples(help_text)
        assert examples, name
        assert all(argv[:2] == ["llmarch", name] or argv[0] == "llmarch" for argv in examples), name
        assert any(argv[1] == name for argv in examples), name
    with pytest.raises(SystemExit):
        main(["cost", "--help"])
    assert "examples:\n  llmarch cost examples/quickstart.llmarch\n" in capsys.readouterr().out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The examples in a git repository of two commits (quickstart's cache hit rate changes),
    `origin/main` at the first: what `diff HEAD~1:…` and `pr-comment origin/main HEAD` need."""
    folder = tmp_path_factory.mktemp("help-examples")
    shutil.copytree(ROOT / "examples", folder / "examples", ignore=shutil.ignore_patterns("observed.llmarch"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "examples"]):
        subprocess.run([*git, *args], cwd=folder, check=True)
    quickstart = folder / "examples" / "quickstart.llmarch"
    text = quickstart.read_text(encoding="utf-8")
    assert "param hit_rate = 20% to 40%" in text
    quickstart.write_text(text.replace("param hit_rate = 20% to 40%", "param hit_rate = 30% to 50%"), encoding="utf-8")
    subprocess.run([*git, "commit", "-qam", "a better cache"], cwd=folder, check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD~1"], cwd=folder, check=True)
    return folder


def _cases() -> list:
    cases = [pytest.param("llmarch", _parser().format_help(), id="llmarch")]
    for name, sub in _subcommands().items():
        marks = [pytest.mark.skip(reason=NOT_RUN[name])] if name in NOT_RUN else []
        cases.append(pytest.param(name, sub.format_help(), id=name, marks=marks))
    return cases


@pytest.mark.parametrize(("name", "help_text"), _cases())
def test_the_examples_run(name, help_text, workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace)
    for argv in _examples(help_text):
        assert argv[0] == "llmarch"
        code = main(argv[1:])
        out, err = capsys.readouterr()
        assert code in {0} | ALSO_OK.get(name, set()), f"{shlex.join(argv)} exited {code}:\n{err}"
        assert "error" not in err.lower() or name == "lint", f"{shlex.join(argv)}:\n{err}"
        assert out or err or argv[1] in WRITES, shlex.join(argv)
    for file, start in WRITES.get(name, {}).items():
        assert (workspace / file).read_text(encoding="utf-8").startswith(start), file
