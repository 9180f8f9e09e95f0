"""Throttling: a limit the traffic exceeds refuses calls (HTTP 429), refused calls are
retried, and retries are demand too — the shares are a fixed point. Derived by hand for one
model: with λ requests a minute at the peak, a limit of L calls a minute and N attempts,
the provider serves L calls a minute, so P(success) = L / λ exactly."""

from __future__ import annotations

import json
import math

import pytest

from llmarch.cli import main

CASE = """
architecture "case"
traffic = 1440 requests/day
settings {{ peak = 3 }}
model m {{ input = 1 USD/Mtok; output = 2 USD/Mtok; rpm = 2 requests/min }}
model big {{ input = 10 USD/Mtok; output = 20 USD/Mtok }}
llm call {{ model = m; input = 1000 tokens; output = 500 tokens; latency = 2 s{extra} }}
flow {{ start -> call }}
"""
CALL = 1000e-6 + 2 * 500e-6          # dollars per call on m
BIG = 10 * 1000e-6 + 20 * 500e-6     # ... on big


def _capacity(compile_text, extra: str):
    return compile_text(CASE.format(extra=extra)).capacity()


def test_two_attempts_the_share_is_a_fixed_point(compile_text):
    """λ = 3 a minute at the peak, L = 2, two attempts with a 1 s backoff: the offered calls
    are λ(1 + θ), so θ = 1 − 2 / (3(1 + θ)), θ² = 1/3. A request succeeds unless both
    attempts are refused: 1 − θ² = 2/3 = L / λ. It pays for the served calls, (1 + θ)(1 − θ)
    of them, and waits (1 − θ)·2 s + θ·(1 s + (1 − θ)·2 s)."""
    c = _capacity(compile_text, "; fail_rate = 0%; attempts = 2; backoff = 1 s")
    peak, mean = c.throttled_peak, c.throttled_mean
    theta = 1 / math.sqrt(3)
    assert peak.converged and peak.shares["m"] == pytest.approx(theta, rel=1e-8)
    assert peak.binding == {"m": "rpm"}
    assert peak.p_success == pytest.approx(2 / 3, rel=1e-8)
    assert peak.cost_per_request == pytest.approx(CALL * (1 - theta ** 2), rel=1e-8)
    assert peak.latency_per_request == pytest.approx((1 - theta) * 2 + theta * (1 + (1 - theta) * 2), rel=1e-8)
    assert peak.free_p_success == 1 and peak.free_cost_per_request == pytest.approx(CALL)
    # at the mean, 1 a minute against 2: nothing refused, the figures are the cost table's
    assert mean.shares == {"m": 0.0} and mean.binding == {}
    assert mean.cost_per_request == pytest.approx(CALL) and mean.p_success == 1


def test_a_call_without_retries_fails_the_refused_share(compile_text):
    """One attempt: θ = 1 − L / λ = 1/3 at the peak, and P(success) = 2/3."""
    c = _capacity(compile_text, "")
    assert c.throttled_peak.shares["m"] == pytest.approx(1 / 3, rel=1e-9)
    assert c.throttled_peak.iterations == 2        # θ = 1/3 at once (no retry adds demand), confirmed
    assert c.throttled_peak.p_success == pytest.approx(2 / 3, rel=1e-9)


def test_a_refused_call_falls_back_to_another_model(compile_text):
    """A fallback model without limits: the refused third goes to `big`, which serves it:
    P(success) = 1, and a request costs (2/3)·m + (1/3)·big."""
    c = _capacity(compile_text, "; fallback_model = big")
    peak = c.throttled_peak
    assert peak.shares["m"] == pytest.approx(1 / 3, rel=1e-9)
    assert peak.p_success == pytest.approx(1.0, abs=1e-12)
    assert peak.cost_per_request == pytest.approx(2 / 3 * CALL + 1 / 3 * BIG, rel=1e-9)


def test_the_cli_prints_and_exports_the_throttled_figures(tmp_path, capsys):
    path = tmp_path / "t.llmarch"
    path.write_text(CASE.format(extra="; fail_rate = 0%; attempts = 2; backoff = 1 s"))
    assert main(["capacity", str(path)]) == 0
    out = capsys.readouterr().out
    assert "m calls refused (429)" in out and "57.7% (rpm)" in out
    (line,) = [x for x in out.splitlines() if x.startswith("P(success)")]
    assert line.split()[1:] == ["100%", "100%", "66.67%"]
    assert main(["capacity", str(path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["throttled"]["peak"]["shares"]["m"] == pytest.approx(1 / math.sqrt(3))
    assert data["throttled"]["peak"]["without_limits"]["p_success"] == 1


def test_no_limit_no_throttling_section(compile_text):
    c = compile_text(CASE.format(extra="").replace("; rpm = 2 requests/min", "")).capacity()
    assert c.throttled_mean is None and c.to_dict()["throttled"] is None
