"""The checked architecture: names resolved, units checked, expressions built in sympy.

Every expression here is in base units (see `units`) and refers to parameters through
internal symbols (`_p0`, `_p1`, ...), never through user-chosen names, so no user text
can reach generated code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy

from llmarch.dsl.diagnostics import Span

from .distributions import Distribution
from .metrics import BUDGET_METRICS, CATEGORIES, REQUEST_METRICS, SAMPLED_METRICS, Budget   # noqa: F401 (part of the ir)
from .provenance import PriceSource
from .units import Dim

__all__ = ["Parameter", "Price", "InputPart", "Component", "Edge", "FixedCost", "Scenario", "Check", "Architecture",
           "Correlation", "Distribution",
           "CATEGORIES", "FAILURE_SWITCH", "LIMIT_FIELDS", "Budget", "BUDGET_METRICS", "SAMPLED_METRICS", "REQUEST_METRICS",
           "CALL_INPUT_TOKENS"]

#: Multiplies every failure probability (`fail_rate`, `on_failure` edges, edges into
#: `failure`). The system is evaluated at 1; the happy path at 0.
FAILURE_SWITCH = sympy.Symbol("_phi", real=True)

@dataclass(frozen=True)
class Parameter:
    """A named input. Its symbol holds the value in `unit` (the unit it was declared in)."""

    name: str
    symbol: sympy.Symbol
    dim: Dim
    scale: sympy.Expr          # base units per declared unit
    unit: Optional[str]        # the declared unit as written, or None
    definition: sympy.Expr     # default value, in base units, over other parameter symbols
    low: Optional[float]
    high: Optional[float]
    description: Optional[str]
    span: Span
    builtin: bool = False
    #: an uncertain parameter's distribution (declared units); `definition` is its median
    distribution: Optional[Distribution] = None

    @property
    def expr(self) -> sympy.Expr:
        """The parameter as it appears in formulas: its symbol times its unit's scale."""
        return self.symbol * self.scale


#: A model's provider limits, in the order tables list them.
LIMIT_FIELDS = ("rpm", "tpm", "input_tpm", "output_tpm", "concurrency")


#: Stands for the input tokens of one call inside a tiered price (`Price.input` may be a
#: `Piecewise` over it); replaced by the call's input tokens where the call is priced.
CALL_INPUT_TOKENS = sympy.Symbol("_call_input", nonnegative=True)


@dataclass(frozen=True)
class Price:
    """A model's token prices, USD per token. A long-context tier makes a price a
    `Piecewise` over `CALL_INPUT_TOKENS` (see `priced`)."""

    name: str
    label: Optional[str]
    input: sympy.Expr
    output: sympy.Expr
    cached_input: sympy.Expr
    span: Span
    cache_write: Optional[sympy.Expr] = None     # None: cache writes cost the input price
    source: Optional[PriceSource] = None         # which catalog entry, date and snapshot; or the file
    #: the model's speed, when declared: time to first token (days) and output tokens per day
    ttft: Optional[sympy.Expr] = None
    tokens_per_second: Optional[sympy.Expr] = None
    speed_broken: bool = False                   # a speed field given in the wrong unit (reported)
    #: the provider's limits on the model, when declared (`LIMIT_FIELDS`): `rpm` in requests
    #: per day, `tpm` (input and output together), `input_tpm`, `output_tpm` in tokens per
    #: day, `concurrency` in requests;
    #: each (field, value, span)
    limits: tuple[tuple[str, sympy.Expr, Span], ...] = ()

    def priced(self, tokens_in: sympy.Expr, tokens_out: sympy.Expr, cached: sympy.Expr = sympy.Integer(0),
               written: sympy.Expr = sympy.Integer(0)) -> sympy.Expr:
        """USD for one call: `cached` and `written` are the shares of the input tokens read
        from and written to the provider's prompt cache."""
        at = {CALL_INPUT_TOKENS: tokens_in}
        write = self.cache_write if self.cache_write is not None else self.input
        rate_in = ((1 - cached - written) * self.input + cached * self.cached_input + written * write).xreplace(at)
        return tokens_in * rate_in + tokens_out * self.output.xreplace(at)


@dataclass(frozen=True)
class InputPart:
    """One named part of an `input { }` block: its tokens per call, and the role it declares
    (`as history`), or None when it declares none (the lint rules then guess from the name)."""

    tokens: sympy.Expr
    role: Optional[str]
    span: Span


