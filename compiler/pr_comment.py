"""`llmarch pr-comment BASE HEAD [FILES…|--all]`: one Markdown comment for a pull request.

For every `.llmarch` file that changed between two git revisions (or the files named, or
with `--all` every file at HEAD and those deleted), one section: the diff of
`compiler/diff.py` (totals, cost vectors, components, parameters, and the p5–p95 change
over the uncertain parameters), then the budgets and the lint findings at HEAD, and a
collapsed Mermaid diagram of the architecture at HEAD (`compiler/mermaid.py`). A file
added or deleted between the revisions is shown as such; one that does not compile shows
its diagnostics; one that neither changed nor imports anything that did says so in one
line. The comment starts with `MARKER`, a hidden HTML comment CI looks for to update the
same comment instead of adding one per push.

git is run only through `diff.git_root`, `diff.git_commit`, `diff.changed_files`,
`diff.files_at`, `diff.exists_at` and `diff.compile_side`: fixed options, revisions
verified by `git rev-parse --verify --end-of-options`, nothing the user writes read as an
option.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from llmarch.dsl.diagnostics import Diagnostic, LlmarchError, usage_error

from . import diff as diffs
from . import options, present
from .mermaid import architecture_mermaid, summarized
from .output import cost_markdown

__all__ = ["MARKER", "FileSection", "PrComment", "pr_comment", "pr_comment_markdown"]

#: The first line of every comment: CI finds the comment to update by it. Never change it.
MARKER = "<!-- llmarch -->"

#: The only errors of a file meant to be imported (a price sheet, a module): it is no
#: architecture of its own, which is not a failure of the pull request.
MODULE_CODES = {"E401", "E402"}


def _short(revision: str) -> str:
    """A full commit id (what CI passes) cut to 12 digits for the reader; anything else as written."""
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision.lower()):
        return revision[:12]
    return revision


@dataclass(frozen=True)
class FileSection:
    """One file's part of the comment; `status` is `changed`, `unchanged` (neither the file
    nor what it imports changed: `--all`), `added`, `deleted`, `module` (no `traffic` or
    `flow` of its own: a file others import) or `invalid` (does not compile at HEAD)."""

    path: str                          # relative to the repository's top folder
    status: str
    markdown: str
    budgets_failed: int = 0


@dataclass(frozen=True)
class PrComment:
    base: str
    head: str
    sections: list[FileSection] = field(default_factory=list)

    @property
    def budgets_failed(self) -> int:
        return sum(s.budgets_failed for s in self.sections)

    @property
    def invalid(self) -> list[str]:
        return [s.path for s in self.sections if s.status == "invalid"]


def pr_comment(base: str, head: str, files: Optional[Sequence[str]] = None, scenario: Optional[str] = None,
               sets: Optional[Mapping[str, object]] = None, samples: Optional[int] = None,
               seed: int = 0, all_files: bool = False) -> PrComment:
    """The comment for the files changed between `base` and `head` (or `files`, paths from
    the working directory; or with `all_files`, every `.llmarch` file at `head` and those
    deleted since `base`), run inside the repository."""
    if files and all_files:
        raise usage_error(f"name the files to compare or ask for every file with {options.every_file()}, not both")
    root = diffs.git_root(Path("."), "`pr-comment` runs inside a git repository; "
                                     f"`{os.getcwd()}` is not inside one")
    base_commit, head_commit = diffs.git_commit(base, root), diffs.git_commit(head, root)
    if files:
        names = [_repository_path(f, root) for f in files]
    elif all_files:
        names = sorted(set(diffs.files_at(head_commit, root)) | set(diffs.changed_files(base_commit, head_commit, root)))
    else:
        names = diffs.changed_files(base_commit, head_commit, root)
    sections = [_section(name, root, base, head, base_commit, head_commit, scenario, sets, samples, seed)
                for name in names]
    return PrComment(base, head, sections)


def _repository_path(file: str, root: Path) -> str:
    relative = Path(os.path.relpath(Path(file).absolute(), root.resolve())).as_posix()
    if relative.startswith("../") or relative == "..":
        raise usage_error(f"`{file}` is outside the repository at `{root}`")
    return relative


def _section(name: str, root: Path, base: str, head: str, base_commit: str, head_commit: str,
             scenario, sets, samples, seed) -> FileSection:
    base, head = _short(base), _short(head)     # from here on, names for the reader only
    # compile_side reads `REV:path` with the path from the working directory
    local = os.path.relpath(root / name)
    before_exists, after_exists = diffs.exists_at(base_commit, name, root), diffs.exists_at(head_commit, name, root)
    if not before_exists and not after_exists:
        raise usage_error(f"`{name}` is a file neither at `{base}` nor at `{head}`")
    if not after_exists:
        before_note = ""
        try:
            old = diffs.compile_side(f"{base_commit}:{local}")
            total = old.evaluator.evaluate(scenario if scenario in old.arch.scenarios else None).monthly_total
            before_note = f" (it cost {present.money(total)} a month at `{base}`)"
        except LlmarchError:
            pass
        return FileSection(name, "deleted", f"### `{name}` (deleted)\n\nDeleted at `{head}`{before_note}.\n")
    try:
        new = diffs.compile_side(f"{head_commit}:{local}")
    except LlmarchError as exc:
        if {d.code for d in exc.diagnostics if d.severity == "error"} <= MODULE_CODES:
            return FileSection(name, "module", f"### `{name}` (a module)\n\nNo `traffic` or `flow` of its own at "
                               f"`{head}`: a file other architectures import. Its changes show in theirs; name them "
                               "as FILEs to compare them.\n")
        return FileSection(name, "invalid", f"### `{name}` (does not compile at `{head}`)\n\n```text\n"
                           + exc.render().rstrip() + "\n```\n")
    old = None
    if before_exists:
        try:
            old = diffs.compile_side(f"{base_commit}:{local}")
        except LlmarchError:
            old = None
    sets = dict(sets or {})
    note = ""
    if scenario is not None and (scenario not in new.arch.scenarios
                                 or (old is not None and scenario not in old.arch.scenarios)):
        # one file without the scenario must not hide the others: this one at its defaults
        where = f"`{head}`" if scenario not in new.arch.scenarios else f"`{base}`"
        note = f"\n\n> no scenario `{scenario}` at {where}: priced at the file's defaults"
        scenario = None
    evaluation = new.evaluator.evaluation(scenario, sets)
    if old is not None and _same_sources(old, new):
        body = (f"### `{name}` (no change)" + note + "\n\n"
                + f"{present.money(evaluation.result.monthly_total)} a month at `{head}`"
                + (f" (scenario {scenario})" if scenario else "")
                + f", as at `{base}`: neither the file nor a file it imports changed.")
        status = "unchanged"
    elif old is not None:
        d = diffs.diff_results(old, new, f"{base}:{name}", f"{head}:{name}", scenario, sets, samples, seed)
        title = f"`{name}`: `{base}` → `{head}`" + (f" — scenario {scenario}" if scenario else "")
        body, status = diffs.diff_text(d, markdown=True, title=title + note), "changed"
    else:
        heading = f"### `{name}` (added)" if not before_exists else f"### `{name}` (does not compile at `{base}`)"
        body = heading + note + "\n\n" + cost_markdown(evaluation.result).replace("### ", "#### ", 1)
        status = "added"
    budgets, findings = _budgets_and_lint(new, evaluation, scenario, sets, samples, seed)
    failed = sum(b.holds is False for b in budgets)
    return FileSection(name, status, body.rstrip() + "\n\n" + _status(head, budgets, findings) + "\n"
                       + _diagram(new, evaluation), failed)


def _same_sources(old, new) -> bool:
    """Whether two compiles read the same texts in the same order: the file and every file
    it imports unchanged (so are its numbers)."""
    return list(old.sources.texts().values()) == list(new.sources.texts().values())


def _diagram(compiled, evaluation) -> str:
    """The architecture at HEAD as a Mermaid flowchart GitHub draws, folded under `diagram`."""
    components = len(compiled.arch.components)
    what = f"{components:,} component{'' if components == 1 else 's'}"
    if summarized(compiled):
        what += ", one box per cost vector"
    return (f"<details><summary>diagram ({what})</summary>\n\n```mermaid\n"
            f"{architecture_mermaid(compiled, evaluation)}```\n\n</details>\n")


def _budgets_and_lint(compiled, evaluation, scenario, sets, samples, seed):
    """What `llmarch cost` and `llmarch lint` report at HEAD: every budget that applies to
    the scenario (the probabilistic ones by Monte Carlo) and the cost-archetype findings."""
    from .budgets import check_all
    from .lint import lint
    from .montecarlo import DEFAULT_SAMPLES, simulate
    from .spread import request_spreads
    results = check_all(compiled.arch.budgets, evaluation.result,
                        lambda: simulate(compiled.evaluator, scenario, sets,
                                         DEFAULT_SAMPLES if samples is None else samples, seed, components=False),
                        lambda: request_spreads(compiled.arch, compiled.flow, evaluation))
    return results, lint(compiled, evaluation)


def _status(head: str, budgets, findings: Sequence[Diagnostic]) -> str:
    out = []
    if budgets:
        failed = sum(b.holds is False for b in budgets)
        out += [f"**budgets at `{head}`**: " + (f"{failed} not met" if failed else "all hold"), ""]
        out += [f"- {'❌' if b.holds is False else '⚠️' if b.holds is None else '✅'} {b.line()}" for b in budgets]
        out.append("")
    else:
        out += [f"**budgets at `{head}`**: none declared", ""]
    if findings:
        out += [f"**lint at `{head}`**: {len(findings)} finding{'s' if len(findings) != 1 else ''}", ""]
        out += [f"- `{f.code}` {f.message}" for f in findings]
    else:
        out += [f"**lint at `{head}`**: no findings"]
    return "\n".join(out).rstrip() + "\n"


def pr_comment_markdown(comment: PrComment) -> str:
    """The whole comment: the marker, a title, and each file's section."""
    base, head = _short(comment.base), _short(comment.head)
    out = [MARKER, f"## llmarch: `{base}` → `{head}`", ""]
    if not comment.sections:
        out.append(f"No `.llmarch` file changed between `{base}` and `{head}`.")
    for section in comment.sections:
        out += [section.markdown.rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"
