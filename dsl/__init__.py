"""The `.llmarch` language: grammar, parser, typed AST and diagnostics."""

from .ast import Module
from .diagnostics import Diagnostic, LlmarchError, SourceCache, Span
from .parser import parse

__all__ = ["parse", "Module", "Diagnostic", "LlmarchError", "SourceCache", "Span"]
