"""The compiler's stages chained: load → elaborate → lower → build the symbolic model."""

from __future__ import annotations

import os
from dataclasses import dataclass

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import SourceCache

from . import ir
from .evaluate import Evaluator
from .gc_pause import collector_paused
from .loader import load_modules
from .lower import FlowGraph, lower
from .model import CostModel, build_model
from .elaborate import elaborate

__all__ = ["Compiled", "compile_file", "collector_paused"]


@dataclass
class Compiled:
    """Every stage's output for one file."""

    sources: SourceCache
    arch: ir.Architecture
    flow: FlowGraph
    model: CostModel
    evaluator: Evaluator
    #: the parsed files, the main one first, then its imports depth-first (what tools that
    #: read the source, such as the language server's references and rename, walk)
    modules: tuple[ast.Module, ...] = ()


def compile_file(path: str | os.PathLike, text: str | None = None, reader=None, checked=None) -> Compiled:
    """Run every stage on `path` (or on `text`, reported as `path`); raise `LlmarchError`.
    `reader` reads files from elsewhere than the file system (see `loader.load_modules`).
    `checked()` is called once the file is known to compile without a diagnostic (every
    stage that reports one has run), before the symbolic model is built."""
    with collector_paused():
        modules, sources = load_modules(path, text=text, reader=reader)
        arch = elaborate(modules, sources)
        flow = lower(arch, sources)
        if checked is not None:
            checked()
        model = build_model(arch, flow)
        return Compiled(sources, arch, flow, model, Evaluator(model, sources), tuple(modules))
