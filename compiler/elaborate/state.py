"""The one state every elaboration pass reads and writes.

A pass (see `PASSES` in this package's `__init__`) fills in some fields and reads the ones
earlier passes filled in; nothing else is shared between passes. The fields are listed in
the order the passes fill them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, Span

from .. import ir
from ..templates import Instance, Scope

__all__ = ["State", "DEFAULT_MONTH_DAYS", "RESERVED_NODES", "TIME_PARAMETER"]

#: Flow nodes every architecture has; no declaration may take these names.
RESERVED_NODES = ("start", "success", "failure")
#: The built-in parameter: months since launch, for growth over time.
TIME_PARAMETER = "time"
DEFAULT_MONTH_DAYS = sympy.Integer(30)


@dataclass(eq=False)
class State:
    """What elaboration knows so far about the parsed modules (main file first)."""

    modules: list[ast.Module]
    collector: Collector

    # statements: templates expanded; the main file's one-per-file statements picked out
    statements: list[tuple[bool, ast.Statement]] = field(default_factory=list)   # (in the main file, statement)
    instance_flows: list[tuple[ast.Flow, Scope]] = field(default_factory=list)   # every instance's flow
    instances: dict[str, Instance] = field(default_factory=dict)
    origin: dict[str, Instance] = field(default_factory=dict)     # component name -> the instance that made it
    failed_instances: set[str] = field(default_factory=set)
    architecture_statement: Optional[ast.Architecture] = None
    traffic_statement: Optional[ast.Traffic] = None
    flow_statement: Optional[ast.Flow] = None
    settings_statement: Optional[ast.Settings] = None

    # configure: `settings { }`
    month_days: sympy.Expr = DEFAULT_MONTH_DAYS
    lint_settings: dict[str, float] = field(default_factory=dict)
    lint_spans: dict[str, Span] = field(default_factory=dict)
    peak: float = 1.0
    peak_span: Optional[Span] = None

    # declarations: every top-level name, its kind and where it was first declared
    declared: dict[str, tuple[str, Span]] = field(default_factory=dict)

    # parameters; `pending_params` are declared but have no value (a cycle or an error,
    # already reported): a formula naming one is not reported again
    params: dict[str, ir.Parameter] = field(default_factory=dict)
    pending_params: frozenset = frozenset()

    # prices, components
    prices: dict[str, ir.Price] = field(default_factory=dict)
    components: dict[str, ir.Component] = field(default_factory=dict)
    fixed: dict[str, ir.FixedCost] = field(default_factory=dict)
    checks: list[ir.Check] = field(default_factory=list)       # appended to by every pass

    # flow
    traffic: Optional[sympy.Expr] = None
    edges: list[ir.Edge] = field(default_factory=list)
    entry: str = ""

    # scenarios, budgets
    scenarios: dict[str, ir.Scenario] = field(default_factory=dict)
    budgets: list[ir.Budget] = field(default_factory=list)
    correlations: list[ir.Correlation] = field(default_factory=list)

    @property
    def main(self) -> ast.Module:
        return self.modules[0]

    @property
    def given(self) -> ast.Module:
        """The file given to the command: the main file, or the scenario file over it (last)."""
        return self.modules[-1] if self.modules[-1].over is not None else self.main

    def file_start(self) -> Span:
        """Where a problem with the whole main file is reported: its first character."""
        return Span(file=self.main.path, line=1, column=1, end_line=1, end_column=2)

    def declared_here(self, name: str, span: Span) -> bool:
        """Whether the declaration of `name` at `span` is the one that took the name (a
        second declaration of a name was reported and is skipped)."""
        return self.declared.get(name, ("",))[1:] == (span,)

    def instance_notes(self, name: str) -> tuple:
        """Notes on where a component made by a template instance came from (else none)."""
        return self.origin[name].notes if name in self.origin else ()

    def flow_components(self) -> Iterator[str]:
        """The components a request can visit: every one but the observability overlays."""
        return (n for n, c in self.components.items() if c.kind != "observe")
