"""One diagnostic type for every stage, and the error that carries a list of them.

Diagnostics print the way rustc and HCL print them::

    examples/bot.llmarch:12:11: error[E201]: unknown model `gpt4o`
       12 |   model = gpt4o
          |           ^^^^^
       = help: did you mean `gpt_4o`?
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Sequence

__all__ = ["Span", "Diagnostic", "LlmarchError", "did_you_mean", "SourceCache", "usage_error"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file: 1-based line and column, 0-based offsets. A plain frozen
    dataclass (not a pydantic model): diagnostics are read without importing pydantic."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """A message about the user's input, anchored at a source span."""

    severity: str  # "error" or "warning"
    code: str
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[tuple[str, Span | None], ...] = ()

    def render(self, sources: "SourceCache | None" = None, color: bool = False) -> str:
        """Format as `file:line:col: error[CODE]: message`, source line, caret, help; with
        `color`, in ANSI colours for a terminal (the same text once they are stripped)."""
        paint = _Paint(self.severity) if color else _Paint(None)
        where = f"{paint.bold(f'{self.span}:')} " if self.span else ""
        lines = [f"{where}{paint.severity(f'{self.severity}[{self.code}]:')} {paint.bold(self.message)}"]
        if self.span is not None and sources is not None:
            lines.extend(_excerpt(self.span, sources, paint))
        for text, span in self.notes:
            lines.append(f"   {paint.label('= note:')} {text}" + (f" (at {span})" if span else ""))
            if span is not None and sources is not None:
                lines.extend(_excerpt(span, sources, paint))
        if self.help:
            lines.append(f"   {paint.label('= help:')} {self.help}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        out: dict = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.span is not None:
            out.update(file=self.span.file, line=self.span.line, column=self.span.column)
        if self.help:
            out["help"] = self.help
        if self.notes:
            out["notes"] = [{"message": message, **({"file": span.file, "line": span.line, "column": span.column}
                                                    if span is not None else {})}
                            for message, span in self.notes]
        return out


class SourceCache:
    """The text of every file read, so diagnostics can quote their source line, and where
    each was read from (`origins`: shown name -> path on disk, for files read from disk)."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}
        self.origins: dict[str, str] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def texts(self) -> dict[str, list[str]]:
        """Every file's lines, by the name diagnostics show."""
        return dict(self._texts)

    def line(self, file: str, number: int) -> str | None:
        lines = self._texts.get(file)
        if lines is None or not (1 <= number <= len(lines)):
            return None
        return lines[number - 1]


class _Paint:
    """ANSI colours the way rustc uses them: the severity and the caret red for an error and
    yellow for a warning, the gutter and `= help:` blue, the message bold. `_Paint(None)`
    paints nothing."""

    _CODES: ClassVar[dict[str, str]] = {"error": "1;31", "warning": "1;33"}

    def __init__(self, severity: str | None):
        self._on = severity is not None
        self._severity = self._CODES.get(severity or "", "1")

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self._on and text else text

    def severity(self, text: str) -> str:
        return self._wrap(self._severity, text)

    def caret(self, text: str) -> str:
        return self._wrap(self._severity, text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def gutter(self, text: str) -> str:
        return self._wrap("1;34", text)

    def label(self, text: str) -> str:
        return self._wrap("1;34", text)


_NO_PAINT = _Paint(None)


def _excerpt(span: Span, sources: SourceCache, paint: _Paint = _NO_PAINT) -> list[str]:
    text = sources.line(span.file, span.line)
    if text is None:
        return []
    text = "".join(ch if ch >= " " or ch == "\t" else "\N{REPLACEMENT CHARACTER}" for ch in text.expandtabs(1))
    if len(text) > 200:  # very long lines: show the part around the span
        start = max(0, span.column - 80)
        text = text[start:start + 200]
        span = dataclasses.replace(span, column=span.column - start, end_column=span.end_column - start)
    gutter = " " * len(str(span.line))
    width = (span.end_column - span.column) if span.end_line == span.line else len(text) - span.column + 1
    width = max(1, min(width, max(1, len(text) - span.column + 1)))
    return [
        f"{paint.gutter(f' {span.line} |')} {text}",
        f"{paint.gutter(f' {gutter} |')} {' ' * (span.column - 1)}{paint.caret('^' * width)}",
    ]


class LlmarchError(Exception):
    """Raised with every diagnostic collected by a stage (at least one is an error)."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: SourceCache | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = sources
        super().__init__(self.render())

    def render(self, color: bool = False) -> str:
        """Every diagnostic, a blank line between them; `color`: for a terminal."""
        return "\n\n".join(d.render(self.sources, color) for d in self.diagnostics)


def usage_error(message: str, help: str | None = None) -> LlmarchError:
    """An error in how a command was called (unknown scenario, bad --set, …): code E600,
    no source span; the CLI exits with code 2."""
    return LlmarchError([Diagnostic("error", "E600", message, None, help)])


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean` hint for an unknown name, or None when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean `{close[0]}`?" if close else None


@dataclass
class Collector:
    """Collects diagnostics during a stage; `raise_if_errors` raises them all at once."""

    sources: SourceCache | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Notes added to every diagnostic while set: where a template was instantiated.
    context: tuple[tuple[str, Span | None], ...] = ()

    def error(self, code: str, message: str, span: Span | None, help: str | None = None,
              notes: tuple = ()) -> None:
        self.diagnostics.append(Diagnostic("error", code, message, span, help, tuple(notes) + self.context))

    def warning(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("warning", code, message, span, help, self.context))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            ordered = sorted(self.diagnostics, key=_sort_key)
            raise LlmarchError(ordered, self.sources)


def _sort_key(d: Diagnostic):
    s = d.span
    return (s.file, s.line, s.column, d.code) if s else ("", 0, 0, d.code)
