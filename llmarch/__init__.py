"""llmarch: price an LLM architecture before the bill arrives.

    import llmarch
    model = llmarch.load("examples/support_assistant.llmarch")
    result = model.cost(scenario="production")
    print(result.monthly_total, result.by_category)
"""

from llmarch.api import Model, load, loads, prices
from llmarch.compiler.evaluate import ComponentResult, CostResult
from llmarch.dsl.diagnostics import Diagnostic, LlmarchError

__all__ = ["load", "loads", "prices", "Model", "CostResult", "ComponentResult", "Diagnostic", "LlmarchError"]
__version__ = "0.1.0"
