"""Templates: parameterized groups of components, expanded before elaboration.

    template semantic_cache "Semantic cache" {
      param hit_rate
      param lookup = 0.0001 USD/query
      cache lookup { hit_rate = hit_rate; cost = lookup }
      flow { in -> lookup -> out }
    }
    use semantic_cache as faq { hit_rate = 30% }

`use` makes an instance: a copy of the template's components named `faq.lookup`, its
arguments put in place of the template's parameters, and its flow with `in` and `out` as
the instance's ports (`port_in`, `port_out`). A template without a flow (overlays and
fixed costs only) makes instances that stay out of the flow. Expansion is syntactic and linear in the size of what it
writes out: each instance is one walk over its template's syntax tree.

Names inside a template body mean, in order: the template's parameters (replaced by the
arguments, themselves read where the instance was made), the template's own components
and instances (renamed `instance.name`), and otherwise the file's declarations (models,
parameters). Everything is resolved here; `semantics` sees ordinary components.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from llmarch.dsl import ast
from llmarch.dsl.diagnostics import Collector, Span, did_you_mean

__all__ = ["Instance", "Scope", "Expansion", "expand", "MAX_TEMPLATE_DEPTH", "port_in", "port_out", "is_port"]

#: Templates may instantiate other templates this deep.
MAX_TEMPLATE_DEPTH = 16
#: At most this many components from all instances together: a template that uses another
#: twice, nested 16 deep, would otherwise ask for 2^16 copies.
MAX_EXPANDED_COMPONENTS = 100_000
MAX_INSTANCES = 20_000

_PORT = "::"


def port_in(instance: str) -> str:
    """The node a flow edge into an instance goes to (no user name can contain `::`)."""
    return instance + _PORT + "in"


def port_out(instance: str) -> str:
    return instance + _PORT + "out"


def is_port(node: str) -> bool:
    return _PORT in node


@dataclass(frozen=True)
class Instance:
    """One `use`: its full name (`rag.cache` when nested), template and where it was made."""

    name: str
    template: str
    label: Optional[str]
    span: Span                      # the `use` statement
    parent: Optional["Instance"]
    has_flow: bool = True           # False: only overlays and fixed costs, nothing to route through

    @property
    def notes(self) -> tuple[tuple[str, Span], ...]:
        """Where this instance (and every instance around it) was made, for diagnostics."""
        own = ((f"in `{self.name}`, an instance of template `{self.template}` made here", self.span),)
        return own + (self.parent.notes if self.parent else ())


@dataclass
class Scope:
    """What names mean inside one instance's body."""

    instance: Instance
    env: dict[str, ast.Expr]                 # template parameter -> argument (already closed)
    local: set[str]                          # the template's components and instances

    @property
    def prefix(self) -> str:
        return self.instance.name + "."


@dataclass
class Expansion:
    statements: list[tuple[bool, object]]                # (in the main file, statement), instances expanded
    flows: list[tuple[ast.Flow, Scope]] = field(default_factory=list)
    instances: dict[str, Instance] = field(default_factory=dict)
    origin: dict[str, Instance] = field(default_factory=dict)      # component name -> its instance
    templates: dict[str, ast.Template] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)   # instances not made (already reported)


def expand(statements: list[tuple[bool, object]], c: Collector) -> Expansion:
    """Replace every `use` by its instance's components; collect the instances' flows."""
    templates: dict[str, ast.Template] = {}
    for _, s in statements:
        if isinstance(s, ast.Template):
            if s.name in templates:
                c.error("E101", f"template `{s.name}` is already declared", s.name_span,
                        notes=(("first declared here", templates[s.name].name_span),))
                continue
            _check_template(s, c)
            templates[s.name] = s
    out = Expansion([], templates=templates)
    expander = _Expander(templates, out, c)
    for in_main, s in statements:
        if isinstance(s, ast.Template):
            continue
        if isinstance(s, ast.Use):
            expander.instantiate(s, None, (), in_main)
        else:
            out.statements.append((in_main, s))
    return out


