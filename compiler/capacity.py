"""Capacity: the providers' limits against the demand the architecture puts on them.

Computed from one `Evaluation` (the scenario already resolved and evaluated): the expected
visits of every lowered node, the same chain the cost comes from. For a model, a request
makes `calls` = Σ vₙ over the nodes that call it (every attempt, `fallback_model` copies
on the fallback model), sends Σ vₙ · input tokens and receives Σ vₙ · output tokens (`tpm`
counts both), and keeps Σ vₙ · (seconds of a call) of call time (`throttle.demand_per_request`);
with λ the arrival rate, the demand on a limit is λ times that amount (Little's law for
`concurrency`). The peak is the mean times `settings { peak = … }`; the limits enforced
(refused calls retried, a fixed point) come from `throttle.throttle`. A self-hosted model (`gpu { }`) gets a `GpuRow`: the replicas its
token demand needs at the mean and at the peak (the ones paid for), by the formula the cost
uses (`ir.GpuHosting.replicas`). See docs/capacity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy

from . import ir
from .codegen import numeric
from .throttle import demand, demand_per_request, limit_value, throttle
from .units import SECONDS_PER_DAY

__all__ = ["Capacity", "LimitRow", "InFlightRow", "GpuRow", "capacity", "LIMIT_UNITS"]

#: the unit each limit is read and shown in, and what a request's amount is counted in
LIMIT_UNITS = {"rpm": ("requests/min", "calls"), "tpm": ("tokens/min", "tokens"), "input_tpm": ("tokens/min", "tokens"),
               "output_tpm": ("tokens/min", "tokens"), "concurrency": ("requests", "call-seconds")}


@dataclass(frozen=True)
class LimitRow:
    """One provider limit: what a request asks of it and how close the traffic comes."""

    model: str
    limit: str                   # "rpm", "tpm", "input_tpm", "output_tpm" or "concurrency"
    value: float                 # the limit, requests/min, tokens/min or requests in flight
    per_request: float           # calls, tokens, or seconds of calls that one request makes
    mean_demand: float           # in the limit's unit, at the mean traffic
    peak_demand: float           # at the peak (mean × peak)
    binds_at: Optional[float]    # mean traffic (requests/day) at which the peak demand reaches the limit

    @property
    def unit(self) -> str:
        return LIMIT_UNITS[self.limit][0]

    @property
    def mean_utilisation(self) -> float:
        return self.mean_demand / self.value

    @property
    def peak_utilisation(self) -> float:
        return self.peak_demand / self.value

    @property
    def headroom(self) -> float:
        """The limit minus the peak demand (negative: over the limit), in the limit's unit."""
        return self.value - self.peak_demand

    @property
    def throttled_share(self) -> float:
        """The share of the peak demand refused (HTTP 429): max(0, 1 − limit ÷ demand)."""
        return max(0.0, 1.0 - self.value / self.peak_demand) if self.peak_demand > 0 else 0.0

    def to_dict(self) -> dict:
        return {"model": self.model, "limit": self.limit, "unit": self.unit, "value": self.value,
                "per_request": self.per_request, "mean_demand": self.mean_demand, "peak_demand": self.peak_demand,
                "mean_utilisation": self.mean_utilisation, "peak_utilisation": self.peak_utilisation,
                "headroom": self.headroom, "throttled_share": self.throttled_share, "binds_at": self.binds_at}


@dataclass(frozen=True)
class InFlightRow:
    """Requests in a component at once, by Little's law: arrivals × visits × time per visit."""

    name: str                    # a component, or a `component@model` fallback copy
    component: str
    seconds_per_request: float   # Σ vₙ · tₙ over its nodes (backoffs included)
    mean: float
    peak: float

    def to_dict(self) -> dict:
        return {"name": self.name, "component": self.component, "seconds_per_request": self.seconds_per_request,
                "mean": self.mean, "peak": self.peak}


