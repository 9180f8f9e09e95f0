"""Every diagnostic code llmarch emits, with its one-line meaning, stage and exit code.

The call sites still write their codes as string literals (`collector.error("E201", …)`);
this registry is the list they are checked against. tests/test_error_codes.py fails when
the source emits a code that is not here, when a code here is never emitted, or when
docs/errors.md (generated from this module by `python docs/make_errors.py`) is stale. A
new code therefore needs an entry here and a regenerated docs/errors.md.

A leaf module: it imports nothing from llmarch, so any stage, the CLI and the docs
generator can read it without pulling in the compiler.

Exit codes follow llmarch/cli.py: 1 invalid input, 2 a usage error (the `E6xx` codes),
4 a budget that does not hold (`E701`), 5 `lint` findings (the `L` codes, warnings); the
`W` warnings (a probabilistic budget too close to call) leave the exit code alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Code", "CODES", "STAGES", "describe"]


@dataclass(frozen=True)
class Code:
    """One diagnostic code: `title` is its meaning in one lowercase line (no final period),
    `stage` a key of `STAGES`, `severity` "error" or "warning", and `exit_code` what the
    `llmarch` command exits with when this is the diagnostic that decides."""

    code: str
    title: str
    stage: str
    severity: str = "error"
    exit_code: int = 1


#: The stages, in the order a file goes through them (and docs/errors.md lists them),
#: with the heading each has in the docs.
STAGES: dict[str, str] = {
    "syntax": "Syntax",
    "files": "Files and imports",
    "statements": "Statements",
    "limits": "Size limits",
    "names": "Names, parameters and settings",
    "fields": "Models, components and fields",
    "scenarios": "Scenarios",
    "templates": "Templates",
    "catalog": "Price catalog",
    "units": "Units and arithmetic",
    "flow": "Flow",
    "probabilities": "Probabilities and values",
    "usage": "Usage",
    "budgets": "Budgets",
    "uncertainty": "Uncertainty",
    "lint": "Lint: cost archetypes",
}

_ENTRIES: tuple[Code, ...] = (
    # syntax: dsl/parser.py
    Code("E001", "unexpected end of file", "syntax"),
    Code("E002", "unexpected character", "syntax"),
    Code("E003", "unexpected token: a word, number or symbol the grammar does not expect here", "syntax"),
    Code("E004", "unknown unit word after a number", "syntax"),
    Code("E005", "unterminated string", "syntax"),
    # files: compiler/loader.py, compiler/diff.py
    Code("E010", "file not found or not readable: missing, a directory, a device, pipe or socket, "
                 "a path with a NUL byte; in `diff`, outside the repository or not at the revision", "files"),
    Code("E011", "file is not UTF-8 text", "files"),
    Code("E012", "import cycle", "files"),
    Code("E013", "too many files imported", "files"),
    Code("E014", "unknown standard-library module", "files"),
    # statements: compiler/semantics.py, compiler/templates.py
    Code("E021", "a main-file-only statement (`architecture`, `traffic`, `flow`, `settings`, `budget`) "
                 "in an imported file", "statements"),
    Code("E022", "a statement given twice (`architecture`, `traffic`, `flow`, `settings`, or a template's `flow`)",
         "statements"),
    # limits: dsl/parser.py, compiler/loader.py, compiler/semantics.py
    Code("E100", "file too large", "limits"),
    Code("E103", "number literal out of range (too many digits or too large an exponent)", "limits"),
    Code("E104", "blocks or an expression nested too deep", "limits"),
    Code("E105", "number too large: an exponent, a power or `exp` beyond the limit", "limits"),
    # names: compiler/semantics.py, compiler/templates.py
    Code("E101", "name declared twice (a declaration, template, template parameter, instance or scenario)",
         "names"),
    Code("E102", "reserved name: `time`, `start`, `success`, `failure`, or `in`/`out` in a template", "names"),
    Code("E201", "unknown parameter", "names"),
    Code("E202", "a model, component or other declaration used in a formula where a parameter belongs",
         "names"),
    Code("E203", "unknown function", "names"),
    Code("E204", "wrong number of arguments to a function", "names"),
    Code("E205", "unknown setting", "names"),
    Code("E206", "parameter defined in terms of itself", "names"),
    Code("E207", "a parameter where a constant is required (settings, ranges, budget limits)", "names"),
    # fields: compiler/semantics.py, compiler/templates.py, compiler/elaborate/roles.py
    Code("E210", "model without an `input` or `output` price", "fields"),
    Code("E211", "unknown field, or a block where a value belongs (or a value where a block belongs)", "fields"),
    Code("E212", "field, argument or scenario value given twice", "fields"),
    Code("E213", "required field missing, or a field given without the one it needs", "fields"),
    Code("E214", "conflicting fields: `attempts` and `retries`, or `fallback` and `fallback_model`", "fields"),
    Code("E215", "a field that must name a model or a component is not a name", "fields"),
    Code("E216", "unknown model", "fields"),
    Code("E217", "unknown component, or a `fallback` into a template instance's `in`/`out` port", "fields"),
    Code("E218", "an observability overlay or a fixed monthly cost used in the flow", "fields"),
    Code("E219", "a component that falls back to itself", "fields"),
    Code("E220", "unknown category or cache match", "fields"),
    Code("E221", "`attempts` or `retries` not a whole number in range (or given by a parameter)", "fields"),
    Code("E222", "a role (`as history`) written on something other than a part of an `input { }` block", "fields"),
    Code("E223", "unknown role of an input part (the roles: instructions, history, retrieved, user, payload)",
         "fields"),
    Code("E224", "conflicting time fields: `latency` with `ttft` or `tokens_per_second`", "fields"),
    Code("E225", "a model call's time without `ttft`, or with output tokens but no `tokens_per_second`", "fields"),
    Code("E226", "a component's `span` (the trace span name calibrate reads) not a quoted name or pattern", "fields"),
    Code("E227", "text (a quoted string) where a value belongs", "fields"),
    Code("E228", "a `peak` setting below 1 (the peak traffic is at least the mean)", "fields"),
    Code("E229", "a model's `concurrency` limit when a call on it declares no time (in-flight calls need one)",
         "fields"),
    # scenarios: compiler/semantics.py, compiler/evaluate.py
    Code("E230", "scenario extends itself", "scenarios"),
    Code("E231", "unknown scenario (in `extends` or a budget)", "scenarios"),
    Code("E232", "parameters that depend on each other in a circle once a scenario or `--set` overrides them",
         "scenarios"),
    # templates: compiler/templates.py
    Code("E250", "unknown template", "templates"),
    Code("E251", "template that instantiates itself, or templates nested too deep", "templates"),
    Code("E252", "unknown template argument", "templates"),
    Code("E253", "missing template argument", "templates"),
    Code("E254", "template instances that make too many instances or components", "templates"),
    # catalog: compiler/elaborate/prices.py (the messages come from stdlib/catalog.py)
    Code("E260", "price reference the catalog does not know", "catalog"),
    Code("E261", "bad `as of` date", "catalog"),
    Code("E262", "ambiguous price reference: several catalog entries match it (they are listed)", "catalog"),
    Code("E263", "`as of` date before the model's first price in the catalog", "catalog"),
    # units: compiler/semantics.py
    Code("E300", "value in the wrong unit", "units"),
    Code("E301", "values in different units added, subtracted or compared by `min`/`max`", "units"),
    Code("E302", "unknown unit", "units"),
    Code("E303", "division by zero (also zero to a negative power)", "units"),
    Code("E304", "bad power: an exponent with a unit, or a quantity to a fractional or parameter power", "units"),
    Code("E305", "not a finite real number: `log` or `sqrt` of a non-positive number, a negative number "
                 "to a fractional power", "units"),
    Code("E306", "a function that needs a plain number given a quantity", "units"),
    Code("E307", "a `month` of zero or less", "units"),
    Code("E308", "empty or inverted range", "units"),
    # flow: compiler/semantics.py, compiler/lower.py
    Code("E401", "no `traffic` given", "flow"),
    Code("E402", "no `flow` given", "flow"),
    Code("E403", "edge attributes on a chain of several edges", "flow"),
    Code("E404", "a flow node that is not a component (or an instance of a template without a flow)", "flow"),
    Code("E405", "an edge out of an outcome or `out`, into `start` or `in`, or `start` inside a template", "flow"),
    Code("E406", "edge given twice", "flow"),
    Code("E407", "bad `start` edge: missing, several, with a probability, straight to an outcome; "
                 "or a template's flow that never leaves `in`", "flow"),
    Code("E408", "an edge with both `p` and `otherwise`", "flow"),
    Code("E409", "two `otherwise` edges from one component", "flow"),
    Code("E410", "a branch without a probability", "flow"),
    Code("E411", "component never reached from `start`", "flow"),
    Code("E412", "a loop through template ports that passes through no component", "flow"),
    # probabilities: compiler/evaluate.py
    Code("E420", "probability outside [0, 1]", "probabilities"),
    Code("E421", "probabilities of a component's edges that add up to more than 1", "probabilities"),
    Code("E422", "negative amount: traffic, a price, a cost, a time, a rate or a token count", "probabilities"),
    Code("E423", "a speed or limit that is not positive: `tokens_per_second`, `rpm`, `tpm`, `input_tpm`, `output_tpm`, "
         "`concurrency`", "probabilities"),
    Code("E430", "a loop that never exits", "probabilities"),
    Code("E503", "a value that is not a finite number", "probabilities"),
    # usage: dsl/diagnostics.py (usage_error), raised by the API and the CLI
    Code("E600", "usage error: an unknown scenario or parameter, a bad `--set`, `--grid`, date or git "
                 "revision, a target that is not reached, `dot` failing, a port `watch` cannot listen on",
         "usage", exit_code=2),
    # budgets: compiler/semantics.py, compiler/budgets.py
    Code("E240", "unknown budget metric", "budgets"),
    Code("E241", "a budget on `latency` in a file where no component declares a time", "budgets"),
    Code("E701", "a budget does not hold", "budgets", exit_code=4),
    # uncertainty: compiler/elaborate/uncertain.py, correlations.py, budgets.py
    Code("E800", "an uncertain value (`a to b`, `choice { }`, `normal(…)` …) where a number is required", "uncertainty"),
    Code("E801", "a distribution that cannot be: an inverted interval, a share's interval touching 0% or 100%, "
                 "a negative amount, a zero standard deviation, choice weights not adding up to 100%", "uncertainty"),
    Code("E802", "a bad correlation: a parameter that is never uncertain, itself, outside [-1, 1], declared twice",
         "uncertainty"),
    Code("E803", "correlations that cannot hold together (the matrix is not positive semi-definite)", "uncertainty"),
    Code("E804", "a bad probabilistic budget: an unknown statistic, a probability bound that is not a share, or a "
                 "metric the simulation does not estimate (`failure_overhead`)", "uncertainty"),
    Code("W701", "a probabilistic budget too close to call at this sample count", "uncertainty", "warning", 0),
    # lint: compiler/lint.py (the rules are described in docs/lint.md)
    Code("L101", "token bloat: history and retrieved context are too large a share of a call's input tokens", "lint",
         "warning", 5),
    Code("L102", "token bloat: the instruction header is too large next to the user's message and payload", "lint",
         "warning", 5),
    Code("L103", "token bloat: input tokens per request grow faster than traffic", "lint", "warning", 5),
    Code("L201", "fallback spiral: too many requests reach a more expensive fallback", "lint", "warning", 5),
    Code("L202", "fallback spiral: retries and fallbacks are too large a share of inference spend", "lint",
         "warning", 5),
    Code("L203", "fallback spiral: a guardrail's regeneration edge is not marked on_failure", "lint", "warning", 5),
    Code("L301", "RAG overreach: retrieval costs too much next to the inference it feeds", "lint", "warning", 5),
    Code("L302", "RAG overreach: retrieval spend grows faster than traffic", "lint", "warning", 5),
    Code("L303", "RAG overreach: every request that reaches retrieval runs it", "lint", "warning", 5),
    Code("L401", "observability overkill: ops and observability cost too much next to inference", "lint",
         "warning", 5),
    Code("L402", "observability overkill: an overlay traces every token of every request", "lint", "warning", 5),
    Code("L501", "retry storm: too many attempts each time a component is entered", "lint", "warning", 5),
    Code("L502", "retry storm: a loop's best exit probability per pass is too low", "lint", "warning", 5),
    Code("L601", "success overload: at the peak traffic a provider's limit refuses calls", "lint", "warning", 5),
)

#: Every code, in the order above (by stage); keys are the codes.
CODES: dict[str, Code] = {entry.code: entry for entry in _ENTRIES}
assert len(CODES) == len(_ENTRIES), "a code is registered twice"


def describe(code: str) -> Code:
    """The registry's entry for `code`; KeyError for a code llmarch does not emit."""
    try:
        return CODES[code]
    except KeyError:
        raise KeyError(f"unknown diagnostic code {code!r}") from None
