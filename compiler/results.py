"""What an evaluation produces, and the rules that turn raw numbers into it — shared by the
symbolic evaluator (`evaluate.Evaluator`) and the numeric one that runs from the compile
cache (`numeric.NumericModel`), so both give the same `CostResult` and the same
diagnostics from the same numbers. Needs neither sympy nor networkx.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .metrics import CATEGORIES
from .provenance import PriceSource

__all__ = ["ComponentResult", "CostResult", "OutputLayout", "RowInfo", "CheckInfo", "LoopInfo", "build_result",
           "check_problem", "check_findings", "scenario_blame", "loop_findings", "loop_traps", "TOLERANCE"]

#: Probabilities may exceed [0, 1] (and sums 1) by this much before a check fails.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class ComponentResult:
    """One line of the cost table. Fixed costs have no visits."""

    name: str
    component: str
    kind: str
    category: str
    expected_visits: Optional[float]
    cost_per_visit: Optional[float]
    cost_per_request: Optional[float]
    monthly: float
    share: float
    happy_path_cost_per_request: Optional[float]
    #: Share of the token (model-call) spend, for rows priced by a model's tokens; else None.
    token_share: Optional[float] = None
    #: Seconds this row adds to a request (visits × seconds per visit, retries' backoff
    #: included), in the system and in the happy path; None when the file declares no latency.
    latency_per_request: Optional[float] = None
    happy_path_latency_per_request: Optional[float] = None

    @property
    def is_fixed(self) -> bool:
        """A monthly amount with no visits: a `fixed` cost, or a self-hosted model's GPUs ("gpu")."""
        return self.kind in ("fixed", "gpu")

    @property
    def failure_overhead_per_request(self) -> Optional[float]:
        if self.cost_per_request is None:
            return None
        return self.cost_per_request - (self.happy_path_cost_per_request or 0.0)