@dataclass
class Component:
    """One declared component, with its per-visit cost and its branching behaviour."""

    name: str
    kind: str
    label: Optional[str]
    category: str
    span: Span
    cost: sympy.Expr = sympy.Integer(0)          # USD per visit (one attempt)
    tokens: Optional[sympy.Expr] = None          # tokens per visit, for observability
    input_tokens: Optional[sympy.Expr] = None    # input tokens per visit
    output_tokens: Optional[sympy.Expr] = None   # output tokens per visit
    model: Optional[str] = None
    fail_rate: sympy.Expr = sympy.Integer(0)
    attempts: int = 1
    fallback: Optional[str] = None               # component name, or None: failure
    fallback_model: Optional[Price] = None
    fallback_cost: sympy.Expr = sympy.Integer(0)
    fallback_tokens: Optional[sympy.Expr] = None
    hit_rate: Optional[sympy.Expr] = None
    on_hit: str = "success"
    # observability overlays
    per_request: sympy.Expr = sympy.Integer(0)
    per_call: sympy.Expr = sympy.Integer(0)
    per_token: sympy.Expr = sympy.Integer(0)
    sample: sympy.Expr = sympy.Integer(1)
    spans: dict[str, Span] = field(default_factory=dict)
    input_parts: dict[str, InputPart] = field(default_factory=dict)   # the named parts of `input { }`
    group: Optional[str] = None                  # the template instance that declared it ("faq"), or None
    # time (days) of one visit: `latency`, a model call's `ttft` + output ÷ `tokens_per_second`,
    # a review's `time`; None when it declares none (it then takes no time)
    latency: Optional[sympy.Expr] = None
    fallback_latency: Optional[sympy.Expr] = None   # the `fallback_model` copy's time per visit
    backoff: sympy.Expr = sympy.Integer(0)          # waited before each retry (attempts 2 … N)
    declares_time: bool = False                     # some time field of its own or of its model
    telemetry_span: Optional[str] = None         # `span = "…"`: the trace span name (a glob) calibrate reads


@dataclass(frozen=True)
class Edge:
    """A flow edge; `probability` already resolves `otherwise` and unconditional edges."""

    source: str
    target: str
    probability: sympy.Expr
    on_failure: bool
    span: Span


@dataclass(frozen=True)
class FixedCost:
    """A fixed monthly cost, USD per month."""

    name: str
    label: Optional[str]
    category: str
    monthly: sympy.Expr
    span: Span
    group: Optional[str] = None                  # the template instance that declared it, or None
    model: Optional[str] = None                  # the model whose input price a batch job pays, or None


@dataclass(frozen=True)
class Scenario:
    """Parameter overrides (base units), after following `extends`."""

    name: str
    description: Optional[str]
    overrides: dict[str, sympy.Expr]
    spans: dict[str, Span]
    span: Span
    #: the overrides that are uncertain: their distributions (the parameter's declared
    #: units); an override not here is a number or a formula, and pins the parameter
    distributions: dict[str, Distribution] = field(default_factory=dict)


@dataclass(frozen=True)
class Correlation:
    """`correlate a with b = 0.6`: a rank (Spearman) correlation of two uncertain parameters."""

    first: str
    second: str
    rank: float
    span: Span


@dataclass(frozen=True)
class Check:
    """A value that must hold in every scenario: a probability, a non-negative amount."""

    kind: str            # "probability" | "nonnegative" | "positive" | "probability_sum"
    expr: sympy.Expr
    what: str
    span: Span


@dataclass
class Architecture:
    """Everything the later stages need, in declaration order."""

    title: str
    path: str
    month_days: sympy.Expr
    traffic: sympy.Expr                      # requests per day
    traffic_span: Optional[Span]
    parameters: dict[str, Parameter]
    prices: dict[str, Price]
    components: dict[str, Component]
    edges: list[Edge]
    entry: str            # the first component, or "start" when the request branches at once
                          # (then `edges` holds the edges leaving "start")
    fixed: dict[str, FixedCost]
    scenarios: dict[str, Scenario]
    checks: list[Check]
    budgets: list[Budget] = field(default_factory=list)
    lint_settings: dict[str, float] = field(default_factory=dict)   # thresholds from `settings { }`
    lint_spans: dict[str, Span] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)   # template instance name -> its label, in order
    instance_spans: dict[str, Span] = field(default_factory=dict)   # template instance -> its `use`
    correlations: list[Correlation] = field(default_factory=list)
    peak: float = 1.0                        # `settings { peak = 3 }`: peak traffic over the mean
    peak_span: Optional[Span] = None

    @property
    def has_latency(self) -> bool:
        """Whether the file declares any time (`latency`, `ttft`, `tokens_per_second`,
        `backoff`): only then is latency computed and shown."""
        return any(c.declares_time for c in self.components.values())

    def uncertain(self, scenario: Optional[str] = None, pinned=()) -> dict[str, Distribution]:
        """The uncertain parameters of `scenario` (defaults when None), in declaration order:
        a scenario's uncertain override replaces the default's distribution, any other
        override pins the parameter to it, and so does a name in `pinned` (`--set`)."""
        s = self.scenarios[scenario] if scenario is not None else None
        out: dict[str, Distribution] = {}
        for name, p in self.parameters.items():
            if name in pinned:
                continue
            if s is not None and name in s.overrides:
                if name in s.distributions:
                    out[name] = s.distributions[name]
            elif p.distribution is not None:
                out[name] = p.distribution
        return out

    def price_sources(self) -> tuple[PriceSource, ...]:
        """Where the prices of the models the architecture uses come from (a component's
        `model` or `fallback_model`, a fixed cost's `model`), in declaration order."""
        used = {c.model for c in self.components.values()}
        used |= {c.fallback_model.name for c in self.components.values() if c.fallback_model is not None}
        used |= {f.model for f in self.fixed.values()}
        return tuple(p.source if p.source is not None else PriceSource(name)
                     for name, p in self.prices.items() if name in used)
