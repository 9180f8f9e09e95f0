"""Regenerate the diagrams in docs/img/ with `llmarch render` (needs Graphviz's `dot`):

    python docs/make_diagrams.py

docs/img/support_assistant.svg is the support example at scenario `production`, the
picture docs/render.md explains; docs/img/quickstart.svg is the quickstart at its defaults.
The CLI writes them, exactly as a user would; this script only chooses the arguments.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DIAGRAMS = [
    ("examples/support_assistant.llmarch", ["--scenario", "production"], "docs/img/support_assistant.svg"),
    ("examples/quickstart.llmarch", [], "docs/img/quickstart.svg"),
]


def main() -> int:
    (ROOT / "docs" / "img").mkdir(exist_ok=True)
    for source, options, target in DIAGRAMS:
        done = subprocess.run([sys.executable, "-m", "llmarch", "render", source, *options, "-o", target],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            return done.returncode
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
