"""The roles a part of an `input { }` block may declare (`history = 6 * turn as history`),
what each means to the lint rules, and the role guessed from a part's name when it
declares none.

A leaf module: elaboration checks the roles a file writes against `ROLES`, and `lint`
reads what they mean; neither imports the other.
"""

from __future__ import annotations

import difflib
import re
from typing import Optional

__all__ = ["ROLES", "ROLE_NAMES", "CONTEXT_ROLES", "HEADER_ROLES", "REQUEST_ROLES", "guess", "suggestion"]

#: The closed set of roles, each with what it means (docs/language.md#input-roles).
ROLES: dict[str, str] = {
    "instructions": "the instruction header: system prompt, rules, examples, tool definitions",
    "history": "earlier turns of the conversation and memory carried into the call",
    "retrieved": "context retrieved for this call: chunks, search results",
    "user": "what the user wrote: the question, message or ticket",
    "payload": "the material the call works on: a document to summarize, a transcript, a file",
}

#: How a finding names a part of each role.
ROLE_NAMES: dict[str, str] = {"instructions": "the instruction header", "history": "conversation history",
                              "retrieved": "retrieved context", "user": "the user's message",
                              "payload": "the material the call works on"}

#: L101 counts these as context that can bloat a prompt.
CONTEXT_ROLES = ("history", "retrieved")
#: L102 compares the instruction header ...
HEADER_ROLES = ("instructions",)
#: ... with the request's own content.
REQUEST_ROLES = ("user", "payload")

# A part without a role is given one from its name, first match wins (the keywords the
# lint rules always read); `payload` is never guessed: it has to be declared.
_GUESSES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"history|memory", re.I), "history"),
    (re.compile(r"context|retriev|chunk|document|rag", re.I), "retrieved"),
    (re.compile(r"system|instruction|header|prompt|preamble", re.I), "instructions"),
    (re.compile(r"user|question|query|ticket|message|request|input", re.I), "user"),
)

# Words a writer may reach for instead of a role, for the hint on an unknown one.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "system": ("instructions",), "instruction": ("instructions",), "header": ("instructions",),
    "prompt": ("instructions",), "preamble": ("instructions",), "rules": ("instructions",),
    "examples": ("instructions",), "tools": ("instructions",),
    "memory": ("history",), "conversation": ("history",), "chat": ("history",), "turns": ("history",),
    "context": ("retrieved",), "rag": ("retrieved",), "chunks": ("retrieved",), "retrieval": ("retrieved",),
    "search": ("retrieved",),
    "question": ("user",), "query": ("user",), "message": ("user",), "ticket": ("user",), "input": ("user",),
    "request": ("user",),
    "document": ("payload", "retrieved"), "documents": ("payload", "retrieved"), "doc": ("payload", "retrieved"),
    "data": ("payload",), "file": ("payload",), "transcript": ("payload",), "content": ("payload",),
}


def guess(name: str) -> Optional[str]:
    """The role a part named `name` is taken to have when it declares none, or None."""
    for pattern, role in _GUESSES:
        if pattern.search(name):
            return role
    return None


def suggestion(word: str) -> str:
    """The hint for an unknown role `word`: the role it is closest to or stands for, and
    the roles there are."""
    close = difflib.get_close_matches(word, list(ROLES), n=1, cutoff=0.6)
    meant = tuple(close) or _SYNONYMS.get(word.lower(), ())
    known = "roles: " + ", ".join(f"`{r}`" for r in ROLES)
    if not meant:
        return known
    return "did you mean " + " or ".join(f"`{r}` ({ROLE_NAMES[r]})" for r in meant) + "? " + known
