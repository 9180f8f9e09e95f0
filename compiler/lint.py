"""Design-review checks: the field manual's cost archetypes as lint rules.

Each rule is a function of one `_Context` returning findings; `RULES` runs them in order
(adding a rule is adding a function and a line). A finding is a warning with a stable code,
the symptom with the actual numbers, the signal and the suggested decision, at the span of
the component it is about. Thresholds have defaults, can be set in the file
(`settings { max_ops_ratio = 80% }`) or in `[tool.llmarch]` of a pyproject.toml above the
file (the file wins). A finding is silenced by a comment on its line: `# llmarch: ignore[L401]`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional


from llmarch.dsl.diagnostics import Diagnostic, Span

from . import input_roles, ir, present
from .evaluate import CostResult, Evaluation, Resolution, numeric
from .pipeline import Compiled
from .settings import LINT_THRESHOLDS as THRESHOLDS

__all__ = ["THRESHOLDS", "RULES", "lint"]

_IGNORE = re.compile(r"#\s*llmarch:\s*ignore\[([A-Z0-9, ]+)\]")


@dataclass
class _Context:
    compiled: Compiled
    evaluation: Evaluation
    thresholds: dict[str, float]

    @property
    def result(self) -> CostResult:
        return self.evaluation.result

    @property
    def resolution(self) -> Resolution:
        return self.evaluation.resolution

    def value(self, expr) -> float:
        env = dict(self.resolution.env)
        env[ir.FAILURE_SWITCH] = 1.0
        return float(numeric(expr, env))


def _finding(code: str, message: str, span: Optional[Span], help: str, notes: tuple = ()) -> Diagnostic:
    return Diagnostic("warning", code, message, span, help, notes)


def _token_bloat(ctx: _Context) -> list[Diagnostic]:
    """L101 and L102, from the roles of a call's input parts: declared (`as history`), or
    guessed from the part's name, which the finding then says in a note."""
    out = []
    for comp in ctx.compiled.arch.components.values():
        if not comp.input_parts:
            continue
        tokens = {name: ctx.value(part.tokens) for name, part in comp.input_parts.items()}
        total = sum(tokens.values())
        if total <= 0:
            continue
        roles = {name: part.role or input_roles.guess(name) for name, part in comp.input_parts.items()}

        def having(wanted: tuple[str, ...]) -> list[str]:
            return [n for n in tokens if roles[n] in wanted]

        def guessed(names: list[str]) -> tuple:
            """A note for each part whose role is guessed from its name."""
            return tuple((f"`{n}` counts as {input_roles.ROLE_NAMES[roles[n]]}: guessed from the name `{n}`; "
                          f"declare `as {roles[n]}` to be sure"
                          + (" (or `as payload` if it is what the call works on)" if roles[n] == "retrieved" else ""),
                          comp.input_parts[n].span)
                         for n in names if comp.input_parts[n].role is None)

        context = having(input_roles.CONTEXT_ROLES)
        context_tokens = sum(tokens[n] for n in context)
        share = context_tokens / total
        if share > ctx.thresholds["max_context_share"]:
            out.append(_finding(
                "L101", f"token bloat: {' + '.join(f'`{n}`' for n in context)} makes {context_tokens:,.0f} of the "
                f"{total:,.0f} input tokens of `{comp.name}` ({share:.0%}, limit "
                f"{ctx.thresholds['max_context_share']:.0%}); you are paying for verbosity, not value",
                comp.span, "compress the context: chunk limits, fewer retrieved chunks, memory pruning",
                guessed(context)))
        header_parts, request_parts = having(input_roles.HEADER_ROLES), having(input_roles.REQUEST_ROLES)
        header = sum(tokens[n] for n in header_parts)
        request = sum(tokens[n] for n in request_parts)
        if header and request and header / request > ctx.thresholds["max_header_ratio"]:
            what = "the user's message" if "payload" not in {roles[n] for n in request_parts} else (
                "the user's message and payload" if "user" in {roles[n] for n in request_parts} else "the payload")
            out.append(_finding(
                "L102", f"token bloat: the instruction header of `{comp.name}` is {header:,.0f} tokens, "
                f"{header / request:.1f}x the {request:,.0f} tokens of {what} "
                f"(limit {ctx.thresholds['max_header_ratio']:g}x)",
                comp.span, "trim the header, or move its fixed part to a cached prefix",
                guessed(header_parts + request_parts)))
    return out


