"""The compiler's stages chained: load → elaborate → lower → build the symbolic model."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

from llmarch.dsl.diagnostics import SourceCache

from . import ir
from .evaluate import Evaluator
from .loader import load_modules
from .lower import FlowGraph, lower
from .model import CostModel, build_model
from .semantics import elaborate

__all__ = ["Compiled", "compile_file"]


@dataclass
class Compiled:
    """Every stage's output for one file."""

    sources: SourceCache
    arch: ir.Architecture
    flow: FlowGraph
    model: CostModel
    evaluator: Evaluator


def compile_file(path: str | os.PathLike, text: str | None = None) -> Compiled:
    """Run every stage on `path` (or on `text`, reported as `path`); raise `LlmarchError`."""
    # The stages allocate many small, acyclic objects; Python's cycle collector would walk
    # them all again and again (superlinear on big files), so it pauses while compiling.
    collecting = gc.isenabled()
    gc.disable()
    try:
        modules, sources = load_modules(path, text=text)
        arch = elaborate(modules, sources)
        flow = lower(arch, sources)
        model = build_model(arch, flow)
        return Compiled(sources, arch, flow, model, Evaluator(model, sources))
    finally:
        if collecting:
            gc.enable()
