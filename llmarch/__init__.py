"""llmarch: price an LLM architecture before the bill arrives."""
