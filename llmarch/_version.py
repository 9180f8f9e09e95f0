"""llmarch's version (a leaf: `llmarch --version` reads it without importing the compiler)."""

__version__ = "0.1.0"
