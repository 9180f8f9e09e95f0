"""llmarch: price an LLM architecture before the bill arrives.

    import llmarch
    model = llmarch.load("examples/support_assistant.llmarch")
    result = model.cost(scenario="production")
    print(result.monthly_total, result.by_category)

The names below are imported on first use, so `import llmarch` (and the command's
`--help`) does not pay for the compiler's dependencies until something is compiled.
"""

from __future__ import annotations

from llmarch._version import __version__

__all__ = ["load", "loads", "prices", "diff", "Model", "CostResult", "ComponentResult", "Evaluation", "Diff", "Capacity",
           "Diagnostic", "LlmarchError", "__version__"]

_LAZY = {
    "load": "llmarch.api", "loads": "llmarch.api", "prices": "llmarch.api", "diff": "llmarch.api",
    "Model": "llmarch.api", "CostResult": "llmarch.compiler.results", "ComponentResult": "llmarch.compiler.results",
    "Evaluation": "llmarch.compiler.evaluate", "Diff": "llmarch.compiler.diff",
    "Capacity": "llmarch.compiler.capacity",
    "Diagnostic": "llmarch.dsl.diagnostics", "LlmarchError": "llmarch.dsl.diagnostics",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmarch' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])
