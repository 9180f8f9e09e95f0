"""The spread between requests: the distribution of one request's latency and cost over
the random path it takes, at fixed parameter values.

A request walks the lowered chain (docs/semantics.md) from its entry until it ends; every
visit to node n adds rₙ (seconds, or dollars) to its figure. The figure's distribution is
computed by **propagating probability mass over (node, amount so far)** in the order of the
chain's strongly connected components: a node passes the mass that reaches it, shifted by
rₙ, to its successors with the edges' probabilities; a loop is iterated round by round
until the mass still inside it is below 10⁻¹² (reported as unresolved: a percentile is
exact up to it). Three methods, each tried when the one before would take too long:

- "exact": amounts held as integer multiples of a power of ten near 10⁻¹⁰ of the expected
  figure (paths whose amounts agree to that are merged);
- "grid": numpy histograms with a step of 1/2,000 of the expected figure, propagated three
  times — every visit's amount rounded to the nearest step, down, and up — so that the
  last two bracket each percentile;
- "simulated": walks of the chain (numpy, a fixed seed; fewer when walks are long), each
  percentile with the 95% interval of its order statistic.

The mean is always the exact expected figure Σ vₙ rₙ (the cost table's).

Rewards are what the cost model sums: `cost` per visit (an observability overlay's price
per call and per token is charged to the calls and tokens of the request's own path, its
sampling share taken as a factor), and `latency` per visit (a retry's backoff included).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from . import ir
from .codegen import numeric
from .units import SECONDS_PER_DAY

__all__ = ["Spread", "request_spreads", "spread", "MAX_ATOMS", "WALKS", "TOLERANCE"]

#: distinct amounts kept in flight before the grid gets coarser
MAX_ATOMS = 200_000
#: walks simulated when the propagation would be too long: `WALKS`, or fewer when a walk
#: is long (at least `MIN_WALKS`; the intervals say what that costs in precision)
WALKS = 200_000
MIN_WALKS = 20_000
_WALK_WORK = 100_000_000   # walks × expected steps per walk
#: the probability mass a loop may leave unresolved
TOLERANCE = 1e-12
_WORK = 1_000_000        # atom moves before the exact propagation gives way to the grid
_GRID = 2_000            # the grid: the expected figure in this many steps
_GRID_WORK = 100_000_000  # histogram cells moved before the grid gives way to walks
_GRID_CELLS = 1 << 20    # the longest histogram the grid keeps
_MAX_STEPS = 100_000     # walks still inside the chain after this many steps are unresolved
_SEED = 20261203


@dataclass(frozen=True)
class Spread:
    """One request's figure over the random path it takes: its distribution as sorted
    distinct `values` with `probabilities` (exact or grid), or as sorted simulated walks."""

    metric: str                      # "latency" (seconds) or "cost_per_request" (USD)
    method: str                      # "exact", "grid" or "simulated"
    values: np.ndarray
    probabilities: np.ndarray        # sums to 1 − unresolved (walks: 1 / walks each)
    unresolved: float                # mass left in loops (exact, grid) or walks cut off (simulated)
    step: float                      # the grid's step (0 when exact)
    walks: int = 0
    #: on a grid: the distributions with every visit's amount rounded down and up, whose
    #: quantiles bracket the true one
    bounds: Optional[tuple] = None
    #: the exact expected figure, Σ vₙ rₙ from the chain's visits (the same as the cost
    #: table's), when known: the mean then reads it rather than the grid's or the walks'
    expected: Optional[float] = None

    @property
    def mean(self) -> float:
        if self.expected is not None:
            return self.expected
        return float(np.dot(self.values, self.probabilities) / self.probabilities.sum())

    @property
    def std_dev(self) -> float:
        p = self.probabilities / self.probabilities.sum()
        m = float(np.dot(self.values, p))
        return math.sqrt(max(0.0, float(np.dot((self.values - m) ** 2, p))))

    def quantile(self, q: float) -> float:
        """The smallest amount x with P(figure ≤ x) ≥ q."""
        return _quantile(self.values, self.probabilities, q, self.method != "simulated")

    def interval(self, q: float) -> tuple[float, float]:
        """A 95% interval for the q-quantile: the order statistics of the walks around it
        (simulated); the grid step around it (grid); the value itself (exact)."""
        x = self.quantile(q)
        if self.method == "exact":
            return x, x
        if self.method == "grid":
            (lv, lp), (hv, hp) = self.bounds
            return _quantile(lv, lp, q), _quantile(hv, hp, q)
        n = self.walks
        half = 1.96 * math.sqrt(n * q * (1 - q))
        low, high = max(0, int(math.floor(n * q - half)) - 1), min(n - 1, int(math.ceil(n * q + half)))
        return float(self.values[low]), float(self.values[high])

    def probability(self, op: str, limit: float) -> tuple[float, float]:
        """P(figure op limit) and its standard error (0 unless simulated)."""
        v, p = self.values, self.probabilities
        mask = {">": v > limit, ">=": v >= limit, "<": v < limit, "<=": v <= limit}[op]
        share = float(p[mask].sum())
        if self.method != "simulated":
            return share, 0.0
        return share, math.sqrt(max(share * (1 - share), 0.0) / self.walks)

    def how(self) -> str:
        """"exact", "on a grid of 0.1 ms", "200,000 simulated walks"."""
        from . import present
        if self.method == "exact":
            return "exact"
        if self.method == "grid":
            show = present.duration if self.metric == "latency" else (lambda x: present.money(x, per_request=True))
            return f"on a grid of {show(self.step)}"
        return f"{self.walks:,} simulated walks"

    def to_dict(self, quantiles=(0.5, 0.95, 0.99)) -> dict:
        return {"metric": self.metric, "method": self.method, "mean": self.mean, "std_dev": self.std_dev,
                "percentiles": {f"p{q * 100:g}": self.quantile(q) for q in quantiles},
                "intervals": {f"p{q * 100:g}": list(self.interval(q)) for q in quantiles},
                "unresolved": self.unresolved, "step": self.step, "walks": self.walks or None}


def _quantile(values, probabilities, q: float, tolerant: bool = True) -> float:
    cumulative = np.cumsum(probabilities)
    i = int(np.searchsorted(cumulative, q - 1e-12 * tolerant, side="left"))
    return float(values[min(i, len(values) - 1)])


def request_spreads(arch: ir.Architecture, flow, evaluation, metrics=("latency", "cost_per_request")) -> dict:
    """metric -> `Spread` of one request's latency (when the file declares time) and cost,
    at `evaluation`'s parameter values."""
    env = dict(evaluation.env)
    env[ir.FAILURE_SWITCH] = 1.0
    graph = evaluation.graph
    out = {}
    for metric in metrics:
        if metric == "latency":
            if not arch.has_latency:
                continue
            reward = {n: _number(d["latency"], env) * SECONDS_PER_DAY for n, d in flow.graph.nodes(data=True)}
        else:
            reward = _cost_rewards(flow, env)
        out[metric] = spread(flow.graph, flow.entry, graph.probability, graph.visits, reward, metric)
    return out


