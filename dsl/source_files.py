"""Reading a source file safely: regular files only, at most the size limit plus one byte,
UTF-8 with the first bad byte pointed at. A leaf module (no parser, no pydantic), so the
compile cache can read files without loading the front end."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .diagnostics import SourceCache, Span

__all__ = ["SourceError", "read_source", "decode_source", "printable", "MAX_SOURCE_BYTES"]

#: Files larger than this are refused before they are read (the parser checks text too).
MAX_SOURCE_BYTES = 20_000_000


class SourceError(Exception):
    """A file that cannot be read as a source: `code` and `message` for its diagnostic; `span`
    when the problem is inside the file (the first byte that is not UTF-8)."""

    def __init__(self, code: str, message: str, help: str | None = None, span: Span | None = None):
        super().__init__(message)
        self.code, self.message, self.help, self.span = code, message, help, span


def read_source(file: Path, shown: str) -> bytes:
    """The bytes of a source file, read safely: the path is checked before it is opened (a
    device, FIFO or socket is refused, so `/dev/zero` or a pipe cannot exhaust memory or
    block), and at most the size limit plus one byte is ever read."""
    try:
        info = os.stat(file)            # follows symlinks; a loop is ELOOP (an OSError)
    except ValueError:                   # a NUL byte in the path
        raise SourceError("E010", f"`{printable(shown)}` is not a valid path (it contains a NUL byte)") from None
    except FileNotFoundError:
        raise SourceError("E010", f"file `{shown}` not found") from None
    except OSError as exc:
        raise SourceError("E010", f"cannot read `{shown}`: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError("E010", f"`{shown}` is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("E010", f"`{shown}` is not a regular file (a device, pipe or socket)",
                          help="llmarch reads `.llmarch` files")
    if info.st_size > MAX_SOURCE_BYTES:
        raise SourceError("E100", f"file `{shown}` is larger than {MAX_SOURCE_BYTES:,} bytes ({info.st_size:,})")
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(file, flags)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):   # swapped since the stat above
                raise SourceError("E010", f"`{shown}` is not a regular file (a device, pipe or socket)")
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SourceError("E010", f"cannot read `{shown}`: {_reason(exc)}") from None
    if len(data) > MAX_SOURCE_BYTES:    # grew since the stat
        raise SourceError("E100", f"file `{shown}` is larger than {MAX_SOURCE_BYTES:,} bytes")
    return data


def decode_source(data: bytes, shown: str, sources: SourceCache) -> str:
    """UTF-8 text of a source file; otherwise an E011 `SourceError` at the first bad byte (the
    file's text, with replacement characters, goes into `sources` so the line is shown)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        sources.add(shown, data.decode("utf-8", "replace"))
        span = Span(file=shown, line=line, column=column, end_line=line, end_column=column + 1,
                    start=len(before), end=len(before) + 1)
        raise SourceError("E011", f"file `{shown}` is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start} cannot be decoded", help="save the file as UTF-8", span=span) from None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def printable(text: str) -> str:
    return text.replace("\0", "\\0")
