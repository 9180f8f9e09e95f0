"""The `llmarch` command. It only calls the public API.

Exit codes: 0 ok, 1 invalid input (diagnostics printed), 2 usage error,
3 internal error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one clear line
        self.print_usage(sys.stderr)
        sys.stderr.write(f"llmarch: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="llmarch", description="Price an LLM architecture before the bill arrives.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def common(name: str, help: str, scenario=True, sets=True, fmt: Optional[tuple] = None):
        c = sub.add_parser(name, help=help, description=help)
        c.add_argument("file", help="the .llmarch file")
        if scenario:
            c.add_argument("--scenario", "-s", help="a scenario declared in the file")
        if sets:
            c.add_argument("--set", dest="sets", action="append", default=[], metavar="PARAM=VALUE",
                           help="override a parameter (repeatable); VALUE may carry a unit: 5000 or '5000 requests/day'")
        if fmt:
            c.add_argument("--format", "-f", choices=fmt, default=fmt[0])
        return c

    common("check", "report diagnostics only (checks the defaults and every scenario)", scenario=False, sets=False)
    common("cost", "expected cost per request, per success and per month", fmt=("table", "json", "markdown"))
    common("explain", "closed-form cost expressions (pretty-printed and LaTeX)", sets=False)
    common("export", "the lowered flow graph as JSON")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except RecursionError:
        sys.stderr.write("llmarch: error: the input is nested too deeply to process\n")
        return EXIT_INVALID
    except BrokenPipeError:  # pragma: no cover - `llmarch cost … | head`
        return EXIT_OK
    except Exception as exc:  # a bug in llmarch, never the user's fault
        sys.stderr.write(f"llmarch: internal error: {type(exc).__name__}: {exc}\n"
                         "this is a bug in llmarch; please report it with the input file\n")
        return EXIT_INTERNAL


def _run(args) -> int:
    import llmarch
    from llmarch.compiler import output

    sets = {}
    for item in getattr(args, "sets", None) or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            sys.stderr.write(f"llmarch: error: --set needs PARAM=VALUE, got `{item}`\n")
            return EXIT_USAGE
        sets[name.strip()] = value.strip()
    try:
        model = llmarch.load(args.file)
        if args.command == "check":
            model.check()
            print(f"{args.file}: ok ({len(model.compiled.arch.components)} components, "
                  f"{len(model.scenarios)} scenarios)")
            return EXIT_OK
        if args.command == "cost":
            result = model.cost(args.scenario, sets)
            if args.format == "json":
                sys.stdout.write(output.to_json_text(output.cost_json(result)))
            elif args.format == "markdown":
                sys.stdout.write(output.cost_markdown(result))
            else:
                sys.stdout.write(output.cost_table(result))
            return EXIT_OK
        if args.command == "explain":
            sys.stdout.write(model.explain(args.scenario))
            return EXIT_OK
        if args.command == "export":
            sys.stdout.write(output.to_json_text(model.export(args.scenario, sets)))
            return EXIT_OK
    except llmarch.LlmarchError as exc:
        sys.stderr.write(exc.render() + "\n")
        usage = all(d.code.startswith("E6") for d in exc.diagnostics)
        if not usage:
            n = sum(d.severity == "error" for d in exc.diagnostics)
            sys.stderr.write(f"\n{n} error{'s' if n != 1 else ''}\n")
        return EXIT_USAGE if usage else EXIT_INVALID
    return EXIT_USAGE  # pragma: no cover - argparse requires a command
