"""JSON Schemas of every JSON document llmarch prints, from pydantic models.

One model per document (`cost`, `export`, `sensitivity`/`tornado`, `project`, `solve`,
`sweep`, `lint`, `diff`, `prices`, `simulate`, `calibrate`, `capacity`), each with its `format_version`; extra keys are refused,
so a document that grows a field must grow its schema too. `python docs/make_schemas.py`
writes them to docs/schemas/; tests/test_json_schemas.py validates every command's JSON
against them and checks the files are current. Not imported by any command.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DOCUMENTS", "schema_of"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Categories(_Strict):
    inference: float
    retrieval: float
    human: float
    ops: float
    infra: float


class ComponentRow(_Strict):
    name: str = Field(description="the row: a component, a `component@model` fallback copy, or a fixed cost")
    component: str
    kind: str
    category: Literal["inference", "retrieval", "human", "ops", "infra"]
    expected_visits: Optional[float] = Field(description="per request; null for fixed costs")
    cost_per_visit: Optional[float] = Field(description="USD; null for fixed costs")
    cost_per_request: Optional[float] = Field(description="USD; null for fixed costs")
    monthly: float = Field(description="USD a month")
    share: float = Field(description="of the monthly total")
    happy_path_cost_per_request: Optional[float]
    failure_overhead_per_request: Optional[float] = Field(description="system − happy path, USD per request")
    failure_overhead_share: Optional[float] = Field(description="the overhead as a share of the cost per request")
    token_share: Optional[float] = Field(description="for rows priced by a model's tokens: share of token spend")
    latency_per_request: Optional[float] = Field(
        None, description="seconds the row adds to a request (visits × time per visit, backoff included); "
        "present only when the file declares latency; null for fixed costs")
    happy_path_latency_per_request: Optional[float] = Field(
        None, description="the same in the happy path (failures off); present only when the file declares latency")


class Latency(_Strict):
    """A request's expected time, in seconds: every visit's time added (no parallel branches)."""

    per_request: float = Field(description="seconds, in the system (retries, backoff and fallbacks included)")
    happy_path_per_request: float = Field(description="seconds, failures off")
    failure_overhead_per_request: float = Field(description="system − happy path, seconds")
    std_dev: float = Field(description="standard deviation of one request's latency over the path it takes "
                           "(between requests, at these parameter values), seconds")
    happy_path_std_dev: float = Field(description="the same with failures off, seconds")


class Results(_Strict):
    cost_per_request: float
    p_success: float
    cost_per_success: Optional[float] = Field(description="null when no request succeeds")
    monthly_total: float
    by_category: Categories
    happy_path_cost_per_request: float
    failure_overhead_per_request: float
    failure_overhead_monthly: float
    requests_per_month: float
    fixed_monthly: float
    latency: Optional[Latency] = Field(None, description="present only when the file declares latency")


class Budget(_Strict):
    metric: str
    op: Literal["<", "<=", ">", ">="]
    limit: float
    scenario: Optional[str]
    value: float
    margin: float
    holds: bool


class RiskEvent(_Strict):
    op: Literal["<", "<=", ">", ">="]
    limit: float


class RiskBudget(_Strict):
    """A probabilistic budget: over the guesses, estimated by Monte Carlo (`p95(monthly_total) < …`,
    `P(…) < …`), or over requests, from the spread of one request's figure (`p95(latency) < …`)."""

    metric: str
    statistic: str = Field(description="`mean`, a percentile `pN`, or `P` for a probability")
    op: Literal["<", "<=", ">", ">="]
    limit: float
    event: Optional[RiskEvent]
    scenario: Optional[str]
    value: float
    interval: list[float] = Field(description="the estimate's 95% interval [low, high]")
    samples: int = Field(description="Monte Carlo samples, or simulated walks; 0 when computed exactly")
    over: Literal["guesses", "requests"] = Field(
        description="`guesses`: a statistic over the uncertain parameters; `requests`: over the paths requests take")
    method: Optional[str] = Field(description="over requests: `exact`, `on a grid of …` or `N simulated walks`")
    holds: Optional[bool] = Field(description="null: too close to call at this sample count")