@dataclass(frozen=True)
class CostResult:
    """Expected cost of the architecture at one scenario's parameter values (USD)."""

    architecture: str
    scenario: Optional[str]
    parameters: dict[str, float]
    cost_per_request: float
    p_success: float
    cost_per_success: float
    requests_per_month: float
    fixed_monthly: float
    monthly_total: float
    by_category: dict[str, float]
    happy_path_cost_per_request: float
    happy_path_monthly: float
    components: list[ComponentResult]
    #: the uncertain parameters, here at their medians (the point value): not an expectation
    uncertain: tuple[str, ...] = ()
    #: Where the prices of the models the architecture uses come from, in declaration order.
    prices: tuple[PriceSource, ...] = ()
    #: Expected seconds of one request (every visit's time added: no parallel branches), in
    #: the system and in the happy path; None when the file declares no latency.
    latency_per_request: Optional[float] = None
    happy_path_latency_per_request: Optional[float] = None
    #: The standard deviation of one request's latency over the random path it takes (the
    #: spread between requests at these parameter values), in the system and the happy path.
    latency_std_dev: Optional[float] = None
    happy_path_latency_std_dev: Optional[float] = None

    @property
    def has_latency(self) -> bool:
        return self.latency_per_request is not None

    def latency_json(self) -> dict:
        """The `latency` object of `cost --format json` and `export` (seconds)."""
        return {"per_request": self.latency_per_request, "happy_path_per_request": self.happy_path_latency_per_request,
                "failure_overhead_per_request": self.latency_per_request - self.happy_path_latency_per_request,
                "std_dev": self.latency_std_dev, "happy_path_std_dev": self.happy_path_latency_std_dev}

    @property
    def gpu_monthly(self) -> Optional[float]:
        """USD a month of the self-hosted models' GPU replicas (their "gpu" rows, part of the
        fixed monthly costs), or None when no model is self-hosted."""
        rows = [r.monthly for r in self.components if r.kind == "gpu"]
        return sum(rows) if rows else None

    @property
    def gpu_per_request(self) -> Optional[float]:
        """The GPUs' monthly cost spread over the month's requests (not in `cost_per_request`,
        which counts what each request adds; a self-hosted call costs 0 per token)."""
        gpu = self.gpu_monthly
        if gpu is None:
            return None
        return gpu / self.requests_per_month if self.requests_per_month else math.inf

    @property
    def failure_overhead_per_request(self) -> float:
        """System cost minus happy-path cost, per request."""
        return self.cost_per_request - self.happy_path_cost_per_request

    @property
    def failure_overhead_monthly(self) -> float:
        return self.monthly_total - self.happy_path_monthly

    def to_dict(self) -> dict:
        """Plain data (what `llmarch cost --format json` prints, without its version)."""
        return {
            "architecture": self.architecture,
            "scenario": self.scenario,
            "parameters": dict(self.parameters),
            "components": [
                {"name": r.name, "component": r.component, "kind": r.kind, "category": r.category,
                 "expected_visits": r.expected_visits, "cost_per_visit": r.cost_per_visit,
                 "cost_per_request": r.cost_per_request, "monthly": r.monthly, "share": r.share,
                 "happy_path_cost_per_request": r.happy_path_cost_per_request,
                 "failure_overhead_per_request": r.failure_overhead_per_request,
                 "failure_overhead_share": (r.failure_overhead_per_request / self.cost_per_request
                                            if r.failure_overhead_per_request is not None and self.cost_per_request
                                            else None),
                 "token_share": r.token_share,
                 **({"latency_per_request": r.latency_per_request,
                     "happy_path_latency_per_request": r.happy_path_latency_per_request}
                    if self.has_latency else {})}
                for r in self.components],
            "results": self.results_json(),
            **({"uncertain_parameters": list(self.uncertain)} if self.uncertain else {}),
            "prices": self.prices_json(),
        }

    def to_pandas(self):
        """The components as a pandas DataFrame, one row each (pandas is optional: install it
        to use this)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("CostResult.to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.to_dict()["components"]).set_index("name")

    def _repr_html_(self) -> str:
        """A notebook shows the totals and the components, most expensive first, as styled
        tables (`html_tables`)."""
        import html

        from . import html_tables, present
        totals = [("monthly total", present.money(self.monthly_total)),
                  ("cost per request", present.money(self.cost_per_request, True)),
                  ("P(success)", present.p_success(self.p_success)),
                  ("cost per successful request", present.money(self.cost_per_success, True))]
        ordered = sorted(self.components, key=lambda r: (-r.monthly, r.name))
        rows = [(r.name, r.kind, r.category, present.money(r.cost_per_request, True), present.money(r.monthly),
                 present.share(r.share)) for r in ordered]
        title = html.escape(self.architecture + (f" — scenario {self.scenario}" if self.scenario else ""))
        return (f'<div style="font-size:13px;line-height:1.4"><strong>{title}</strong>'
                + html_tables.table("Totals", [], totals, {1}, row_heads=True)
                + html_tables.table("Components", ["component", "kind", "category", "per request", "per month",
                                                   "share"], rows, {3, 4, 5})
                + "</div>")

    def prices_json(self) -> list[dict]:
        """The `prices` list shared by `cost --format json` and `export`."""
        return [p.to_json() for p in self.prices]

    def results_json(self) -> dict:
        """The `results` object shared by `cost --format json` and `export`."""
        return {
            "cost_per_request": self.cost_per_request,
            "p_success": self.p_success,
            "cost_per_success": self.cost_per_success if math.isfinite(self.cost_per_success) else None,
            "monthly_total": self.monthly_total,
            "by_category": dict(self.by_category),
            "happy_path_cost_per_request": self.happy_path_cost_per_request,
            "failure_overhead_per_request": self.failure_overhead_per_request,
            "failure_overhead_monthly": self.failure_overhead_monthly,
            "requests_per_month": self.requests_per_month,
            "fixed_monthly": self.fixed_monthly,
            **({"latency": self.latency_json()} if self.has_latency else {}),
            **({"self_hosted": {"gpu_monthly": self.gpu_monthly,
                                "gpu_per_request": self.gpu_per_request if math.isfinite(self.gpu_per_request)
                                else None}}
               if self.gpu_monthly is not None else {}),
        }


@dataclass(frozen=True)
class RowInfo:
    """What the cost table says of a lowered row: its name and where it belongs."""

    key: str
    component: str
    kind: str
    category: str
    tokens: bool = False     # priced by a model's tokens (an LLM, embedding or model guardrail call)


@dataclass(frozen=True)
class OutputLayout:
    """The generated evaluator returns one flat list; this names its parts: `blocks` are
    (name, length) in order, and `unpack` turns the list into {name: [values]}."""

    blocks: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, rows: int, fixed: int, latency: bool = False) -> "OutputLayout":
        """`latency`: the file declares latency; then a request's seconds and each row's follow."""
        k = len(CATEGORIES)
        timed = (("latency_per_request", 1), ("latency_variance", 1), ("row_latency", rows)) if latency else ()
        return cls((("cost_per_request", 1), ("p_success", 1), ("requests_per_month", 1),
                    ("per_request_by_category", k), ("fixed_by_category", k), ("row_visits", rows),
                    ("row_cost", rows), ("fixed_items", fixed)) + timed)

    def span(self, name: str) -> slice:
        start = 0
        for block, length in self.blocks:
            if block == name:
                return slice(start, start + length)
            start += length
        raise KeyError(name)

    def end_of(self, name: str) -> int:
        """How many leading outputs reach up to and including `name`."""
        return self.span(name).stop

    def unpack(self, values) -> dict[str, list]:
        out, start = {}, 0
        for name, length in self.blocks:
            out[name] = list(values[start:start + length])
            start += length
        return out


def build_result(title: str, scenario: Optional[str], parameters: dict[str, float], rows: Sequence[RowInfo],
                 fixed: Sequence[tuple[str, str]], system: dict[str, list], happy: dict[str, list],
                 prices: Sequence[PriceSource] = (), uncertain: Sequence[str] = ()) -> CostResult:
    """The cost table from the generated evaluator's outputs with failures on (`system`) and
    off (`happy`), unpacked by `OutputLayout`; `fixed` is (name, category, kind) of each fixed cost,
    `prices` where the models' prices come from."""
    (cpr,), (p_success,), (rpm,) = system["cost_per_request"], system["p_success"], system["requests_per_month"]
    per_request = dict(zip(CATEGORIES, system["per_request_by_category"]))
    fixed_by_category = dict(zip(CATEGORIES, system["fixed_by_category"]))
    monthly = rpm * cpr + sum(fixed_by_category.values())
    token_monthly = sum(v * c * rpm for row, v, c in zip(rows, system["row_visits"], system["row_cost"]) if row.tokens)
    components = []
    timed = "latency_per_request" in system
    latencies = zip(system["row_latency"], happy["row_latency"]) if timed else ((None, None) for _ in rows)
    for row, v, c, hv, hc, (t, ht) in zip(rows, system["row_visits"], system["row_cost"], happy["row_visits"],
                                          happy["row_cost"], latencies):
        per_req = v * c
        components.append(ComponentResult(
            name=row.key, component=row.component, kind=row.kind, category=row.category,
            expected_visits=v, cost_per_visit=c, cost_per_request=per_req, monthly=per_req * rpm,
            share=(per_req * rpm / monthly) if monthly else 0.0, happy_path_cost_per_request=hv * hc,
            token_share=(per_req * rpm / token_monthly) if row.tokens and token_monthly else None,
            latency_per_request=t, happy_path_latency_per_request=ht))
    for item, value in zip(fixed, system["fixed_items"]):
        name, category = item[0], item[1]
        kind = item[2] if len(item) > 2 else "fixed"    # "gpu": a self-hosted model's replicas
        components.append(ComponentResult(name=name, component=name, kind=kind, category=category,
                                          expected_visits=None, cost_per_visit=None, cost_per_request=None,
                                          monthly=value, share=(value / monthly) if monthly else 0.0,
                                          happy_path_cost_per_request=None))
    (happy_cpr,) = happy["cost_per_request"]
    return CostResult(
        architecture=title, scenario=scenario, parameters=parameters,
        cost_per_request=cpr, p_success=p_success,
        cost_per_success=cpr / p_success if p_success > 0 else math.inf,
        requests_per_month=rpm, fixed_monthly=sum(fixed_by_category.values()), monthly_total=monthly,
        by_category={c: per_request[c] * rpm + fixed_by_category[c] for c in CATEGORIES},
        happy_path_cost_per_request=happy_cpr,
        happy_path_monthly=rpm * happy_cpr + sum(fixed_by_category.values()),
        components=components, prices=tuple(prices), uncertain=tuple(uncertain),
        latency_per_request=system["latency_per_request"][0] if timed else None,
        happy_path_latency_per_request=happy["latency_per_request"][0] if timed else None,
        latency_std_dev=_std_dev(system["latency_variance"][0], system["latency_per_request"][0]) if timed else None,
        happy_path_latency_std_dev=(_std_dev(happy["latency_variance"][0], happy["latency_per_request"][0])
                                    if timed else None))