@dataclass(frozen=True)
class GpuRow:
    """A self-hosted model's replicas: its token demand (every call's input and output
    tokens) against what a replica serves at the target utilisation."""

    model: str
    tokens_per_request: float    # input + output tokens a request sends the model, every call counted
    mean_demand: float           # tokens per second at the mean traffic
    peak_demand: float           # tokens per second at the peak (mean × peak)
    throughput: float            # tokens per second one replica serves
    target_utilisation: float    # the share of `throughput` a replica is sized to use
    min_replicas: int
    mean_replicas: int           # what the mean traffic alone would need
    replicas: int                # what the peak needs: the replicas paid for all month
    price_per_hour: float        # USD an hour, one replica
    monthly: float               # USD a month: replicas × price × hours in the month
    per_request: Optional[float]  # monthly ÷ requests per month (None without traffic)
    next_replica_at: Optional[float]  # mean traffic (requests/day) above which the peak needs one replica more

    @property
    def mean_utilisation(self) -> float:
        """The mean demand over what the replicas paid for can serve (their full throughput)."""
        return self.mean_demand / (self.replicas * self.throughput) if self.replicas else 0.0

    @property
    def peak_utilisation(self) -> float:
        return self.peak_demand / (self.replicas * self.throughput) if self.replicas else 0.0

    def to_dict(self) -> dict:
        return {"model": self.model, "tokens_per_request": self.tokens_per_request,
                "mean_demand": self.mean_demand, "peak_demand": self.peak_demand, "throughput": self.throughput,
                "target_utilisation": self.target_utilisation, "min_replicas": self.min_replicas,
                "mean_replicas": self.mean_replicas, "replicas": self.replicas,
                "mean_utilisation": self.mean_utilisation, "peak_utilisation": self.peak_utilisation,
                "price_per_hour": self.price_per_hour, "monthly": self.monthly, "per_request": self.per_request,
                "next_replica_at": self.next_replica_at}


@dataclass(frozen=True)
class Capacity:
    """The limits table and the requests in flight, at one scenario's values."""

    architecture: str
    scenario: Optional[str]
    traffic: float               # mean requests per day
    peak: float                  # the peak's factor over the mean
    limits: list[LimitRow]
    in_flight: list[InFlightRow]  # empty when the file declares no time
    latency_per_request: Optional[float]
    #: one request's latency and cost over the path it takes: metric -> `spread.Spread`
    requests: dict = field(default_factory=dict)
    #: the limits enforced (throttled calls retried, `throttle.Throttled`) at the mean and
    #: at the peak traffic; None when no model declares a limit
    throttled_mean: Optional[object] = None
    throttled_peak: Optional[object] = None
    gpus: list[GpuRow] = field(default_factory=list)   # the self-hosted models the flow calls

    @property
    def peak_traffic(self) -> float:
        return self.traffic * self.peak

    @property
    def binding(self) -> Optional[LimitRow]:
        """The limit the traffic reaches first as it grows (the least `binds_at`), or None."""
        rows = [r for r in self.limits if r.binds_at is not None]
        return min(rows, key=lambda r: r.binds_at) if rows else None

    def to_dict(self) -> dict:
        binding = self.binding
        in_flight = None
        if self.latency_per_request is not None:
            seconds = self.latency_per_request
            in_flight = {"components": [r.to_dict() for r in self.in_flight],
                         "system": {"seconds_per_request": seconds, "mean": self.traffic / SECONDS_PER_DAY * seconds,
                                    "peak": self.peak_traffic / SECONDS_PER_DAY * seconds}}
        return {"architecture": self.architecture, "scenario": self.scenario,
                "traffic": {"mean": self.traffic, "peak": self.peak_traffic, "peak_factor": self.peak},
                "limits": [r.to_dict() for r in self.limits],
                "binding": None if binding is None else {"model": binding.model, "limit": binding.limit,
                                                         "binds_at": binding.binds_at},
                "in_flight": in_flight,
                "requests": {metric: s.to_dict() for metric, s in self.requests.items()},
                "throttled": None if self.throttled_mean is None else {
                    "mean": self.throttled_mean.to_dict(), "peak": self.throttled_peak.to_dict()},
                "gpus": [g.to_dict() for g in self.gpus]}


