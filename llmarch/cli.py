"""The `llmarch` command. It only calls the public API (`llmarch.api`), and imports it
only once the arguments are read: `--help`, `--version` and usage errors cost no compiler.

Exit codes: 0 ok, 1 invalid input (diagnostics printed), 2 usage error,
3 internal error (a bug: please report it), 4 a budget does not hold,
5 `lint` found a cost archetype, 6 `render` needs Graphviz's `dot` program (the DOT
text was written instead).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERNAL, EXIT_BUDGET, EXIT_LINT = 0, 1, 2, 3, 4, 5
EXIT_NO_GRAPHVIZ = 6


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one clear line
        self.print_usage(sys.stderr)
        sys.stderr.write(f"llmarch: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


class _Formatter(argparse.HelpFormatter):
    """Descriptions wrapped as usual; the indented lines of an epilog (the examples) kept as written."""

    def _fill_text(self, text, width, indent):
        return "\n".join(line if line.startswith("  ") or not line else super(_Formatter, self)._fill_text(line, width, indent)
                         for line in text.splitlines())


#: Every command's examples, shown by `llmarch COMMAND --help`. They run from the repository's
#: folder, on its bundled examples (tests/cli/test_help_examples.py runs each of them).
EXAMPLES = {
    "check": ["llmarch check examples/support_assistant.llmarch"],
    "cost": ["llmarch cost examples/quickstart.llmarch",
             "llmarch cost examples/support_assistant.llmarch --scenario production --format markdown",
             "llmarch cost examples/quickstart.llmarch --set 'questions=20000 requests/day' --set hit_rate=10%"],
    "capacity": ["llmarch capacity examples/support_assistant.llmarch --scenario production"],
    "explain": ["llmarch explain examples/quickstart.llmarch"],
    "lint": ["llmarch lint examples/support_assistant.llmarch --scenario production",
             "llmarch lint examples/quickstart.llmarch --format json"],
    "export": ["llmarch export examples/quickstart.llmarch --scenario launch"],
    "render": ["llmarch render examples/quickstart.llmarch -o quickstart.svg",
               "llmarch render examples/support_assistant.llmarch --summary --format dot"],
    "report": ["llmarch report examples/support_assistant.llmarch --scenario production -o report.html",
               "llmarch report examples/quickstart.llmarch -o summary.md"],
    "sensitivity": ["llmarch sensitivity examples/support_assistant.llmarch --scenario production",
                    "llmarch sensitivity examples/quickstart.llmarch --global -n 2000"],
    "tornado": ["llmarch tornado examples/support_assistant.llmarch --scenario production --spread 0.3"],
    "simulate": ["llmarch simulate examples/quickstart.llmarch",
                 "llmarch simulate examples/quickstart.llmarch -n 10000 --seed 7 --no-components --format json"],
    "calibrate": [("llmarch calibrate examples/support_assistant.llmarch "
                   "--traces examples/traces/support_assistant.otlp.jsonl -o observed.llmarch")],
    "project": ["llmarch project examples/growth_story.llmarch --months 24 --budget 15000"],
    "solve": ["llmarch solve examples/quickstart.llmarch --for hit_rate --monthly 100",
              ("llmarch solve examples/crossover/with_cache.llmarch --for questions_per_day --crossover - "
               "--against examples/crossover/without_cache.llmarch")],
    "diff": ["llmarch diff examples/crossover/without_cache.llmarch examples/crossover/with_cache.llmarch",
             "llmarch diff HEAD~1:examples/quickstart.llmarch examples/quickstart.llmarch"],
    "init": ["llmarch init && llmarch cost architecture.llmarch"],
    "pr-comment": ["llmarch pr-comment origin/main HEAD -o comment.md",
                   "llmarch pr-comment origin/main HEAD --all -n 2000 -o all.md"],
    "sweep": ["llmarch sweep examples/quickstart.llmarch --grid hit_rate=0:0.8:5",
              "llmarch sweep examples/quickstart.llmarch --grid 'questions=1000:100000:log:4' --format json"],
    "prices": ["llmarch prices gpt-4o", "llmarch prices 'anthropic:*' --as-of 2025-01-01 --format json"],
    "watch": ["llmarch watch examples/quickstart.llmarch --open      # Ctrl-C stops it",
              "llmarch watch examples/support_assistant.llmarch --scenario production --port 8000"],
    "lsp": ["llmarch lsp        # started by an editor (docs/editors.md), not by hand"],
    "completion": ["llmarch completion bash > ~/.local/share/bash-completion/completions/llmarch",
                   "llmarch completion zsh > ~/.zfunc/_llmarch     # a folder on $fpath",
                   "llmarch completion fish > ~/.config/fish/completions/llmarch.fish"],
}


def _parser() -> argparse.ArgumentParser:
    from llmarch._version import __version__

    p = _Parser(prog="llmarch", description="Price an LLM architecture before the bill arrives.",
                formatter_class=_Formatter,
                epilog="examples:\n  llmarch cost examples/quickstart.llmarch\n"
                       "  llmarch simulate examples/quickstart.llmarch\n\n"
                       "`llmarch COMMAND --help` shows a command's options and examples.")
    p.add_argument("--version", action="version", version=f"llmarch {__version__}")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the diagnostics (default auto: on a terminal, unless NO_COLOR is set; "
                        "FORCE_COLOR=1 forces it)")
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
    common("capacity", "provider limits (requests and tokens a minute, concurrency) against the traffic at its "
           "mean and peak; requests in flight", fmt=("table", "json", "markdown"))
    common("explain", "closed-form cost expressions (pretty-printed and LaTeX)", sets=False)
    common("lint", "the field manual's cost archetypes as rules, and the budgets", fmt=("table", "json"))
    common("export", "the lowered flow graph as JSON")
    c = common("render", "a cost-annotated Graphviz diagram (svg, png, pdf or dot)")
    c.add_argument("--output", "-o", metavar="FILE", help="where to write it; `-` or none: DOT on standard output")
    c.add_argument("--format", "-f", choices=("svg", "png", "pdf", "dot"),
                   help="default: from the extension of --output")
    c.add_argument("--summary", action="store_true",
                   help="one box per cost vector instead of every component (for very large architectures)")
    c = common("report", "a self-contained interactive HTML report, or its summary in Markdown")
    c.add_argument("--output", "-o", metavar="FILE", help="where to write it (default: standard output)")
    c.add_argument("--format", "-f", choices=("html", "markdown"),
                   help="default: markdown for an --output ending in .md, else html")
    for name, help in (("sensitivity", "exact derivatives and elasticities of the monthly total, ranked"),
                       ("tornado", "each parameter moved alone over its range, ranked by swing")):
        c = common(name, help, fmt=("table", "json", "markdown"))
        c.add_argument("--spread", type=float, default=0.2,
                       help="relative range for parameters without a declared range (default 0.2 = ±20%%)")
        c.add_argument("--at-month", dest="at_month", type=float, metavar="N",
                       help="analyse at month N of the built-in `time` (default 0, the launch): growth "
                            "drivers matter only over time")
        if name == "sensitivity":
            c.add_argument("--global", dest="global_", action="store_true",
                           help="variance-based: Sobol indices of the uncertain parameters (which guess matters most)")
            c.add_argument("--samples", "-n", type=int, metavar="N", help="with --global: base samples (default 10,000)")
            c.add_argument("--seed", type=int, default=0, help="with --global: random seed (default 0)")
    c = common("simulate", "Monte Carlo over the uncertain parameters: mean, percentiles, risk budgets",
               fmt=("table", "json", "markdown"))
    c.add_argument("--samples", "-n", type=int, metavar="N", help="samples (default 50,000)")
    c.add_argument("--seed", type=int, default=0, help="random seed (default 0): the same seed, the same numbers")
    c.add_argument("--no-components", dest="components", action="store_false",
                   help="leave out the per-component statistics (the totals and cost vectors only; faster)")
    c = common("calibrate", "fit the model to production traces (OpenTelemetry, Langfuse or Helicone) and reconcile it "
               "with what they cost", sets=False, fmt=("table", "json", "markdown"))
    c.add_argument("--traces", "-t", nargs="+", required=True, metavar="PATH",
                   help="trace files: OTLP JSON or JSON lines; Langfuse observations as JSONL, CSV or Parquet; a Helicone export as JSON, JSONL or CSV")
    c.add_argument("--trace-format", dest="trace_format", choices=("otlp", "langfuse", "helicone"), default="otlp",
                   help="the files' format (default otlp)")
    c.add_argument("--since", metavar="DATE", help="only spans that start at or after DATE (YYYY-MM-DD or ISO 8601, UTC)")
    c.add_argument("--until", metavar="DATE", help="only spans that start before DATE")
    c.add_argument("--output", "-o", metavar="FILE",
                   help="write a scenario file over the model (`scenarios for`) with a scenario `observed` of the "
                        "fitted parameters to FILE")
    c.add_argument("--fit", choices=("points", "distributions"), default="points",
                   help="write each fitted value (points) or its interval as a `low to high` range (distributions)")
    c = common("project", "month-by-month cost as parameters grow with `time`", fmt=("table", "json", "markdown"))
    c.add_argument("--months", type=int, default=12, help="months to project (default 12)")
    c.add_argument("--budget", type=float, help="monthly budget in USD: report the month it is crossed")
    c.add_argument("--driver", action="append", default=[], metavar="PARAM",
                   help="also report d ln(cost) / d ln(PARAM) (repeatable)")
    c.add_argument("--samples", "-n", type=int, metavar="N",
                   help="samples per month when parameters are uncertain (default 50,000)")
    c.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    c = common("solve", "the parameter value where a target is reached (break-even)",
               fmt=("table", "json", "markdown"))
    c.add_argument("--for", dest="parameter", required=True, metavar="PARAM")
    target = c.add_mutually_exclusive_group(required=True)
    target.add_argument("--monthly", type=float, metavar="USD", help="target monthly total")
    target.add_argument("--per-request", type=float, metavar="USD", help="target cost per request")
    target.add_argument("--per-success", type=float, metavar="USD", help="target cost per successful request")
    target.add_argument("--crossover", metavar="SCENARIO",
                        help="where the monthly total equals that of SCENARIO (or of --against's file)")
    c.add_argument("--against", metavar="FILE", help="with --crossover: compare with another .llmarch file")
    c.add_argument("--low", type=float, help="lower end of the search (default: the declared range)")
    c.add_argument("--high", type=float, help="upper end of the search")
    c = sub.add_parser("diff", help="what a change does to the bill: per component, per cost vector, parameters",
                       description="what a change does to the bill: per component, per cost vector, parameters")
    c.add_argument("old", help="the .llmarch file before, or REV:path (a git revision)")
    c.add_argument("new", help="the .llmarch file after, or REV:path")
    c.add_argument("--scenario", "-s", help="a scenario both files declare")
    c.add_argument("--set", dest="sets", action="append", default=[], metavar="PARAM=VALUE",
                   help="override a parameter on both sides (where it exists)")
    c.add_argument("--format", "-f", choices=("table", "json", "markdown"), default="table")
    c.add_argument("--samples", "-n", type=int, metavar="N",
                   help="with uncertain parameters: samples per side (default 50,000)")
    c.add_argument("--seed", type=int, default=0, help="random seed, the same on both sides (default 0)")
    c = common("watch", "serve the HTML report on 127.0.0.1 and reload it in the browser when the file or an "
               "import changes; a file that does not compile shows its diagnostics in the page")
    c.add_argument("--port", "-p", type=int, default=0, metavar="N",
                   help="the port on 127.0.0.1 (default 0: a free one; the address is printed)")
    c.add_argument("--open", dest="open_browser", action="store_true", help="open the page in the default browser")
    c = sub.add_parser("init", help="write a commented starter architecture that checks",
                       description="write a commented starter architecture (it passes check, cost and lint); "
                       "never overwrites a file")
    c.add_argument("file", nargs="?", default="architecture.llmarch",
                   help="where to write it (default: architecture.llmarch in the current folder)")
    c = sub.add_parser("pr-comment", help="one Markdown pull-request comment: the diff, budgets and lint of every "
                       "changed .llmarch file", description="one Markdown pull-request comment for the .llmarch files "
                       "changed between two git revisions (or FILES, or --all of them): the diff of each, its budgets "
                       "and lint at HEAD and a collapsed Mermaid diagram; "
                       "it starts with the marker <!-- llmarch --> so CI can update it. Exit 4 when a budget does not "
                       "hold at HEAD, 1 when a file does not compile there")
    c.add_argument("base", help="the revision before (the pull request's base: origin/main, a commit)")
    c.add_argument("head", help="the revision after (HEAD)")
    c.add_argument("files", nargs="*", metavar="FILE",
                   help="the .llmarch files to compare (default: those that changed between BASE and HEAD)")
    c.add_argument("--all", dest="all_files", action="store_true",
                   help="every .llmarch file at HEAD (and those deleted since BASE), not only those that changed")
    c.add_argument("--scenario", "-s", help="a scenario the files declare (default: their defaults)")
    c.add_argument("--set", dest="sets", action="append", default=[], metavar="PARAM=VALUE",
                   help="override a parameter on both sides (where it exists)")
    c.add_argument("--samples", "-n", type=int, metavar="N",
                   help="with uncertain parameters: samples per side (default 50,000)")
    c.add_argument("--seed", type=int, default=0, help="random seed, the same on both sides (default 0)")
    c.add_argument("--output", "-o", metavar="FILE", help="write the comment there (default: standard output)")
    c = common("sweep", "evaluate over a grid of parameter values in one vectorized call", fmt=("csv", "json"))
    c.add_argument("--grid", action="append", required=True, metavar="PARAM=LOW:HIGH[:log]:POINTS")
    c.add_argument("--output", "-o", metavar="FILE", help="write there instead of standard output")
    c = sub.add_parser("prices", help="model prices in the installed genai-prices snapshot (offline)",
                       description="model prices in the installed genai-prices snapshot (offline)")
    c.add_argument("pattern", nargs="?", metavar="PATTERN",
                   help="a glob (`openai:gpt-4o*`) or a substring of provider:model (`gemini`)")
    c.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="the prices on that date (default: newest)")
    c.add_argument("--format", "-f", choices=("table", "json"), default="table")
    sub.add_parser("lsp", help="a Language Server Protocol server on standard input and output, for editors "
                   "(needs the `lsp` extra: pip install 'llmarch[lsp]'; see docs/editors.md)",
                   description="a Language Server Protocol server on standard input and output, for editors "
                   "(needs the `lsp` extra: pip install 'llmarch[lsp]'; see docs/editors.md)")
    c = sub.add_parser("completion", help="a shell completion script for bash, zsh or fish (commands, options, "
                       "files)", description="print a completion script for bash, zsh or fish: commands, their "
                       "options and choices, .llmarch files; install it where the shell looks (docs/cli.md)")
    c.add_argument("shell", choices=("bash", "zsh", "fish"))
    for name, command in sub.choices.items():
        command.formatter_class = _Formatter
        command.epilog = "examples:\n" + "\n".join(f"  {example}" for example in EXAMPLES[name])
        command.add_argument("--color", choices=("auto", "always", "never"), default=argparse.SUPPRESS,
                             help="colour the diagnostics (default auto: on a terminal, unless NO_COLOR is set)")
    return p


def _use_color(choice: str, stream) -> bool:
    """Whether to colour what goes to `stream`: `--color always|never` decides; with `auto`,
    NO_COLOR (set and not empty, https://no-color.org) turns colour off, then FORCE_COLOR (set,
    not empty or 0) on, and otherwise colour is on for a terminal (not TERM=dumb) only."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty()) and os.environ.get("TERM") != "dumb"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.colour = _use_color(args.color, sys.stderr)
    if args.command == "completion":   # no compiler: a shell may run this at every start
        from llmarch._completion import script
        sys.stdout.write(script(parser, args.shell))
        return EXIT_OK
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
    from llmarch import api   # the one door; imported after the arguments are read

    with api.command_words():   # messages say `--set`, `--grid`, … (the API's own say `set`, `grids`, …)
        return _command(api, args)