def _std_dev(variance: float, mean: float) -> float:
    """√variance; a variance that rounding makes slightly negative (E[R²] − E[R]² of a path
    that hardly varies) is 0."""
    if variance <= 1e-12 * max(1.0, mean * mean):
        return 0.0
    return math.sqrt(variance)


def check_problem(kind: str, what: str, value: float, where: str) -> Optional[tuple[str, str, Optional[str]]]:
    """(code, message, help) when a checked value breaks its rule, else None. `value` is the
    deciding one (over an array of points, the caller passes the worst)."""
    if not math.isfinite(value):
        return "E503", f"{what} is not a finite number{where}", None
    if kind == "probability_sum" and value <= 1 + TOLERANCE:
        return None
    if kind in ("probability", "probability_sum") and not (-TOLERANCE <= value <= 1 + TOLERANCE):
        if kind == "probability_sum":
            return ("E421", f"{what} add up to {value:.12g}, more than 1{where}",
                    "lower them, or let the rest end the request (no edge needed for success)")
        return ("E420", f"{what} is {value:.12g}{where}; a probability must be between 0 and 1",
                "write shares as `0.3` or `30%`")
    if kind == "nonnegative" and value < -TOLERANCE:
        return "E422", f"{what} is negative ({value:.6g}){where}", None
    if kind == "positive" and value <= 0:
        return "E423", f"{what} is {value:.6g}{where}; it must be more than 0", None
    return None