def capacity(arch: ir.Architecture, flow, evaluation, requests: Optional[dict] = None) -> Capacity:
    """The limits and in-flight requests of `arch` (lowered as `flow`) at `evaluation`,
    with `requests`, the spread of one request's figures (`spread.request_spreads`)."""
    env = dict(evaluation.env)
    env[ir.FAILURE_SWITCH] = 1.0
    visits = evaluation.graph.visits
    per_day = float(numeric(arch.traffic, env))
    amounts = demand_per_request(arch, flow, visits, env)   # model -> limit -> what one request asks
    in_flight: list[InFlightRow] = []
    if arch.has_latency:
        per_second = per_day / SECONDS_PER_DAY
        for comp in arch.components.values():
            if comp.kind == "observe":
                continue
            rows: dict[str, float] = {}
            for node in flow.nodes_of[comp.name]:
                name = node if "@" in node else comp.name
                rows[name] = rows.get(name, 0.0) + visits[node] * _seconds(flow.graph.nodes[node]["latency"], env)
            in_flight += [InFlightRow(name, comp.name, seconds, per_second * seconds, arch.peak * per_second * seconds)
                          for name, seconds in rows.items()]
    limits = []
    for price in arch.prices.values():
        for key, value, _ in price.limits:
            per_request = amounts.get(price.name, {}).get(key, 0.0)
            limit = limit_value(key, value, env)
            mean = demand(key, per_request, per_day)       # Little's law for `concurrency`
            peak = mean * arch.peak
            binds_at = per_day * limit / peak if peak > 0 else None
            limits.append(LimitRow(price.name, key, limit, per_request, mean, peak, binds_at))
    result = evaluation.result
    gpus = _gpus(arch, env, per_day, amounts, result)
    throttled = (None, None)
    if limits:
        throttled = tuple(throttle(arch, flow, evaluation, (per_day, per_day * arch.peak)))
    return Capacity(result.architecture, evaluation.scenario, per_day, arch.peak, limits, in_flight,
                    result.latency_per_request if arch.has_latency else None, dict(requests or {}), *throttled,
                    gpus=gpus)


def _gpus(arch: ir.Architecture, env, per_day: float, amounts: dict, result) -> list[GpuRow]:
    """A row per self-hosted model that has a GPU cost (one the flow calls)."""
    monthly = {r.name: r.monthly for r in result.components}
    rows = []
    for name, fixed in arch.fixed.items():
        if fixed.hosts is None:
            continue
        hosting = arch.prices[fixed.hosts].gpu
        tokens = amounts.get(fixed.hosts, {}).get("tpm", 0.0)
        mean = per_day * tokens                       # tokens per day
        peak = mean * arch.peak
        throughput = float(numeric(hosting.throughput, env))     # tokens per day, one replica
        target = float(numeric(hosting.utilisation, env))
        replicas = int(numeric(hosting.replicas(sympy.Float(peak)), env))
        served = replicas * throughput * target       # what the replicas serve at the target, per day
        rows.append(GpuRow(
            fixed.hosts, tokens, mean / SECONDS_PER_DAY, peak / SECONDS_PER_DAY, throughput / SECONDS_PER_DAY,
            target, hosting.min_replicas, int(numeric(hosting.replicas(sympy.Float(mean)), env)), replicas,
            float(numeric(hosting.price, env)) / 24, monthly[name],
            monthly[name] / result.requests_per_month if result.requests_per_month else None,
            per_day * served / peak if peak > 0 else None))
    return rows


def _seconds(days, env) -> float:
    return 0.0 if days is None else float(numeric(days, env)) * SECONDS_PER_DAY
