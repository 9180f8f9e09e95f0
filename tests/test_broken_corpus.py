"""Golden tests for the corpus of broken `.llmarch` files in tests/corpus/broken/.

Each `NAME.llmarch` has a golden `NAME.expected`: its first line is `exit: N`, the rest is
exactly what `llmarch check tests/corpus/broken/NAME.llmarch` prints on stderr when run
from the repository root. Files in subfolders (tests/corpus/broken/imports/) and files
named `_*.llmarch` are helpers that other cases import; they are not cases themselves.

Regenerate the goldens (then read the diff!) with:

    LLMARCH_REGEN=1 python -m pytest tests/test_broken_corpus.py -q
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

import pytest

from llmarch import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "tests" / "corpus" / "broken"
REGEN = os.environ.get("LLMARCH_REGEN") == "1"
TIME_LIMIT_SECONDS = 60

# Cases whose current behaviour is a compiler bug. "crash" and "accepted" cases fail the
# assertions below and are marked xfail(strict=True): once the compiler is fixed, the
# case passes and the strict xfail turns into a failure, as a reminder to regenerate the
# golden, read it, and delete the entry here. "message" cases pass against their golden
# (which records the current, poor message) and are listed for the compiler's owner.
KNOWN_ISSUES: dict[str, tuple[str, str]] = {
    "syntax_missing_brace": ("message", "does not mention the unclosed `{`"),
    "reserved_failure_cascade": ("message", "cascading E201 'unknown parameter `failure`'"),
}


def _cases() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.llmarch") if not p.name.startswith("_"))


def _params():
    for path in _cases():
        marks = []
        kind, reason = KNOWN_ISSUES.get(path.stem, (None, None))
        if kind in ("crash", "accepted"):
            marks.append(pytest.mark.xfail(strict=True, reason=f"compiler bug: {reason}"))
        yield pytest.param(path, id=path.stem, marks=marks)


class _TimeLimit(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeLimit(f"`llmarch check` took more than {TIME_LIMIT_SECONDS} s")


def _run_check(relative: str) -> int:
    """Run `llmarch check relative` in-process and return its exit code (output goes to capsys).

    An exception escaping `main` is rendered the way the Python interpreter would end the
    `llmarch` process (exit 1, a traceback on stderr), minus the stack frames, which change
    whenever the compiler is edited.
    """
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(TIME_LIMIT_SECONDS)
    try:
        try:
            code = cli.main(["check", relative])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        except _TimeLimit:
            raise
        except Exception as exc:  # noqa: BLE001 - a crash is exactly what we want to record
            sys.stderr.write("Traceback (most recent call last):\n  ...\n"
                             + "".join(traceback.format_exception_only(type(exc), exc)))
            code = 1
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return code


def test_corpus_is_large_enough():
    assert len(_cases()) >= 40


def test_every_case_has_a_golden():
    if REGEN:
        pytest.skip("regenerating goldens")
    missing = [p.name for p in _cases() if not p.with_suffix(".expected").exists()]
    assert not missing, f"no .expected golden for: {missing} (run with LLMARCH_REGEN=1)"
    orphans = [p.name for p in CORPUS.glob("*.expected") if not p.with_suffix(".llmarch").exists()]
    assert not orphans, f"goldens without a case: {orphans}"


def test_known_issues_name_real_cases():
    names = {p.stem for p in _cases()}
    assert set(KNOWN_ISSUES) <= names, set(KNOWN_ISSUES) - names


@pytest.mark.parametrize("path", list(_params()))
def test_broken_file(path: Path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    relative = path.relative_to(REPO_ROOT).as_posix()
    code = _run_check(relative)
    captured = capsys.readouterr()
    actual = f"exit: {code}\n{captured.err}"
    golden = path.with_suffix(".expected")
    if REGEN:
        with open(golden, "w", encoding="utf-8", newline="") as f:
            f.write(actual)
    else:
        assert golden.exists(), f"no golden {golden.name}: run with LLMARCH_REGEN=1"
        with open(golden, encoding="utf-8", newline="") as f:
            expected = f.read()
        assert actual == expected
    assert "Traceback" not in captured.err
    assert "Traceback" not in captured.out
    assert code in (1, 2), f"`llmarch check {relative}` exited {code}; a broken file must exit 1 (or 2)"
    assert captured.out == "", "diagnostics belong on stderr; nothing should reach stdout"
    assert captured.err.strip(), "a broken file must produce a diagnostic"
