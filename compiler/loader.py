"""Read a file and everything it imports, in a stable order.

`import "path.llmarch"` is relative to the importing file; `import name` reads the
standard-library module `name` (the `.llmarch` files installed with `llmarch.stdlib`). A
missing file or module, or an import cycle, is a diagnostic at the `import` statement.

A scenario file starts with `scenarios for "model.llmarch"` (relative to it) and holds
`scenario`, `param` and `budget` statements (E016); it is read with the file it names,
which may itself be a scenario file (a loop of them is E017). `scenarios for` anywhere but
at the top of such a file is E015. The modules come model first (then its imports), the
scenario files after it, the file given last.
"""

from __future__ import annotations

import os
from pathlib import Path

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, Diagnostic, LlmarchError, SourceCache, Span, did_you_mean
from llmarch.dsl.parser import parse
from llmarch.dsl.source_files import SourceError, decode_source, printable, read_source

__all__ = ["load_modules", "display_path", "stdlib_modules", "read_source", "decode_source", "SourceError",
           "STDLIB_PREFIX"]

MAX_IMPORTED_FILES = 200
#: Imported files parsed in this process, by name and text: a file compiled again (the
#: language server compiles on every edit) parses only what changed, not its imports.
_PARSED_IMPORTS: dict[tuple[str, str], ast.Module] = {}
_PARSED_IMPORTS_KEPT = 64
#: How standard-library files are named in diagnostics: `<stdlib>/rag.llmarch:12:3`.
STDLIB_PREFIX = "<stdlib>/"


def _stdlib_dir() -> Path:
    import llmarch.stdlib
    return Path(llmarch.stdlib.__file__).parent


def stdlib_modules() -> list[str]:
    """The standard-library modules `import` knows, by name."""
    return sorted(p.stem for p in _stdlib_dir().glob("*.llmarch"))


def _parse_import(text: str, shown: str, sources: SourceCache) -> ast.Module:
    """`parse(text, shown, sources)`, reusing the tree of the same file with the same text
    (a tree is immutable; its source text still goes into `sources` for diagnostics)."""
    module = _PARSED_IMPORTS.get((shown, text))
    if module is None:
        module = parse(text, shown, sources)
        if len(_PARSED_IMPORTS) >= _PARSED_IMPORTS_KEPT:
            _PARSED_IMPORTS.pop(next(iter(_PARSED_IMPORTS)))
        _PARSED_IMPORTS[(shown, text)] = module
    else:
        sources.add(shown, text.removeprefix("\ufeff"))   # as `parse` adds it
    return module