def _command(api, args) -> int:
    sets = {}
    for item in getattr(args, "sets", None) or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            sys.stderr.write(f"llmarch: error: --set needs PARAM=VALUE, got `{item}`\n")
            return EXIT_USAGE
        sets[name.strip()] = value.strip()
    try:
        if args.command == "lsp":
            return api.serve_lsp()
        if args.command == "prices":
            return _prices(api, args)
        if args.command == "diff":
            sys.stdout.write(api.format_diff(api.diff(args.old, args.new, args.scenario, sets, args.samples, args.seed),
                                             args.format))
            return EXIT_OK
        if args.command == "init":
            path = api.init(args.file)
            sys.stderr.write(f"wrote {path}: `llmarch cost {path}` prices it\n")
            return EXIT_OK
        if args.command == "pr-comment":
            return _pr_comment(api, args, sets)
        if args.command == "watch":
            return _watch(api, args, sets)
        model = api.load(args.file)
        if args.command == "check":
            for warning in model.check():
                sys.stderr.write(model.render_diagnostic(warning, args.colour) + "\n\n")
            print(f"{args.file}: ok ({len(model.components)} components, {len(model.scenarios)} scenarios)")
            return EXIT_OK
        if args.command == "cost":
            result = model.cost(args.scenario, sets)
            budgets = model.budgets(args.scenario, sets)
            sys.stdout.write(api.format_cost(result, args.format, budgets))
            return _budget_verdict(api, model, budgets, args.colour)
        if args.command == "lint":
            findings = model.lint(args.scenario, sets)
            budgets = api.budget_failures(model.budgets(args.scenario, sets))
            broken = [b for b in budgets if b.severity == "error"]
            close = len(budgets) - len(broken)      # W701: too close to call, a warning
            if args.format == "json":
                sys.stdout.write(api.format_lint(findings + budgets, args.scenario))
            else:
                for f in findings + budgets:
                    sys.stderr.write(model.render_diagnostic(f, args.colour) + "\n\n")
                if not findings and not budgets:
                    print(f"{args.file}: no findings")
                else:
                    sys.stderr.write(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}, "
                                     f"{len(broken)} budget{'s' if len(broken) != 1 else ''} not met"
                                     + (f", {close} too close to call" if close else "") + "\n")
            return EXIT_BUDGET if broken else EXIT_LINT if findings else EXIT_OK
        if args.command == "capacity":
            sys.stdout.write(api.format_capacity(model.capacity(args.scenario, sets), args.format))
            return EXIT_OK
        if args.command == "explain":
            sys.stdout.write(model.explain(args.scenario))
            return EXIT_OK
        if args.command == "export":
            sys.stdout.write(api.to_json_text(model.export(args.scenario, sets)))
            return EXIT_OK
        if args.command == "render":
            return _render(api, model, args, sets)
        if args.command == "report":
            return _report(model, args, sets)
        if args.command == "calibrate":
            return _calibrate(api, model, args)
        if args.command == "simulate":
            simulation = model.simulate(args.scenario, sets, samples=args.samples, seed=args.seed,
                                        components=args.components)
            budgets = model.budgets(args.scenario, sets, samples=args.samples, seed=args.seed)
            sys.stdout.write(api.format_simulation(simulation, args.format, budgets))
            return _budget_verdict(api, model, budgets, args.colour)
        return _analysis(api, model, args, sets)
    except api.LlmarchError as exc:
        sys.stderr.write(exc.render(args.colour) + "\n")
        errors = [d for d in exc.diagnostics if d.severity == "error"] or exc.diagnostics   # warnings ride along
        usage = all(d.code.startswith("E6") for d in errors)
        budget = all(d.code.startswith("E7") for d in errors)
        if not usage:
            n = sum(d.severity == "error" for d in exc.diagnostics)
            what = "budget" if budget else "error"
            sys.stderr.write(f"\n{n} {what}{'s' if n != 1 else ''} {'not met' if budget else ''}".rstrip() + "\n")
        return EXIT_USAGE if usage else EXIT_BUDGET if budget else EXIT_INVALID
    return EXIT_USAGE  # pragma: no cover - argparse requires a command