def loop_traps(nodes: Sequence[str], inside: dict[str, list[tuple[str, float]]], entries: set) -> bool:
    """True if a walk can enter a loop and never leave it: some node it reaches with positive
    probability cannot reach a node with an exit. `inside[u]` lists u's edges within the loop
    (target, probability) in the graph's order; `entries` are the nodes a walk enters by."""
    exits = {u for u in nodes if 1.0 - sum(p for _, p in inside[u]) > 1e-12}
    forward: dict[str, list[str]] = {u: [v for v, p in inside[u] if p > 1e-15] for u in nodes}
    backward: dict[str, list[str]] = {u: [] for u in nodes}
    for u in nodes:
        for v in forward[u]:
            backward[v].append(u)
    can_leave = _closure(exits, backward)
    reached = _closure(entries, forward)
    return bool(reached - can_leave)


def _closure(start, step: dict[str, list[str]]) -> set:
    seen, stack = set(start), list(start)
    while stack:
        for nxt in step[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


@dataclass(frozen=True)
class CheckInfo:
    """A value every scenario must keep in bounds (its number comes from a generated function)."""

    kind: str            # "probability" | "nonnegative" | "positive" | "probability_sum"
    what: str
    span: object         # Span
    parameters: tuple[str, ...] = ()   # the parameters its value uses directly


@dataclass(frozen=True)
class LoopInfo:
    """A loop of the lowered graph, by the indices of its edges' probabilities in a generated
    function's outputs: `inside` lists each node's edges (target, index, stays in the loop)
    in the graph's order; `entries` each node's (is the flow's entry, indices of the edges
    that come in from outside)."""

    nodes: tuple[str, ...]
    components: tuple[str, ...]   # sorted, for the message
    span: object                  # Span or None
    inside: tuple[tuple[str, tuple[tuple[str, int, bool], ...]], ...]
    entries: tuple[tuple[str, bool, tuple[int, ...]], ...]


def check_findings(checks: Sequence[CheckInfo], values: Sequence, where: str,
                   blame: Optional[Callable[[CheckInfo], Optional[object]]] = None) -> list[tuple]:
    """(code, message, span, help, notes) for every check that fails; over arrays of points,
    the worst point decides. A value may be given as (finite, least, greatest) instead.
    `blame(check)` gives the span of a scenario's override that the value depends on: the
    diagnostic then points there, with a note at the checked field."""
    out = []
    for check, raw in zip(checks, values):
        if isinstance(raw, tuple):   # (every value finite, least, greatest), from blocked_extremes
            finite, least, greatest = raw
        else:
            array = np.asarray(raw, dtype=float)
            finite = bool(np.all(np.isfinite(array)))
            least, greatest = (float(array.min()), float(array.max())) if finite else (0.0, 0.0)
        if not finite:
            problem = ("E503", f"{check.what} is not a finite number{where}", None)
        else:
            value = greatest if check.kind not in ("nonnegative", "positive") and greatest > 1 else least
            problem = check_problem(check.kind, check.what, value, where)
        if problem is not None:
            code, message, help = problem
            culprit = blame(check) if blame is not None else None
            if culprit is None:
                out.append((code, message, check.span, help, ()))
            else:
                out.append((code, message, culprit, help, (("the value is checked here", check.span),)))
    return out


def scenario_blame(check: CheckInfo, dependencies: Callable[[str], Sequence[str]], overridden: dict):
    """The span of the first override (`overridden`: parameter -> its span in the scenario)
    that `check` depends on, following `dependencies` (parameter -> the parameters its
    definition uses) breadth first, in name order; None if it depends on none."""
    seen = set(check.parameters)
    frontier = sorted(seen)
    while frontier:
        for name in frontier:
            if name in overridden:
                return overridden[name]
        following = sorted({d for name in frontier for d in dependencies(name)} - seen)
        seen.update(following)
        frontier = following
    return None


def loop_findings(loops: Sequence[LoopInfo], probabilities_by_switch: Sequence[tuple[str, Callable]],
                  where: str) -> list[tuple]:
    """(code, message, span, help) for loops a walk can enter and never leave: with failures
    on, then (if none) in the happy path. `probabilities_by_switch` pairs a phrase for the
    message with a function giving the generated loop probabilities at that switch, as an
    iterable of blocks (over many points, a block of points at a time: a loop that traps at
    any point traps)."""
    for path, blocks in probabilities_by_switch:
        trapped: set = set()
        for probabilities in blocks():
            trapped.update(i for i, loop in enumerate(loops) if i not in trapped and _traps(loop, probabilities))
        out = []
        for i, loop in enumerate(loops):
            if i in trapped:
                names = ", ".join(f"`{n}`" for n in loop.components)
                out.append(("E430", f"the loop through {names} never exits{where}{path}: its expected cost is infinite",
                            loop.span, "give the loop an exit: lower a probability, or let the rest end the request",
                            ()))
        if out:
            return out
    return []


def _traps(loop: LoopInfo, probabilities: Sequence) -> bool:
    edges = [np.asarray(probabilities[i], dtype=float) for _, out in loop.inside for _, i, _ in out]
    shape = np.broadcast_shapes(*[p.shape for p in edges]) if edges else ()
    count = int(np.prod(shape)) if shape else 1
    if count > 1:
        # many points at once: a loop traps at a point where no node of it has an exit
        staying = [sum((np.asarray(probabilities[i], dtype=float) for _, i, within in out if within), np.zeros(shape))
                   for _, out in loop.inside]
        exit_probability = np.max(np.stack([1.0 - s for s in staying]), axis=0)
        return bool(np.min(exit_probability) < 1e-12)
    inside = {u: [(v, float(probabilities[i])) for v, i, within in out if within] for u, out in loop.inside}
    # the loop's own edges are the same at every point, but how it is entered may vary
    # (a sweep over the share of requests that reach it): entered at any point is entered
    entries = {v for v, is_entry, incoming in loop.entries
               if is_entry or any(np.any(np.asarray(probabilities[i], dtype=float) > 1e-15) for i in incoming)}
    return loop_traps(loop.nodes, inside, entries)