def display_path(path: Path) -> str:
    """The path shown in diagnostics: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(Path(os.path.abspath(path))) if relative.split(os.sep)[0] == os.pardir else relative


def load_modules(path: str | os.PathLike, sources: SourceCache | None = None,
                 text: str | None = None, reader=None) -> tuple[list[ast.Module], SourceCache]:
    """Parse `path` and its imports; the main module comes first, then imports depth-first.
    `reader(path, shown) -> bytes` replaces reading from the file system (e.g. from a git
    revision); it raises `SourceError` (or FileNotFoundError) for a file it cannot give."""
    sources = sources if sources is not None else SourceCache()
    main = Path(path)
    collector = Collector(sources)
    modules: list[ast.Module] = []
    done: set[Path] = set()
    errors: list[Diagnostic] = []

    def read(file: Path, shown: str, at: Span | None) -> str | None:
        try:
            try:
                data = reader(file, shown) if reader is not None else read_source(file, shown)
                if reader is None:
                    sources.origins[shown] = os.path.abspath(file)
            except FileNotFoundError:
                raise SourceError("E010", f"file `{shown}` not found") from None
            return decode_source(data, shown, sources)
        except SourceError as exc:
            notes = (("imported here", at),) if exc.span is not None and at is not None else ()
            collector.error(exc.code, exc.message, exc.span or at, help=exc.help, notes=notes)
        return None

    def parse_file(file: Path, at: Span | None, source_text: str | None = None,
                   shown: str | None = None) -> ast.Module | None:
        shown = printable(shown or display_path(file))
        if source_text is None and shown.startswith(STDLIB_PREFIX):
            source_text = file.read_text(encoding="utf-8")   # installed with llmarch, never from `reader`
        content = source_text if source_text is not None else read(file, shown, at)
        if content is None:
            return None
        try:
            # an imported file whose text did not change keeps its tree (the language server)
            return parse(content, shown, sources) if at is None else _parse_import(content, shown, sources)
        except LlmarchError as exc:
            errors.extend(exc.diagnostics)
            return None

    def visit(file: Path, at: Span | None, stack: tuple[Path, ...], source_text: str | None = None,
              shown: str | None = None, module: ast.Module | None = None) -> None:
        shown = printable(shown or display_path(file))
        resolved = _resolve(file)
        if resolved in stack:
            cycle = " -> ".join(display_path(p) for p in stack[stack.index(resolved):]) + f" -> {shown}"
            collector.error("E012", f"import cycle: {cycle}", at, help="move the shared declarations into a third file")
            return
        if resolved in done:
            return
        if len(done) >= MAX_IMPORTED_FILES:
            collector.error("E013", f"more than {MAX_IMPORTED_FILES} files imported", at)
            return
        module = module if module is not None else parse_file(file, at, source_text, shown)
        done.add(resolved)
        if module is None:
            return
        _check_header(module, collector, top=not stack)
        modules.append(module)
        for statement in module.statements:
            if isinstance(statement, ast.Import) and statement.module is not None:
                known = stdlib_modules()
                if statement.module not in known:
                    collector.error("E014", f"unknown standard-library module `{statement.module}`", statement.span,
                                    help=did_you_mean(statement.module, known) or "modules: " + ", ".join(known)
                                    + "; a project file is imported by its quoted path: `import \"prices.llmarch\"`")
                    continue
                visit(_stdlib_dir() / f"{statement.module}.llmarch", statement.span, stack + (resolved,),
                      shown=f"{STDLIB_PREFIX}{statement.module}.llmarch")
            elif isinstance(statement, ast.Import):
                target = (file.parent / statement.path)
                visit(target, statement.span, stack + (resolved,))

    # A scenario file (`scenarios for "model.llmarch"`) is read, then the file it names, and
    # so on down to the model; the model and its imports come first, then the scenario
    # files, the one named last (the given one) last.
    scenario_files: list[ast.Module] = []
    chain: list[Path] = []
    file, at, source_text = main, None, text
    while True:
        resolved = _resolve(file)
        if resolved in chain:
            loop = " -> ".join(display_path(p) for p in chain[chain.index(resolved):]) + f" -> {display_path(file)}"
            collector.error("E017", f"scenario files form a loop: {loop}", at,
                            help="a scenario file names the model it adds scenarios to, not itself or one over it")
            break
        if len(chain) >= MAX_IMPORTED_FILES:
            collector.error("E013", f"more than {MAX_IMPORTED_FILES} scenario files, one over the other", at)
            break
        module = parse_file(file, at, source_text)
        if module is None:
            break
        header = module.over
        if header is None:
            visit(file, at, (), module=module)
            break
        _check_header(module, collector, top=True)
        _check_scenario_file(module, collector, header)
        scenario_files.append(module)
        chain.append(resolved)
        file, at, source_text = file.parent / header.path, header.span, None
    modules.extend(reversed(scenario_files))
    collector.diagnostics.extend(errors)
    collector.raise_if_errors()
    return modules, sources


def _resolve(file: Path) -> Path:
    try:
        return file.resolve()
    except (OSError, RuntimeError, ValueError):   # a symlink loop, a NUL byte in the path
        return Path(os.path.abspath(file))        # reading it reports it


#: What a statement is called in messages, by its class.
_WORDS = {ast.Architecture: "architecture", ast.Import: "import", ast.Traffic: "traffic", ast.Settings: "settings",
          ast.Model: "model", ast.Flow: "flow", ast.Correlation: "correlate", ast.Template: "template",
          ast.Use: "use"}
#: What a scenario file may hold besides its `scenarios for` line.
_IN_SCENARIO_FILES = (ast.Scenario, ast.Param, ast.Budget)


def _check_header(module: ast.Module, collector: Collector, top: bool) -> None:
    """`scenarios for` is the first statement of the file given to a command (or of a file
    such a file names), once (E015)."""
    for index, statement in enumerate(module.statements):
        if not isinstance(statement, ast.ScenariosFor):
            continue
        if index > 0:
            collector.error("E015", "`scenarios for` must be the first statement of the file", statement.span,
                            help="a scenario file starts with `scenarios for \"model.llmarch\"`; "
                                 "a model file does not have one")
        elif not top:
            collector.error("E015", "an imported file cannot be a scenario file (`scenarios for`)", statement.span,
                            help="`import` reads modules; give the scenario file to the command instead")


def _check_scenario_file(module: ast.Module, collector: Collector, header: ast.ScenariosFor) -> None:
    """A scenario file adds scenarios, parameters and budgets, nothing else (E016)."""
    for statement in module.statements[1:]:
        if isinstance(statement, (ast.ScenariosFor, *_IN_SCENARIO_FILES)):
            continue
        word = statement.kind if isinstance(statement, ast.Component) else _WORDS.get(type(statement), "this")
        collector.error("E016", f"a scenario file holds `scenario`, `param` and `budget` statements, not `{word}`",
                        statement.span, help=f"write it in `{header.path}`, the file the scenarios are for")
