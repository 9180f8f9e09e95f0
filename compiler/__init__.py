"""The compiler: checked architecture → lowered flow graph → symbolic cost model → numbers."""

from .evaluate import ComponentResult, CostResult, Evaluator
from .pipeline import Compiled, compile_file

__all__ = ["compile_file", "Compiled", "Evaluator", "CostResult", "ComponentResult"]
