"""Elaboration: resolve names, check units and build the `ir.Architecture`.

Elaboration is a sequence of passes over one `State` (see `state.py`), each a function
`run(state)` in a module of its own, in the order `PASSES` writes down; a pass reads what
the passes before it filled in. Expressions are compiled by one visitor
(`expressions.ExpressionCompiler`). Every problem is collected with its source span and
reported together, once every pass has run; a later problem that only follows from an
earlier one is not reported twice.
"""

from __future__ import annotations

from typing import Callable

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, SourceCache

from .. import ir
from . import (budgets, components, configure, correlations, declarations, flow, hosting, parameters, prices, roles,
               scenarios, supports,
               statements)
from .components import MAX_ATTEMPTS
from .state import RESERVED_NODES, TIME_PARAMETER, State

__all__ = ["elaborate", "PASSES", "State", "RESERVED_NODES", "MAX_ATTEMPTS", "TIME_PARAMETER"]

#: The passes, in the order they run.
PASSES: tuple[Callable[[State], None], ...] = (
    statements.run,     # templates expanded; the main file's architecture/traffic/flow/settings
    roles.run,          # every `as ROLE` on an input part, naming a known role
    configure.run,      # settings { }: the month's length, lint thresholds
    declarations.run,   # every name declared once
    parameters.run,     # parameters in dependency order
    prices.run,         # models' prices
    components.run,     # components by kind, then their fallback/on_hit links
    flow.run,           # traffic, then the flow's edges with ports joined away
    hosting.run,        # self-hosted models' GPU replicas, a fixed monthly cost sized for the peak
    scenarios.run,      # scenarios' overrides, `extends` followed
    correlations.run,   # rank correlations of uncertain parameters
    supports.run,       # distributions that fit where their parameters are used
    budgets.run,        # budgets' limits
)


def elaborate(modules: list[ast.Module], sources: SourceCache) -> ir.Architecture:
    """Check the parsed modules (main file first) and build the architecture."""
    state = State(modules, Collector(sources))
    for run in PASSES:
        run(state)
    state.collector.raise_if_errors()
    return _architecture(state)


def _architecture(state: State) -> ir.Architecture:
    title, traffic = state.architecture_statement, state.traffic_statement
    return ir.Architecture(
        title=title.title if title else state.main.path, path=state.given.path, month_days=state.month_days,
        traffic=state.traffic, traffic_span=traffic.span if traffic else None,
        parameters=state.params, prices=state.prices, components=state.components, edges=state.edges,
        entry=state.entry, fixed=state.fixed, scenarios=state.scenarios, checks=state.checks,
        budgets=state.budgets, lint_settings=state.lint_settings, lint_spans=state.lint_spans,
        groups={name: i.label or name for name, i in state.instances.items()},
        instance_spans={name: i.span for name, i in state.instances.items()}, correlations=state.correlations,
        peak=state.peak, peak_span=state.peak_span)
