"""Numbers from the symbolic model.

Parameters are resolved per scenario (defaults, then the scenario's overrides, then
`--set` values) and checked (probabilities in [0, 1], amounts not negative, loops that
exit). The cost model itself is evaluated by one generated, vectorized function:
`sympy.lambdify` prints the chain of visit definitions as straight-line numpy code whose
arguments and locals have internal names only (`_p0`, `_v3`), never a user's.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Mapping, Optional

import networkx as nx
import numpy as np
import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, LlmarchError, SourceCache, usage_error

from . import ir, options
from .codegen import (BLOCK, MEMORY_FLOATS, blocked, blocked_extremes, compile_source, function_from_code, generate_function,  # noqa: F401
                      generate_resolver_source, generate_source, needed_definitions, numeric)
from .model import CostModel
from .gc_pause import collector_paused
from .results import (CheckInfo, ComponentResult, CostResult, LoopInfo, OutputLayout, RowInfo,  # noqa: F401
                      build_result, check_findings, loop_findings, scenario_blame)

__all__ = ["Evaluator", "Evaluation", "GraphNumbers", "OutputLayout", "Resolution", "Row", "CostResult",
           "ComponentResult", "numeric", "parse_set_value"]

_ARRAY = object()  # marks a parameter given as an array of values


@dataclass
class Resolution:
    """Parameter values (each in its declared unit) for one scenario and `--set` values;
    `inputs` and `order` (for the analyses) are worked out when first asked for."""

    scenario: Optional[str]
    values: dict[str, float]
    env: dict[sympy.Symbol, float] = field(default_factory=dict)
    definitions: dict[str, sympy.Expr] = field(default_factory=dict)  # base units; arrays left out
    sets_key: tuple = ()                              # the --set values it was resolved with
    arrays: frozenset = frozenset()                   # parameters given as arrays
    parameters: dict = field(default_factory=dict, repr=False)   # arch.parameters

    @functools.cached_property
    def _by_symbol(self) -> dict:
        return {p.symbol: name for name, p in self.parameters.items()}

    @functools.cached_property
    def inputs(self) -> list[str]:
        """The parameters that depend on no other (arrays count as inputs)."""
        symbols = self._by_symbol.keys()
        return [n for n in self.parameters if n in self.arrays or symbols.isdisjoint(self.definitions[n].free_symbols)]

    @functools.cached_property
    def order(self) -> list[str]:
        """Every parameter, dependencies first."""
        return list(nx.lexicographical_topological_sort(_dependency_graph(self.parameters, self.definitions)))


def _dependency_graph(parameters: dict, definitions: dict) -> nx.DiGraph:
    """Parameter -> the parameters whose definition uses it (arrays, absent here, use none)."""
    by_symbol = {p.symbol: name for name, p in parameters.items()}
    graph = nx.DiGraph()
    graph.add_nodes_from(parameters)
    for name, definition in definitions.items():
        graph.add_edges_from((by_symbol[s], name) for s in definition.free_symbols if s in by_symbol)
    return graph


def parse_set_value(text: str, param: ir.Parameter, month_days) -> sympy.Expr:
    """Parse the VALUE of `--set NAME=VALUE`: a number in the parameter's unit, or a
    number with a unit (`5000 requests/day`) or a percentage. Returns base units."""
    from llmarch.dsl.parser import parse as parse_source
    from .units import unit_of

    module = parse_source(f"param _ = {text}", "--set")
    (statement,) = module.statements
    value = statement.value
    if isinstance(value, ast.Neg) and isinstance(value.operand, (ast.Quantity, ast.Percent)):
        sign, value = -1, value.operand
    else:
        sign = 1
    if isinstance(value, ast.Percent):
        number = sympy.Rational(value.value) / 100
        if not param.dim.is_dimensionless:
            raise ValueError(f"`{param.name}` is not a plain number; give a value in {param.unit or 'its unit'}")
        return sign * number
    if not isinstance(value, ast.Quantity):
        raise ValueError("expected a number, optionally with a unit, e.g. `5000` or `5000 requests/day`")
    number = sympy.Rational(value.value)
    if value.unit is None:
        return sign * number * param.scale
    dim, scale = unit_of(value.unit, month_days)
    if dim != param.dim:
        from .units import format_dim
        raise ValueError(f"`{param.name}` is in {format_dim(param.dim)}, not {format_dim(dim)}")
    return sign * number * scale


class Evaluator:
    """Evaluates a `CostModel`: resolve parameters, check them, run the generated code."""

    #: Evaluations kept per (scenario, --set values): enough for every scenario a report shows.
    MEMO_SIZE = 64

    def __init__(self, model: CostModel, sources: SourceCache | None = None):
        self.model = model
        self.arch = model.arch
        self.sources = sources
        self._function = None
        self._totals = None
        self._graph_function = None
        self._rows = tuple(self._component_rows())
        components = self.arch.components
        self._row_info = tuple(RowInfo(r.key, r.component, r.kind, r.category,
                                       components[r.component].model is not None if r.component in components
                                       else False) for r in self._rows)
        self._layout = OutputLayout.of(len(self._rows), len(self.arch.fixed), model.latency_per_request is not None)
        #: Where the prices of the models in use come from (the compile cache stores them too).
        self.price_sources = self.arch.price_sources()
        self._resolutions: dict[tuple, Resolution] = {}
        self._resolvers: dict[Optional[str], tuple] = {}
        self._resolver_functions: dict[int, tuple] = {}
        self._evaluations: dict[tuple, Evaluation] = {}
        #: How often each point (what, scenario, --set values) was resolved and checked,
        #: memo hits not counted: the tests hold consumers to once per point.
        self.counts: Counter = Counter()

    @property
    def rows(self) -> tuple["Row", ...]:
        """The cost table's lowered rows (a component's attempts together; a fallback copy,
        `answer@strong`, on its own), in the order of the generated outputs."""
        return self._rows

    @property
    def row_infos(self) -> tuple[RowInfo, ...]:
        """What the cost table says of each row (name, component, kind, category, priced by tokens)."""
        return self._row_info

    @property
    def layout(self) -> "OutputLayout":
        """Where each named output sits in what the generated evaluator returns."""
        return self._layout

    # --- parameters ------------------------------------------------------------------
    def resolve(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None,
                arrays: Optional[Mapping[str, np.ndarray]] = None, samples: bool = False) -> Resolution:
        """Parameter values for a scenario and `--set` values. `arrays` gives some parameters
        arrays of values (in their declared units); every value that depends on them is
        then an array too (for sweeps, tornados and projections). Without arrays the
        resolution is kept and shared: treat it as read-only."""
        if arrays:
            return self._resolve(scenario, sets, arrays, samples)
        key = (scenario, _sets_key(sets))
        hit = self._resolutions.get(key)
        if hit is None:
            hit = self._resolve(scenario, sets, None)
            _remember(self._resolutions, key, hit, self.MEMO_SIZE)
        return hit

    def _resolve(self, scenario, sets, arrays, samples: bool = False) -> Resolution:
        # Monte Carlo's chunks are new points each time: counted apart from the batches of
        # the analyses, which must never be resolved twice
        what = ("resolve samples" if samples else f"resolve batch over {', '.join(sorted(arrays))}") if arrays \
            else "resolve"
        self.counts[what, scenario, _sets_key(sets)] += 1
        arch = self.arch
        collector = Collector(self.sources)
        definitions = {name: p.definition for name, p in arch.parameters.items()}
        spans = {name: p.span for name, p in arch.parameters.items()}
        if scenario is not None:
            if scenario not in arch.scenarios:
                from llmarch.dsl.diagnostics import did_you_mean
                known = ", ".join(arch.scenarios) or "none"
                raise usage_error(f"unknown scenario `{scenario}`",
                                           did_you_mean(scenario, arch.scenarios) or f"scenarios: {known}")
            s = arch.scenarios[scenario]
            definitions.update(s.overrides)
            spans.update(s.spans)
        for name, text in (sets or {}).items():
            if name not in arch.parameters:
                from llmarch.dsl.diagnostics import did_you_mean
                raise usage_error(f"unknown parameter `{name}` in {options.unknown_in('set')}",
                                  did_you_mean(name, arch.parameters))
            if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
                if not math.isfinite(float(text)):
                    raise usage_error(f"{options.override(name)}: {text} is not a finite number")
                definitions[name] = sympy.Float(float(text)) * arch.parameters[name].scale
                continue
            try:
                definitions[name] = parse_set_value(text, arch.parameters[name], arch.month_days)
            except LlmarchError as exc:
                raise usage_error(f"cannot read {options.override(name, text)}: {exc.diagnostics[0].message}") from None
            except ValueError as exc:
                raise usage_error(f"cannot read {options.override(name, text)}: {exc}") from None
        for name, array in (arrays or {}).items():
            if name not in arch.parameters:
                from llmarch.dsl.diagnostics import did_you_mean
                raise usage_error(f"unknown parameter `{name}`", did_you_mean(name, arch.parameters))
            definitions[name] = _ARRAY
        resolver = self.resolver(scenario)
        known = {n: d for n, d in definitions.items() if d is not _ARRAY}
        if resolver is None:
            # the scenario's own definitions form a circle: unless --set values break it, E232
            graph = _dependency_graph(arch.parameters, known)
            if not nx.is_directed_acyclic_graph(graph):
                cycle = nx.find_cycle(graph)
                names = [u for u, _ in cycle]
                overridden = [n for n in names if scenario is not None and n in arch.scenarios[scenario].spans]
                at = overridden[0] if overridden else names[-1]
                collector.error("E232", "parameters depend on each other in a circle"
                                + (f" in scenario `{scenario}`" if scenario else "") + ": "
                                + " -> ".join(names + [names[0]]), spans[at])
                collector.raise_if_errors()
        names = list(arch.parameters)
        resolver = self.resolver(scenario)
        if resolver is not None:
            # the scenario's generated resolver: the same code the compile cache runs
            given: list = []
            constants = self.resolver_constants(scenario)
            for name, p in arch.parameters.items():
                if definitions[name] is _ARRAY:
                    given.append(np.asarray(arrays[name], dtype=float))
                elif sets and name in sets:
                    with np.errstate(all="ignore"):
                        given.append(numeric(definitions[name], {}) / float(p.scale))
                else:
                    given.append(constants.get(name))
            bad: list = []
            with np.errstate(all="ignore"):
                computed = resolver(bad, *given)
            values = dict(zip(names, computed))
            for i, value in bad:
                shown = f" ({value})" if np.ndim(value) == 0 else ""
                collector.error("E503", f"parameter `{names[i]}` is not a finite number{shown}", spans[names[i]])
        else:   # a circle in the scenario that the --set values break: walk the definitions
            values = {}
            env0: dict = {}
            for name in nx.lexicographical_topological_sort(graph):
                p = arch.parameters[name]
                if definitions[name] is _ARRAY:
                    value = np.asarray(arrays[name], dtype=float)
                else:
                    with np.errstate(all="ignore"):
                        value = numeric(definitions[name], env0) / float(p.scale)
                    value = float(value) if np.ndim(value) == 0 else value
                if not np.all(np.isfinite(value)):
                    shown = f" ({value})" if np.ndim(value) == 0 else ""
                    collector.error("E503", f"parameter `{name}` is not a finite number{shown}", spans[name])
                    value = 0.0
                env0[p.symbol] = value
                values[name] = value
        env: dict[sympy.Symbol, float] = {ir.FAILURE_SWITCH: 1.0}
        env.update((arch.parameters[name].symbol, values[name]) for name in names)
        collector.raise_if_errors()
        return Resolution(scenario, {n: values[n] for n in arch.parameters}, env, known, _sets_key(sets),
                          frozenset(arrays or ()), arch.parameters)

    def resolver(self, scenario: Optional[str]):
        """The generated function giving every parameter's value in `scenario` (see
        `codegen.generate_resolver_source`), or None when the scenario's definitions
        depend on each other in a circle. A scenario that only sets numbers shares the
        defaults' function, its numbers given as arguments (`resolver_constants`)."""
        code = self.resolver_code(scenario)
        if code is None:
            return None
        if id(code) not in self._resolver_functions:
            self._resolver_functions[id(code)] = (code, function_from_code(code))
        return self._resolver_functions[id(code)][1]

    def resolver_code(self, scenario: Optional[str]):
        """The resolver's code object (for the compile cache), or None."""
        if scenario not in self._resolvers:
            self._resolvers[scenario] = self._plan_resolver(scenario)
        return self._resolvers[scenario][0]

    def resolver_constants(self, scenario: Optional[str]) -> dict[str, float]:
        """The numbers a scenario sets (declared units), passed to the shared resolver."""
        self.resolver_code(scenario)
        return self._resolvers[scenario][1]

    def _plan_resolver(self, scenario: Optional[str]) -> tuple:
        arch = self.arch
        overrides = arch.scenarios[scenario].overrides if scenario is not None else {}
        by_symbol = {p.symbol: name for name, p in arch.parameters.items()}
        if scenario is not None and all(by_symbol.keys().isdisjoint(d.free_symbols) for d in overrides.values()):
            # numbers only: the defaults' order still holds (a number depends on nothing)
            default = self.resolver_code(None)
            if default is not None:
                with np.errstate(all="ignore"):
                    constants = {name: numeric(d, {}) / float(arch.parameters[name].scale)
                                 for name, d in overrides.items()}
                return default, constants
        definitions = {name: p.definition for name, p in arch.parameters.items()}
        definitions.update(overrides)
        index = {name: i for i, name in enumerate(arch.parameters)}
        graph = nx.DiGraph()
        graph.add_nodes_from(arch.parameters)
        for name, definition in definitions.items():
            graph.add_edges_from((by_symbol[s], name) for s in definition.free_symbols if s in by_symbol)
        if not nx.is_directed_acyclic_graph(graph):
            return None, {}
        order = [index[name] for name in nx.lexicographical_topological_sort(graph)]
        parameters = [(p.symbol, p.scale) for p in arch.parameters.values()]
        source = generate_resolver_source(parameters, order, [definitions[name] for name in arch.parameters])
        return compile_source(source), {}

    # --- checks ----------------------------------------------------------------------
    def check(self, resolution: Resolution, happy_path: bool = True, samples: bool = False) -> None:
        """Raise if a probability is outside [0, 1], an amount is negative or a loop never
        exits (also in the happy path, unless `happy_path` is False: Monte Carlo never
        evaluates it)."""
        arrays = sorted(n for n, v in resolution.values.items() if np.ndim(v) > 0)
        what = ("check samples" if samples else f"check batch over {', '.join(arrays)}") if arrays else "check"
        self.counts[what, resolution.scenario, resolution.sets_key] += 1
        c = Collector(self.sources)
        where = f" in scenario `{resolution.scenario}`" if resolution.scenario else ""
        args = [resolution.env[p.symbol] for p in self.arch.parameters.values()]
        with np.errstate(all="ignore"):
            values = blocked_extremes(self.check_function, [*args, 1.0]) if arrays else self.check_function(*args, 1.0)
            findings = check_findings(self.check_infos, values, where, self._blame(resolution))
            if not findings:
                happy = " in the happy path (failures set to 0)"
                switches = [("", lambda: self._loop_blocks(args, 1.0))]
                if happy_path:
                    switches.append((happy, lambda: self._loop_blocks(args, 0.0)))
                findings = loop_findings(self.loop_infos, switches, where)
        for code, message, span, help, notes in findings:
            c.error(code, message, span, help=help, notes=notes)
        c.raise_if_errors()

    # --- what the checks need, generated once (the compile cache keeps the same code) ----------
    @functools.cached_property
    def check_infos(self) -> tuple[CheckInfo, ...]:
        by_symbol = {p.symbol: name for name, p in self.arch.parameters.items()}
        return tuple(CheckInfo(c.kind, c.what, c.span,
                               tuple(sorted(by_symbol[x] for x in c.expr.free_symbols if x in by_symbol)))
                     for c in self.arch.checks)

    def _blame(self, resolution: Resolution):
        """A check that fails in a scenario is reported at the scenario's override it depends on."""
        if resolution.scenario is None:
            return None
        overridden = self.arch.scenarios[resolution.scenario].spans
        by_symbol = {p.symbol: name for name, p in self.arch.parameters.items()}

        def dependencies(name: str) -> list[str]:
            definition = resolution.definitions.get(name)
            return [] if definition is None else [by_symbol[x] for x in definition.free_symbols if x in by_symbol]

        return lambda check: scenario_blame(check, dependencies, overridden)

    @functools.cached_property
    def check_code(self):
        with collector_paused():
            return compile_source(generate_source(self.arguments, [c.expr for c in self.arch.checks], []))

    @functools.cached_property
    def check_function(self):
        """f(*parameter values, failure switch) -> the value of every `ir.Check`."""
        return function_from_code(self.check_code)

    @functools.cached_property
    def _loop_layout(self) -> tuple[tuple[LoopInfo, ...], list]:
        g, entry = self.model.flow.graph, self.model.flow.entry
        probabilities: list = []
        index: dict = {}

        def slot(u, v) -> int:
            if (u, v) not in index:
                index[u, v] = len(probabilities)
                probabilities.append(g.edges[u, v]["probability"])
            return index[u, v]

        infos = []
        for loop in self.model.loops:
            members = set(loop.nodes)
            inside = tuple((u, tuple((v, slot(u, v), v in members) for v in g.successors(u))) for u in loop.nodes)
            entries = tuple((v, v == entry, tuple(slot(u, v) for u in g.predecessors(v) if u not in members))
                            for v in loop.nodes)
            names = tuple(sorted({g.nodes[n]["component"] for n in loop.nodes if g.nodes[n]["component"]}))
            infos.append(LoopInfo(tuple(loop.nodes), names, loop.spans[0] if loop.spans else None, inside, entries))
        return tuple(infos), probabilities

    def _loop_blocks(self, args: list, switch: float):
        """The loop probabilities at `args`, a block of points at a time (see codegen.blocked)."""
        arrays = [a for a in args if isinstance(a, np.ndarray) and a.ndim > 0]
        size = arrays[0].shape[0] if arrays else 1
        function = self.loop_function
        block = max(256, min(BLOCK, MEMORY_FLOATS // max(1, getattr(function, "slots", 1))))
        for start in range(0, size, block):
            yield function(*[a[start:start + block] if isinstance(a, np.ndarray) and a.ndim > 0 else a
                             for a in args], switch)

    @property
    def loop_infos(self) -> tuple[LoopInfo, ...]:
        return self._loop_layout[0]

    @functools.cached_property
    def loop_code(self):
        with collector_paused():
            return compile_source(generate_source(self.arguments, self._loop_layout[1], []))

    @functools.cached_property
    def loop_function(self):
        """f(*parameter values, failure switch) -> the probability of every edge in or into a loop."""
        return function_from_code(self.loop_code)

    @functools.cached_property
    def used_parameters(self) -> frozenset[str]:
        """The parameters the results depend on: in a cost, probability, traffic or fixed
        cost, directly or through the definition of another such parameter. Importing a
        price module declares many parameters a file may never use; analyses skip them."""
        m = self.model
        symbols: set = set()
        for expr in [*self.outputs(), *(value for _, value in m.definitions)]:
            if isinstance(expr, sympy.Basic):
                symbols |= expr.free_symbols
        by_symbol = {p.symbol: name for name, p in self.arch.parameters.items()}
        used: set[str] = set()
        stack = [by_symbol[x] for x in symbols if x in by_symbol]
        while stack:
            name = stack.pop()
            if name in used:
                continue
            used.add(name)
            stack += [by_symbol[x] for x in self.arch.parameters[name].definition.free_symbols if x in by_symbol]
        return frozenset(used)

    # --- evaluation ------------------------------------------------------------------
    @property
    def arguments(self) -> list[sympy.Symbol]:
        return [p.symbol for p in self.arch.parameters.values()] + [ir.FAILURE_SWITCH]

    def outputs(self) -> list[sympy.Expr]:
        """The generated evaluator's outputs, in `layout` order."""
        m = self.model
        blocks = {
            "cost_per_request": [m.cost_per_request], "p_success": [m.p_success],
            "requests_per_month": [m.requests_per_month],
            "per_request_by_category": [m.by_category[c] for c in ir.CATEGORIES],
            "fixed_by_category": [m.fixed_by_category[c] for c in ir.CATEGORIES],
            "row_visits": [row.visits for row in self._rows], "row_cost": [row.cost for row in self._rows],
            "fixed_items": [f.monthly for f in self.arch.fixed.values()],
            "latency_per_request": [m.latency_per_request], "latency_variance": [m.latency_variance],
            "row_latency": [row.latency for row in self._rows]}
        return [expr for name, _ in self._layout.blocks for expr in blocks[name]]

    @property
    def function(self):
        """The generated evaluator: f(*parameter values, failure switch) -> outputs."""
        if self._function is None:
            self._function = function_from_code(self.function_code)
        return self._function

    @functools.cached_property
    def function_code(self):
        """The generated evaluator's code object (the compile cache keeps it)."""
        with collector_paused():
            return compile_source(generate_source(self.arguments, self.outputs(), self.model.definitions))

    @property
    def totals_function(self):
        """A lean evaluator: f(*parameters, switch) -> [monthly total, cost per request,
        P(success), requests per month], for sweeps and root finding."""
        if self._totals is None:
            m = self.model
            with collector_paused():
                self._totals = generate_function(self.arguments, [m.monthly_total, m.cost_per_request, m.p_success,
                                                                  m.requests_per_month], self.model.definitions)
        return self._totals

    def totals(self, env: Mapping[sympy.Symbol, object], switch: float = 1.0) -> list:
        args = [env[p.symbol] for p in self.arch.parameters.values()] + [switch]
        with np.errstate(all="ignore"):
            return blocked(self.totals_function, args)

    def raw(self, env: Mapping[sympy.Symbol, object], switch: float = 1.0, keep: slice = slice(None)) -> list:
        """The generated evaluator's outputs (those `keep` selects) at `env`'s values."""
        args = [env[p.symbol] for p in self.arch.parameters.values()] + [switch]
        with np.errstate(all="ignore"):
            return blocked(self.function, args, keep=keep)

    def _component_rows(self) -> list["Row"]:
        g = self.model.flow.graph
        rows: dict[str, Row] = {}
        for node, data in g.nodes(data=True):
            if data["outcome"] is not None or data["kind"] == "start":
                continue
            key = node.split("#")[0]
            row = rows.get(key)
            cost = self.model.node_cost[node]
            if row is None:
                rows[key] = Row(key, data["component"], data["kind"], data["category"], [node],
                                 self.model.visits[node], cost)
            else:
                row.nodes.append(node)
                row.visits = row.visits + self.model.visits[node]
        for row in rows.values():
            # every attempt of a component costs the same per visit
            row.cost = self.model.node_cost[row.nodes[0]]
            if self.model.node_latency:
                # but a retry may take longer (its backoff): seconds per request, node by node
                row.latency = sympy.Add(*[sympy.Mul(self.model.visits[n], self.model.node_latency[n], evaluate=False)
                                          for n in row.nodes], evaluate=False)
        return list(rows.values())

    def evaluate(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None) -> "CostResult":
        """The cost table's numbers at a scenario (the `CostResult` of `evaluation`)."""
        return self.evaluation(scenario, sets).result

    def evaluation(self, scenario: Optional[str] = None, sets: Optional[Mapping[str, str]] = None) -> "Evaluation":
        """Resolve, check and evaluate a scenario once; every consumer (cost, lint, budgets,
        export, render, report, diff) shares the same `Evaluation`."""
        key = (scenario, _sets_key(sets))
        hit = self._evaluations.get(key)
        if hit is None:
            hit = self._evaluate(scenario, sets)
            _remember(self._evaluations, key, hit, self.MEMO_SIZE)
        return hit

    def _evaluate(self, scenario: Optional[str], sets: Optional[Mapping[str, str]]) -> "Evaluation":
        resolution = self.resolve(scenario, sets)
        try:
            self.check(resolution)
        except LlmarchError as exc:
            if not sets:
                raise
            raise LlmarchError([replace(d, message=d.message + options.overridden_with(sets)) for d in exc.diagnostics],
                               exc.sources) from None
        layout = self._layout
        system = layout.unpack([float(x) for x in self.raw(resolution.env, 1.0)])
        happy = layout.unpack([float(x) for x in self.raw(resolution.env, 0.0)])
        if not all(math.isfinite(v) for block in system.values() for v in block):
            raise usage_error("the model evaluates to a number that is not finite at these parameter "
                                       "values (a probability of exactly 1 on a loop?)")
        result = build_result(self.arch.title, scenario, resolution.values, self._row_info,
                              self.arch.fixed_rows(), system, happy,
                              self.price_sources, tuple(self.arch.uncertain(scenario, pinned=set(sets or ()))))
        return Evaluation(scenario, dict(sets or {}), resolution, result, self)

    # --- Monte Carlo (montecarlo.py asks these of the evaluator, or of a cached NumericModel) --
    @property
    def title(self) -> str:
        return self.arch.title

    @property
    def units(self) -> dict[str, Optional[str]]:
        return {name: p.unit for name, p in self.arch.parameters.items()}

    @property
    def correlations(self) -> list:
        return self.arch.correlations

    @property
    def fixed_items(self) -> list[tuple[str, str, str]]:
        return self.arch.fixed_rows()

    def uncertain(self, scenario: Optional[str] = None, pinned=()) -> dict:
        return self.arch.uncertain(scenario, pinned)

    def point(self, scenario: Optional[str], sets) -> "CostResult":
        return self.evaluation(scenario, sets).result

    def dependencies(self, scenario: Optional[str], sets):
        """name -> the parameters its definition in `scenario` uses (none for `--set` ones)."""
        definitions = {name: p.definition for name, p in self.arch.parameters.items()}
        if scenario is not None:
            definitions.update(self.arch.scenarios[scenario].overrides)
        given = set(sets or ())
        by_symbol = {p.symbol: name for name, p in self.arch.parameters.items()}
        return lambda name: [] if name in given else [by_symbol[s] for s in definitions[name].free_symbols
                                                      if s in by_symbol]

    def sampled_outputs(self, scenario: Optional[str], sets, arrays) -> list:
        """The evaluator's outputs at sampled parameter values, after the checks."""
        resolution = self.resolve(scenario, sets, arrays, samples=True)
        self.check(resolution, happy_path=False, samples=True)
        return self.raw(resolution.env, 1.0)

    # --- the lowered graph's numbers (diagrams, export) ------------------------------------
    def graph_numbers(self, resolution: Resolution) -> "GraphNumbers":
        """Expected visits of every lowered node and the probability of every lowered edge
        at `resolution`, from the symbolic model's own visit definitions (one generated
        function, built the first time a diagram or export asks for it)."""
        g = self.model.flow.graph
        if self._graph_function is None:
            outputs = [self.model.visits[n] for n in g.nodes] + [d["probability"] for _, _, d in g.edges(data=True)]
            with collector_paused():
                self._graph_function = generate_function(self.arguments, outputs, self.model.definitions)
        args = [resolution.env[p.symbol] for p in self.arch.parameters.values()] + [1.0]
        with np.errstate(all="ignore"):
            values = [float(x) for x in self._graph_function(*args)]
        count = g.number_of_nodes()
        visits = dict(zip(g.nodes, values[:count]))
        probability = dict(zip(g.edges, values[count:]))
        return GraphNumbers(visits, probability)


def _sets_key(sets: Optional[Mapping[str, object]]) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in (sets or {}).items()))


