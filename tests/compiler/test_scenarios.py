"""Scenarios and `extends`: the nearest override wins, each scenario is merged once (chains
of thousands stay linear), and a broken chain is reported where it breaks."""

from __future__ import annotations

import sys

import pytest
from sympy.core.cache import clear_cache

from llmarch import LlmarchError
from llmarch.compiler.elaborate import elaborate
from llmarch.compiler.loader import load_modules

BASE = """traffic = rpd
param rpd = 1000 requests/day
param a = 100 tokens
param b = 50 tokens
tool t { cost = 1 USD }
flow { start -> t }
"""


def _elaborate(tmp_path, text: str):
    path = tmp_path / "s.llmarch"
    path.write_text(BASE + text, encoding="utf-8")
    return elaborate(*load_modules(path))


def _errors(tmp_path, text: str) -> list[tuple[str, str]]:
    with pytest.raises(LlmarchError) as info:
        _elaborate(tmp_path, text)
    return [(d.code, d.message) for d in info.value.diagnostics]


def _chain(n: int) -> str:
    """n scenarios, each extending the one before and overriding one or two parameters."""
    return "\n".join(f"scenario s{i}{f' extends s{i - 1}' if i else ''} {{ a = {100 + i} tokens"
                     + (f"; rpd = {1000 + i} requests/day" if i % 2 else "") + " }" for i in range(n)) + "\n"


def test_the_nearest_override_wins_in_the_order_of_first_setting(tmp_path):
    arch = _elaborate(tmp_path, """
scenario child extends parent { a = 3 tokens }
scenario parent extends root { b = 2 tokens; a = 2 tokens }
scenario root { a = 1 tokens; rpd = 5 requests/day }
""")
    child, parent, root = (arch.scenarios[n] for n in ("child", "parent", "root"))
    assert list(arch.scenarios) == ["child", "parent", "root"]
    assert list(child.overrides) == ["a", "rpd", "b"]      # the root's keys first, as they are set
    assert child.overrides["a"] == 3 and child.overrides["b"] == 2 and child.overrides["rpd"] == 5
    assert parent.overrides["a"] == 2 and root.overrides["a"] == 1 and "b" not in root.overrides
    assert child.spans["b"] == parent.spans["b"] and child.spans["a"] != parent.spans["a"]
    assert child.overrides is not parent.overrides


def test_a_long_chain_keeps_every_override(tmp_path):
    arch = _elaborate(tmp_path, _chain(3000))
    last = arch.scenarios["s2999"]
    assert last.overrides["a"] == 3099 and last.overrides["rpd"] == pytest.approx(3999)


def _calls_to_elaborate(tmp_path, n: int) -> int:
    """How many calls elaborating a chain of `n` scenarios makes (Python and C functions),
    counted rather than timed so that the measure does not depend on the machine."""
    path = tmp_path / f"chain{n}.llmarch"
    path.write_text(BASE + _chain(n), encoding="utf-8")
    modules, sources = load_modules(path)
    clear_cache()   # sympy's memo of earlier numbers would save calls
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        elaborate(modules, sources)
    finally:
        sys.setprofile(None)
    return count


def test_merging_a_chain_of_scenarios_is_linear(tmp_path):
    # merging each scenario over its whole ancestor chain made twice the chain four times the work
    small, large = _calls_to_elaborate(tmp_path, 300), _calls_to_elaborate(tmp_path, 600)
    assert large < 2.5 * small, (small, large)


def test_a_cycle_is_reported_at_each_scenario_on_it_only(tmp_path):
    errors = _errors(tmp_path, """
scenario tail extends a { a = 1 tokens }
scenario a extends b { a = 2 tokens }
scenario b extends a { a = 3 tokens }
scenario fine { a = 4 tokens }
""")
    assert errors == [("E230", "scenario `a` extends itself: a -> b -> a"),
                      ("E230", "scenario `b` extends itself: b -> a -> b")]


def test_an_unknown_parent_is_reported_once_where_it_is_named(tmp_path):
    errors = _errors(tmp_path, """
scenario c extends b { a = 1 tokens }
scenario b extends a { a = 2 tokens }
scenario a extends pilto { a = 3 tokens }
""")
    assert errors == [("E231", "unknown scenario `pilto`")]
