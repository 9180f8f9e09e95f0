"""How a message names the options its caller gave: the Python API's keywords or the
command's flags.

The same error reaches a user through `Model.cost(set={"cache_hit": 2})` and through
`llmarch cost --set cache_hit=2`; each should be told in the words they wrote. Messages
speak the API's words (`set`, `grids`, `low`/`high`, `months`, `drivers`, `at_month`) unless
the `llmarch` command is running them, which it says with `command_words()` (the command
calls it through `llmarch.api`). A context variable, so that it holds for one call in one
thread, and needs no argument through every layer between the command and the message.

A leaf: it imports nothing of llmarch.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Mapping

__all__ = ["command_words", "in_command", "unknown_in", "override", "overridden_with", "grid", "grids",
           "months", "search_range", "dot_output", "summary", "at_month", "at_month_hint", "every_file"]

_COMMAND: ContextVar[bool] = ContextVar("llmarch_command_words", default=False)


@contextmanager
def command_words() -> Iterator[None]:
    """Inside this block, messages name the command's flags (`--set`, `--grid`, …)."""
    token = _COMMAND.set(True)
    try:
        yield
    finally:
        _COMMAND.reset(token)


def in_command() -> bool:
    return _COMMAND.get()


def _pick(api: str, command: str) -> str:
    return command if _COMMAND.get() else api


#: The command's flag (without `--`) -> the API's keyword that takes the same values.
_KEYWORDS = {"set": "set", "grid": "grids", "driver": "drivers"}


def unknown_in(option: str) -> str:
    """Where an unknown parameter was named: `--set`, `--grid`, `--driver` for the command;
    the keyword (`set`, `grids`, `drivers`) for the API."""
    return _pick(f"`{_KEYWORDS[option]}`", f"--{option}")


def override(name: str, text: object = None) -> str:
    """One parameter value the caller gave: `--set NAME` or `--set NAME=TEXT`; the API's
    `override `NAME`` or `override `NAME=TEXT``."""
    given = name if text is None else f"{name}={text}"
    return _pick(f"override `{given}`", f"--set {given}")


def overridden_with(values: Mapping[str, object]) -> str:
    """What a diagnostic adds when the caller's values caused it: ` (with --set a=1, b=2)`."""
    given = ", ".join(f"{k}={v}" for k, v in values.items())
    return _pick(f" (with overrides {given})", f" (with --set {given})")


def grid(text: str | None = None) -> str:
    """One grid the caller gave: `--grid `TEXT`` or the API's `grid `TEXT``; without
    `text`, the word alone (`--grid`, `grid`)."""
    word = _pick("grid", "--grid")
    return word if text is None else f"{word} `{text}`"


def grids() -> str:
    """More than one of them: `--grid options` or `grids`."""
    return _pick("grids", "--grid options")


def months() -> str:
    return _pick("`months`", "--months")


def search_range(both: bool = False) -> str:
    """The ends of a search: `--low/--high` (`--low and --high`), or `low`/`high`."""
    if both:
        return _pick("`low` and `high`", "--low and --high")
    return _pick("`low`/`high`", "--low/--high")


def dot_output() -> str:
    """How to write the diagram as DOT text: `-o diagram.dot`, or `Model.render("diagram.dot")`."""
    return _pick('`render("diagram.dot")`', "`-o diagram.dot`")


def summary() -> str:
    """How the summary diagram is asked for."""
    return _pick("`summary=True`", "`--summary`")


def at_month() -> str:
    return _pick("`at_month`", "--at-month")


def at_month_hint(month: int) -> str:
    """How to ask for another month: `--at-month 12` or `at_month=12`."""
    return _pick(f"at_month={month}", f"--at-month {month}")


def every_file() -> str:
    """How every file is asked for: `--all`, or the API's `all_files=True`."""
    return _pick("`all_files=True`", "`--all`")
