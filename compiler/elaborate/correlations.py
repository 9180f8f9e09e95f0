"""Pass `correlations`: every `correlate a with b = r` becomes an `ir.Correlation`. Both
names must be parameters that are uncertain in the defaults or in some scenario (E802),
`r` a constant rank correlation in [-1, 1], each pair declared once, and the declared
correlations together possible (E803): the Gaussian copula's correlation matrix must be
positive semi-definite. The correlation that first makes it impossible, in file order, is
reported, with the ones it conflicts with as notes."""

from __future__ import annotations

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import did_you_mean

from .. import ir
from ..distributions import rank_to_pearson
from ..units import DIMENSIONLESS
from .expressions import ExpressionCompiler
from .state import State

__all__ = ["run"]


def run(state: State) -> None:
    error = state.collector.error
    x = ExpressionCompiler(state)
    uncertain = {n for n, p in state.params.items() if p.distribution is not None}
    for s in state.scenarios.values():
        uncertain |= set(s.distributions)
    seen: dict[frozenset, ast.Correlation] = {}
    for _, c in state.statements:
        if not isinstance(c, ast.Correlation):
            continue
        ok = True
        names = ((c.first, c.first_span), (c.second, c.second_span))
        for name, span in names[:1] if c.first == c.second else names:      # one report for `a with a`
            if name not in state.params:
                if name not in state.pending_params:
                    error("E201", f"unknown parameter `{name}`", span, help=did_you_mean(name, state.params))
                ok = False
            elif name not in uncertain:
                error("E802", f"`{name}` is not uncertain: it is a number in the defaults and in every scenario",
                      span, help=f"give it a distribution (`param {name} = low to high`) or drop the correlation")
                ok = False
        rank = x.expect(c.value, (DIMENSIONLESS,), "a correlation", allow_params=False)
        if not ok or rank is None:
            continue
        rank = float(rank)
        if c.first == c.second:
            error("E802", f"`{c.first}` is correlated with itself", c.second_span)
            continue
        if not -1 <= rank <= 1:
            error("E802", f"a rank correlation must be between -1 and 1, got {rank:g}", c.value.span)
            continue
        pair = frozenset((c.first, c.second))
        if pair in seen:
            error("E802", f"the correlation of `{c.first}` and `{c.second}` is declared twice", c.span,
                  notes=(("first declared here", seen[pair].span),))
            continue
        seen[pair] = c
        state.correlations.append(ir.Correlation(c.first, c.second, rank, c.span))
    _check_possible(state)


def _check_possible(state: State) -> None:
    """E803 at the first correlation (in file order) whose addition leaves no valid matrix."""
    if len(state.correlations) < 2:
        return
    import numpy as np
    names = sorted({n for c in state.correlations for n in (c.first, c.second)})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for k, c in enumerate(state.correlations):
        i, j = index[c.first], index[c.second]
        matrix[i, j] = matrix[j, i] = rank_to_pearson(c.rank)
        if np.linalg.eigvalsh(matrix)[0] < -1e-10:
            others = [o for o in state.correlations[:k] if {o.first, o.second} & {c.first, c.second}]
            state.collector.error(
                "E803", f"`{c.first}` and `{c.second}` cannot have a rank correlation of {c.rank:g} "
                "together with the correlations declared before it (the correlation matrix is not positive "
                "semi-definite)", c.span,
                help="loosen one of these correlations (two parameters without a `correlate` are independent: "
                "their rank correlation is 0)", notes=tuple(("declared here", o.span) for o in others))
            state.correlations = state.correlations[:k]
            return