def _check_template(t: ast.Template, c: Collector) -> None:
    seen: dict[str, Span] = {}
    for p in t.params:
        if p.name in seen:
            c.error("E101", f"parameter `{p.name}` of template `{t.name}` is already declared", p.name_span,
                    notes=(("first declared here", seen[p.name]),))
        seen[p.name] = p.name_span
    names: dict[str, Span] = {}
    flows = 0
    for item in t.items:
        if isinstance(item, ast.Flow):
            flows += 1
            if flows == 2:
                c.error("E022", f"template `{t.name}` has two `flow` blocks", item.span)
            continue
        name, span = (item.name, item.name_span)
        if name in ("in", "out"):
            c.error("E102", f"`{name}` is reserved in a template: it is the instance's {name}put port", span,
                    help="choose another name")
        elif name in seen:
            c.error("E101", f"`{name}` is already declared in template `{t.name}` (as a parameter)", span,
                    notes=(("first declared here", seen[name]),))
        elif name in names:
            c.error("E101", f"`{name}` is already declared in template `{t.name}`", span,
                    notes=(("first declared here", names[name]),))
        names[name] = span


class _Expander:
    def __init__(self, templates: dict[str, ast.Template], out: Expansion, c: Collector):
        self.templates = templates
        self.out = out
        self.c = c
        self.too_many = False
        self.too_deep = False

    def instantiate(self, use: ast.Use, scope: Optional[Scope], stack: tuple[str, ...], in_main: bool) -> None:
        c = self.c
        context = scope.instance.notes if scope else ()
        full = (scope.prefix if scope else "") + use.name
        self.out.failed.add(full)   # until it is made: the flow stays quiet about it
        template = self.templates.get(use.template)
        if template is None:
            c.error("E250", f"unknown template `{use.template}`", use.template_span, notes=context,
                    help=did_you_mean(use.template, self.templates)
                    or "templates come from the file, its imports, or a standard-library module "
                       "(`import rag`; see docs/stdlib.md)")
            return
        if template.name in stack:
            c.error("E251", f"template `{template.name}` instantiates itself: "
                    + " -> ".join(stack + (template.name,)), use.template_span, notes=context)
            return
        if len(stack) >= MAX_TEMPLATE_DEPTH:
            if not self.too_deep:   # once: a tree of instances would repeat it on every branch
                self.too_deep = True
                c.error("E251", f"templates nested more than {MAX_TEMPLATE_DEPTH} deep", use.span, notes=context)
            return
        if len(self.out.origin) >= MAX_EXPANDED_COMPONENTS or len(self.out.instances) >= MAX_INSTANCES:
            if not self.too_many:
                self.too_many = True
                c.error("E254", f"template instances make more than {MAX_INSTANCES:,} instances or "
                        f"{MAX_EXPANDED_COMPONENTS:,} components", use.span, notes=context,
                        help="a template that uses another several times multiplies at every level of nesting")
            return
        if full in self.out.instances:
            c.error("E101", f"instance `{full}` is already declared", use.name_span, notes=context
                    + (("first declared here", self.out.instances[full].span),))
            return
        instance = Instance(full, template.name, use.label or template.label, use.span,
                            scope.instance if scope else None,
                            has_flow=any(isinstance(i, ast.Flow) for i in template.items))
        self.out.instances[full] = instance
        env = self.arguments(use, template, scope, instance)
        if env is None:
            return
        self.out.failed.discard(full)
        local = {i.name for i in template.items if not isinstance(i, ast.Flow)}
        inner = Scope(instance, env, local)
        for item in template.items:
            if isinstance(item, ast.Component):
                renamed = item.model_copy(update={"name": inner.prefix + item.name,
                                                  "body": self.close_body(item.body, inner)})
                self.out.origin[renamed.name] = instance
                self.out.statements.append((in_main, renamed))
            elif isinstance(item, ast.Use):
                body = self.close_body(item.body, inner) if item.body is not None else None
                self.instantiate(item.model_copy(update={"body": body}), inner, stack + (template.name,), in_main)
            else:
                self.out.flows.append((self.close_flow(item, inner), inner))

    def arguments(self, use: ast.Use, template: ast.Template, scope: Optional[Scope],
                  instance: Instance) -> Optional[dict[str, ast.Expr]]:
        c = self.c
        params = {p.name: p for p in template.params}
        given: dict[str, ast.Field] = {}
        ok = True
        for item in (use.body.items if use.body else ()):
            if isinstance(item, ast.Block):
                c.error("E211", f"arguments of `{instance.name}` are values, not blocks", item.span,
                        notes=instance.notes)
                ok = False
            elif item.name not in params:
                c.error("E252", f"template `{template.name}` has no parameter `{item.name}`", item.span,
                        notes=(("the template is declared here", template.name_span),),
                        help=did_you_mean(item.name, params) or "parameters: " + ", ".join(params)
                        if params else f"template `{template.name}` takes no arguments")
                ok = False
            elif item.name in given:
                c.error("E212", f"`{item.name}` is given twice to `{instance.name}`", item.span,
                        notes=(("first given here", given[item.name].span),))
                ok = False
            else:
                given[item.name] = item
        env: dict[str, ast.Expr] = {}
        for p in template.params:
            if p.name in given:
                # an argument means what it means where the instance is made
                env[p.name] = self.close(given[p.name].value, scope)
            elif p.default is not None:
                env[p.name] = self.close(p.default, Scope(instance, dict(env), set()))
            else:
                c.error("E253", f"`{instance.name}` needs the argument `{p.name}` of template `{template.name}`",
                        use.name_span, notes=(("the parameter is declared here", p.name_span),)
                        + (scope.instance.notes if scope else ()),
                        help=f"add `{p.name} = …` in `use {template.name} as {use.name} {{ … }}`"
                        + (f" ({p.description})" if p.description else ""))
                ok = False
        return env if ok else None

    # --- closing syntax over a scope ------------------------------------------------------
    def close(self, expr: ast.Expr, scope: Optional[Scope]) -> ast.Expr:
        """`expr` with the scope's parameters replaced and its local names qualified."""
        if scope is None:
            return expr
        if isinstance(expr, ast.Name):
            if expr.id in scope.env:
                return scope.env[expr.id]
            if expr.id in scope.local:
                return expr.model_copy(update={"id": scope.prefix + expr.id})
            return expr
        if isinstance(expr, ast.BinOp):
            return expr.model_copy(update={"left": self.close(expr.left, scope),
                                           "right": self.close(expr.right, scope)})
        if isinstance(expr, ast.Neg):
            return expr.model_copy(update={"operand": self.close(expr.operand, scope)})
        if isinstance(expr, ast.Call):
            return expr.model_copy(update={"args": tuple(self.close(a, scope) for a in expr.args)})
        return expr

    def close_body(self, body: ast.Body, scope: Scope) -> ast.Body:
        items = []
        for item in body.items:
            if isinstance(item, ast.Block):
                items.append(item.model_copy(update={"body": self.close_body(item.body, scope)}))
            else:
                items.append(item.model_copy(update={"value": self.close(item.value, scope)}))
        return body.model_copy(update={"items": tuple(items)})

    def close_flow(self, flow: ast.Flow, scope: Scope) -> ast.Flow:
        chains = []
        for chain in flow.chains:
            attrs = tuple(a.model_copy(update={"value": self.close(a.value, scope)}) if a.value is not None else a
                          for a in chain.attrs)
            chains.append(chain.model_copy(update={"attrs": attrs}))
        return flow.model_copy(update={"chains": tuple(chains)})
