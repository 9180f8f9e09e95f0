"""Pass `flow`: the traffic entering the flow, and the flow itself. The file's flow and
every template instance's become one list of edges with probabilities (`otherwise` and
unconditional edges resolved, failure edges marked with `ir.FAILURE_SWITCH`), and the
instances' `in`/`out` ports are joined away."""

from __future__ import annotations

from typing import Optional

import sympy

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Span, did_you_mean

from .. import ir
from ..templates import Scope, port_in, port_out
from ..units import DIMENSIONLESS, REQUEST, TIME
from .expressions import ExpressionCompiler
from .state import RESERVED_NODES, State

__all__ = ["run"]


def run(state: State) -> None:
    x = ExpressionCompiler(state)
    traffic = state.traffic_statement
    if traffic is None:
        state.collector.error("E401", "no `traffic` given", state.file_start(),
                              help="add a line such as `traffic = 1200 requests/day`")
    else:
        state.traffic = x.expect(traffic.value, (REQUEST / TIME,), "traffic")
        if state.traffic is not None:
            state.checks.append(ir.Check("nonnegative", state.traffic, "traffic", traffic.value.span))
    state.edges, state.entry = _FlowBuilder(x).build(state.flow_statement, state.instance_flows)


class _FlowBuilder:
    def __init__(self, x: ExpressionCompiler):
        self.x = x
        self.state = x.state
        self.c = x.state.collector
        self.edge_scope: dict[str, Scope] = {}   # a node of an instance's flow -> that instance's scope

    def build(self, flow: Optional[ast.Flow], scoped: list[tuple[ast.Flow, Scope]]) -> tuple[list[ir.Edge], str]:
        """The file's flow plus every instance's: edges with probabilities, ports removed."""
        if flow is None:
            self.c.error("E402", "no `flow` given", self.state.file_start(),
                         help="add `flow { start -> first_component }`")
            return [], ""
        raw: dict[str, list[tuple[str, ast.Chain, Span]]] = {}
        seen: dict[tuple[str, str], Span] = {}
        ok = True
        for block, scope in [(flow, None), *scoped]:
            self.c.context = scope.instance.notes if scope else ()
            for chain in block.chains:
                if chain.attrs and len(chain.nodes) > 2:
                    self.c.error("E403", "edge attributes need a single edge", chain.attrs[0].span,
                                 help="write `a -> b (p = …)` on its own line")
                    ok = False
                pairs = zip(zip(chain.nodes, chain.nodes[1:]), zip(chain.node_spans, chain.node_spans[1:]))
                for i, ((a, b), (sa, sb)) in enumerate(pairs):
                    u = self.node(a, sa, scope, "source", report=i == 0)
                    v = self.node(b, sb, scope, "target")
                    if u is None or v is None:
                        ok = False
                        if u is not None:  # keep the edge so `start -> unknown` reports only the name
                            raw.setdefault(u, []).append((b, chain, sb))
                        continue
                    if (u, v) in seen:
                        self.c.error("E406", f"edge `{a} -> {b}` is given twice", sb,
                                     notes=(("first given here", seen[(u, v)]),))
                        ok = False
                        continue
                    seen[(u, v)] = sb
                    raw.setdefault(u, []).append((v, chain, sb))
                    if scope is not None:
                        self.edge_scope[u] = scope
        self.c.context = ()
        for target, chain, span in raw.get("start", []):
            if chain.attrs:
                self.c.error("E407", "the `start` edge takes no probability: every request enters there",
                             chain.attrs[0].span, help="branch from the first component instead")
                ok = False
        starts = raw.get("start", [])
        if not starts:
            self.c.error("E407", "the flow has no `start -> …` edge", flow.span,
                         help="say where a request enters, e.g. `start -> cache`")
            ok = False
        elif len(starts) > 1:
            self.c.error("E407", "`start` has more than one edge", starts[1][2],
                         help="a request enters at one component; branch from there")
            ok = False
        elif starts[0][0] in ("success", "failure"):
            self.c.error("E407", "`start` leads straight to an outcome", starts[0][2])
            ok = False
        for block, scope in scoped:
            if port_in(scope.instance.name) not in raw and ok:
                self.c.error("E407", f"the flow of template `{scope.instance.template}` never leaves `in`",
                             block.span, notes=scope.instance.notes, help="add `in -> first_component`")
                ok = False
        if not ok:
            return [], ""
        edges: list[ir.Edge] = []
        for source, outs in raw.items():
            if source == "start":
                continue
            scope = self.edge_scope.get(source)
            self.c.context = scope.instance.notes if scope else ()
            edges.extend(self.edges_from(source, outs))
        self.c.context = ()
        entry = starts[0][0]
        if self.state.instances:
            edges.append(ir.Edge("start", entry, sympy.Integer(1), False, starts[0][2]))
            edges = self.eliminate_ports(edges)
            if not edges:  # a loop of ports, reported (the `start` edge is always there otherwise)
                return [], ""
            entries = [e for e in edges if e.source == "start"]
            if len(entries) == 1 and entries[0].probability == 1:
                edges = [e for e in edges if e.source != "start"]
                entry = entries[0].target
            else:
                # the first instance branches at once (`in -> a (p = …)`): the request
                # enters at `start`, which lowering makes a node of its own that costs nothing
                entry = "start"
            if entry in ("success", "failure") or not entries:
                self.c.error("E407", "`start` leads straight to an outcome", starts[0][2],
                             help="an instance whose flow goes from `in` to `out` has no component to enter")
                return [], ""
        return edges, entry

    def node(self, name: str, span: Span, scope: Optional[Scope], role: str, report: bool = True) -> Optional[str]:
        """The graph node a name in a flow stands for: a component, an outcome, `start`, or an
        instance's port (`in` where a request enters it, `out` where it leaves). A name in the
        middle of a chain is looked up twice; `report=False` keeps the second lookup quiet
        about what the first one already reported."""
        state = self.state
        if name in RESERVED_NODES:
            if name == "start" and scope is not None:
                self.c.error("E405", "`start` belongs to the file's flow: a template's flow begins at `in`", span)
                return None
            if role == "source" and name in ("success", "failure"):
                self.c.error("E405", f"`{name}` is an outcome: nothing follows it", span)
                return None
            if role == "target" and name == "start":
                self.c.error("E405", "nothing leads back to `start`", span)
                return None
            return name
        if scope is not None and name in ("in", "out"):
            if (name, role) == ("in", "target"):
                self.c.error("E405", "nothing leads back to `in`: it is where a request enters the instance", span)
                return None
            if (name, role) == ("out", "source"):
                self.c.error("E405", "`out` is where a request leaves the instance: nothing follows it inside "
                             "the template", span)
                return None
            return port_in(scope.instance.name) if name == "in" else port_out(scope.instance.name)
        full = (scope.prefix if scope else "") + name
        if full in state.failed_instances:
            return None  # its `use` was reported
        if full in state.instances:
            if not state.instances[full].has_flow:
                if report:
                    self.c.error("E404", f"`{name}` is an instance of template `{state.instances[full].template}`, "
                                 "which has no flow: it applies to every request and stays out of the flow", span)
                return None
            return port_out(full) if role == "source" else port_in(full)
        if full not in state.components:
            if not report:
                return None
            if full in state.declared:
                self.c.error("E404", f"`{name}` is a {state.declared[full][0]}, not a component", span)
            else:
                prefix = scope.prefix if scope else ""
                near = [n[len(prefix):] for n in list(state.flow_components()) + list(state.instances)
                        if n.startswith(prefix)]
                self.c.error("E217", f"unknown component `{name}`", span,
                             help=did_you_mean(name, near + list(RESERVED_NODES)))
            return None
        kind = state.components[full].kind
        if not report and kind in ("fixed", "observe"):
            return None  # reported where the chain led to it
        if kind == "fixed":
            self.c.error("E218", f"`{name}` is a fixed monthly cost: it is not visited by requests and "
                         "stays out of the flow", span)
            return None
        if kind == "observe":
            self.c.error("E218", f"`{name}` is an observability overlay: it applies to every request and "
                         "stays out of the flow", span)
            return None
        return full

    def eliminate_ports(self, edges: list[ir.Edge]) -> list[ir.Edge]:
        """Join every edge into a port with every edge out of it (probabilities multiply): a
        port costs nothing and takes no time, so the chain's expected visits are unchanged.
        Linear in the edges for instances in a chain; edges keep their order."""
        by_id = dict(enumerate(edges))
        next_id = len(edges)
        into: dict[str, list[int]] = {}
        out_of: dict[str, list[int]] = {}
        for i, e in by_id.items():
            out_of.setdefault(e.source, []).append(i)
            into.setdefault(e.target, []).append(i)
        for instance in self.state.instances.values():
            for port in (port_in(instance.name), port_out(instance.name)):
                # ids of edges already joined away are skipped (removed lazily)
                ins = [by_id.pop(i) for i in into.pop(port, []) if i in by_id]
                outs = [by_id.pop(i) for i in out_of.pop(port, []) if i in by_id]
                loop = next((e for e in ins if e.source == port), None)
                if loop is not None:
                    self.c.error("E412", f"a loop through `{instance.name}` passes through no component",
                                 loop.span, notes=instance.notes,
                                 help="a request would go round it forever at no cost: put a component on the loop")
                    return []
                for a in ins:
                    for b in outs:
                        by_id[next_id] = ir.Edge(a.source, b.target, a.probability * b.probability,
                                                 a.on_failure or b.on_failure, a.span)
                        out_of.setdefault(a.source, []).append(next_id)
                        into.setdefault(b.target, []).append(next_id)
                        next_id += 1
        return [e for _, e in sorted(by_id.items())]

    def edges_from(self, source: str, outs: list[tuple[str, ast.Chain, Span]]) -> list[ir.Edge]:
        explicit: list[sympy.Expr] = []
        result: list[tuple[str, Optional[sympy.Expr], bool, Span]] = []
        otherwise: Optional[tuple[str, bool, Span]] = None
        for target, chain, span in outs:
            attrs = {a.kind: a for a in chain.attrs} if len(chain.nodes) == 2 else {}
            on_failure = "on_failure" in attrs or target == "failure"
            if "p" in attrs and "otherwise" in attrs:
                self.c.error("E408", "an edge takes `p = …` or `otherwise`, not both", attrs["otherwise"].span)
                continue
            if "otherwise" in attrs:
                if otherwise is not None:
                    self.c.error("E409", f"`{_shown(source)}` has two `otherwise` edges", attrs["otherwise"].span,
                                 notes=(("the other one", otherwise[2]),))
                    continue
                otherwise = (target, on_failure, span)
                continue
            if "p" in attrs:
                p = self.x.expect(attrs["p"].value, (DIMENSIONLESS,), "an edge probability")
                if p is None:
                    continue
                self.state.checks.append(ir.Check("probability", p,
                                                  f"probability of `{_shown(source)} -> {_shown(target)}`",
                                                  attrs["p"].value.span))
                if on_failure:
                    p = p * ir.FAILURE_SWITCH
                explicit.append(p)
                result.append((target, p, on_failure, span))
            else:
                result.append((target, None, on_failure, span))
        unlabelled = [r for r in result if r[1] is None]
        if unlabelled and (len(result) > 1 or otherwise is not None):
            names = ", ".join(f"`{_shown(source)} -> {_shown(t)}`" for t, *_ in result)
            self.c.error("E410", f"`{_shown(source)}` branches to {len(result) + (otherwise is not None)} places; "
                         "each branch needs a probability", unlabelled[0][3],
                         help=f"write `(p = …)` on each of {names}, or mark one `(otherwise)`")
            return []
        total = sympy.Add(*explicit)
        phi = ir.FAILURE_SWITCH
        # explicit probabilities carry the failure switch already; an unconditional or
        # `otherwise` failure edge gets it here, so the happy path drops every failure edge
        edges = [ir.Edge(source, t, p if p is not None else (phi if failed else sympy.Integer(1)), failed, span)
                 for t, p, failed, span in result]
        if explicit:
            self.state.checks.append(ir.Check("probability_sum", total.xreplace({phi: sympy.Integer(1)}),
                                              f"probabilities leaving `{_shown(source)}`",
                                              result[0][3] if result else outs[0][2]))
        if otherwise is not None:
            rest = 1 - total
            edges.append(ir.Edge(source, otherwise[0], rest * phi if otherwise[1] else rest, otherwise[1],
                                 otherwise[2]))
        return edges


def _shown(node: str) -> str:
    """A flow node as the user wrote it: ports are an instance's `in` and `out`."""
    if "::" in node:
        instance, port = node.split("::")
        return f"{instance}.{port}" if port == "in" else instance
    return node
