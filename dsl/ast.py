"""The typed, immutable syntax tree of a `.llmarch` file.

One small frozen class per construct; class names follow the grammar's rule names.
Every node carries the `span` of the source it came from, so that errors found in
later stages (unit mismatches, loops with no exit) still point at the user's text.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict

from .diagnostics import Span

__all__ = [
    "Node", "Expr", "Quantity", "Percent", "Name", "BinOp", "Neg", "Call", "Interval", "ChoiceItem", "Choice",
    "Value", "Text", "Correlation",
    "Field", "Block", "Body", "Architecture", "ScenariosFor", "Import", "Param", "Traffic", "Settings",
    "Model", "Component", "Scenario", "Budget", "EdgeAttr", "Chain", "Flow", "Statement", "Module",
    "COMPONENT_KINDS",
]

COMPONENT_KINDS = ("llm", "embedding", "retrieval", "cache", "guardrail", "tool", "router", "human",
                   "observe", "fixed")


class Node(BaseModel):
    """Base of every syntax node."""

    model_config = ConfigDict(frozen=True)
    span: Span


# --- expressions -------------------------------------------------------------------

class Quantity(Node):
    """A number with an optional unit: `2.50 USD/Mtok`, `300 tokens`, `3`."""

    value: str  # the digits as written (underscores removed); exact, never a float
    unit: Optional[str] = None


class Percent(Node):
    """A number followed by `%`: `30%` means 0.3."""

    value: str


class Name(Node):
    """A reference to a parameter (or, in some fields, to a model or component)."""

    id: str


class BinOp(Node):
    """`left op right` with op one of `+ - * / ^`."""

    op: Literal["+", "-", "*", "/", "^"]
    left: "Expr"
    right: "Expr"


class Neg(Node):
    """Unary minus."""

    operand: "Expr"


class Call(Node):
    """A built-in function: `min(a, b)`, `max`, `ceil`, `floor`, `sqrt`, `log`, `exp`."""

    func: str
    args: tuple["Expr", ...]


Expr = Union[Quantity, Percent, Name, BinOp, Neg, Call]


# --- uncertain values ----------------------------------------------------------------

class Interval(Node):
    """`low to high`: an uncertain value given by its 90% interval (5th and 95th
    percentiles). Only a `param`'s value or a scenario's override of one."""

    low: Expr
    high: Expr


class ChoiceItem(Node):
    """`weight: value` inside `choice { }`."""

    weight: Expr
    value: Expr


class Choice(Node):
    """`choice { 70%: 400 tokens, 30%: 900 tokens }`: one of several values, with weights."""

    items: tuple[ChoiceItem, ...]


#: What a `param` (or a field) may be given: an expression, or an uncertain value (an
#: `Interval`, a `Choice`, or a `Call` of a distribution such as `normal(…)`).
Value = Union[Expr, Interval, Choice]


class Text(Node):
    """`"chat gpt-4*"`: a quoted text where a field takes one (a component's `span`)."""

    value: str


# --- bodies --------------------------------------------------------------------------

class Field(Node):
    """`name = expr` inside a body; a part of an `input { }` block may add its role:
    `history = 6 * turn as history` (`role` "history", `role_span` the word)."""

    name: str
    value: Union[Value, Text]
    role: Optional[str] = None
    role_span: Optional[Span] = None


class Block(Node):
    """`name { fields }` inside a body, e.g. the `input { ... }` parts of an LLM call."""

    name: str
    body: "Body"


class Body(Node):
    """The `{ ... }` of a declaration: fields and nested blocks, in source order."""

    items: tuple[Union[Field, Block], ...]


# --- statements --------------------------------------------------------------------

class Architecture(Node):
    """`architecture "Support assistant"`: the file's title."""

    title: str


class ScenariosFor(Node):
    """`scenarios for "model.llmarch"`: the first statement of a scenario file, which adds
    `scenario` blocks and `param`s to another main file (path relative to this file)."""

    path: str


class Import(Node):
    """`import "prices.llmarch"` (a project file, relative path) or `import vector_dbs`
    (a standard-library module): merge another file's declarations."""

    path: Optional[str] = None
    module: Optional[str] = None


class Param(Node):
    """`param name = value [in [low, high]] ["description"]`; the value may be uncertain."""

    name: str
    value: Value
    low: Optional[Expr] = None
    high: Optional[Expr] = None
    description: Optional[str] = None
    name_span: Span


class Traffic(Node):
    """`traffic = expr`: requests per unit of time."""

    value: Expr


class Budget(Node):
    """`budget monthly_total < 10000 USD/month [in scenario]`: a bound the result must keep.
    Over uncertain parameters a budget may bound a statistic, `budget p95(monthly_total) <
    9000 USD/month` (`statistic` "p95"), or a probability, `budget P(monthly_total > 9000
    USD/month) < 10%` (`statistic` "P", the event `event_op event_limit`)."""

    metric: str
    metric_span: Span
    op: Literal["<", "<=", ">", ">="]
    limit: Expr
    scenario: Optional[str] = None
    scenario_span: Optional[Span] = None
    statistic: Optional[str] = None
    statistic_span: Optional[Span] = None
    event_op: Optional[Literal["<", "<=", ">", ">="]] = None
    event_limit: Optional[Expr] = None


class Correlation(Node):
    """`correlate a with b = 0.6 ["why"]`: the rank correlation of two uncertain parameters."""

    first: str
    first_span: Span
    second: str
    second_span: Span
    value: Expr
    description: Optional[str] = None


class Settings(Node):
    """`settings { month = 30 days }`."""

    body: Body


class Model(Node):
    """`model name ["label"] { input = ..., output = ..., cached_input = ... }`."""

    name: str
    label: Optional[str] = None
    body: Body
    name_span: Span
    catalog: Optional[str] = None          # `= "openai:gpt-4o"`: prices from the catalog
    catalog_span: Optional[Span] = None
    as_of: Optional[str] = None            # `as of "2025-05-01"`
    as_of_span: Optional[Span] = None


class Component(Node):
    """`<kind> name ["label"] { ... }`: one box of the architecture."""

    kind: str
    name: str
    label: Optional[str] = None
    body: Body
    name_span: Span


class Scenario(Node):
    """`scenario name [extends other] ["description"] { param = expr ... }`."""

    name: str
    extends: Optional[str] = None
    extends_span: Optional[Span] = None
    description: Optional[str] = None
    body: Body
    name_span: Span


class EdgeAttr(Node):
    """One attribute of an edge: `p = expr`, `otherwise` or `on_failure`."""

    kind: Literal["p", "otherwise", "on_failure"]
    value: Optional[Expr] = None


class Chain(Node):
    """`a -> b -> c [(attrs)]` inside `flow { }`."""

    nodes: tuple[str, ...]
    node_spans: tuple[Span, ...]
    attrs: tuple[EdgeAttr, ...] = ()


class Flow(Node):
    """`flow { chains }`: how a request moves between components."""

    chains: tuple[Chain, ...]


class TemplateParam(Node):
    """`param hit_rate [= default] ["description"]` inside a template: an argument."""

    name: str
    name_span: Span
    default: Optional[Expr] = None
    description: Optional[str] = None


class Template(Node):
    """`template NAME ["label"] { param …; components; flow { in -> … -> out } }`."""

    name: str
    name_span: Span
    label: Optional[str] = None
    params: tuple[TemplateParam, ...]
    items: tuple[Union[Component, Flow, "Use"], ...]


class Use(Node):
    """`use TEMPLATE as NAME ["label"] { argument = value }`: one instance of a template."""

    template: str
    template_span: Span
    name: str
    name_span: Span
    label: Optional[str] = None
    body: Optional[Body] = None


Statement = Union[Architecture, ScenariosFor, Import, Param, Traffic, Settings, Model, Component, Flow, Scenario, Budget,
                  Correlation, Template, Use]


class Module(Node):
    """One parsed file."""

    path: str
    statements: tuple[Statement, ...]

    @property
    def over(self) -> Optional[ScenariosFor]:
        """The `scenarios for` header when this is a scenario file (its first statement), else None."""
        first = self.statements[0] if self.statements else None
        return first if isinstance(first, ScenariosFor) else None


for _cls in (BinOp, Neg, Call, Block, Body, Field, Template, Param, Interval, ChoiceItem, Choice):
    _cls.model_rebuild()
