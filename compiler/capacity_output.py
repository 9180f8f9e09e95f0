"""`llmarch capacity`: the limits table and the requests in flight as text, Markdown and JSON."""

from __future__ import annotations

from . import present
from .capacity import Capacity, LimitRow
from .output import markdown_table, text_table

__all__ = ["FORMAT_VERSION", "capacity_text", "capacity_json"]

FORMAT_VERSION = 2

LIMITS_HEADER = ["model", "limit", "value", "per request", "mean demand", "peak demand", "use at peak",
                 "headroom", "throttled", "binds at"]
IN_FLIGHT_HEADER = ["in flight", "seconds per request", "mean", "peak"]
REQUESTS_HEADER = ["one request", "mean", "std dev", "p50", "p95", "p99", "how"]


def _limit_cells(r: LimitRow) -> list[str]:
    unit = r.unit
    per = {"rpm": "calls", "tpm": "tokens", "input_tpm": "tokens", "output_tpm": "tokens"}.get(r.limit)
    if per == "calls" and present.count(r.per_request) == "1":
        per = "call"
    if per is None:
        per_request = present.duration(r.per_request) + " of calls"
    else:
        per_request = f"{present.count(r.per_request)} {per}"
    binds = "never" if r.binds_at is None else f"{present.count(r.binds_at)} requests/day"
    return [r.model, r.limit, f"{present.count(r.value)} {unit}", per_request,
            present.count(r.mean_demand), present.count(r.peak_demand), present.share(r.peak_utilisation),
            present.count(r.headroom), present.share(r.throttled_share), binds]


def _traffic_line(c: Capacity) -> str:
    return (f"traffic: {present.count(c.traffic)} requests/day at the mean, "
            f"{present.count(c.peak_traffic)} at the peak (peak = {present.number(c.peak)})")


def _binding_line(c: Capacity) -> str:
    b = c.binding
    if b is None:
        return "no limit declared on a model the flow calls" if not c.limits else "no limit is ever reached"
    times = b.binds_at / c.traffic if c.traffic > 0 else float("inf")
    over = "over the limit already" if b.peak_demand > b.value else f"{present.number(times, 3)}x today's mean"
    return (f"binds first: `{b.model}` {b.limit} at {present.count(b.binds_at)} requests/day mean traffic ({over}); "
            f"{present.share(b.throttled_share)} of its peak demand throttled now")


def capacity_text(c: Capacity, markdown: bool = False) -> str:
    table = markdown_table if markdown else text_table
    code = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    title = c.architecture + (f" — scenario {c.scenario}" if c.scenario else "")
    out = [f"### {title}" if markdown else title, "", _traffic_line(c), ""]
    if c.limits:
        rows = [[code(r[0])] + r[1:] for r in (_limit_cells(x) for x in c.limits)]
        out += table(LIMITS_HEADER, rows, right={2, 3, 4, 5, 6, 7, 8, 9}) + [""]
    out.append(_binding_line(c))
    if c.latency_per_request is not None:
        rows = [[code(r.name), present.duration(r.seconds_per_request), present.count(r.mean), present.count(r.peak)]
                for r in c.in_flight]
        system = c.latency_per_request
        rows.append(["request (system)", present.duration(system), present.count(c.traffic / 86400 * system),
                     present.count(c.peak_traffic / 86400 * system)])
        out += [""] + table(IN_FLIGHT_HEADER, rows, right={1, 2, 3})
    else:
        out += ["", "in flight: the file declares no time (`latency`, `ttft`), so Little's law has nothing to count"]
    if c.throttled_mean is not None:
        out += [""] + _throttled_lines(c, table)
    if c.requests:
        out += [""] + table(REQUESTS_HEADER, [_request_cells(metric, s) for metric, s in c.requests.items()],
                            right={1, 2, 3, 4, 5})
        out.append("(the spread between requests over the paths they take, at the scenario's values; "
                   "not the uncertainty over the guesses)")
    return "\n".join(out) + "\n"


def _throttled_lines(c: Capacity, table) -> list[str]:
    mean, peak = c.throttled_mean, c.throttled_peak
    if not peak.throttles and not mean.throttles:
        return ["throttling: no limit is exceeded at the peak, so no call is refused"]
    models = sorted(set(peak.shares) | set(mean.shares))
    rows = [[f"{m} calls refused (429)", "0%",
             *(present.share(t.shares.get(m, 0.0)) + (f" ({t.binding[m]})" if m in t.binding else "")
               for t in (mean, peak))]
            for m in models if peak.shares.get(m, 0.0) > 0 or mean.shares.get(m, 0.0) > 0]
    rows.append(["cost per request", *(present.money(x, per_request=True)
                                       for x in (mean.free_cost_per_request, mean.cost_per_request,
                                                 peak.cost_per_request))])
    if mean.latency_per_request is not None:
        rows.append(["latency per request", *(present.duration(x) for x in (mean.free_latency_per_request,
                                                                            mean.latency_per_request,
                                                                            peak.latency_per_request))])
    rows.append(["P(success)", *(present.percent(x) for x in (mean.free_p_success, mean.p_success, peak.p_success))])
    out = table(["with the limits enforced", "no limits", "at the mean", "at the peak"], rows, right={1, 2, 3})
    note = ("(a refused call is a failed attempt: retried after the backoff, then the fallback, else the request "
            "fails; retries are demand too, so the share is a fixed point — docs/capacity.md#throttling)")
    if not (mean.converged and peak.converged):
        note += " — the fixed point did not converge: the shares are the last iterate's"
    return out + [note]


def _request_cells(metric: str, s) -> list[str]:
    if metric == "latency":
        show = present.duration
    else:
        def show(x):
            return present.money(x, per_request=True)
    return [metric.replace("_per_request", ""), show(s.mean), show(s.std_dev),
            *(show(s.quantile(q)) for q in (0.5, 0.95, 0.99)), s.how()]


def capacity_json(c: Capacity) -> dict:
    """The document `llmarch capacity --format json` prints."""
    return {"format_version": FORMAT_VERSION, **c.to_dict()}