def _number(expr, env) -> float:
    return 0.0 if expr is None else float(numeric(expr, env))


def _cost_rewards(flow, env) -> dict[str, float]:
    """Dollars per visit of every lowered node, an overlay's per-call and per-token prices
    moved onto the calls and tokens they price."""
    g = flow.graph
    reward = {n: (0.0 if d.get("overlay") is not None or d["outcome"] is not None else _number(d["cost"], env))
              for n, d in g.nodes(data=True)}
    for name in flow.observers:
        o = g.nodes[name]["overlay"]
        sample = _number(o.sample, env)
        reward[name] += sample * _number(o.per_request, env)
        per_call, per_token = sample * _number(o.per_call, env), sample * _number(o.per_token, env)
        if per_call == 0 and per_token == 0:
            continue
        for n, d in g.nodes(data=True):
            if d["model_call"]:
                reward[n] += per_call
            if d["tokens"] is not None and per_token:
                reward[n] += per_token * _number(d["tokens"], env)
    return reward


def spread(g, entry: str, probability: Mapping[tuple[str, str], float], visits: Mapping[str, float],
           reward: Mapping[str, float], metric: str) -> Spread:
    """The distribution of Σ reward over the walk from `entry` (see the module's docstring);
    `visits` are the chain's expected visits (they set the scale and the number of walks)."""
    transient = [n for n in g.nodes if g.nodes[n]["outcome"] is None]
    expected = sum(visits[n] * reward[n] for n in transient)
    scale = expected if expected > 0 else max(reward.values(), default=0.0)
    if scale <= 0:        # nothing costs or takes time: every request is 0
        return Spread(metric, "exact", np.zeros(1), np.ones(1), 0.0, 0.0)
    found = _propagate(g, entry, probability, reward, 10.0 ** (math.floor(math.log10(scale)) - 10), round,
                       _Atoms(MAX_ATOMS))
    if found is not None:
        values, masses, unresolved = found
        return Spread(metric, "exact", values, masses, unresolved, 0.0)
    quantum = scale / _GRID
    found = []
    for rounding in (np.rint, np.floor, np.ceil):
        found.append(_propagate(g, entry, probability, reward, quantum, rounding, _Cells()))
        if found[-1] is None:
            break
    else:
        (values, masses, unresolved), low, high = found
        return Spread(metric, "grid", values, masses, unresolved, quantum, bounds=(low[:2], high[:2]),
                      expected=expected)
    steps = sum(visits[n] for n in transient)
    walks = int(min(WALKS, max(MIN_WALKS, _WALK_WORK // max(steps, 1.0))))
    return dataclasses.replace(_walks(g, entry, probability, reward, metric, walks), expected=expected)


def _steps(g, probability, reward, quantum, rounding):
    """node -> (its reward in quanta, [(successor or None for an end, probability)])."""
    out = {}
    for n, d in g.nodes(data=True):
        if d["outcome"] is not None:
            continue
        edges, leaving = [], 0.0
        for m in g.successors(n):
            p = float(probability[(n, m)])
            if p <= 0:
                continue
            leaving += p
            edges.append((None if g.nodes[m]["outcome"] is not None else m, p))
        if leaving < 1 - 1e-15:
            edges.append((None, 1 - leaving))
        out[n] = (int(rounding(reward[n] / quantum)), edges)
    return out


def _order(g, steps):
    """The chain's strongly connected components (of transient nodes) in topological order."""
    import networkx as nx

    condensed = nx.condensation(g.subgraph(steps))
    members: dict[int, list[str]] = {}
    for node, c in condensed.graph["mapping"].items():
        members.setdefault(c, []).append(node)
    for c in nx.topological_sort(condensed):
        scc = members[c]
        yield scc, len(scc) > 1 or g.has_edge(scc[0], scc[0])


class _Atoms:
    """Mass as a dict, amount in quanta -> probability ("exact"): at most `limit` distinct
    amounts in a loop's round or, checked every 64 components, in flight; `_WORK` moves."""

    def __init__(self, limit: int) -> None:
        self.limit, self.work_limit, self.checked = limit, _WORK, 0

    @staticmethod
    def one() -> dict:
        return {0: 1.0}

    @staticmethod
    def add(bucket: dict, key, dist: dict, shift: int, p: float) -> int:
        into = bucket.setdefault(key, {})
        get = into.get
        for k, m in dist.items():
            into[k + shift] = get(k + shift, 0.0) + m * p
        return len(dist)

    @staticmethod
    def mass(dist: dict) -> float:
        return sum(dist.values())

    def round_too_big(self, pending: dict) -> bool:
        return sum(len(d) for d in pending.values()) > self.limit

    def too_big(self, final: dict, arrivals: dict) -> bool:
        self.checked += 1
        return self.checked % 64 == 0 and len(final.get(0, ())) + sum(len(d) for d in arrivals.values()) > self.limit

    def result(self, dist: dict, quantum: float):
        if len(dist) > self.limit:
            return None
        keys = sorted(dist)
        masses = np.array([dist[k] for k in keys], dtype=float)
        exponent = round(math.log10(quantum))
        if math.isclose(quantum, 10.0 ** exponent) and exponent < 0:   # a power of ten: amounts as decimals read
            return np.array(keys, dtype=float) / 10.0 ** -exponent, masses
        return np.array(keys, dtype=float) * quantum, masses


class _Cells:
    """Mass as a histogram, (offset in quanta, numpy array of cells) ("grid"): no histogram
    longer than `_GRID_CELLS`; `_GRID_WORK` cells moved."""

    def __init__(self) -> None:
        self.work_limit = _GRID_WORK

    @staticmethod
    def one() -> tuple:
        return 0, np.ones(1)

    @staticmethod
    def add(bucket: dict, key, dist: tuple, shift: int, p: float) -> int:
        offset, cells = dist[0] + shift, dist[1] * p
        old = bucket.get(key)
        if old is None:
            bucket[key] = (offset, cells)
            return len(cells)
        o, a = old
        lo, hi = min(o, offset), max(o + len(a), offset + len(cells))
        if lo == o and hi == o + len(a):
            a[offset - o: offset - o + len(cells)] += cells
        else:
            out = np.zeros(hi - lo)
            out[o - lo: o - lo + len(a)] += a
            out[offset - lo: offset - lo + len(cells)] += cells
            bucket[key] = (lo, out)
        return len(cells)

    @staticmethod
    def mass(dist: tuple) -> float:
        return float(dist[1].sum())

    @staticmethod
    def round_too_big(pending: dict) -> bool:
        return any(len(a) > _GRID_CELLS for _, a in pending.values())

    @staticmethod
    def too_big(final: dict, arrivals: dict) -> bool:
        return bool(final) and len(final[0][1]) > _GRID_CELLS

    @staticmethod
    def result(dist: tuple, quantum: float):
        offset, cells = dist
        keep = np.nonzero(cells)[0]
        return (offset + keep) * quantum, cells[keep]


def _propagate(g, entry, probability, reward, quantum, rounding, mass):
    """(values, masses, unresolved) of the figure, every visit's amount rounded to `quantum`
    by `rounding`, the mass held as `mass` (`_Atoms` or `_Cells`); None when it passes the
    representation's bounds."""
    steps = _steps(g, probability, reward, quantum, rounding)
    arrivals = {entry: mass.one()}
    final: dict = {}
    work, unresolved = 0, 0.0

    def send(dist, n: str, inside, pending) -> int:
        shift, edges = steps[n]
        moved = 0
        for target, p in edges:
            if target is None:
                moved += mass.add(final, 0, dist, shift, p)
            elif inside is not None and target in inside:
                moved += mass.add(pending, target, dist, shift, p)
            else:
                moved += mass.add(arrivals, target, dist, shift, p)
        return moved

    for scc, loop in _order(g, steps):
        if not loop:
            dist = arrivals.pop(scc[0], None)
            if dist is not None:
                work += send(dist, scc[0], None, None)
        else:
            inside = set(scc)
            pending = {n: arrivals.pop(n) for n in scc if n in arrivals}
            while pending:
                left = sum(mass.mass(d) for d in pending.values())
                if left < TOLERANCE:
                    unresolved += left
                    break
                following: dict = {}
                for n in scc:
                    if n in pending:
                        work += send(pending[n], n, inside, following)
                pending = following
                if work > mass.work_limit or mass.round_too_big(pending):
                    return None
        if work > mass.work_limit or mass.too_big(final, arrivals):
            return None
    found = mass.result(final[0], quantum) if final else None
    return None if found is None else (*found, unresolved)


def _walks(g, entry, probability, reward, metric, walks: int) -> Spread:
    """`walks` simulated walks of the chain (vectorised: all walks step together)."""
    nodes = [n for n in g.nodes if g.nodes[n]["outcome"] is None]
    index = {n: i for i, n in enumerate(nodes)}
    end = len(nodes)
    targets, cumulative, starts = [], [], [0]
    for n in nodes:
        total = 0.0
        for m in g.successors(n):
            p = float(probability[(n, m)])
            if p <= 0:
                continue
            total += p
            targets.append(index.get(m, end))
            cumulative.append(index[n] + min(total, 1.0))
        targets.append(end)                 # the probability that leaves by no edge ends the request
        cumulative.append(index[n] + 1.0)
        starts.append(len(targets))
    targets_a, cumulative_a = np.array(targets), np.array(cumulative)
    rewards = np.array([reward[n] for n in nodes] + [0.0])
    rng = np.random.default_rng(_SEED)
    at = np.full(walks, index[entry])
    total = np.zeros(walks)
    alive = np.arange(walks)
    starts_a = np.array(starts[:-1])
    widest = max(b - a for a, b in zip(starts, starts[1:]))
    for _ in range(_MAX_STEPS):
        if alive.size == 0:
            break
        here = at[alive]
        total[alive] += rewards[here]
        x = here + rng.random(alive.size)
        if widest <= 16:        # the first entry of the node's row above x: a short scan
            pick = starts_a[here]
            for _ in range(widest - 1):
                pick += cumulative_a[pick] <= x
        else:
            pick = np.minimum(np.searchsorted(cumulative_a, x, side="right"), np.array(starts[1:])[here] - 1)
        at[alive] = targets_a[pick]
        alive = alive[at[alive] != end]
    values = np.sort(total)
    return Spread(metric, "simulated", values, np.full(walks, 1.0 / walks), alive.size / walks, 0.0, walks)
