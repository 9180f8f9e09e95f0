"""Property test: random architectures (retry ladders, fallbacks, caches, loops) compiled by
llmarch agree with independent oracles:

- an exact numeric solve (numpy) of the exported graph's absorbing Markov chain;
- a Monte Carlo simulation of the exported graph;
- a Monte Carlo simulation of the *source* semantics (attempts, fallbacks, cache hits),
  written here without the compiler's lowering.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import llmarch


@dataclass
class Spec:
    name: str
    cost: float
    fail: float = 0.0
    attempts: int = 1
    fallback: str | None = None
    hit: float | None = None          # a cache: hit rate, hit ends the request
    edges: list[tuple[str, float]] = field(default_factory=list)   # leftover ends in success


@st.composite
def architectures(draw):
    n = draw(st.integers(1, 6))
    names = [f"c{i}" for i in range(n)]
    specs = []
    prob = st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7])
    for i, name in enumerate(names):
        spec = Spec(name, cost=draw(st.sampled_from([0.001, 0.01, 0.25, 1.0, 3.0])))
        if draw(st.booleans()):
            spec.fail = draw(st.sampled_from([0.05, 0.2, 0.5, 0.9]))
            spec.attempts = draw(st.integers(1, 5))
            if draw(st.booleans()) and n > 1:
                spec.fallback = draw(st.sampled_from([m for m in names if m != name]))
        elif draw(st.integers(0, 3)) == 0:
            spec.hit = draw(st.sampled_from([0.1, 0.4, 0.8]))
        budget = 0.9
        targets = draw(st.lists(st.sampled_from(names + ["failure"]), max_size=3, unique=True))
        if i + 1 < n:  # keep every component reachable: c_i always may lead to c_(i+1)
            targets = [names[i + 1]] + [t for t in targets if t != names[i + 1]]
        for t in targets:
            p = min(draw(prob), budget)
            if t == names[min(i + 1, n - 1)] and p == 0 and i + 1 < n:
                p = 0.3
            budget -= p
            if p > 0:
                spec.edges.append((t, p))
        specs.append(spec)
    return specs


def to_source(specs: list[Spec]) -> str:
    lines = ['architecture "random"', "traffic = 1000 requests/day"]
    for s in specs:
        fields = [f"cost = {s.cost} USD"]
        if s.fail:
            fields += [f"fail_rate = {s.fail}", f"attempts = {s.attempts}"]
            if s.fallback:
                fields.append(f"fallback = {s.fallback}")
        kind = "tool"
        if s.hit is not None:
            kind = "cache"
            fields.append(f"hit_rate = {s.hit}")
        lines.append(f"{kind} {s.name} {{ " + "; ".join(fields) + " }")
    lines.append("flow {")
    lines.append(f"  start -> {specs[0].name}")
    for s in specs:
        for t, p in s.edges:
            lines.append(f"  {s.name} -> {t} (p = {p})")
    lines.append("}")
    return "\n".join(lines) + "\n"


def exact_solve(export: dict) -> tuple[float, float]:
    ids = [n["id"] for n in export["nodes"]]
    index = {n: i for i, n in enumerate(ids)}
    size = len(ids)
    P = np.zeros((size, size))
    for e in export["edges"]:
        P[index[e["source"]], index[e["target"]]] += e["probability"]
    outcome = {n["id"]: n["outcome"] for n in export["nodes"]}
    for n, o in outcome.items():
        if o is not None:
            P[index[n], :] = 0.0
    e = np.zeros(size)
    e[index[export["entry"]]] = 1.0
    visits = np.linalg.solve(np.eye(size) - P.T, e)
    cost = sum(visits[index[n["id"]]] * n["cost_per_visit"] for n in export["nodes"])
    success = 0.0
    for n in export["nodes"]:
        i = index[n["id"]]
        if n["outcome"] == "success":
            success += visits[i]
        elif n["outcome"] is None:
            success += visits[i] * (1.0 - P[i].sum())
    return float(cost), float(success)


def exact_std(export: dict) -> float:
    """Standard deviation of a walk's total cost, solved exactly from the exported chain:
    first moments m = r + P m, second moments s = r² + 2 r (P m) + P s. Using it (rather
    than the sample's) keeps rare expensive paths from making the check flaky."""
    ids = [n["id"] for n in export["nodes"]]
    index = {n: i for i, n in enumerate(ids)}
    size = len(ids)
    P = np.zeros((size, size))
    for e in export["edges"]:
        P[index[e["source"]], index[e["target"]]] += e["probability"]
    r = np.array([n["cost_per_visit"] for n in export["nodes"]])
    for n in export["nodes"]:
        if n["outcome"] is not None:
            P[index[n["id"]], :] = 0.0
    A = np.eye(size) - P
    m = np.linalg.solve(A, r)
    second = np.linalg.solve(A, r * r + 2 * r * (P @ m))
    i = index[export["entry"]]
    return float(math.sqrt(max(second[i] - m[i] ** 2, 0.0)))


def simulate_export(export: dict, walks: int, rng: random.Random) -> tuple[float, float, float]:
    out: dict[str, list[tuple[str, float]]] = {}
    for e in export["edges"]:
        out.setdefault(e["source"], []).append((e["target"], e["probability"]))
    node = {n["id"]: n for n in export["nodes"]}
    costs, successes = [], 0
    for _ in range(walks):
        current, total = export["entry"], 0.0
        while True:
            total += node[current]["cost_per_visit"]
            if node[current]["outcome"] is not None:
                successes += node[current]["outcome"] == "success"
                break
            u, acc, nxt = rng.random(), 0.0, None
            for target, p in out.get(current, []):
                acc += p
                if u < acc:
                    nxt = target
                    break
            if nxt is None:
                successes += 1
                break
            current = nxt
        costs.append(total)
    return float(np.mean(costs)), float(np.std(costs)), successes / walks


def simulate_source(specs: list[Spec], walks: int, rng: random.Random) -> tuple[float, float, float]:
    by_name = {s.name: s for s in specs}
    costs, successes = [], 0
    for _ in range(walks):
        current, total, outcome = specs[0].name, 0.0, None
        while outcome is None:
            s = by_name[current]
            failed_all = True
            for _attempt in range(s.attempts):
                total += s.cost
                if rng.random() >= s.fail:
                    failed_all = False
                    break
            if failed_all:
                if s.fallback:
                    current = s.fallback
                    continue
                outcome = "failure"
                break
            if s.hit is not None and rng.random() < s.hit:
                outcome = "success"
                break
            u, acc, nxt = rng.random(), 0.0, None
            for target, p in s.edges:
                acc += p
                if u < acc:
                    nxt = target
                    break
            if nxt is None:
                outcome = "success"
            elif nxt == "failure":
                outcome = "failure"
            else:
                current = nxt
        successes += outcome == "success"
        costs.append(total)
    return float(np.mean(costs)), float(np.std(costs)), successes / walks


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures(), st.integers(0, 2**32 - 1))
def test_compiled_model_matches_exact_solve_and_simulations(tmp_path_factory, specs, seed):
    path = tmp_path_factory.mktemp("arch") / "random.llmarch"
    path.write_text(to_source(specs))
    model = llmarch.load(path)
    result = model.cost()
    export = model.export()
    assert export["results"]["cost_per_request"] == result.cost_per_request

    cost, success = exact_solve(export)
    assert math.isclose(result.cost_per_request, cost, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(result.p_success, success, rel_tol=1e-9, abs_tol=1e-12)

    rng = random.Random(seed)
    walks = 4000
    sigma = exact_std(export)
    for simulate in (lambda: simulate_export(export, walks, rng), lambda: simulate_source(specs, walks, rng)):
        mean, _, p = simulate()
        # 6 exact standard errors: a false alarm is a one-in-500-million event per check
        assert abs(mean - result.cost_per_request) <= 6 * sigma / math.sqrt(walks) + 1e-9
        p_err = math.sqrt(max(result.p_success * (1 - result.p_success), 1e-12) / walks)
        # The normal bound fails for rare outcomes (one failure of probability 1e-6 seen in
        # 4,000 walks is 16 "standard errors"); counts are whole, so also allow a few
        # outcomes either way: seeing 7 or more events of expected count ≤ 0.01 has
        # probability below 1e-16.
        assert abs(p - result.p_success) <= 6 * p_err + 6 / walks + 1e-9
