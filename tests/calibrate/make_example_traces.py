"""Regenerate examples/traces/support_assistant.otlp.jsonl: 120 simulated requests of the
support assistant's `production` scenario over one day (seed 12), OTLP JSON lines.

    python tests/calibrate/make_example_traces.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import llmarch  # noqa: E402
from trace_generator import simulate, write_otlp  # noqa: E402

TARGET = ROOT / "examples" / "traces" / "support_assistant.otlp.jsonl"


def main() -> None:
    model = llmarch.load(ROOT / "examples" / "support_assistant.llmarch", cache=False)
    spans = simulate(model, "production", requests=120, days=1.0, seed=12)
    write_otlp(spans, TARGET)
    print(f"{TARGET.relative_to(ROOT)}: {len(spans):,} spans")


if __name__ == "__main__":
    main()
