"""Pausing Python's cycle collector around allocation-heavy stages (a leaf module)."""

from __future__ import annotations

import contextlib
import gc

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cycle collector. Compiling allocates many small, acyclic objects
    (syntax nodes, sympy expressions); the collector would walk them again and again,
    which makes big files superlinear."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
