"""Pass `declarations`: every top-level name (parameters, models, components, template
instances) is declared once. A name that is taken (E101), reserved for the flow or
built in (E102) is reported, and its declaration is skipped by later passes (see
`State.declared_here`)."""

from __future__ import annotations

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Span

from .state import RESERVED_NODES, TIME_PARAMETER, State

__all__ = ["run"]


def run(state: State) -> None:
    for _, s in state.statements:
        if isinstance(s, ast.Param):
            _declare(state, s.name, "parameter", s.name_span)
        elif isinstance(s, ast.Model):
            _declare(state, s.name, "model", s.name_span)
        elif isinstance(s, ast.Component):
            state.collector.context = state.instance_notes(s.name)
            _declare(state, s.name, f"{s.kind} component", s.name_span)
    state.collector.context = ()
    for instance in state.instances.values():
        _declare(state, instance.name, f"instance of template `{instance.template}`", instance.span)


def _declare(state: State, name: str, kind: str, span: Span) -> None:
    error = state.collector.error
    if name == TIME_PARAMETER:
        error("E102", f"`{name}` is built in: the months since launch", span,
              help="choose another name; use `time` in formulas for growth over time")
        return
    if name in RESERVED_NODES:
        error("E102", f"`{name}` is reserved for the flow", span, help="choose another name")
        return
    if name in state.declared:
        other_kind, other_span = state.declared[name]
        error("E101", f"`{name}` is already declared (as a {other_kind})", span,
              notes=(("first declared here", other_span),))
        return
    state.declared[name] = (kind, span)
