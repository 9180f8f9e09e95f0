"""Colour on a terminal: diagnostics in ANSI colours only when standard error is a terminal,
never when piped; NO_COLOR (https://no-color.org) turns it off, FORCE_COLOR on, and
`--color always|never` overrides both. The coloured text is the plain text once the escape
codes are stripped."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest
from llmarch.dsl.diagnostics import Diagnostic, SourceCache, Span

from llmarch.cli import main

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BAD = "param x = 3 USDD\n"        # E004: unknown unit
RED, YELLOW, BLUE, RESET = "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;34m", "\x1b[0m"


@pytest.fixture
def bad_file(tmp_path, monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "bad.llmarch"
    path.write_text(BAD, encoding="utf-8")
    return str(path)


def _check(capsys, *argv) -> str:
    assert main(["check", *argv]) == 1
    return capsys.readouterr().err


def test_a_coloured_diagnostic_is_the_plain_one_painted():
    sources = SourceCache()
    sources.add("a.llmarch", "param x = 3 USDD\nparam y = 2\n")
    span = Span("a.llmarch", 1, 13, 1, 17)
    error = Diagnostic("error", "E004", "unknown unit `USDD`", span, help="did you mean `USD`?",
                       notes=(("declared here", Span("a.llmarch", 2, 7, 2, 8)),))
    painted = error.render(sources, color=True)
    assert ANSI.sub("", painted) == error.render(sources)
    assert f"{RED}error[E004]:{RESET}" in painted
    assert f"{RED}^^^^{RESET}" in painted                     # the caret in the severity's colour
    assert f"{BLUE} 1 |{RESET} param x = 3 USDD" in painted    # the gutter; the source line itself unpainted
    assert f"{BLUE}= help:{RESET} did you mean `USD`?" in painted
    assert f"{BLUE}= note:{RESET} declared here" in painted
    warning = Diagnostic("warning", "W701", "too close to call", span).render(sources, color=True)
    assert f"{YELLOW}warning[W701]:{RESET}" in warning and f"{YELLOW}^^^^{RESET}" in warning
    assert error.render(sources, color=False) == error.render(sources)
    assert "\x1b" not in error.render(sources)


def test_piped_output_has_no_colour(capsys, bad_file):
    err = _check(capsys, bad_file)
    assert "error[E004]: unknown unit `USDD`" in err and "\x1b" not in err


def test_force_color_colours_piped_output(capsys, bad_file, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    err = _check(capsys, bad_file)
    assert f"{RED}error[E004]:{RESET}" in err
    assert ANSI.sub("", err) == _plain(capsys, bad_file)


def _plain(capsys, path) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FORCE_COLOR", raising=False)
        return _check(capsys, path)


@pytest.mark.parametrize("force", ["1", "0", ""])
def test_no_color_wins_over_force_color(capsys, bad_file, monkeypatch, force):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", force)
    assert "\x1b" not in _check(capsys, bad_file)


def test_an_empty_no_color_is_not_set(capsys, bad_file, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "")        # no-color.org: set *and not empty*
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert RED in _check(capsys, bad_file)


def test_the_option_overrides_the_environment(capsys, bad_file, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert RED in _check(capsys, bad_file, "--color", "always")
    assert RED in (main(["--color", "always", "check", bad_file]), capsys.readouterr().err)[1]
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b" not in _check(capsys, bad_file, "--color", "never")


def test_lint_findings_and_budget_errors_are_coloured_too(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = tmp_path / "over.llmarch"
    path.write_text("traffic = 1000 requests/day\ntool t { cost = 1 USD }\nflow { start -> t }\n"
                    "budget monthly_total < 10 USD/month\n", encoding="utf-8")
    assert main(["cost", str(path), "--color", "always"]) == 4
    err = capsys.readouterr().err
    assert f"{RED}error[E701]:{RESET}" in err
    assert "budget `monthly_total < $10.00 a month` does not hold" in ANSI.sub("", err)


def _on_a_terminal(path: str, **env) -> str:
    """`llmarch check path` with standard error on a pseudo-terminal; what it wrote there."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update({"TERM": "xterm", **env})
    process = subprocess.Popen([sys.executable, "-m", "llmarch", "check", path], stdout=subprocess.DEVNULL,
                               stderr=follower, env=environment)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:    # the terminal closed: the program ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 1
    return b"".join(chunks).decode("utf-8")


def test_a_terminal_gets_colour_and_no_color_turns_it_off(bad_file):
    assert f"{RED}error[E004]:{RESET}" in _on_a_terminal(bad_file)
    assert "\x1b" not in _on_a_terminal(bad_file, NO_COLOR="1")
    assert "\x1b" not in _on_a_terminal(bad_file, TERM="dumb")