def _fallback_spiral(ctx: _Context) -> list[Diagnostic]:
    out = []
    rows = {r.name: r for r in ctx.result.components}
    for comp in ctx.compiled.arch.components.values():
        target = None
        if comp.fallback_model is not None:
            target = f"{comp.name}@{comp.fallback_model.name}"
        elif comp.fallback is not None:
            target = comp.fallback
        attempts = rows.get(comp.name)
        if target is None or attempts is None or comp.fail_rate == 0:
            continue
        # requests that exhaust every attempt: entries × f^N, with entries = visits / (1 + f + … + f^(N-1))
        fail = ctx.value(comp.fail_rate)
        n = comp.attempts
        per_entry = sum(fail ** i for i in range(n))
        share = (attempts.expected_visits or 0.0) / per_entry * fail ** n if per_entry else 0.0
        fallback_row = rows.get(target)
        pricier = (fallback_row is not None and (fallback_row.cost_per_visit or 0.0) > (attempts.cost_per_visit or 0.0))
        if share > ctx.thresholds["max_fallback_share"] and pricier:
            out.append(_finding(
                "L201", f"fallback spiral: {share:.0%} of requests reach the more expensive `{target}` from `{comp.name}` "
                f"(limit {ctx.thresholds['max_fallback_share']:.0%}); your robustness logic is silently inflating cost",
                comp.span, "audit the fallback triggers, improve the default model, replace blanket rerouting "
                "with smarter thresholds"))
    inference = [r for r in ctx.result.components if r.category == "inference" and r.cost_per_request is not None]
    system = sum(r.cost_per_request for r in inference)
    happy = sum(r.happy_path_cost_per_request or 0.0 for r in inference)
    if system > 0 and (system - happy) / system > ctx.thresholds["max_overhead_share"]:
        share = (system - happy) / system
        driver, field, overhead = _overhead_driver(ctx, inference)
        comp = ctx.compiled.arch.components[driver]
        monthly = overhead * ctx.result.requests_per_month
        where = comp.spans.get(field)
        out.append(_finding(
            "L202", f"fallback spiral: retries, fallbacks and regenerations are {share:.0%} of inference spend "
            f"(limit {ctx.thresholds['max_overhead_share']:.0%}); `{driver}` adds the most, {present.money(monthly)} "
            "a month", comp.span, "audit the fallback triggers and the failure rates behind them",
            ((f"through its `{field}`", where),) if where is not None else ()))
    return out


def _overhead_driver(ctx: _Context, rows) -> tuple[str, Optional[str], float]:
    """The component whose failure handling adds the most inference spend per request, the
    field that sends the spend there (`fallback_model`, `fallback`, `attempts`/`retries`),
    and that spend. A fallback copy's overhead (`a@big`) is its component's; a component
    reached only as another's `fallback` (no happy-path cost) counts for the one that
    falls back to it."""
    components = ctx.compiled.arch.components
    falls_back_to = {}
    for comp in components.values():
        if comp.fallback is not None:
            falls_back_to.setdefault(comp.fallback, comp.name)
    added: dict[tuple[str, Optional[str]], float] = {}
    for row in rows:
        overhead = row.cost_per_request - (row.happy_path_cost_per_request or 0.0)
        if row.name != row.component:
            key = (row.component, "fallback_model")
        elif not row.happy_path_cost_per_request and row.component in falls_back_to:
            key = (falls_back_to[row.component], "fallback")
        else:
            spans = components[row.component].spans
            key = (row.component, next((f for f in ("attempts", "retries") if f in spans), None))
        added[key] = added.get(key, 0.0) + overhead
    (driver, field), overhead = max(added.items(), key=lambda item: item[1])
    return driver, field, overhead


def _rag_overreach(ctx: _Context) -> list[Diagnostic]:
    by = ctx.result.by_category
    if by["inference"] > 0 and by["retrieval"] / by["inference"] > ctx.thresholds["max_retrieval_ratio"]:
        ratio = by["retrieval"] / by["inference"]
        name, span, monthly = _costliest_retrieval(ctx)
        return [_finding(
            "L301", f"RAG overreach: retrieval costs {present.money(by['retrieval'])} a month, {ratio:.2f}x the inference it "
            f"feeds (limit {ctx.thresholds['max_retrieval_ratio']:g}x); `{name}` costs the most, "
            f"{present.money(monthly)} a month", span,
            "use retrieval only for high-variance queries with a proven benefit; roll back to simpler logic "
            "for baseline tasks")]
    return []


