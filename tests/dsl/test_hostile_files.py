"""Files a hostile or careless user can point llmarch at: each fails cleanly and fast, with a
diagnostic at the `import` that named it, never a traceback, a hang or a huge allocation."""

from __future__ import annotations

import os
import sys

import pytest

from llmarch.cli import EXIT_INVALID, main
from llmarch.dsl.source_files import MAX_SOURCE_BYTES

TAIL = "traffic = 1 requests/day\ntool t { cost = 0.01 USD }\nflow { start -> t }\n"


def check(capsys, path) -> tuple[int, str]:
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return code, err


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)         # paths in diagnostics are shown relative to here


def importing(tmp_path, target: str) -> os.PathLike:
    path = tmp_path / "main.llmarch"
    path.write_bytes(b'import "' + target.encode("utf-8", "surrogateescape") + b'"\n' + TAIL.encode())
    return path


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero (a POSIX system)")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_is_refused_before_it_is_read(capsys, tmp_path, device):
    code, err = check(capsys, importing(tmp_path, device))
    assert code == EXIT_INVALID
    assert f"main.llmarch:1:1: error[E010]: `{device}` is not a regular file" in err
    code, err = check(capsys, device)            # as the main file too
    assert code == EXIT_INVALID and "is not a regular file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_does_not_block(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.llmarch")
    code, err = check(capsys, importing(tmp_path, "pipe.llmarch"))   # would block forever if opened
    assert code == EXIT_INVALID and "`pipe.llmarch` is not a regular file" in err


def test_sparse_file_over_the_limit_is_not_read(capsys, tmp_path):
    big = tmp_path / "big.llmarch"
    with open(big, "wb") as handle:                  # 1 GB, sparse: costs no disk
        handle.truncate(1_000_000_000)
    code, err = check(capsys, importing(tmp_path, "big.llmarch"))
    assert code == EXIT_INVALID
    assert f"error[E100]: file `big.llmarch` is larger than {MAX_SOURCE_BYTES:,} bytes (1,000,000,000)" in err


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlink_loop(capsys, tmp_path):
    os.symlink(tmp_path / "b.llmarch", tmp_path / "a.llmarch")
    os.symlink(tmp_path / "a.llmarch", tmp_path / "b.llmarch")
    code, err = check(capsys, importing(tmp_path, "a.llmarch"))
    assert code == EXIT_INVALID and "main.llmarch:1:1: error[E010]: cannot read `" in err


def test_nul_byte_in_import_path(capsys, tmp_path):
    code, err = check(capsys, importing(tmp_path, "a\0b.llmarch"))
    assert code == EXIT_INVALID and "`a\\0b.llmarch` is not a valid path (it contains a NUL byte)" in err
    assert "\0" not in err.split("\n")[0]


def test_non_utf8_points_at_the_first_bad_byte(capsys, tmp_path):
    path = tmp_path / "latin1.llmarch"
    path.write_bytes(b'architecture "ok"\nparam caf\xe9 = 1\n')
    code, err = check(capsys, path)
    assert code == EXIT_INVALID
    assert "latin1.llmarch:2:10: error[E011]: file `" in err and "byte 0xe9 at offset 27" in err
    assert "^" in err                                   # the line is quoted with a caret
    imported = importing(tmp_path, "latin1.llmarch")
    code, err = check(capsys, imported)
    assert "latin1.llmarch:2:10: error[E011]" in err and "note: imported here" in err


@pytest.mark.parametrize("literal", ["0^-1", "0^-0.5", "(0)^-1", "(1 - 1)^-2", "0.0^-3"])
def test_zero_to_a_negative_power_is_division_by_zero(capsys, tmp_path, literal):
    path = tmp_path / "pow.llmarch"
    path.write_text(f"param x = {literal}\n" + TAIL)
    code, err = check(capsys, path)
    assert code == EXIT_INVALID and "pow.llmarch:1:11: error[E303]: division by zero" in err


@pytest.mark.parametrize("literal, value", [("0^0", 1.0), ("0^2", 0.0), ("4^-0.5", 0.5)])
def test_powers_that_are_fine(tmp_path, literal, value):
    import llmarch
    model = llmarch.loads(f"param x = {literal}\n" + TAIL)
    assert model.parameters["x"] == value
