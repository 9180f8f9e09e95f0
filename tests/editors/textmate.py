"""A small TextMate tokenizer in Python, enough for editors/vscode's grammar: `match` rules
with captures, `begin`/`end` rules with their own patterns, `include` of the repository.
The grammar's regular expressions use only what Python's `re` and Oniguruma read alike
(look-arounds, `\\b`, classes). It lets the Python tests check the grammar against the
real parser without Node; `vscode-tmgrammar-test` (test_vscode.py) runs VS Code's own
engine on the scope assertions in editors/vscode/tests/."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class _Frame:
    rule: dict
    scopes: tuple[str, ...]


class Tokenizer:
    def __init__(self, grammar: dict):
        self.grammar = grammar
        self._compiled: dict[str, re.Pattern] = {}

    def _re(self, source: str) -> re.Pattern:
        if source not in self._compiled:
            self._compiled[source] = re.compile(source)
        return self._compiled[source]

    def _patterns(self, rule: dict) -> list[dict]:
        out = []
        for pattern in rule.get("patterns", []):
            if "include" in pattern:
                name = pattern["include"]
                target = self.grammar if name == "$self" else self.grammar["repository"][name.lstrip("#")]
                out.extend(self._patterns(target) if "match" not in target and "begin" not in target else [target])
            else:
                out.append(pattern)
        return out

    @staticmethod
    def _name(name: str | None, match: re.Match) -> tuple[str, ...]:
        if not name:
            return ()
        return (re.sub(r"\$(\d+)", lambda m: match.group(int(m.group(1))) or "", name),)

    def _paint(self, scopes: list, match: re.Match, base: tuple, captures: dict | None) -> None:
        for i in range(match.start(), match.end()):
            scopes[i] = base
        for group, capture in sorted((captures or {}).items(), key=lambda kv: int(kv[0])):
            start, end = match.span(int(group))
            if start < 0:
                continue
            for i in range(start, end):
                scopes[i] = scopes[i] + self._name(capture.get("name"), match)

    def tokenize(self, text: str) -> list[list[tuple[str, ...]]]:
        """For every line of `text`, every character's scopes (outermost first)."""
        root = self.grammar["scopeName"]
        stack = [_Frame(self.grammar, (root,))]
        lines = []
        for line in text.split("\n"):
            scopes: list[tuple[str, ...]] = [(root,)] * len(line)
            pos = 0
            while pos <= len(line):
                frame = stack[-1]
                candidates = []
                if "end" in frame.rule:
                    candidates.append(("end", frame.rule, self._re(frame.rule["end"]).search(line, pos)))
                for rule in self._patterns(frame.rule):
                    candidates.append(("rule", rule, self._re(rule.get("match") or rule["begin"]).search(line, pos)))
                found = [(m.start(), i, kind, rule, m) for i, (kind, rule, m) in enumerate(candidates) if m]
                if not found:
                    break
                _, _, kind, rule, match = min(found, key=lambda f: (f[0], f[1]))
                for i in range(pos, match.start()):
                    scopes[i] = frame.scopes
                if kind == "end":
                    self._paint(scopes, match, frame.scopes, rule.get("endCaptures"))
                    stack.pop()
                elif "match" in rule:
                    self._paint(scopes, match, frame.scopes + self._name(rule.get("name"), match), rule.get("captures"))
                else:
                    inner = frame.scopes + self._name(rule.get("name"), match)
                    self._paint(scopes, match, inner, rule.get("beginCaptures"))
                    stack.append(_Frame(rule, inner))
                if match.end() == match.start():   # an empty match: step on, or stop at the end
                    if match.end() >= len(line):
                        break
                    scopes[match.end()] = stack[-1].scopes
                    pos = match.end() + 1
                else:
                    pos = match.end()
            for i in range(pos, len(line)):
                scopes[i] = stack[-1].scopes
            lines.append(scopes)
        return lines