class PriceSource(_Strict):
    """Where one model's prices come from; every field but `model` and `overrides` is null
    for a model priced in the file."""

    model: str = Field(description="the model's name in the file")
    reference: Optional[str] = Field(description="the catalog reference as written, e.g. `anthropic:claude-sonnet-4`")
    entry: Optional[str] = Field(description="the catalog entry that priced it, `provider:model`")
    name: Optional[str] = Field(description="the entry's display name")
    priced_as: Optional[str] = Field(description="for a resold model, the owner's entry (`openai:gpt-4o` for `azure:gpt-4o`)")
    as_of: Optional[str] = Field(description="the `as of` date, YYYY-MM-DD; null: the newest prices")
    price_since: Optional[str] = Field(description="first day of the price period used, YYYY-MM-DD; null: not recorded")
    catalog: Optional[str] = Field(description="the snapshot, e.g. `genai-prices 0.2.3`")
    overrides: list[Literal["input", "output", "cached_input", "cache_write", "discount"]] = Field(
        description="what the file's model body changes in the catalog's prices")


class CostDocument(_Strict):
    """`llmarch cost --format json`"""

    format_version: Literal[2]
    architecture: str
    scenario: Optional[str]
    parameters: dict[str, float] = Field(description="every parameter's value, in its declared unit")
    components: list[ComponentRow]
    results: Results
    prices: list[PriceSource] = Field(description="the models the architecture uses, in declaration order")
    budgets: list[Union[Budget, RiskBudget]]
    uncertain_parameters: Optional[list[str]] = Field(
        None, description="present when parameters are uncertain: they are at their medians (the point value)")


class ExportNode(_Strict):
    id: str
    label: str
    kind: str
    category: str
    cost_per_visit: float
    outcome: Optional[Literal["success", "failure"]]
    latency_per_visit: Optional[float] = Field(
        None, description="seconds one visit takes (a retry's includes its backoff); present only when the "
        "file declares latency")


class ExportEdge(_Strict):
    source: str
    target: str
    probability: float


class ExportDocument(_Strict):
    """`llmarch export`"""

    format_version: Literal[2]
    architecture: str
    scenario: Optional[str]
    entry: str
    nodes: list[ExportNode]
    edges: list[ExportEdge]
    requests_per_month: float
    fixed_monthly: float
    results: Results
    prices: list[PriceSource] = Field(description="the models the architecture uses, in declaration order")


class SensitivityRow(_Strict):
    name: str
    unit: Optional[str]
    value: float
    derivative: float = Field(description="d monthly total / d parameter, USD a month per unit")
    derivative_per_request: float
    derivative_per_success: float
    elasticity: float
    low: float
    high: float
    monthly_at_low: float
    monthly_at_high: float
    derivative_latency: Optional[float] = Field(
        None, description="d expected latency per request / d parameter, seconds per unit; present only when "
        "the file declares latency")
    latency_elasticity: Optional[float] = Field(
        None, description="% change of the expected latency for a 1% change of the parameter; present only when "
        "the file declares latency")


class SensitivityDocument(_Strict):
    """`llmarch sensitivity --format json` and `llmarch tornado --format json`"""

    format_version: Literal[1]
    architecture: str
    scenario: Optional[str]
    parameters: list[SensitivityRow]
    at_month: Optional[float] = Field(description="the month of `time` analysed; null for a file without growth")


class Month(_Strict):
    month: int
    monthly_total: float
    by_category: Categories


class Scaling(_Strict):
    first_month: float
    last_month: float


class RiskMonth(_Strict):
    p5: float
    p50: float
    p95: float
    p_over_budget: Optional[float]


class ProjectionRisk(_Strict):
    """Present when parameters are uncertain: the monthly total's spread per month."""

    samples: int
    seed: int
    budget: Optional[float]
    months: list[RiskMonth]
    first_month_p_over_10: Optional[int]
    first_month_p_over_50: Optional[int]


