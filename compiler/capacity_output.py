"""`llmarch capacity`: the limits table and the requests in flight as text, Markdown and JSON."""

from __future__ import annotations

from . import present
from .capacity import Capacity, GpuRow, LimitRow
from .output import markdown_table, text_table

__all__ = ["FORMAT_VERSION", "capacity_text", "capacity_json"]

FORMAT_VERSION = 2

LIMITS_HEADER = ["model", "limit", "value", "per request", "mean demand", "peak demand", "use at peak",
                 "headroom", "throttled", "binds at"]
IN_FLIGHT_HEADER = ["in flight", "seconds per request", "mean", "peak"]
REQUESTS_HEADER = ["one request", "mean", "std dev", "p50", "p95", "p99", "how"]
GPU_HEADER = ["self-hosted", "tokens per request", "mean tokens/s", "peak tokens/s", "per replica",
              "replicas at mean", "replicas at peak", "use at mean", "use at peak", "per month", "next replica at"]


def _gpu_cells(g: GpuRow) -> list[str]:
    per_replica = f"{present.count(g.throughput)} tokens/s at {present.share(g.target_utilisation)}"
    following = "never" if g.next_replica_at is None else f"{present.count(g.next_replica_at)} requests/day"
    return [g.model, present.count(g.tokens_per_request), present.count(g.mean_demand), present.count(g.peak_demand),
            per_replica, str(g.mean_replicas), str(g.replicas), present.share(g.mean_utilisation),
            present.share(g.peak_utilisation), present.money(g.monthly), following]


def _gpu_lines(c: Capacity, code) -> list[str]:
    """Each self-hosted model's bill in words: the replicas paid for and how it is spread."""
    lines = []
    for g in c.gpus:
        spread = "" if g.per_request is None else f", {present.money(g.per_request, True)} a request spread over the month"
        lines.append(f"GPUs: {code(g.model)} {g.replicas} replica{'s' if g.replicas != 1 else ''} (sized for the "
                     f"peak; {g.min_replicas} at least) × {present.money(g.price_per_hour)}/h = "
                     f"{present.money(g.monthly)} a month{spread}")
    return lines


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
    if c.gpus:
        rows = [[code(r[0])] + r[1:] for r in (_gpu_cells(g) for g in c.gpus)]
        out += [""] + table(GPU_HEADER, rows, right=set(range(1, 11))) + [""] + _gpu_lines(c, code)
    if c.latency_per_request is not None:
        rows = [[code(r.name), present.duration(r.seconds_per_request), present.count(r.mean), present.count(r.peak)]
                for r in c.in_flight]
        system = c.latency_per_request
        rows.append(["request (system)", present.duration(system), present.count(c.traffic / 86400 * system),
                     present.count(c.peak_traffic / 86400 * system)])
        out += [""] + table(IN_FLIGHT_HEADER, rows, right={1, 2, 3})
    else:
        out += ["", "in flight: the file declares no time (`latency`, `ttft`), so Little's law has nothing to count"]
    gap = [""] if markdown else []     # a line right under a Markdown table would join it
    if c.throttled_mean is not None:
        rows = throttled_rows(c)
        out += [""] + ((table(THROTTLED_HEADER, rows, right={1, 2, 3}) + gap + [f"({throttled_note(c)})"])
                       if rows else [NOTHING_THROTTLED])
    if c.requests:
        out += [""] + table(REQUESTS_HEADER, request_rows(c), right={1, 2, 3, 4, 5}) + gap + [f"({REQUESTS_NOTE})"]
    return "\n".join(out) + "\n"


THROTTLED_HEADER = ["with the limits enforced", "no limits", "at the mean", "at the peak"]
THROTTLED_NOTE = ("a refused call is a failed attempt: retried after the backoff, then the fallback, else the request "
                  "fails; retries are demand too, so the share is a fixed point — docs/capacity.md#throttling")
NOTHING_THROTTLED = "throttling: no limit is exceeded at the peak, so no call is refused"


def throttled_rows(c: Capacity) -> list[list[str]]:
    """The rows of the limits-enforced table (refused shares, cost, latency, P(success)
    without limits, at the mean and at the peak); [] when nothing is refused."""
    mean, peak = c.throttled_mean, c.throttled_peak
    if not peak.throttles and not mean.throttles:
        return []
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
    return rows


def throttled_note(c: Capacity) -> str:
    note = THROTTLED_NOTE
    if not (c.throttled_mean.converged and c.throttled_peak.converged):
        note += " — the fixed point did not converge: the shares are the last iterate's"
    return note


REQUESTS_NOTE = ("the spread between requests over the paths they take, at the scenario's values; "
                 "not the uncertainty over the guesses")


def request_rows(c: Capacity) -> list[list[str]]:
    """A row per figure of one request (latency, cost): mean, std dev, p50, p95, p99, how."""
    return [_request_cells(metric, s) for metric, s in c.requests.items()]


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
