"""Pass `hosting`: a self-hosted model's GPU replicas become a fixed monthly cost.

A model with `gpu { }` has no per-token price; what it costs is the replicas it needs for
the peak: max(min_replicas, ⌈peak token demand ÷ (throughput × utilisation)⌉), paid by the
hour every hour of the month. The peak token demand is `peak` × traffic × the tokens (input
and output) a request sends the model; that last amount depends on the expected visits, so
it is the model's internal symbol `GpuHosting.tokens`, defined by `model.build_model`. The
cost is a row named `MODEL (GPUs)` in the `inference` vector (where the same calls through
an API would be). See docs/capacity.md.
"""

from __future__ import annotations

import sympy

from .. import ir
from .state import State

__all__ = ["run", "gpu_row"]


def gpu_row(model: str) -> str:
    """The name of the fixed-cost row of a self-hosted model's replicas."""
    return f"{model} (GPUs)"


def run(state: State) -> None:
    if state.traffic is None:
        return
    used = {c.model for c in state.components.values() if c.model is not None}
    used |= {c.fallback_model.name for c in state.components.values() if c.fallback_model is not None}
    peak = sympy.nsimplify(state.peak)
    for price in state.prices.values():
        hosting = price.gpu
        if hosting is None or price.name not in used:   # a model nothing calls rents no GPU
            continue
        demand = peak * state.traffic * hosting.tokens      # tokens per day at the peak
        monthly = hosting.replicas(demand) * hosting.price * state.month_days
        name = gpu_row(price.name)
        state.fixed[name] = ir.FixedCost(name, f"GPUs for {price.label or price.name}", "inference", monthly,
                                         hosting.span, hosts=price.name)