def _costliest_retrieval(ctx: _Context) -> tuple[str, Span, float]:
    """The retrieval cost (a component or a fixed cost) that costs the most a month, and
    where to point: its declaration, or, for a part of a template instance written
    outside the user's files (the standard library's), the `use` that made it."""
    arch = ctx.compiled.arch
    declared = {**arch.fixed, **arch.components}
    monthly: dict[str, float] = {}
    for row in ctx.result.components:
        if row.category == "retrieval":
            monthly[row.component] = monthly.get(row.component, 0.0) + row.monthly
    name = max(monthly, key=monthly.get)
    part = declared[name]
    span = part.span
    if span.file.startswith("<stdlib>/") and part.group in arch.instance_spans:
        span = arch.instance_spans[part.group]
    return name, span, monthly[name]


def _rag_without_benefit(ctx: _Context) -> list[Diagnostic]:
    """L303: retrieval entered by every request that reaches it: no declared share of the
    queries that benefit (`p = rag_share` on the edge into it)."""
    out = []
    components = ctx.compiled.arch.components
    retrieval_kinds = ("retrieval", "embedding")
    for comp in components.values():
        if comp.kind not in retrieval_kinds:
            continue
        incoming = [e for e in ctx.compiled.arch.edges if e.target == comp.name
                    and components.get(e.source) is not None and components[e.source].kind not in retrieval_kinds]
        if not incoming:
            continue
        shares = [ctx.value(e.probability) for e in incoming]
        if min(shares) > ctx.thresholds["max_rag_share"]:
            out.append(_finding(
                "L303", f"RAG overreach: every request that reaches `{comp.name}` runs retrieval ({min(shares):.0%}); "
                "no share of queries is declared to benefit from it", comp.span,
                "use RAG only for high-variance queries: route a measured share to it, e.g. "
                "`cache -> embed (p = rag_share)` with the rest going straight to the model"))
    return out


def _observability_overkill(ctx: _Context) -> list[Diagnostic]:
    out = []
    by = ctx.result.by_category
    if by["inference"] > 0 and by["ops"] / by["inference"] > ctx.thresholds["max_ops_ratio"]:
        ratio = by["ops"] / by["inference"]
        first = next((c for c in ctx.compiled.arch.components.values() if c.kind == "observe"), None)
        out.append(_finding(
            "L401", f"observability overkill: ops and observability cost {present.money(by['ops'])} a month, {ratio:.2f}x "
            f"inference (limit {ctx.thresholds['max_ops_ratio']:g}x); tooling cost is outpacing its usefulness",
            first.span if first else None,
            "define observability goals, shut off low-value tracing, budget logging per dollar saved"))
    for comp in ctx.compiled.arch.components.values():
        if comp.kind == "observe" and ctx.value(comp.per_token) > 0 and ctx.value(comp.sample) >= 1:
            out.append(_finding(
                "L402", f"observability overkill: `{comp.name}` traces every token of every request", comp.span,
                "sample the traces (`sample = 10%`) or log only what a dashboard reads"))
    return out


def _retry_storm(ctx: _Context) -> list[Diagnostic]:
    out = []
    compiled = ctx.compiled
    visits = {}
    for r in ctx.result.components:
        visits[r.name] = r.expected_visits
    g = compiled.flow.graph
    for comp in compiled.arch.components.values():
        nodes = compiled.flow.nodes_of.get(comp.name, [])
        attempts = [n for n in nodes if "#" in n]
        if len(attempts) < 2:
            continue
        env = dict(ctx.resolution.env)
        env[ir.FAILURE_SWITCH] = 1.0
        fail = float(numeric(comp.fail_rate, env))
        expected = sum(fail ** i for i in range(len(attempts)))
        if expected > ctx.thresholds["max_attempts"]:
            out.append(_finding(
                "L501", f"retry storm: `{comp.name}` takes {expected:.2f} attempts each time it is entered "
                f"(fail rate {fail:.0%}, up to {len(attempts)} attempts; limit {ctx.thresholds['max_attempts']:g})",
                comp.span, "fix the cause of the failures before adding attempts; cap retries"))
    env = dict(ctx.resolution.env)
    env[ir.FAILURE_SWITCH] = 1.0
    for loop in compiled.model.loops:
        inside = set(loop.nodes)
        best = 0.0
        for node in loop.nodes:
            staying = sum(float(numeric(g.edges[node, m]["probability"], env)) for m in g.successors(node) if m in inside)
            best = max(best, 1.0 - staying)
        if best < ctx.thresholds["min_loop_exit"]:
            names = sorted({g.nodes[n]["component"] for n in loop.nodes if g.nodes[n]["component"]})
            out.append(_finding(
                "L502", f"retry storm: the loop through {', '.join(f'`{n}`' for n in names)} exits with at most "
                f"{best:.1%} per pass (limit {ctx.thresholds['min_loop_exit']:.0%})",
                loop.spans[0] if loop.spans else None, "give the loop a cap or a higher exit probability"))
    return out


