"""Pass `statements`: the statements elaboration sees. Templates are expanded (their
instances' components become ordinary ones), and the main file's one-per-file statements
(`architecture`, `traffic`, `flow`, `settings`) are picked out: given in an imported file
(E021) or twice (E022), they are reported and skipped."""

from __future__ import annotations

from llmarch.dsl import ast

from ..templates import expand
from .state import State

__all__ = ["run"]

_ONCE = {ast.Architecture: ("architecture", "architecture_statement"), ast.Traffic: ("traffic", "traffic_statement"),
         ast.Flow: ("flow", "flow_statement"), ast.Settings: ("settings", "settings_statement")}


def run(state: State) -> None:
    # a scenario file's statements count as the main file's (its budgets are the model's)
    statements = [(m is state.main or m.over is not None, s) for m in state.modules for s in m.statements]
    expansion = expand(statements, state.collector)
    state.statements = expansion.statements
    state.instance_flows = expansion.flows
    state.instances, state.origin = expansion.instances, expansion.origin
    state.failed_instances = expansion.failed
    for in_main, s in state.statements:
        once = _ONCE.get(type(s))
        if once is None:
            continue
        word, slot = once
        if not in_main:
            state.collector.error("E021", f"`{word}` belongs in the main file, not in an imported one", s.span)
            continue
        previous = getattr(state, slot)
        if previous is not None:
            state.collector.error("E022", f"`{word}` is given twice", s.span,
                                  notes=(("first given here", previous.span),))
            continue
        setattr(state, slot, s)
