"""Capacity: the providers' limits against the demand the architecture puts on them.

Computed from one `Evaluation` (the scenario already resolved and evaluated): the expected
visits of every lowered node, the same chain the cost comes from. For a model, a request
makes `calls` = Σ vₙ over the nodes that call it (every attempt, `fallback_model` copies
on the fallback model), sends Σ vₙ · input tokens and receives Σ vₙ · output tokens (`tpm`
counts both), and
keeps Σ vₙ · (seconds of a call) of call time; with λ the arrival rate, the demand on a
limit is λ times that amount (Little's law for `concurrency`). The peak is the mean times
`settings { peak = … }`. See docs/capacity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import ir
from .codegen import numeric
from .units import SECONDS_PER_DAY

__all__ = ["Capacity", "LimitRow", "InFlightRow", "capacity", "LIMIT_UNITS"]

#: the unit each limit is read and shown in, and what a request's amount is counted in
LIMIT_UNITS = {"rpm": ("requests/min", "calls"), "tpm": ("tokens/min", "tokens"), "input_tpm": ("tokens/min", "tokens"),
               "output_tpm": ("tokens/min", "tokens"), "concurrency": ("requests", "call-seconds")}

_MINUTES_PER_DAY = 1440


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
                    "mean": self.throttled_mean.to_dict(), "peak": self.throttled_peak.to_dict()}}


def capacity(arch: ir.Architecture, flow, evaluation, requests: Optional[dict] = None) -> Capacity:
    """The limits and in-flight requests of `arch` (lowered as `flow`) at `evaluation`,
    with `requests`, the spread of one request's figures (`spread.request_spreads`)."""
    env = dict(evaluation.env)
    env[ir.FAILURE_SWITCH] = 1.0
    visits = evaluation.graph.visits
    per_day = float(numeric(arch.traffic, env))
    amounts: dict[str, dict[str, float]] = {}   # model -> calls, tokens in and out, call-seconds per request
    in_flight: list[InFlightRow] = []
    for comp in arch.components.values():
        if comp.kind == "observe":
            continue
        rows: dict[str, float] = {}
        for node in flow.nodes_of[comp.name]:
            v = visits[node]
            clone = "@" in node
            rows[node if clone else comp.name] = rows.get(node if clone else comp.name, 0.0) + v * _seconds(
                flow.graph.nodes[node]["latency"], env)
            price = comp.fallback_model if clone else (arch.prices.get(comp.model) if comp.model else None)
            if price is None:
                continue
            call_time = comp.fallback_latency if clone else comp.latency
            a = amounts.setdefault(price.name, dict.fromkeys(ir.LIMIT_FIELDS, 0.0))
            tokens_in, tokens_out = _value(comp.input_tokens, env), _value(comp.output_tokens, env)
            a["rpm"] += v
            a["tpm"] += v * (tokens_in + tokens_out)
            a["input_tpm"] += v * tokens_in
            a["output_tpm"] += v * tokens_out
            a["concurrency"] += v * _seconds(call_time, env)
        if arch.has_latency:
            per_second = per_day / SECONDS_PER_DAY
            in_flight += [InFlightRow(name, comp.name, seconds, per_second * seconds, arch.peak * per_second * seconds)
                          for name, seconds in rows.items()]
    limits = []
    for price in arch.prices.values():
        for key, value, _ in price.limits:
            per_request = amounts.get(price.name, {}).get(key, 0.0)
            if key == "concurrency":
                limit = float(numeric(value, env))
                mean = per_day / SECONDS_PER_DAY * per_request      # Little's law: λ (per second) × seconds
            else:
                limit = float(numeric(value, env)) / _MINUTES_PER_DAY   # per day -> per minute
                mean = per_day / _MINUTES_PER_DAY * per_request
            peak = mean * arch.peak
            binds_at = per_day * limit / peak if peak > 0 else None
            limits.append(LimitRow(price.name, key, limit, per_request, mean, peak, binds_at))
    result = evaluation.result
    throttled = (None, None)
    if limits:
        from .throttle import throttle
        throttled = (throttle(arch, flow, evaluation, per_day), throttle(arch, flow, evaluation, per_day * arch.peak))
    return Capacity(result.architecture, evaluation.scenario, per_day, arch.peak, limits, in_flight,
                    result.latency_per_request if arch.has_latency else None, dict(requests or {}), *throttled)


def _value(expr, env) -> float:
    return 0.0 if expr is None else float(numeric(expr, env))


def _seconds(days, env) -> float:
    return 0.0 if days is None else float(numeric(days, env)) * SECONDS_PER_DAY
