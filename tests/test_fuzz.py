"""A bounded, seeded fuzz run in the suite (bench/fuzz.py runs longer): damaged files never
end in an internal error, a traceback, or a hang."""

from __future__ import annotations

import signal

import pytest

from llmarch.cli import main

from .fuzzing import cases

SEED, COUNT, SECONDS = 20261203, 120, 30


class _Slow(Exception):
    pass


def _alarm(signum, frame):
    raise _Slow()


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM for the time bound")
def test_damaged_files_end_in_a_diagnostic(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))
    for module in ("rag", "caching"):          # stdlib imports resolve from anywhere; file imports need neighbours
        (tmp_path / f"{module}.llmarch").write_text("", encoding="utf-8")
    previous = signal.signal(signal.SIGALRM, _alarm)
    failures = []
    try:
        for name, data in cases(SEED, COUNT):
            path = tmp_path / f"{name}.llmarch"
            path.write_bytes(data)
            for argv in (["check", path.name], ["cost", path.name]):
                signal.alarm(SECONDS)
                try:
                    code = main(argv)
                except _Slow:
                    failures.append((name, argv[0], f"more than {SECONDS} s"))
                    continue
                except SystemExit as exc:
                    code = exc.code
                finally:
                    signal.alarm(0)
                out = capsys.readouterr()
                if code not in (0, 1, 2, 4, 5) or "internal error" in out.err or "Traceback" in out.err:
                    failures.append((name, argv[0], code, out.err[-300:]))
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not failures, failures[:5]
