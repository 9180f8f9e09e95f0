"""The compile cache: an unchanged file costs nothing to compile twice.

After a file compiles, its numeric model (`numeric.NumericModel`: the generated code and
the plain data results and diagnostics need) is written to
`<cache folder>/compiled/<key>.bin` with `marshal`. The key is a SHA-256 of everything the
model depends on that can be known before parsing: the cache format, the Python version,
llmarch's own installed files (path, size, modification time), the installed genai-prices
data, the working directory, the main file's path and its bytes. The entry also lists every
other file the model was read from (imports; for a scenario file, the model it names and
that model's imports) with the SHA-256 of its bytes; a lookup re-reads them and any
difference is a miss. So an edit to the file, to an import or to the model under a
scenario file, another llmarch, another Python or other prices never serve a stale model. A corrupt, truncated or foreign entry is a miss too (and
is overwritten the next time); a folder that cannot be written is silently skipped.

The cache folder is the catalog's (`llmarch._cachedir`): `LLMARCH_NO_CACHE=1` turns both off,
`LLMARCH_CACHE_DIR` moves them. Entries are code objects that run when a model is evaluated,
as Python's own `__pycache__` files do; the folder is the user's own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from typing import Optional

from .numeric import ARTIFACT_FORMAT, NumericModel

__all__ = ["lookup", "store", "MAX_ENTRY_BYTES", "MAX_ENTRIES"]

#: An entry larger than this is neither written nor read (a 10,000-component model is ~10 MB).
MAX_ENTRY_BYTES = 256 * 1024 * 1024
#: Entries kept: the oldest beyond this are removed when one is written.
MAX_ENTRIES = 64
_MAGIC = b"llmarch-compiled\x00"


def _folder() -> Optional[Path]:
    from llmarch._cachedir import cache_folder
    folder = cache_folder()
    return None if folder is None else folder / "compiled"


_fingerprint: Optional[bytes] = None


def _code_fingerprint() -> bytes:
    """llmarch's installed files (name, size, mtime) and the price data, once a process."""
    global _fingerprint
    if _fingerprint is None:
        import llmarch
        from llmarch._version import __version__
        from llmarch.stdlib.catalog import snapshot_stamp
        digest = hashlib.sha256(f"{ARTIFACT_FORMAT}|{sys.version}|{__version__}|{snapshot_stamp()}".encode())
        roots = [Path(llmarch.__file__).parent]
        for package in ("llmarch.dsl", "llmarch.compiler", "llmarch.stdlib"):
            spec = importlib.util.find_spec(package)
            if spec is not None and spec.origin:
                roots.append(Path(spec.origin).parent)
        for root in roots:
            for path in sorted(root.rglob("*")):
                if path.suffix in (".py", ".lark", ".llmarch", ".js", ".css") and "__pycache__" not in path.parts:
                    info = path.stat()
                    digest.update(f"{path}|{info.st_size}|{info.st_mtime_ns}\n".encode())
        _fingerprint = digest.digest()
    return _fingerprint


def _key(path: Path, data: bytes) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    digest.update(os.fsencode(os.getcwd()) + b"\x00" + os.fsencode(os.path.abspath(path)) + b"\x00")
    digest.update(data)
    return digest.hexdigest()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> Optional[bytes]:
    from llmarch.dsl.source_files import SourceError, read_source
    try:
        return read_source(path, str(path))
    except (SourceError, OSError, ValueError):
        return None


def lookup(path: str | os.PathLike) -> Optional[NumericModel]:
    """The cached numeric model of `path` if it is fresh, else None."""
    folder = _folder()
    if folder is None:
        return None
    path = Path(path)
    data = _read(path)
    if data is None:
        return None
    entry_path = folder / f"{_key(path, data)}.bin"
    try:
        with open(entry_path, "rb") as handle:
            raw = handle.read(MAX_ENTRY_BYTES + 1)
        if len(raw) > MAX_ENTRY_BYTES or not raw.startswith(_MAGIC):
            return None
        entry = marshal.loads(raw[len(_MAGIC):])
        for file, digest in entry["imports"]:
            current = _read(Path(file))
            if current is None or _sha(current) != digest:
                return None
        return NumericModel(entry["artifact"])
    except Exception:   # missing, corrupt, truncated or foreign: a miss, never an error
        return None


