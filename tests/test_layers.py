"""The shape of the code: the front end (the language and elaboration) never imports what
consumes it, and no two modules import each other in a circle. Read from the source with
`ast`, so it holds for imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"dsl": "llmarch.dsl", "compiler": "llmarch.compiler", "stdlib": "llmarch.stdlib", "llmarch": "llmarch"}

#: The front end: reading, checking and elaborating a file. It may import only itself and leaves.
FRONT_END = ("llmarch.dsl", "llmarch.compiler.loader", "llmarch.compiler.templates",
             "llmarch.compiler.elaborate", "llmarch.compiler.units", "llmarch.compiler.ir",
             "llmarch.compiler.settings", "llmarch.compiler.input_roles", "llmarch.compiler.gc_pause")
#: What consumes a compiled model: the front end must never import these.
CONSUMERS = ("llmarch.compiler.evaluate", "llmarch.compiler.evaluation", "llmarch.compiler.lint",
             "llmarch.compiler.analysis", "llmarch.compiler.analysis_output", "llmarch.compiler.render",
             "llmarch.compiler.report", "llmarch.compiler.output", "llmarch.compiler.jsgen",
             "llmarch.compiler.diff", "llmarch.compiler.budgets", "llmarch.compiler.pipeline",
             "llmarch.compiler.present", "llmarch.api", "llmarch.cli")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = ".".join(base[:len(base) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (prefix, node.module or "") if p)
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(name, path, set(modules)):
            graph.add_edge(name, target)
    return graph


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_front_end_never_imports_a_consumer():
    graph = _graph()
    front = [n for n in graph if _within(n, FRONT_END)]
    assert "llmarch.compiler.elaborate" in front
    bad = sorted((n, t) for n in front for t in graph.successors(n) if _within(t, CONSUMERS))
    assert not bad, f"the front end imports what consumes it: {bad}"


def test_no_import_circles():
    graph = _graph()
    # package faces (__init__) re-export their modules; an import of a face is not a circle
    faces = {n for n in graph if (_modules()[n].name == "__init__.py")}
    inner = graph.subgraph(n for n in graph if n not in faces)
    cycles = [c for c in nx.strongly_connected_components(inner) if len(c) > 1]
    assert not cycles, f"modules import each other in a circle: {cycles}"


def test_the_checker_sees_a_violation(tmp_path):
    """The test above can fail: an import of a renderer from a front-end file is found."""
    path = tmp_path / "semantics.py"
    path.write_text("def f():\n    from .render import architecture_dot\n")
    known = set(_modules())
    assert "llmarch.compiler.render" in _imports("llmarch.compiler.semantics", path, known)


def test_the_command_calls_only_the_api():
    graph = _graph()
    # and two leaves that know nothing of the compiler: the version, and the shell completion
    # scripts made from the command's own parser
    allowed = {"llmarch", "llmarch.api", "llmarch._version", "llmarch._completion"}
    assert set(graph.successors("llmarch.cli")) <= allowed, set(graph.successors("llmarch.cli")) - allowed


def test_help_version_and_usage_errors_import_no_compiler():
    """`--help`, `--version`, a usage error and a completion script must not pay for sympy, numpy
    or the compiler."""
    import subprocess
    import sys
    script = ("import sys, contextlib, io\n"
              "from llmarch import cli\n"
              "for argv in (['--help'], ['--version'], ['cost'], ['nonsense'], ['completion', 'bash'], ['cost', '--help']):\n"
              "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
              "        try:\n"
              "            cli.main(argv)\n"
              "        except SystemExit:\n"
              "            pass\n"
              "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'numpy', 'lark', 'networkx',"
              " 'pydantic', 'graphviz', 'genai_prices', 'pygls', 'lsprotocol') or m.startswith('llmarch.compiler'))\n"
              "print(heavy)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_version(capsys):
    from llmarch import __version__, cli
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"llmarch {__version__}"
