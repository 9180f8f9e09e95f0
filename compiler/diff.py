"""`llmarch diff OLD NEW`: what a change to a `.llmarch` file does to the bill.

Per component and per cost vector: before, after, delta and percent; components added and
removed; parameters whose values changed. OLD or NEW may name a git revision of a file,
`REV:path` (`HEAD~1:examples/support_assistant.llmarch`); its imports are read from the
same revision.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from llmarch.dsl.diagnostics import Diagnostic, LlmarchError, SourceCache, usage_error
from llmarch.dsl.source_files import MAX_SOURCE_BYTES, SourceError, decode_source

import numpy as np

from . import ir, present
from .evaluate import CostResult
from .loader import display_path
from .output import markdown_table, text_table
from .pipeline import Compiled, compile_file

__all__ = ["Side", "DiffRow", "Diff", "compile_side", "diff_results", "diff_text", "diff_json", "git_root",
           "git_commit", "changed_files", "files_at", "exists_at"]



@dataclass(frozen=True)
class DiffRow:
    name: str
    before: Optional[float]     # None: absent on that side
    after: Optional[float]

    @property
    def delta(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)

    @property
    def percent(self) -> Optional[float]:
        if self.before is None or self.after is None or self.before == 0:
            return None
        return 100.0 * self.delta / self.before

    @property
    def changed(self) -> bool:
        return self.delta != 0

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed" if self.changed else "same"

    def to_json(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "delta": self.delta,
                "percent": self.percent, "status": self.status}


@dataclass(frozen=True)
class DiffRisk:
    """The monthly total over the uncertain parameters on both sides, drawn with the same
    seed (common random numbers: a parameter both sides share gets the same draws), and the
    change sample by sample."""

    samples: int
    seed: int
    before: dict[str, float]          # mean, p5, p50, p95
    after: dict[str, float]
    change: dict[str, float]
    p_increase: float                 # P(after > before), over the paired samples

    def to_json(self) -> dict:
        return {"samples": self.samples, "seed": self.seed, "before": self.before, "after": self.after,
                "change": self.change, "p_increase": self.p_increase}


def _stats(x: np.ndarray, mean: float) -> dict[str, float]:
    p5, p50, p95 = (float(v) for v in np.quantile(x, [0.05, 0.5, 0.95]))
    return {"mean": mean, "p5": p5, "p50": p50, "p95": p95}


def diff_risk(old: Compiled, new: Compiled, scenario: Optional[str], old_sets: dict, new_sets: dict,
              samples: int, seed: int) -> Optional[DiffRisk]:
    """`DiffRisk`, or None when neither side has an uncertain parameter in `scenario`."""
    from .montecarlo import simulate
    if not old.arch.uncertain(scenario, set(old_sets)) and not new.arch.uncertain(scenario, set(new_sets)):
        return None
    a = simulate(old.evaluator, scenario, old_sets, samples, seed, components=False).figures["monthly_total"]
    b = simulate(new.evaluator, scenario, new_sets, samples, seed, components=False).figures["monthly_total"]
    change = b.raw - a.raw
    return DiffRisk(samples, seed, _stats(a.raw, a.mean), _stats(b.raw, b.mean),
                    _stats(change, b.mean - a.mean), float(np.mean(change > 0)))


@dataclass(frozen=True)
class Diff:
    old: str
    new: str
    scenario: Optional[str]
    totals: list[DiffRow]
    categories: list[DiffRow]
    components: list[DiffRow]
    parameters: list[DiffRow]
    risk: Optional[DiffRisk] = None

    def to_json(self) -> dict:
        return {"format_version": 1, "old": self.old, "new": self.new, "scenario": self.scenario,
                "totals": [r.to_json() for r in self.totals],
                "by_category": [r.to_json() for r in self.categories],
                "components": [r.to_json() for r in self.components],
                "parameters": [r.to_json() for r in self.parameters],
                **({"uncertainty": self.risk.to_json()} if self.risk is not None else {})}


def compile_side(spec: str) -> Compiled:
    """Compile `path`, or `REV:path` from a git revision (imports from the same revision)."""
    if os.path.exists(spec) or ":" not in spec:
        return compile_file(spec)
    revision, _, path = spec.partition(":")
    if not revision or not path:
        raise usage_error(f"cannot read `{spec}`", "write a file path, or REV:path such as HEAD~1:arch.llmarch")
    if revision.startswith("-") or "\0" in spec:
        # nothing the user writes may reach git as an option
        raise usage_error(f"`{revision}` is not a git revision", "write REV:path such as HEAD~1:arch.llmarch")
    where = Path(path).parent if Path(path).parent.is_dir() else Path(".")
    root = git_root(where, f"`{spec}` names a git revision, but `{where}` is not inside a git repository")
    commit = git_commit(revision, root)

    def reader(file: Path, shown: str) -> bytes:
        absolute = Path(file) if Path(file).is_absolute() else Path.cwd() / file
        relative = Path(os.path.relpath(absolute.resolve(), root.resolve())).as_posix()
        if relative.startswith("../"):
            raise SourceError("E010", f"`{shown}` is outside the repository at revision `{revision}`")
        name = f"{commit}:{relative}"    # starts with the hexadecimal commit: never an option
        try:
            kind = _git(["cat-file", "-t", name], root).decode("ascii", "replace").strip()
        except _GitFailed:
            raise SourceError("E010", f"file `{shown}` not found at revision `{revision}`") from None
        if kind != "blob":
            raise SourceError("E010", f"`{shown}` is a {'directory' if kind == 'tree' else kind}, not a file, "
                              f"at revision `{revision}`")
        size = int(_git(["cat-file", "-s", name], root))
        if size > MAX_SOURCE_BYTES:
            raise SourceError("E100", f"file `{shown}` is larger than {MAX_SOURCE_BYTES:,} bytes ({size:,}) "
                              f"at revision `{revision}`")
        return _git(["cat-file", "blob", name], root)

    sources = SourceCache()
    try:
        text = decode_source(reader(Path(path), path), path, sources)
    except SourceError as exc:
        raise LlmarchError([Diagnostic("error", exc.code, exc.message, exc.span, exc.help)], sources) from None
    return compile_file(path, text=text, reader=reader)


def git_root(where: Path, problem: str) -> Path:
    """The top folder of the git repository `where` is in; a usage error saying `problem` if none."""
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], where).decode("utf-8", "replace").strip())
    except _GitFailed:
        raise usage_error(problem) from None


def git_commit(revision: str, root: Path) -> str:
    """The commit `revision` names in the repository at `root`, as hexadecimal; a usage error
    for a revision git does not know, or one that could be read as an option."""
    if not revision or revision.startswith("-") or "\0" in revision:
        # nothing the user writes may reach git as an option
        raise usage_error(f"`{revision}` is not a git revision", "a branch, a tag, a commit or HEAD~1")
    try:
        return _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
                    root).decode("ascii").strip()
    except (_GitFailed, UnicodeDecodeError):
        raise usage_error(f"`{revision}` is not a revision of the repository at `{display_path(root)}`",
                          "check the revision: a branch, a tag, a commit or HEAD~1") from None


def changed_files(base: str, head: str, root: Path, suffix: str = ".llmarch") -> list[str]:
    """The files ending in `suffix` that differ between two commits (hexadecimal, from
    `git_commit`), relative to `root`, sorted; a rename counts as a deletion and an addition."""
    out = _git(["diff", "--name-only", "--no-renames", "--no-ext-diff", "-z", base, head, "--"], root)
    names = {n.decode("utf-8", "surrogateescape") for n in out.split(b"\0") if n}
    return sorted(n for n in names if n.endswith(suffix))


def files_at(commit: str, root: Path, suffix: str = ".llmarch") -> list[str]:
    """The files ending in `suffix` at a commit (hexadecimal, from `git_commit`), relative
    to `root`, sorted."""
    out = _git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--"], root)
    names = {n.decode("utf-8", "surrogateescape") for n in out.split(b"\0") if n}
    return sorted(n for n in names if n.endswith(suffix))


def exists_at(commit: str, relative: str, root: Path) -> bool:
    """Whether `relative` (a path from `root`) is a file at `commit` (hexadecimal)."""
    try:
        return _git(["cat-file", "-t", f"{commit}:{relative}"], root).strip() == b"blob"
    except _GitFailed:
        return False


class _GitFailed(Exception):
    pass


def _git(args: list[str], cwd: Path) -> bytes:
    """Run git with fixed options and arguments that cannot be read as options; its output."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=30, check=False,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        raise _GitFailed(args[0]) from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode("utf-8", "replace"))
    return done.stdout