def store(path: str | os.PathLike, compiled) -> None:
    """Write the numeric model of `compiled`, compiled from the file `path` (its imports are
    the other files its sources were read from)."""
    folder = _folder()
    if folder is None:
        return
    path = Path(path)
    data = _read(path)
    if data is None:
        return
    main = os.path.abspath(path)
    imports = [Path(p) for p in compiled.sources.origins.values() if p != main]
    try:
        digests = []
        for file in imports:
            content = _read(file)
            if content is None:
                return
            digests.append((os.path.abspath(file), _sha(content)))
        artifact = build_artifact(compiled)
        raw = _MAGIC + marshal.dumps({"imports": digests, "artifact": artifact})
        if len(raw) > MAX_ENTRY_BYTES:
            return
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{_key(path, data)}.bin"
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(raw)
            os.replace(temporary, target)
        finally:
            if temporary.exists():
                temporary.unlink()
        _prune(folder)
    except Exception:   # an unwritable cache, or a model the cache cannot hold, never fails a command
        return


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.bin"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for stale in entries[MAX_ENTRIES:]:
        try:
            stale.unlink()
        except OSError:
            pass


def _span(span) -> Optional[tuple]:
    if span is None:
        return None
    return (span.file, span.line, span.column, span.end_line, span.end_column, span.start, span.end)


def _distribution(d) -> tuple:
    return (d.kind, tuple(d.args), tuple(d.weights), _span(d.span), d.written)


def build_artifact(compiled) -> dict:
    """The numeric model of a compiled file, as plain data and code objects (marshal-able)."""
    from fractions import Fraction

    arch, evaluator = compiled.arch, compiled.evaluator

    def fraction(x) -> tuple[int, int]:
        value = Fraction(int(x.p), int(x.q))   # sympy Rational
        return value.numerator, value.denominator

    params = [(name, p.unit, *fraction(p.scale), tuple(p.dim.exponents), p.builtin)
              for name, p in arch.parameters.items()]
    by_symbol = {p.symbol: name for name, p in arch.parameters.items()}

    def uses(definition) -> list[str]:
        return sorted(by_symbol[x] for x in definition.free_symbols if x in by_symbol)

    month_days = fraction(arch.month_days) if arch.month_days.is_Rational else None
    scenario_data = []
    for name in [None, *arch.scenarios]:
        spans = arch.scenarios[name].spans if name is not None else {}
        overrides = arch.scenarios[name].overrides if name is not None else {}
        distributions = arch.scenarios[name].distributions if name is not None else {}
        scenario_data.append({"resolver": evaluator.resolver_code(name),     # shared code is stored once
                              "constants": dict(evaluator.resolver_constants(name)),
                              "spans": {k: _span(v) for k, v in spans.items()},
                              "override_deps": {k: uses(d) for k, d in overrides.items()},
                              "distributions": {k: _distribution(d) for k, d in distributions.items()}})
    loops = [(list(loop.nodes), list(loop.components), _span(loop.span),
              [(u, [tuple(e) for e in out]) for u, out in loop.inside],
              [(v, is_entry, list(incoming)) for v, is_entry, incoming in loop.entries])
             for loop in evaluator.loop_infos]
    texts = {file: "\n".join(lines) for file, lines in compiled.sources.texts().items()}
    return {
        "format": ARTIFACT_FORMAT,
        "title": arch.title, "path": arch.path,
        "params": params,
        "param_spans": {name: _span(p.span) for name, p in arch.parameters.items()},
        "param_deps": {name: uses(p.definition) for name, p in arch.parameters.items()},
        "month_days": month_days,
        "scenario_names": list(arch.scenarios),
        "scenario_data": scenario_data,
        "components": list(arch.components),
        "rows": [(r.key, r.component, r.kind, r.category, r.tokens) for r in evaluator.row_infos],
        "fixed": arch.fixed_rows(),
        "layout": [list(b) for b in evaluator.layout.blocks],
        "function": evaluator.function_code,
        "checks": [(c.kind, c.what, _span(c.span), list(c.parameters)) for c in evaluator.check_infos],
        "check_code": evaluator.check_code,
        "loops": loops,
        "loop_code": evaluator.loop_code,
        "budgets": [(b.metric, b.op, float(b.limit), b.scenario, _span(b.span), b.statistic, b.event_op,
                     None if b.event_limit is None else float(b.event_limit)) for b in arch.budgets],
        "distributions": {name: _distribution(p.distribution) for name, p in arch.parameters.items()
                          if p.distribution is not None},
        "correlations": [(c.first, c.second, c.rank, _span(c.span)) for c in arch.correlations],
        "prices": [p.to_tuple() for p in evaluator.price_sources],
        "sources": texts,
    }