def _growth(ctx: _Context) -> list[Diagnostic]:
    """L103 and L302: over a projection (`time` from 0 to `projection_months`), input tokens
    per request, or retrieval spend, growing faster than traffic. Only for files that use
    the built-in `time`."""
    compiled = ctx.compiled
    time = compiled.arch.parameters["time"].symbol
    uses_time = any(time in d.free_symbols for d in ctx.resolution.definitions.values())
    if not uses_time:
        return []
    months = int(ctx.thresholds["projection_months"])
    evaluator = compiled.evaluator
    sets_now = {n: v for n, v in ctx.resolution.values.items() if n in ctx.resolution.inputs and n != "time"}
    points = []
    for when in (0, months):
        values = dict(sets_now)
        values["time"] = float(when)
        at_month = evaluator.evaluation(ctx.result.scenario, values)
        result, resolution = at_month.result, at_month.resolution
        env = dict(resolution.env)
        env[ir.FAILURE_SWITCH] = 1.0
        tokens = 0.0
        for row in result.components:
            comp = compiled.arch.components.get(row.component)
            if comp is None or comp.input_tokens is None or row.expected_visits is None:
                continue
            tokens += row.expected_visits * float(numeric(comp.input_tokens, env))
        points.append((result.requests_per_month, tokens, result.by_category["retrieval"]))
    (traffic0, tokens0, retrieval0), (traffic1, tokens1, retrieval1) = points
    if min(traffic0, traffic1) <= 0:
        return []
    traffic_growth = traffic1 / traffic0
    out = []
    first_llm = next((c for c in compiled.arch.components.values() if c.input_tokens is not None), None)
    if tokens0 > 0 and tokens1 / tokens0 > max(traffic_growth, 1.0) + 1e-9:
        out.append(_finding(
            "L103", f"token bloat: input tokens per request grow x{tokens1 / tokens0:.2f} over {months} months "
            f"({tokens0:,.0f} -> {tokens1:,.0f}) while traffic grows x{traffic_growth:.2f}; the token volume grows "
            "every week", first_llm.span if first_llm else None,
            "refactor prompt construction: compression, chunk limits, memory pruning"))
    if retrieval0 > 0 and retrieval1 / retrieval0 > max(traffic_growth, 1.0) + 1e-9:
        first = next((c for c in compiled.arch.components.values() if c.category == "retrieval"), None)
        span = first.span if first else next((f.span for f in compiled.arch.fixed.values()
                                               if f.category == "retrieval"), None)
        out.append(_finding(
            "L302", f"RAG overreach: retrieval spend grows x{retrieval1 / retrieval0:.2f} over {months} months "
            f"({present.money(retrieval0)} -> {present.money(retrieval1)} a month) while traffic grows x{traffic_growth:.2f}",
            span, "index what the queries use; re-index incrementally; prove the retrieval benefit per query"))
    return out


def _regeneration_in_the_happy_path(ctx: _Context) -> list[Diagnostic]:
    """L203: a guardrail's edge back into the loop it closes (a regeneration) not marked
    `on_failure`: the happy path then includes the regenerations and the failure overhead
    misses them."""
    import networkx as nx
    arch = ctx.compiled.arch
    graph = nx.DiGraph((e.source, e.target) for e in arch.edges)
    out = []
    for e in arch.edges:
        source = arch.components.get(e.source)
        if (source is None or source.kind != "guardrail" or e.on_failure or e.target not in arch.components
                or not nx.has_path(graph, e.target, e.source)):
            continue
        out.append(_finding(
            "L203", f"fallback spiral: guardrail `{e.source}` sends requests back to `{e.target}` without `on_failure`: "
            "the regenerations count as the happy path, and the failure overhead leaves them out", e.span,
            f"mark the edge: `{e.source} -> {e.target} (p = …, on_failure)`"))
    return out