def _calibrate(api, model, args) -> int:
    """`llmarch calibrate`: the estimates and reconciliation; with --output, observed.llmarch.
    Trace files it cannot use are an error (exit 1), one clear line, never a traceback."""
    try:
        calibration = model.calibrate(args.traces, args.trace_format, args.scenario, args.since, args.until)
        if args.output:
            text = calibration.observed_source(args.file, args.output, args.fit == "distributions")
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text)
    except (api.CalibrationError, OSError) as exc:
        sys.stderr.write(f"llmarch: error: {exc}\n")
        return EXIT_INVALID
    sys.stdout.write(api.format_calibration(calibration, args.format))
    if args.output:
        sys.stderr.write(f"wrote {args.output}: `llmarch cost {args.output} --scenario "
                         f"{calibration.observed_scenario}` prices it\n")
    return EXIT_OK


def _pr_comment(api, args, sets) -> int:
    """`llmarch pr-comment`: the comment to --output or standard output; exit 1 when a file
    does not compile at HEAD, else 4 when a budget does not hold there."""
    comment = api.pr_comment(args.base, args.head, args.files, args.scenario, sets, args.samples, args.seed,
                             all_files=args.all_files)
    text = api.format_pr_comment(comment)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    elif _write_file(args.output, text) != EXIT_OK:
        return EXIT_USAGE
    if comment.invalid:
        sys.stderr.write(f"llmarch: {len(comment.invalid)} file(s) do not compile at {args.head}: "
                         + ", ".join(comment.invalid) + "\n")
        return EXIT_INVALID
    if comment.budgets_failed:
        sys.stderr.write(f"llmarch: {comment.budgets_failed} budget(s) not met at {args.head}\n")
        return EXIT_BUDGET
    return EXIT_OK


