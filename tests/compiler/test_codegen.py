"""The generated evaluator: internal names only, long sums, and the same numbers as sympy."""

import numpy as np
import pytest
import sympy

from llmarch.compiler.codegen import generate_function


def test_long_sums_compile_without_deep_recursion():
    xs = sympy.symbols("_p0:5000", real=True)
    f = generate_function(list(xs), [sympy.Add(*xs), sympy.Mul(*xs[:3000])], [])
    values = np.linspace(0.999, 1.001, 5000)
    total, product = f(*values)
    assert total == pytest.approx(values.sum(), rel=1e-12)
    assert product == pytest.approx(np.prod(values[:3000]), rel=1e-9)


def test_definitions_run_in_order_and_dead_ones_are_dropped():
    a, b = sympy.symbols("_p0 _p1", real=True)
    v1, v2, unused = sympy.symbols("_v1 _v2 _v3", real=True)
    f = generate_function([a, b], [v2 * 2 - 1], [(v1, a + b), (v2, v1 ** 2 / b), (unused, sympy.log(a))])
    (value,) = f(2.0, 3.0)
    assert value == pytest.approx(2 * 25 / 3 - 1)
    # log(-1) would warn or raise if the dead definition were evaluated
    with np.errstate(all="raise"):
        (value,) = f(-1.0, 4.0)
    assert value == pytest.approx(2 * 9 / 4 - 1)


def test_user_chosen_names_never_reach_generated_code():
    hostile = sympy.Symbol("__import__('os').system('true')")
    with pytest.raises(ValueError):
        generate_function([hostile], [hostile + 1], [])


def test_functions_match_sympy(compile_text):
    model = compile_text("""
        param a = 3
        param b = 0.25
        traffic = 10 requests/day
        tool t { cost = 1 USD * (min(a, 4) * max(b, 0.1) + floor(a / 2) + ceil(a / 2) + sqrt(a) + log(a) + exp(b) + a ^ 3 - a ^ -1) }
        flow { start -> t }
    """)
    import math
    expected = min(3, 4) * max(0.25, 0.1) + 1 + 2 + math.sqrt(3) + math.log(3) + math.exp(0.25) + 27 - 1 / 3
    assert model.cost().cost_per_request == pytest.approx(expected, rel=1e-12)


def test_blocked_evaluation_gives_the_same_numbers():
    from llmarch.compiler.codegen import blocked
    a, b = sympy.symbols("_p0 _p1", real=True)
    v = sympy.Symbol("_v1", real=True)
    f = generate_function([a, b], [v * 2, a + 1, sympy.Integer(7)], [(v, a * b - a ** 2)])
    xs = np.linspace(-3, 3, 10_007)
    direct = f(xs, 2.5)
    split = blocked(f, [xs, 2.5], block=1000)
    assert np.array_equal(split[0], direct[0]) and np.array_equal(split[1], direct[1])
    assert np.all(split[2] == 7) and split[2].shape == xs.shape
