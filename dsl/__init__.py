"""The `.llmarch` language: grammar, parser, typed AST and diagnostics.

Names load on first use: reading a diagnostic (`llmarch.dsl.diagnostics`) does not import
the parser, lark or pydantic.
"""

from __future__ import annotations

__all__ = ["parse", "Module", "Diagnostic", "LlmarchError", "SourceCache", "Span"]

_LAZY = {"parse": "parser", "Module": "ast", "Diagnostic": "diagnostics", "LlmarchError": "diagnostics",
         "SourceCache": "diagnostics", "Span": "diagnostics"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmarch.dsl' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