class ProjectionDocument(_Strict):
    """`llmarch project --format json`"""

    format_version: Literal[1]
    architecture: str
    scenario: Optional[str]
    months: list[Month]
    budget: Optional[float]
    budget_crossed_month: Optional[int]
    scaling_exponents: dict[str, Scaling]
    requests_per_month: list[float]
    growth_exponent: Optional[float]
    uncertainty: Optional["ProjectionRisk"] = None


class SolutionDocument(_Strict):
    """`llmarch solve --format json`"""

    format_version: Literal[1]
    parameter: str
    target: float
    target_kind: Literal["monthly", "per_request", "per_success"]
    solutions: list[float]
    range: list[float] = Field(min_length=2, max_length=2)
    method: str
    jumps: list[float]
    against: Optional[str] = None


class SweepDocument(_Strict):
    """`llmarch sweep --format json`"""

    format_version: Literal[1]
    columns: list[str]
    rows: list[list[float]]


class Note(_Strict):
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None


class Finding(_Strict):
    severity: Literal["error", "warning"]
    code: str
    message: str
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    help: Optional[str] = None
    notes: Optional[list[Note]] = Field(None, description="where the finding comes from: a template instance, "
                                        "a guessed role, the line that drives it")


class LintDocument(_Strict):
    """`llmarch lint --format json`"""

    format_version: Literal[1]
    scenario: Optional[str]
    findings: list[Finding]


class DiffRow(_Strict):
    name: str
    before: Optional[float]
    after: Optional[float]
    delta: float
    percent: Optional[float]
    status: Literal["added", "removed", "changed", "same"]


class DiffParameter(_Strict):
    name: str
    before: Optional[str]
    after: Optional[str]
    status: Literal["added", "removed", "changed", "same"]


class RiskStats(_Strict):
    mean: float
    p5: float
    p50: float
    p95: float


class DiffRisk(_Strict):
    samples: int
    seed: int
    before: RiskStats
    after: RiskStats
    change: RiskStats
    p_increase: float = Field(description="P(after > before), over the paired samples")


class DiffDocument(_Strict):
    """`llmarch diff --format json`"""

    format_version: Literal[1]
    old: str
    new: str
    scenario: Optional[str]
    totals: list[DiffRow]
    by_category: list[DiffRow]
    components: list[DiffRow]
    parameters: list[DiffParameter]
    uncertainty: Optional["DiffRisk"] = Field(
        None, description="present when either side has uncertain parameters: the monthly total over them, "
                          "drawn with the same seed on both sides, and the change sample by sample")


class Snapshot(_Strict):
    package: str
    version: str
    date: Optional[str]
    date_source: str
    providers: int
    models: int


class Tier(_Strict):
    start: int
    per_mtok: float


class Price(_Strict):
    provider: str
    model: str
    name: Optional[str]
    input_per_mtok: Optional[float]
    output_per_mtok: Optional[float]
    cache_read_per_mtok: Optional[float]
    cache_write_per_mtok: Optional[float]
    tiers: dict[Literal["input", "output", "cache_read", "cache_write"], list[Tier]]


class PricesDocument(_Strict):
    """`llmarch prices --format json`"""

    format_version: Literal[1]
    snapshot: Snapshot
    as_of: Optional[str]
    prices: list[Price]


class Statistics(_Strict):
    """One figure over the Monte Carlo samples."""

    mean: float
    sd: float
    se_mean: float = Field(description="the Monte Carlo standard error of the mean, sd / sqrt(samples)")
    p5: float
    p50: float
    p95: float
    p99: float


class UncertainParameter(_Strict):
    distribution: Literal["lognormal", "logitnormal", "normal", "uniform", "triangular", "pert", "beta", "choice"]
    args: list[float] = Field(description="in the parameter's declared unit; see docs/uncertainty.md")
    weights: Optional[list[float]] = None
    written: str
    unit: Optional[str]
    median: float = Field(description="the point value `cost` uses")


