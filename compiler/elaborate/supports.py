"""Pass `supports`: a distribution must fit where its parameter is used. A parameter used
as a probability as it is (a `fail_rate = flaky`, an edge's `p = hit`) whose distribution
reaches below 0% or above 100% — its 5th or 95th percentile for an interval, an end of a
`uniform`/`triangular`/`pert`, a value of a `choice` — is E801 at the distribution, in the
defaults or the scenario that writes it; so is one used as an amount that reaches below
zero (a dimensionless interval `-5 to 5` used as a token count). Tails beyond the ends of
an unbounded distribution (a normal, a lognormal) are `simulate`'s to find, per sample."""

from __future__ import annotations

from typing import Optional

from ..distributions import Distribution
from .state import State

__all__ = ["run"]


def _ends(d: Distribution) -> Optional[tuple[float, float]]:
    """The values a reader reads as the distribution's range: None for a normal (mean, sd)."""
    if d.kind in ("lognormal", "logitnormal", "uniform"):
        return d.args[0], d.args[1]
    if d.kind in ("triangular", "pert"):
        return d.args[0], d.args[2]
    if d.kind == "choice":
        return min(d.args), max(d.args)
    if d.kind == "beta":
        return 0.0, 1.0
    if d.kind == "normal":
        mean, sd = d.args
        return mean - 1.6448536269514722 * sd, mean + 1.6448536269514722 * sd
    return None


def run(state: State) -> None:
    by_symbol = {p.symbol: name for name, p in state.params.items()}
    used: dict[str, tuple[str, str]] = {}       # parameter -> (how it is used, what)
    for check in state.checks:
        name = by_symbol.get(check.expr) if check.expr.is_Symbol else None
        if name is None or state.params[name].scale != 1:
            continue
        if check.kind in ("probability", "nonnegative") and name not in used:
            used[name] = (check.kind, check.what)
    seen: set = set()
    places = [(name, p.distribution) for name, p in state.params.items() if p.distribution is not None]
    places += [(name, d) for s in state.scenarios.values() for name, d in s.distributions.items()]
    for name, d in places:
        if name not in used or (name, d.span) in seen:
            continue
        seen.add((name, d.span))
        kind, what = used[name]
        ends = _ends(d)
        if ends is None:
            continue
        low, high = ends
        if kind == "probability" and (low < 0 or high > 1):
            bad = low if low < 0 else high
            state.collector.error(
                "E801", f"`{name}` is used as a probability ({what}), but its distribution reaches {bad * 100:g}%",
                d.span, help="a probability's distribution must stay within 0% and 100%: an interval of shares "
                "(`2% to 8%`), `pert(…)` within them, or `beta(a, b)`")
        elif kind == "nonnegative" and low < 0:
            state.collector.error(
                "E801", f"`{name}` is used as an amount ({what}), but its distribution reaches {low:g}",
                d.span, help="an amount cannot be negative: give its range positive ends")
