"""Fixtures shared by the report tests: a file full of hostile text, and the benchmark's
generated architectures."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Every string a user controls, trying to end a script, open a comment or inject markup.
HOSTILE = """
architecture "Evil </script><script>alert(2)</script> & <!-- co"
param rpd = 1000 requests/day in [10, 5000] "per day <img src=x onerror=alert(3)> \u2028 \u2029"
param hit = 20% in [0, 0.9] "</script>"
traffic = rpd
cache c "<script>alert(1)</script>" { hit_rate = hit; cost = 0.001 USD }
tool answer "<b>bold</b> & \\"q\\" `tick` | pipe" { cost = 0.01 USD; category = inference }
flow { start -> c -> answer }
scenario big "</script><!--" { rpd = 2000 requests/day }
"""


@pytest.fixture
def hostile_path(tmp_path) -> Path:
    path = tmp_path / "evil.llmarch"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def generate():
    """`bench/bench_compile.py`'s generate(n): a realistic architecture of n components."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_compile import generate as make
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return make


@pytest.fixture(scope="session")
def large_inputs():
    """`bench/bench_report.py`'s generators of large legal inputs: (template_chain, tool_mesh)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_report import template_chain, tool_mesh
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return template_chain, tool_mesh