def _parameter_values(compiled: Compiled, result: CostResult) -> dict[str, str]:
    values = {}
    for name, p in compiled.arch.parameters.items():
        if p.builtin:
            continue
        unit = f" {p.unit}" if p.unit else ""
        values[name] = f"{present.number(result.parameters[name], 10)}{unit}"
    return values


def diff_results(old: Compiled, new: Compiled, old_name: str, new_name: str, scenario: Optional[str] = None,
                 sets: Optional[Mapping[str, object]] = None, samples: Optional[int] = None, seed: int = 0) -> Diff:
    """The two sides at their point values, and (when either has uncertain parameters) the
    monthly total over the guesses with the same random numbers on both sides."""
    for compiled, name in ((old, old_name), (new, new_name)):
        if scenario is not None and scenario not in compiled.arch.scenarios:
            raise usage_error(f"`{name}` has no scenario `{scenario}`")
    sets = dict(sets or {})
    old_sets = {k: v for k, v in sets.items() if k in old.arch.parameters}
    new_sets = {k: v for k, v in sets.items() if k in new.arch.parameters}
    before = old.evaluator.evaluate(scenario, old_sets)
    after = new.evaluator.evaluate(scenario, new_sets)
    totals = [DiffRow("monthly total", before.monthly_total, after.monthly_total),
              DiffRow("cost per request", before.cost_per_request, after.cost_per_request),
              DiffRow("cost per successful request", before.cost_per_success, after.cost_per_success),
              DiffRow("P(success)", before.p_success, after.p_success),
              DiffRow("requests per month", before.requests_per_month, after.requests_per_month),
              DiffRow("failure overhead per month", before.failure_overhead_monthly, after.failure_overhead_monthly)]
    if before.has_latency or after.has_latency:
        # seconds; a side that declares no time has none ("—")
        totals.append(DiffRow(LATENCY_ROW, before.latency_per_request, after.latency_per_request))
    categories = [DiffRow(c, before.by_category[c], after.by_category[c]) for c in ir.CATEGORIES]
    monthly_before = {r.name: r.monthly for r in before.components}
    monthly_after = {r.name: r.monthly for r in after.components}
    names = list(monthly_before) + [n for n in monthly_after if n not in monthly_before]
    components = [DiffRow(n, monthly_before.get(n), monthly_after.get(n)) for n in names]
    components.sort(key=lambda r: (-abs(r.delta), r.name))
    params_before, params_after = _parameter_values(old, before), _parameter_values(new, after)
    parameters = []
    for name in list(params_before) + [n for n in params_after if n not in params_before]:
        a, b = params_before.get(name), params_after.get(name)
        if a != b:
            parameters.append(_ParamRow(name, a, b))
    from .montecarlo import DEFAULT_SAMPLES
    risk = diff_risk(old, new, scenario, old_sets, new_sets, DEFAULT_SAMPLES if samples is None else samples, seed)
    return Diff(old_name, new_name, scenario, totals, categories, components, parameters, risk)