def _watch(api, args, sets) -> int:
    """`llmarch watch`: the address on standard output, a line per build on standard
    error, until Ctrl-C (exit 0)."""
    server = None
    try:
        server = api.watch(args.file, args.scenario, sets, port=args.port, open_browser=args.open_browser,
                           log=lambda line: sys.stderr.write(line + "\n"))
        sys.stdout.write(f"serving the report of {args.file} at {server.url} (Ctrl-C stops)\n")
        sys.stdout.flush()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.close()
    return EXIT_OK


def _write_file(path: str, text: str) -> int:
    """Write `text` to `path`; a path that cannot be written is a usage error (exit 2)."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        sys.stderr.write(f"llmarch: error: cannot write {path}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    return EXIT_OK


def _budget_verdict(api, model, budgets, colour: bool = False) -> int:
    """Budgets that do not hold are errors (exit 4); one too close to call is a warning."""
    found = api.budget_failures(budgets)
    errors = [d for d in found if d.severity == "error"]
    for d in found:
        if d.severity != "error":
            sys.stderr.write(model.render_diagnostic(d, colour) + "\n\n")
    if errors:
        raise model.error(errors)
    return EXIT_OK


def _report(model, args, sets) -> int:
    """`llmarch report`: the HTML report (or its Markdown summary) to --output or standard output."""
    fmt = args.format or ("markdown" if (args.output or "").lower().endswith((".md", ".markdown")) else "html")
    text = model.report(args.scenario, sets, format=fmt)
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return EXIT_OK
    return _write_file(args.output, text)


def _render(api, model, args, sets) -> int:
    """`llmarch render`: a file through `Model.render`, or DOT/SVG/… on standard output."""
    to_stdout = args.output in (None, "-")
    try:
        if not to_stdout:
            model.render(args.output, args.scenario, sets, args.format, summary=args.summary)
            return EXIT_OK
        dot_text = model.to_dot(args.scenario, sets, summary=args.summary)
        if args.format in (None, "dot"):
            sys.stdout.write(dot_text)
        else:
            sys.stdout.buffer.write(api.render_dot(dot_text, args.format))
        return EXIT_OK
    except api.GraphvizMissing as exc:
        sys.stderr.write(f"llmarch: error: {exc if not to_stdout else api.INSTALL_HELP}\n")
        if to_stdout:
            sys.stderr.write("llmarch: note: `--format dot` prints the DOT text without Graphviz\n")
        return EXIT_NO_GRAPHVIZ


def _analysis(api, model, args, sets) -> int:
    fmt = args.format
    if args.command == "sensitivity" and args.global_:
        result = model.sobol(args.scenario, sets, base=args.samples, seed=args.seed, at_month=args.at_month)
        sys.stdout.write(api.format_sobol(result, fmt))
    elif args.command in ("sensitivity", "tornado"):
        method = model.tornado if args.command == "tornado" else model.sensitivity
        rows = method(args.scenario, sets, spread=args.spread, at_month=args.at_month)
        sys.stdout.write(api.format_sensitivity(rows, model.title, args.scenario, fmt, args.command == "tornado",
                                                at_month=args.at_month, uses_time=model.uses_time,
                                                self_hosted=model.self_hosted))
    elif args.command == "project":
        projection = model.project(args.scenario, sets, months=args.months, budget=args.budget,
                                   drivers=args.driver, samples=args.samples, seed=args.seed)
        sys.stdout.write(api.format_projection(projection, model.title, args.scenario, fmt))
    elif args.command == "solve":
        if args.against and not args.crossover:
            sys.stderr.write("llmarch: error: --against needs --crossover SCENARIO (or `-` for its defaults)\n")
            return EXIT_USAGE
        if args.crossover:
            other = api.load(args.against) if args.against else model
            other_scenario = None if args.crossover == "-" else args.crossover
            solution = model.crossover(args.parameter, other, args.scenario, other_scenario, sets,
                                       low=args.low, high=args.high)
        else:
            kind, target = next((k, v) for k, v in (("monthly", args.monthly), ("per_request", args.per_request),
                                                     ("per_success", args.per_success)) if v is not None)
            solution = model.solve(args.parameter, target, kind, args.scenario, sets, low=args.low, high=args.high)
        sys.stdout.write(api.format_solution(solution, fmt))
    elif args.command == "sweep":
        grids = [api.parse_grid(g) for g in args.grid]
        names, arrays, batch = model.sweep(grids, args.scenario, sets)
        text = api.format_sweep(names, arrays, batch, fmt)
        if args.output:
            return _write_file(args.output, text)
        sys.stdout.write(text)
    return EXIT_OK


def _prices(api, args) -> int:
    """`llmarch prices`: the catalog as a table or JSON; a bad date or no match exits 2."""
    prices = api.prices(args.pattern, args.as_of)
    later = api.prices(args.pattern) if not prices and args.as_of else []
    if later:   # the pattern matches, but none of its models was priced yet on that day
        first = min(p.first_priced for p in later if p.first_priced is not None)
        raise api.usage_error(f"no model matching `{args.pattern}` has a price in the catalog on {args.as_of}: "
                              f"the first of them starts on {first.isoformat()}")
    if not prices:
        raise api.usage_error(f"no model in the price catalog matches `{args.pattern}` "
                              "(a glob like `openai:gpt-4o*` or a substring of provider:model)")
    sys.stdout.write(api.format_prices(prices, args.format))
    return EXIT_OK
