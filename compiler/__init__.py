"""The compiler: checked architecture → lowered flow graph → symbolic cost model → numbers.

Names load on first use, so a module of the compiler can be imported without the others.
"""

from __future__ import annotations

__all__ = ["compile_file", "Compiled", "Evaluator", "CostResult", "ComponentResult"]

_LAZY = {"compile_file": "pipeline", "Compiled": "pipeline", "Evaluator": "evaluate", "CostResult": "evaluate",
         "ComponentResult": "evaluate"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmarch.compiler' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
