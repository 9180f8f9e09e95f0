"""Pass `roles`: every `as ROLE` a file writes is on a part of a component's `input { }`
block (E222 anywhere else) and names one of the roles (E223, with the closest one).

The check reads the files as written, before templates are expanded, so a role in a
template's text is reported once, not once per instance."""

from __future__ import annotations

from typing import Iterator

from llmarch.dsl import ast

from ..input_roles import ROLES, suggestion
from .state import State

__all__ = ["run"]


def run(state: State) -> None:
    error = state.collector.error
    for module in state.modules:
        for field, is_input_part in _fields(module.statements):
            if field.role is None:
                continue
            if not is_input_part:
                error("E222", f"`{field.name}` cannot have a role: only a part of an `input {{ }}` block has one",
                      field.role_span,
                      help=f"split the input into named parts: `input {{ question = … as {field.role} }}`"
                      if field.name == "input" else
                      "a role says what a part of a call's input is: `input { history = 6 * turn as history }`")
            elif field.role not in ROLES:
                error("E223", f"unknown role `{field.role}` of input part `{field.name}`", field.role_span,
                      help=suggestion(field.role))


def _fields(statements) -> Iterator[tuple[ast.Field, bool]]:
    """Every field of every body, with whether it is a part of a component's `input` block."""
    for s in statements:
        if isinstance(s, ast.Template):
            yield from _fields(s.items)
        elif isinstance(s, ast.Component):
            for item in s.body.items:
                if isinstance(item, ast.Block) and item.name == "input":
                    for part in item.body.items:
                        if isinstance(part, ast.Field):
                            yield part, True
                        else:
                            yield from _body(part.body)
                elif isinstance(item, ast.Block):
                    yield from _body(item.body)
                else:
                    yield item, False
        elif isinstance(s, (ast.Settings, ast.Model, ast.Scenario, ast.Use)) and s.body is not None:
            yield from _body(s.body)


def _body(body: ast.Body) -> Iterator[tuple[ast.Field, bool]]:
    for item in body.items:
        if isinstance(item, ast.Block):
            yield from _body(item.body)
        else:
            yield item, False
