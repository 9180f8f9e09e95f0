"""The baseline `simulate` is measured against: hand-written numpy that samples the support
example's production guesses (the same distributions) and evaluates its monthly total in
closed form, derived by hand from docs/semantics.md (retries, the GPT-4.5 fallback, the
guardrail's regeneration loop through the router, tracing per token). Prices come from the
catalog through llmarch.prices, never typed in.

    python bench/hand_support.py [SAMPLES] [--check]

`--check` evaluates the closed form at the medians and compares it with `llmarch cost`
(they must agree to 1e-9), and its sampled mean with `llmarch simulate`'s."""

import sys
import time

import numpy as np

AS_OF = "2025-06-15"


def prices() -> dict:
    """USD per token (input, output) of the four models, from the catalog; a driver that times
    this script passes them in HAND_PRICES (8 numbers) so the baseline pays no llmarch import."""
    import os
    given = os.environ.get("HAND_PRICES")
    if given:
        v = [float(x) for x in given.split(",")]
        return {"gpt4": (v[0], v[1]), "gpt45": (v[2], v[3]), "mini": (v[4], v[5]), "embed": (v[6], v[7])}
    import llmarch
    out = {}
    for key, ref in (("gpt4", "openai:gpt-4"), ("gpt45", "openai:gpt-4.5-preview"), ("mini", "openai:gpt-4o-mini"),
                     ("embed", "openai:text-embedding-3-small")):
        (p,) = [p for p in llmarch.prices(ref, AS_OF) if p.ref == ref]
        out[key] = (float(p.input.base) / 1e6, float(p.output.base) / 1e6 if p.output is not None else 0.0)
    return out


def pert(rng, low, mode, high, n):
    width = high - low
    return low + width * rng.beta(1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width, n)


GUESSES = {   # production's uncertain parameters, as the example writes them
    "tickets_per_day": (1200, 1450, 1700), "ticket_tokens": (250, 450, 650), "history_tokens": (250, 450, 650),
    "chunk_tokens": (200, 300, 400), "summary_tokens": (250, 350, 450), "call_failure": (0.01, 0.03, 0.05),
    "strong_failure": (0.005, 0.01, 0.015), "routed_failure": (0.05, 0.10, 0.15), "rejected": (0.02, 0.05, 0.08),
    "escalated": (0.0002, 0.0005, 0.0008), "cache_hit": (0.10, 0.20, 0.30),
}


def monthly_total(x: dict, p: dict):
    (p4i, p4o), (p45i, p45o), (pmi, pmo), (pe, _) = p["gpt4"], p["gpt45"], p["mini"], p["embed"]
    tickets, tk, h, ch, s = x["tickets_per_day"], x["ticket_tokens"], x["history_tokens"], x["chunk_tokens"], x["summary_tokens"]
    f1, f2, r, e, c = x["call_failure"], x["strong_failure"], x["rejected"], x["escalated"], x["cache_hit"]
    in1 = 300 + tk + h + 4 * ch                       # header, ticket, history, 4 chunks of context
    in2, in3 = in1 + 400, s + 200
    cost1, cost2, cost3 = in1 * p4i + s * p4o, in2 * p45i + s * p45o, in3 * pmi + 20 * pmo
    miss = 1 - c
    f1_3 = f1 * f1 * f1
    q = (1 - f1_3) + f1_3 * (1 - f2)                 # a route entry reaches the guardrail
    route = miss / (1 - r * q)                         # the regeneration loop through the router
    attempts = route * (1 + f1 + f1 * f1)
    strong, checks = route * f1_3, route * q
    tokens = miss * tk + attempts * (in1 + s) + strong * (in2 + s) + checks * (in3 + 20)
    per_request = (0.0001 + miss * (tk * pe + 0.0004) + attempts * cost1 + strong * cost2 + checks * cost3
                   + checks * e * 4.5 + 0.004 + 2e-6 * tokens)
    fixed = 1750 + 1200 + 540 + 100_000 * 800 * 4.3 * pe
    return tickets * 30 * per_request + fixed


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    p = prices()
    if "--check" in sys.argv:
        import llmarch
        model = llmarch.load("examples/support_assistant.llmarch")
        medians = {k: np.float64(v[1]) for k, v in GUESSES.items()}
        hand, cost = float(monthly_total(medians, p)), model.cost("production").monthly_total
        print(f"at the medians: hand {hand:.9f}, llmarch cost {cost:.9f}, relative difference {abs(hand / cost - 1):.2e}")
        assert abs(hand / cost - 1) < 1e-9
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    x = {k: pert(rng, *v, samples) for k, v in GUESSES.items()}
    y = monthly_total(x, p)
    q = np.quantile(y, [0.05, 0.5, 0.95, 0.99])
    elapsed = time.perf_counter() - start
    print(f"{samples:,} samples: mean {y.mean():.2f}, sd {y.std(ddof=1):.2f}, p5/p50/p95/p99 "
          + " ".join(f"{v:.2f}" for v in q) + f"; sampling and evaluation {elapsed:.3f} s")
    if "--check" in sys.argv:
        sim = model.simulate("production", samples=samples, components=False).figures["monthly_total"]
        print(f"llmarch simulate: mean {sim.mean:.2f} ± {sim.se:.2f}, p95 {sim.p95:.2f}")
        assert abs(sim.mean - y.mean()) < 5 * (sim.se ** 2 + (y.std() / samples ** 0.5) ** 2) ** 0.5


if __name__ == "__main__":
    main()