@dataclass(frozen=True)
class _ParamRow(DiffRow):
    """A parameter's value before and after, as text with its unit."""

    before: Optional[str]
    after: Optional[str]

    @property
    def delta(self) -> float:  # pragma: no cover - parameters are shown, not subtracted
        return 0.0

    @property
    def percent(self):
        return None

    @property
    def changed(self) -> bool:  # only parameters whose value differs become rows
        return True

    def to_json(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "status": self.status}


#: The totals' row for a request's expected latency (seconds), when either side declares time.
LATENCY_ROW = "expected latency per request"


def _money(row: DiffRow, small: bool) -> list[str]:
    def fmt(x):
        if x is None:
            return "—"
        if row.name == LATENCY_ROW:
            return present.duration(x)
        if row.name == "P(success)":
            return present.p_success(x)
        if row.name == "requests per month":
            return present.whole(x)
        return present.money(x, small)
    delta = row.delta
    if row.name == "P(success)":
        shown = ("+" if delta >= 0 else present.MINUS) + f"{abs(100 * delta):.4f} pts"
    elif row.name == "requests per month":
        shown = ("+" if delta >= 0 else present.MINUS) + present.whole(abs(delta))
    elif row.name == LATENCY_ROW:
        shown = present.signed_duration(delta)
    else:
        shown = present.signed_money(delta, small)
    percent = "" if row.percent is None else ("+" if row.percent >= 0 else present.MINUS) + f"{abs(row.percent):.1f}%"
    return [fmt(row.before), fmt(row.after), shown, percent]