def _limits_at_the_peak(ctx: _Context) -> list[Diagnostic]:
    """L601: at the peak traffic a provider's limit refuses calls (the fixed point of
    docs/capacity.md#throttling), and what that does to a request."""
    arch = ctx.compiled.arch
    if not any(p.limits for p in arch.prices.values()):
        return []
    from .throttle import throttle
    peak_traffic = ctx.value(arch.traffic) * arch.peak
    (t,) = throttle(arch, ctx.compiled.flow, ctx.evaluation, (peak_traffic,))
    out = []
    for price in arch.prices.values():
        share = t.shares.get(price.name, 0.0)
        if share <= 0:
            continue
        which = t.binding[price.name]
        span = next((sp for key, _, sp in price.limits if key == which), price.span)
        cost = t.cost_per_request / t.free_cost_per_request - 1 if t.free_cost_per_request else 0.0
        out.append(_finding(
            "L601", f"success overload: at the peak ({present.count(peak_traffic)} requests/day, peak = "
            f"{present.number(arch.peak)}) `{price.name}`'s `{which}` refuses {present.share(share)} of its calls; "
            f"retried and fallen back, a request succeeds with {present.percent(t.p_success)} (not "
            f"{present.percent(t.free_p_success)}) and costs {present.share(abs(cost))} "
            f"{'more' if cost >= 0 else 'less (refused requests pay nothing)'}",
            span, "raise the limit with the provider, spread the peak (a queue), route part of the traffic to "
            "a model with headroom, or cache; `llmarch capacity FILE` shows every limit"))
    return out


RULES: tuple[Callable[[_Context], list[Diagnostic]], ...] = (
    _token_bloat, _fallback_spiral, _regeneration_in_the_happy_path, _rag_overreach, _rag_without_benefit,
    _observability_overkill, _retry_storm, _growth, _limits_at_the_peak)


def _pyproject_thresholds(path: str) -> dict[str, float]:
    if sys.version_info < (3, 11):  # pragma: no cover - tomllib arrived in 3.11
        return {}
    import tomllib
    folder = Path(path).resolve().parent
    for candidate in [folder, *folder.parents]:
        config = candidate / "pyproject.toml"
        if config.is_file():
            try:
                data = tomllib.loads(config.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            section = data.get("tool", {}).get("llmarch", {})
            return {k: float(v) for k, v in section.items()
                    if k in THRESHOLDS and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {}


def lint(compiled: Compiled, evaluation: Evaluation) -> list[Diagnostic]:
    """Every finding for one scenario (`compiled.evaluator.evaluation(scenario, sets)`),
    silenced ones removed, in a stable order."""
    result = evaluation.result
    thresholds = dict(THRESHOLDS)
    thresholds.update(_pyproject_thresholds(compiled.arch.path))
    thresholds.update(compiled.arch.lint_settings)
    ctx = _Context(compiled, evaluation, thresholds)
    findings = [f for rule in RULES for f in rule(ctx)]
    # a finding inside a template instance also points at the `use` that made it, and an
    # ignore comment on that line silences it (the template's own text may be the stdlib's)
    arch = compiled.arch
    uses: dict = {}
    for part in [*arch.components.values(), *arch.fixed.values()]:
        if part.group is not None and part.group in arch.instance_spans:
            uses.setdefault(part.span, []).append(part.group)
    kept = []
    for f in findings:
        lines = [f.span] + [arch.instance_spans[g] for g in uses.get(f.span, [])] if f.span is not None else []
        silenced = False
        for span in lines:
            match = _IGNORE.search(compiled.sources.line(span.file, span.line) or "")
            silenced |= bool(match and f.code in {c.strip() for c in match.group(1).split(",")})
        if not silenced:
            kept.append(f)
    where = f" in scenario `{result.scenario}`" if result.scenario else ""
    out = []
    for f in kept:
        archetype, _, detail = f.message.partition(": ")
        notes = f.notes + tuple((f"in `{g}`, a template instance made here", arch.instance_spans[g])
                                for g in dict.fromkeys(uses.get(f.span, [])))
        out.append(Diagnostic(f.severity, f.code, f"{archetype}{where}: {detail}", f.span, f.help, notes))
    return out