class SimCorrelation(_Strict):
    first: str
    second: str
    rank: float


class SimPoint(_Strict):
    monthly_total: float
    cost_per_request: float
    p_success: float


class SimulateDocument(_Strict):
    """`llmarch simulate --format json`"""

    format_version: Literal[1]
    architecture: str
    scenario: Optional[str]
    samples: int
    seed: int
    set: dict[str, str]
    quantiles: str = Field(description="`exact`, or the size of the uniform subsample they come from")
    uncertain: dict[str, UncertainParameter]
    correlations: list[SimCorrelation]
    point: Optional[SimPoint]
    results: dict[Literal["monthly_total", "cost_per_request", "cost_per_success", "p_success", "monthly_inference",
                          "monthly_retrieval", "monthly_human", "monthly_ops", "monthly_infra"], Statistics]
    components: dict[str, Statistics]
    budgets: list[Union[Budget, RiskBudget]]


#: command -> the model of its JSON document
class CalibrationEstimate(_Strict):
    field: str = Field(description="what was measured, in the file's words: `summarize.fail_rate`, `check.rejection_rate`, `route -> summarize`, `traffic`")
    kind: Literal["share", "tokens", "rate", "count"]
    value: Optional[float] = Field(description="shares as fractions, tokens per call, requests per day")
    ci95: list[Optional[float]] = Field(description="the 95% interval: Wilson for shares, normal for means")
    n: int = Field(description="the sample size")
    source: str
    parameter: Optional[str] = Field(description="the parameter the field names directly (fitted), or null")


class CalibrationRow(_Strict):
    row: str
    category: str
    spans: int
    predicted: Optional[float] = Field(description="USD the file predicts for the traced requests")
    implied: Optional[float] = Field(description="USD: the traced tokens (or visits) at the file's prices")
    recorded: Optional[float] = Field(description="USD the traces recorded, or null")
    gap: Optional[float]
    gap_share: Optional[float]
    recorded_gap: Optional[float]
    note: str


class CalibrationSkip(_Strict):
    name: str
    spans: int


class CalibrationMissing(_Strict):
    row: str
    spans: int


class CalibrationGap(_Strict):
    parameter: Optional[str] = Field(description="a fitted parameter, or null: all of them together")
    value: str = Field(description="the measured value, as observed.llmarch writes it")
    change: float = Field(description="USD: how much it moves the prediction for the traced requests")


class CalibrateDocument(_Strict):
    """`llmarch calibrate --format json`."""

    format_version: Literal[1]
    architecture: str
    scenario: Optional[str]
    traces: int
    spans: int
    days: float
    sources: list[str]
    skipped: dict[str, int] = Field(description="spans skipped, by cause")
    orphans: int
    unknown_models: int
    unmatched: list[CalibrationSkip]
    without_tokens: list[CalibrationMissing]
    estimates: list[CalibrationEstimate]
    fitted: dict[str, float]
    reconciliation: list[CalibrationRow]
    gap: list[CalibrationGap]


class CapacityTraffic(_Strict):
    mean: float = Field(description="requests per day")
    peak: float = Field(description="requests per day: the mean times the peak factor")
    peak_factor: float = Field(description="`settings { peak = … }`, 1 when not given")


class CapacityLimit(_Strict):
    model: str
    limit: Literal["rpm", "tpm", "input_tpm", "output_tpm", "concurrency"]
    unit: Literal["requests/min", "tokens/min", "requests"]
    value: float = Field(description="the limit, in `unit`")
    per_request: float = Field(description="what one request asks of the model: calls (rpm), tokens (tpm: input "
                               "and output; input_tpm, output_tpm), seconds of calls (concurrency); retries and fallback copies included")
    mean_demand: float = Field(description="in `unit`, at the mean traffic")
    peak_demand: float = Field(description="in `unit`, at the peak traffic")
    mean_utilisation: float
    peak_utilisation: float
    headroom: float = Field(description="value − peak demand, in `unit` (negative: over the limit)")
    throttled_share: float = Field(description="max(0, 1 − value ÷ peak demand): the share refused at the peak; "
                                   "reported, not fed back into cost")
    binds_at: Optional[float] = Field(description="mean traffic (requests/day) at which the peak demand reaches "
                                      "the limit; null when the flow never calls the model")


