"""`llmarch completion bash|zsh|fish`: scripts generated from the command's own parser, so
they know every command and option. bash and fish are asked for real completions (a
simulated command line; fish's `complete -C`); zsh, when installed, checks the syntax."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from llmarch.cli import _parser, main

ROOT = Path(__file__).resolve().parents[2]


def _script(capsys, shell: str) -> str:
    assert main(["completion", shell]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_command_and_option_is_in_the_script(capsys, shell):
    script = _script(capsys, shell)
    commands = _subcommands()
    assert {"cost", "simulate", "pr-comment", "lsp", "completion", "init"} <= set(commands)
    for name, sub in commands.items():
        assert name in script, name
        for action in sub._actions:
            for flag in action.option_strings:
                # fish writes `--scenario` as `-l scenario` and `-s` as `-s s`
                spelled = {"fish": f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"}.get(shell, flag)
                assert spelled in script, (name, flag)


def _bash_complete(script: str, *words: str) -> list[str]:
    """What bash offers for the command line `words` (the last one being typed), run in `ROOT`."""
    line = " ".join(f"'{w}'" for w in words)
    program = f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _llmarch; printf "%s\\n" "${{COMPREPLY[@]}}"'
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return [w for w in done.stdout.splitlines() if w]


def test_bash_completes_commands_options_choices_and_files(capsys):
    script = _script(capsys, "bash")
    assert _bash_complete(script, "llmarch", "co") == ["cost", "completion"]
    assert _bash_complete(script, "llmarch", "--color", "always", "si") == ["simulate"]
    assert _bash_complete(script, "llmarch", "--color", "") == ["auto", "always", "never"]
    assert _bash_complete(script, "llmarch", "cost", "--f") == ["--format"]
    assert _bash_complete(script, "llmarch", "cost", "-f", "") == ["table", "json", "markdown"]
    assert _bash_complete(script, "llmarch", "render", "x.llmarch", "--format", "") == ["svg", "png", "pdf", "dot"]
    assert _bash_complete(script, "llmarch", "calibrate", "x.llmarch", "--trace-format", "h") == ["helicone"]
    assert _bash_complete(script, "llmarch", "completion", "") == ["bash", "zsh", "fish"]
    assert _bash_complete(script, "llmarch", "cost", "examples/qu") == ["examples/quickstart.llmarch"]
    assert _bash_complete(script, "llmarch", "cost", "--scenario", "") == []   # a name to type: nothing offered
    crossover = _bash_complete(script, "llmarch", "diff", "examples/crossover/")
    assert sorted(crossover) == ["examples/crossover/api_gpt4o.llmarch", "examples/crossover/with_cache.llmarch",
                                 "examples/crossover/without_cache.llmarch"]


def test_bash_script_is_valid_bash(capsys):
    script = _script(capsys, "bash")
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_choices_and_files(capsys, tmp_path):
    path = tmp_path / "llmarch.fish"
    path.write_text(_script(capsys, "fish"), encoding="utf-8")

    def complete(line: str) -> list[str]:
        done = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C '{line}'"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert complete("llmarch co") == ["completion", "cost"]
    assert complete("llmarch cost --form") == ["--format"]
    assert sorted(complete("llmarch cost --format ")) == ["json", "markdown", "table"]
    assert complete("llmarch completion ") == ["bash", "fish", "zsh"]
    assert complete("llmarch cost examples/qu") == ["examples/quickstart.llmarch"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script_is_valid_zsh(capsys, tmp_path):
    path = tmp_path / "_llmarch"
    script = _script(capsys, "zsh")
    assert script.startswith("#compdef llmarch\n")
    path.write_text(script, encoding="utf-8")
    subprocess.run(["zsh", "-n", str(path)], check=True)
    # loaded by compinit from a folder on $fpath, it defines the function for `llmarch`
    program = f"fpath=({tmp_path} $fpath); autoload -Uz compinit; compinit -u -d {tmp_path}/dump; print -r -- $_comps[llmarch]"
    done = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "_llmarch"


def test_an_unknown_shell_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["completion", "powershell"])
    assert exc.value.code == 2
    assert "invalid choice: 'powershell'" in capsys.readouterr().err