def _sections(d: Diff, markdown: bool):
    quote = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    yield "totals", ["", "before", "after", "delta", "%"], [
        [t.name] + _money(t, t.name in ("cost per request", "cost per successful request")) for t in d.totals]
    yield "cost vectors (per month)", ["cost vector", "before", "after", "delta", "%"], [
        [c.name] + _money(c, False) for c in d.categories]
    rows = [[quote(c.name) + ("" if c.status in ("changed", "same") else f" ({c.status})")] + _money(c, False)
            for c in d.components if c.status != "same"]
    yield "components (per month)", ["component", "before", "after", "delta", "%"], rows
    yield "parameters", ["parameter", "before", "after"], [
        [quote(p.name), p.before or "—", p.after or "—"] for p in d.parameters]


def diff_text(d: Diff, markdown: bool = False, title: Optional[str] = None) -> str:
    """The diff as a table or Markdown, under `title` (default `OLD → NEW — scenario S`)."""
    title = title or f"{d.old} → {d.new}" + (f" — scenario {d.scenario}" if d.scenario else "")
    out = [("### " if markdown else "") + title, ""]
    for name, header, rows in _sections(d, markdown):
        if not rows:
            out += [f"{'**' if markdown else ''}{name}{'**' if markdown else ''}: no change", ""]
            continue
        if markdown:
            out += [f"**{name}**", ""] + markdown_table(header, rows, right=set(range(1, len(header)))) + [""]
        else:
            out += [name, ""] + text_table(header, rows, right=set(range(1, len(header)))) + [""]
    for name, header, rows in _risk_section(d):
        table = markdown_table if markdown else text_table
        out += [f"**{name}**" if markdown else name, ""] + table(header, rows, right={1, 2, 3, 4}) + [""]
        out += [("- " if markdown else "") + "P(the change raises the bill, sample by sample): "
                + present.percent(d.risk.p_increase, 3), ""]
    return "\n".join(out).rstrip() + "\n"


def _risk_section(d: Diff):
    r = d.risk
    if r is None:
        return
    rows = [[label] + [present.money(stats[k]) if label != "change" else present.signed_money(stats[k])
                       for k in ("mean", "p5", "p50", "p95")]
            for label, stats in (("before", r.before), ("after", r.after), ("change", r.change))]
    yield (f"monthly total over the uncertain parameters ({present.whole(r.samples)} samples, seed {r.seed}, "
           "the same draws on both sides)", ["", "mean", "p5", "p50", "p95"], rows)


def diff_json(d: Diff) -> dict:
    return d.to_json()