def _remember(memo: dict, key, value, size: int) -> None:
    if len(memo) >= size:
        memo.pop(next(iter(memo)))
    memo[key] = value


@dataclass(frozen=True)
class GraphNumbers:
    """The lowered chain at one scenario's values."""

    visits: dict[str, float]                      # lowered node -> expected visits per request
    probability: dict[tuple[str, str], float]     # lowered edge -> probability


@dataclass(frozen=True)
class Evaluation:
    """One scenario (and `--set` values) resolved, checked and evaluated, once: the
    parameter values, the cost table's numbers, and on demand the lowered graph's numbers."""

    scenario: Optional[str]
    sets: dict
    resolution: Resolution
    result: "CostResult"
    evaluator: "Evaluator" = field(repr=False, compare=False)

    @functools.cached_property
    def graph(self) -> GraphNumbers:
        return self.evaluator.graph_numbers(self.resolution)

    @property
    def env(self) -> dict:
        """Parameter symbols -> values in base units, failures on (for small ir expressions)."""
        return self.resolution.env


@dataclass
class Row:
    """One row of the cost table in lowered terms: the nodes it sums and its symbolic visits
    and cost per visit."""

    key: str
    component: str
    kind: str
    category: str
    nodes: list[str]
    visits: sympy.Expr
    cost: sympy.Expr
    latency: sympy.Expr = sympy.Integer(0)    # seconds per request, when the file declares latency