class CapacityBinding(_Strict):
    model: str
    limit: str
    binds_at: float


class InFlightComponent(_Strict):
    name: str = Field(description="a component, or a `component@model` fallback copy")
    component: str
    seconds_per_request: float = Field(description="expected visits × seconds per visit, backoffs included")
    mean: float = Field(description="requests in it at once at the mean traffic (Little's law)")
    peak: float


class InFlightSystem(_Strict):
    seconds_per_request: float
    mean: float
    peak: float


class InFlight(_Strict):
    components: list[InFlightComponent]
    system: InFlightSystem


class RequestSpread(_Strict):
    """One request's figure over the path it takes, at the scenario's values."""

    metric: Literal["latency", "cost_per_request"]
    method: Literal["exact", "grid", "simulated"]
    mean: float = Field(description="the exact expected figure (seconds or USD)")
    std_dev: float
    percentiles: dict[str, float] = Field(description="p50, p95, p99")
    intervals: dict[str, list[float]] = Field(description="each percentile's bounds: itself when exact, the rounded-down "
                                              "and rounded-up grids, or the walks' 95% interval")
    unresolved: float = Field(description="probability left in loops below 1e-12, or the share of walks cut off")
    step: float = Field(description="the grid's step (0 unless `grid`)")
    walks: Optional[int] = Field(description="walks simulated, or null")


class ThrottledFree(_Strict):
    cost_per_request: float
    latency_per_request: Optional[float]
    p_success: float


class Throttled(_Strict):
    """A request's figures at one traffic with the providers' limits enforced."""

    traffic: float = Field(description="requests per day")
    shares: dict[str, float] = Field(description="model -> the share of its calls refused (HTTP 429), a fixed point")
    binding: dict[str, str] = Field(description="model -> the limit that sets its share, for the throttled ones")
    iterations: int
    converged: bool
    cost_per_request: float
    latency_per_request: Optional[float]
    p_success: float
    without_limits: ThrottledFree


class ThrottledPair(_Strict):
    mean: Throttled
    peak: Throttled


class CapacityDocument(_Strict):
    """`llmarch capacity --format json`."""

    format_version: Literal[2]
    architecture: str
    scenario: Optional[str]
    traffic: CapacityTraffic
    limits: list[CapacityLimit]
    binding: Optional[CapacityBinding] = Field(description="the limit the traffic reaches first, or null")
    in_flight: Optional[InFlight] = Field(description="null when the file declares no time")
    requests: dict[str, RequestSpread] = Field(description="the spread between requests: `latency` (when the file "
                                               "declares time) and `cost_per_request`")
    throttled: Optional[ThrottledPair] = Field(description="the limits enforced at the mean and at the peak traffic; "
                                               "null when no model declares a limit")


DOCUMENTS: dict[str, type[BaseModel]] = {
    "cost": CostDocument, "export": ExportDocument, "sensitivity": SensitivityDocument,
    "project": ProjectionDocument, "solve": SolutionDocument, "sweep": SweepDocument, "lint": LintDocument,
    "diff": DiffDocument, "prices": PricesDocument, "simulate": SimulateDocument, "calibrate": CalibrateDocument,
    "capacity": CapacityDocument,
}


def schema_of(command: str) -> dict:
    """The JSON Schema (draft 2020-12) of `command`'s JSON document."""
    model: Union[type[BaseModel], None] = DOCUMENTS.get(command)
    if model is None:
        raise KeyError(command)
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://llmarch.dev/schemas/{command}.schema.json"
    return schema
