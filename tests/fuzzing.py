"""A structure-aware fuzzer for `.llmarch` files, shared by tests/test_fuzz.py (a bounded run
with a fixed seed) and bench/fuzz.py (a longer run).

Cases start from the examples and the standard library and are damaged the way people and
attackers damage files: spans deleted, duplicated or swapped, numbers replaced by extreme
literals, hostile snippets spliced in (0^-1, huge powers, deep nesting, device and FIFO
imports, NUL bytes, non-UTF-8 bytes, long extends chains, self-references, unknown units),
truncation. Every case must end with a diagnostic or a result — exit 0, 1, 2, 4 or 5 — never
an internal error or a traceback, and within a time bound.
"""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Main files to damage (standard-library modules are not main files: they have no flow).
SEEDS = sorted(ROOT.glob("examples/**/*.llmarch"))

HOSTILE = [
    "param z = 0^-1\n", "param z = (1 - 1)^-0.5\n", "param z = 2^990 * 2^990\n", "param z = 1e18^1000\n",
    "param z = " + "(" * 300 + "1" + ")" * 300 + "\n", "param z = " + "-" * 500 + "1\n",
    'import "/dev/zero"\n', 'import "/dev/urandom"\n', 'import "."\n', 'import "a\\u0000b.llmarch"\n',
    "param z = 1 USD + 1 tokens\n", "param z = 5 parsecs\n", "param z = exp(1000)\n", "param z = log(0)\n",
    "scenario s1 extends s1 { }\n", "scenario q extends nowhere { }\n", "param a = b\nparam b = a\n",
    "flow { start -> start }\n", "flow { a -> a (p = 100%, on_failure) }\n", "tool t { cost = 1 USD; fail_rate = 150% }\n",
    "tool t { cost = 500 USD/month }\n", "model m = \"openai:gpt-4o\" as of \"1999-01-01\"\n",
    "use nothing as x { }\n", "template t { use t as u }\nuse t as v\n", "settings { month = 2 months }\n",
    "budget monthly_total < -1 USD/month\n", "\ufeff", "\x00", "{" * 200, "}" * 50, "\"unterminated\n",
    "param ü = 1\n", "param x = 1_000_000_000_000_000_000_000\n", "param x = 0.0000000000000000000001\n",
]
EXTREME_NUMBERS = ["0", "1e18", "1e-18", "999999999999999999", "0.000000000000000001", "1e19", "-0", "1_0"]


def cases(seed: int, count: int):
    """(name, bytes) for `count` damaged files, the same for the same seed."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    for i in range(count):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 4)):
            text = _mutate(rng, text)
        data = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.05:   # a stray byte that is not UTF-8
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + bytes([rng.choice([0xff, 0xc3, 0xe9, 0x80])]) + data[cut:]
        yield f"case{i:04d}", data


def _mutate(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True) or [""]
    kind = rng.choice((0, 0, 2, 3, 3, 3, 4, 4, 4, 5, 6, 1))   # duplicating a line mostly re-declares a name
    if kind == 0 and len(lines) > 1:                       # delete some lines
        a = rng.randrange(len(lines))
        del lines[a:a + rng.randint(1, 3)]
    elif kind == 1:                                        # duplicate a line
        a = rng.randrange(len(lines))
        lines.insert(a, lines[a])
    elif kind == 2 and len(lines) > 2:                     # swap two lines
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[a], lines[b] = lines[b], lines[a]
    elif kind == 3:                                        # splice in something hostile
        tag = rng.randrange(10 ** 6)     # fresh names, so a splice is not just a name declared twice
        snippet = rng.choice(HOSTILE).replace("param z ", f"param z{tag} ").replace("tool t ", f"tool t{tag} ")
        lines.insert(rng.randrange(len(lines) + 1), snippet)
    elif kind == 4:                                        # an extreme number
        import re
        numbers = list(re.finditer(r"\b\d+(\.\d+)?\b", text))
        if numbers:
            m = rng.choice(numbers)
            return text[:m.start()] + rng.choice(EXTREME_NUMBERS) + text[m.end():]
    elif kind == 5:                                        # truncate
        return text[:rng.randrange(len(text) + 1)]
    else:                                                  # a long extends chain
        tag = rng.randrange(10 ** 6)
        chain = "".join(f"scenario fz{tag}_{k} extends fz{tag}_{k - 1} {{ }}\n" if k else f"scenario fz{tag}_0 {{ }}\n"
                        for k in range(rng.randint(10, 300)))
        lines.append(chain)
    return "".join(lines)
