"""Templates: expansion, namespacing, ports, diagnostics, and every standard-library
template against a hand-derived expected cost."""

from __future__ import annotations

import math

import pytest

import llmarch
from llmarch import LlmarchError
from llmarch.compiler.loader import stdlib_modules

DAYS = 30
M_IN, M_OUT = 1e-6, 2e-6          # model m: 1 and 2 USD per million tokens
BIG_IN, BIG_OUT = 10e-6, 30e-6    # model big: 10 and 30 USD per million tokens

HEADER = """
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
model big { input = 10 USD/Mtok; output = 30 USD/Mtok }
"""


def cost(text: str, **kw):
    return llmarch.loads(HEADER + text, path="t.llmarch").cost(**kw)


def rows(result):
    return {r.name: r for r in result.components}


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-15)


# --- the standard library, one hand-derived cost per template -----------------------------

def test_semantic_cache():
    r = cost("""
import caching
use semantic_cache as faq { hit_rate = 30%; lookup_cost = 0.0002 USD/query }
llm answer { model = m; input = 1000 tokens; output = 500 tokens }
flow { start -> faq -> answer }
""")
    answer = 1000 * M_IN + 500 * M_OUT                    # 0.002 per call
    assert r.cost_per_request == approx(0.0002 + 0.7 * answer)
    assert rows(r)["faq.lookup"].expected_visits == approx(1.0)
    assert rows(r)["answer"].expected_visits == approx(0.7)
    assert r.p_success == approx(1.0)


def test_rag_pipeline_with_a_routed_share():
    r = cost("""
import rag
model embed { input = 0.02 USD/Mtok; output = 0 USD/Mtok }
use rag_pipeline as kb { embed_model = embed; share = 60%; rerank_cost = 0.0001 USD/query }
llm answer { model = m; input = 1000 tokens; output = 500 tokens }
flow { start -> kb -> answer }
""")
    # 60% embed 60 tokens (1.2e-6) and search (0.0004 + 0.0001); everyone gets an answer
    per_retrieval = 60 * 0.02e-6 + 0.0005
    assert r.cost_per_request == approx(0.6 * per_retrieval + 1000 * M_IN + 500 * M_OUT)
    assert rows(r)["kb.search"].expected_visits == approx(0.6)
    assert rows(r)["answer"].expected_visits == approx(1.0)


def test_reindex_job_is_a_monthly_cost():
    r = cost("""
import rag
model embed { input = 0.02 USD/Mtok; output = 0 USD/Mtok }
param documents = 100000 docs
use reindex_job as nightly { embed_model = embed; documents = documents; doc_tokens = 800 tokens/doc; every = 7 days }
llm answer { model = m; input = 1 tokens; output = 0 tokens }
flow { start -> answer }
""")
    # 100,000 docs x 800 tokens every 7 days = 8e7 / 7 tokens a day, x 30 days x 0.02e-6
    expected = 100_000 * 800 / 7 * DAYS * 0.02e-6
    assert r.fixed_monthly == approx(expected)
    assert rows(r)["nightly.reembed"].category == "retrieval"


def test_guarded_generation_regenerates_rejected_answers():
    r = cost("""
import guardrails
use guarded_generation as answer { model = m; input = 1000 tokens; output = 500 tokens; rejected = 20% }
flow { start -> answer }
""")
    # the loop generate -> check -> generate (20%) runs 1 / (1 - 0.2) = 1.25 times
    per_pass = 1000 * M_IN + 500 * M_OUT + 0.0002
    assert r.cost_per_request == approx(per_pass / 0.8)
    assert rows(r)["answer.generate"].expected_visits == approx(1.25)
    assert r.p_success == approx(1.0)


def test_guarded_generation_with_retries():
    r = cost("""
import guardrails
use guarded_generation as answer {
  model = m; input = 1000 tokens; output = 500 tokens; rejected = 20%; fail_rate = 10%; attempts = 2
}
flow { start -> answer }
""")
    # one pass: attempt 1 always, attempt 2 with 0.1; the check runs when either succeeds
    # (1 - 0.01); the pass repeats with 0.99 * 0.2, so passes = 1 / (1 - 0.198)
    passes = 1 / (1 - 0.99 * 0.2)
    call = 1000 * M_IN + 500 * M_OUT
    assert r.cost_per_request == approx(passes * (1.1 * call + 0.99 * 0.0002))
    assert r.p_success == approx(passes * 0.99 * 0.8)


def test_fallback_ladder_matches_the_hand_written_architecture():
    ladder = cost("""
import reliability
use fallback_ladder as answer {
  primary = m; secondary = big; input = 1000 tokens; output = 200 tokens; primary_failure = 10%
}
flow { start -> answer }
""")
    f1, f2 = 0.1, 0.01
    small = 1000 * M_IN + 200 * M_OUT
    large = 1000 * BIG_IN + 200 * BIG_OUT
    # primary: 1 + f1 + f1^2 attempts; f1^3 reach the fallback, which tries 1 + f2 times
    expected = (1 + f1 + f1 ** 2) * small + f1 ** 3 * (1 + f2) * large
    assert ladder.cost_per_request == approx(expected)
    assert ladder.p_success == approx(1 - f1 ** 3 * f2 ** 2)
    # the same architecture written out by hand (an independent encoding of the ladder)
    by_hand = cost("""
llm p { model = m; input = 1000 tokens; output = 200 tokens; fail_rate = 10%; attempts = 3; fallback = s }
llm s { model = big; input = 1000 tokens; output = 200 tokens; fail_rate = 1%; attempts = 2 }
flow { start -> p; s -> success }
""")
    assert ladder.cost_per_request == approx(by_hand.cost_per_request)
    assert ladder.p_success == approx(by_hand.p_success)


def test_model_router():
    r = cost("""
import routing
use model_router as answer {
  small = m; large = big; small_share = 70%; input = 1000 tokens; output = 200 tokens
  route_cost = 0.00001 USD/request
}
flow { start -> answer }
""")
    expected = 0.00001 + 0.7 * (1000 * M_IN + 200 * M_OUT) + 0.3 * (1000 * BIG_IN + 200 * BIG_OUT)
    assert r.cost_per_request == approx(expected)
    assert rows(r)["answer.large_call"].expected_visits == approx(0.3)


def test_review_queue():
    r = cost("""
import review
llm answer { model = m; input = 1000 tokens; output = 200 tokens }
use review_queue as qa { share = 10%; minutes = 6 min; hourly_rate = 40 USD/hour }
flow { start -> answer -> qa }
""")
    # 10% of answers x 6 minutes x 40 USD/hour = 0.1 x 4 USD
    assert r.cost_per_request == approx(1000 * M_IN + 200 * M_OUT + 0.1 * 4.0)
    assert r.by_category["human"] == approx(0.4 * 1000 * DAYS)


def test_observability_stack():
    r = cost("""
import observability
llm answer { model = m; input = 1000 tokens; output = 200 tokens }
use observability_stack as obs {
  per_trace = 0.004 USD/trace; per_token = 2 USD/Mtok; sample = 50%
  seats = 5 seats; seat_price = 39 USD/seat/month; platform = 100 USD/month
}
flow { start -> answer }
""")
    # half the requests traced: 0.004 per trace plus 1,200 tokens x 2 USD/Mtok
    tracing = 0.5 * (0.004 + 1200 * 2e-6)
    assert r.cost_per_request == approx(1000 * M_IN + 200 * M_OUT + tracing)
    assert r.fixed_monthly == approx(5 * 39 + 100)
    assert r.by_category["ops"] == approx(tracing * 1000 * DAYS + 295)


def test_every_stdlib_module_compiles():
    modules = stdlib_modules()
    assert {"caching", "rag", "guardrails", "reliability", "routing", "review", "observability"} <= set(modules)
    imports = "\n".join(f"import {m}" for m in modules)
    model = llmarch.loads(HEADER + imports + """
llm answer { model = m; input = 1 tokens; output = 1 tokens }
flow { start -> answer }
""", path="t.llmarch")
    assert model.cost().cost_per_request > 0


# --- expansion ---------------------------------------------------------------------------

CACHE_TEMPLATE = """
template cached_answer "A cached answer" {
  param hit
  param model
  param tokens = 1000 tokens
  cache lookup { hit_rate = hit; cost = 0.001 USD/query }
  llm gen { model = model; input = tokens; output = 100 tokens }
  flow { in -> lookup -> gen -> out }
}
"""


def test_instances_are_namespaced_and_grouped():
    model = llmarch.loads(HEADER + CACHE_TEMPLATE + """
use cached_answer as first "First line" { hit = 50%; model = m }
use cached_answer as second { hit = 10%; model = big; tokens = 2000 tokens }
flow { start -> first -> second }
""", path="t.llmarch")
    arch = model.compiled.arch
    assert list(arch.components) == ["first.lookup", "first.gen", "second.lookup", "second.gen"]
    assert arch.components["second.gen"].group == "second"
    assert arch.groups == {"first": "First line", "second": "A cached answer"}
    r = model.cost()
    # a hit in `first` ends the request; `second` sees the other half
    first = 0.001 + 0.5 * (1000 * M_IN + 100 * M_OUT)
    second = 0.5 * (0.001 + 0.9 * (2000 * BIG_IN + 100 * BIG_OUT))
    assert r.cost_per_request == approx(first + second)


def test_nested_templates_and_local_names_in_arguments():
    model = llmarch.loads(HEADER + CACHE_TEMPLATE + """
template two_tier {
  param share
  use cached_answer as cheap { hit = 0%; model = m }
  llm expensive { model = big; input = 500 tokens; output = 50 tokens }
  flow {
    in -> cheap (p = share)
    in -> expensive (otherwise)
    cheap -> out
    expensive -> out
  }
}
use two_tier as svc { share = 25% }
flow { start -> svc }
""", path="t.llmarch")
    assert "svc.cheap.gen" in model.compiled.arch.components
    r = model.cost()
    assert r.cost_per_request == approx(0.25 * (0.001 + 1000 * M_IN + 100 * M_OUT)
                                        + 0.75 * (500 * BIG_IN + 50 * BIG_OUT))


def test_a_flow_may_branch_as_it_starts():
    model = llmarch.loads(HEADER + """
template split {
  param share
  llm a { model = m; input = 1000 tokens; output = 0 tokens }
  llm b { model = big; input = 1000 tokens; output = 0 tokens }
  flow { in -> a (p = share); in -> b (otherwise) }
}
use split as s { share = 10% }
flow { start -> s }
""", path="t.llmarch")
    assert model.compiled.arch.entry == "start"
    r = model.cost()
    assert r.cost_per_request == approx(0.1 * 1000 * M_IN + 0.9 * 1000 * BIG_IN)
    assert [row.name for row in r.components] == ["s.a", "s.b"]     # `start` is not a component


def test_an_instance_can_be_entered_from_a_branch_and_left_to_a_loop():
    # in -> out with no component, inside a loop that has a component: exact
    r = cost("""
template passthrough {
  flow { in -> out }
}
use passthrough as p
llm a { model = m; input = 1000 tokens; output = 0 tokens }
flow {
  start -> a -> p
  p -> a (p = 0.5)
  p -> success (otherwise)
}
""")
    assert r.cost_per_request == approx(2 * 1000 * M_IN)


def test_a_loop_through_ports_only_is_an_error():
    with pytest.raises(LlmarchError) as err:
        llmarch.loads(HEADER + """
template passthrough {
  flow { in -> out }
}
use passthrough as p
llm a { model = m; input = 1000 tokens; output = 0 tokens }
flow {
  start -> a -> p
  p -> p (p = 0.5)
  p -> success (otherwise)
}
""", path="t.llmarch")
    assert "E412" in [d.code for d in err.value.diagnostics]


# --- diagnostics ---------------------------------------------------------------------------

def diagnostics(text: str):
    with pytest.raises(LlmarchError) as err:
        llmarch.loads(HEADER + text, path="t.llmarch")
    return err.value.diagnostics


def test_an_error_inside_an_instance_points_at_the_template_and_the_use():
    # HEADER is 4 lines and CACHE_TEMPLATE 9: the `use` is line 15
    found = diagnostics(CACHE_TEMPLATE + """
use cached_answer as first { hit = 50%; model = m; tokens = 3 USD }
flow { start -> first }
""")
    d = found[0]
    assert d.code == "E300"
    assert (d.span.line, d.span.column) == (15, 61)     # the argument `3 USD`, where it was written
    assert d.notes[-1][1].line == 15                     # and a note at the `use`
    found = diagnostics(CACHE_TEMPLATE + """
use cached_answer as first { hit = 50%; model = nope }
flow { start -> first }
""")
    d = next(d for d in found if d.code == "E216")
    assert d.span.line == 15        # the unknown model is the argument's text
    found = diagnostics("""
template bad {
  llm gen { model = m; input = 100 tokens; output = 1 USD }
  flow { in -> gen -> out }
}
use bad as one
use bad as two
flow { start -> one -> two }
""")
    # the error is in the template's text, once per instance, each noting its `use`
    assert [d.code for d in found] == ["E300", "E300"]
    assert {d.span.line for d in found} == {7}      # the `llm gen` line of the template
    notes = sorted(d.notes[-1][1].line for d in found)
    assert notes == [10, 11]
    assert "an instance of template `bad`" in found[0].notes[-1][0]


@pytest.mark.parametrize("text,code,words", [
    ("use nope as x\nflow { start -> x }", "E250", "unknown template `nope`"),
    (CACHE_TEMPLATE + "use cached_answer as x { model = m }\nflow { start -> x }", "E253", "needs the argument `hit`"),
    (CACHE_TEMPLATE + "use cached_answer as x { hit = 1%; model = m; hits = 2 }\nflow { start -> x }",
     "E252", "has no parameter `hits`"),
    ("template t {\n  use t as again\n  flow { in -> out }\n}\nuse t as x\nflow { start -> x }", "E251",
     "instantiates itself"),
    (CACHE_TEMPLATE + "use cached_answer as x { hit = 1%; model = m }\n"
     "llm x { model = m; input = 1 tokens; output = 1 tokens }\nflow { start -> x }", "E101", "already declared"),
    ("template t {\n  llm a { model = m; input = 1 tokens; output = 1 tokens }\n  flow { start -> a }\n}\n"
     "use t as x\nflow { start -> x }", "E405", "a template's flow begins at `in`"),
    ("template t {\n  llm a { model = m; input = 1 tokens; output = 1 tokens }\n  flow { in -> a; out -> a }\n}\n"
     "use t as x\nflow { start -> x }", "E405", "nothing follows it inside"),
    ("import nowhere\nllm a { model = m; input = 1 tokens; output = 1 tokens }\nflow { start -> a }", "E014",
     "unknown standard-library module `nowhere`"),
    ("import observability\nuse observability_stack as o\nllm a { model = m; input = 1 tokens; output = 1 tokens }\n"
     "flow { start -> a -> o }", "E404", "has no flow"),
])
def test_template_diagnostics(text, code, words):
    found = diagnostics(text)
    assert any(d.code == code and words in d.message for d in found), [d.render() for d in found]


def test_templates_have_their_own_namespace_but_instances_share_the_files():
    # a parameter named like a standard-library template is fine ...
    llmarch.loads(HEADER + """
import caching
param semantic_cache = 3
llm a { model = m; input = 1 tokens; output = 1 tokens }
flow { start -> a }
""", path="t.llmarch")
    # ... an instance named like a component is a clash
    found = diagnostics("""
import caching
use semantic_cache as a { hit_rate = 10% }
llm a { model = m; input = 1 tokens; output = 1 tokens }
flow { start -> a }
""")
    assert any(d.code == "E101" for d in found)


def test_expansion_is_linear_in_instances():
    # not a timing: the expanded component count and edges are exactly proportional
    text = CACHE_TEMPLATE + "".join(f"use cached_answer as c{i} {{ hit = 10%; model = m }}\n" for i in range(200))
    text += "flow { start -> " + " -> ".join(f"c{i}" for i in range(200)) + " }\n"
    model = llmarch.loads(HEADER + text, path="t.llmarch")
    assert len(model.compiled.arch.components) == 400
    assert len(model.compiled.arch.edges) == 200 + 199   # lookup -> gen inside, gen -> the next lookup
    r = model.cost()
    assert math.isfinite(r.monthly_total)


# --- property: a template instance is exactly its components written out ---------------------

def _property_module():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).with_name("test_property_markov.py")
    spec = importlib.util.spec_from_file_location("_llmarch_property_markov", path)
    module = importlib.util.module_from_spec(spec)
    import sys
    sys.modules[spec.name] = module      # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


_PM = _property_module()

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


def _templated(specs, through: set) -> str:
    """The same random architecture as one template instance; every edge whose index is in
    `through` passes through an instance of an empty `in -> out` template on its way."""
    body = _PM.to_source(specs).split("\n")
    components = [line for line in body if line.startswith(("tool ", "cache "))]
    chains, passes, k = [], [], 0
    for s in specs:
        for t, p in s.edges:
            target = t
            if k in through and t != "failure":
                passes.append(f"  use passthrough as via{k}")
                chains.append(f"    {s.name} -> via{k} (p = {p})")
                chains.append(f"    via{k} -> {t}")
            else:
                chains.append(f"    {s.name} -> {target} (p = {p})")
            k += 1
    return "\n".join([
        'architecture "random, templated"', "traffic = 1000 requests/day",
        "template passthrough {", "  flow { in -> out }", "}",
        "template whole {", *("  " + c for c in components), *passes,
        "  flow {", f"    in -> {specs[0].name}", *chains, "  }", "}",
        "use whole as w", "flow { start -> w }", ""])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PM.architectures(), st.sets(st.integers(0, 20), max_size=6))
def test_an_instance_costs_exactly_what_its_components_written_out_cost(specs, through):
    plain = llmarch.loads(_PM.to_source(specs), path="plain.llmarch").cost()
    templated = llmarch.loads(_templated(specs, through), path="templated.llmarch").cost()
    assert templated.cost_per_request == pytest.approx(plain.cost_per_request, rel=1e-9, abs=1e-12)
    assert templated.p_success == pytest.approx(plain.p_success, rel=1e-9, abs=1e-12)
    assert templated.happy_path_cost_per_request == pytest.approx(plain.happy_path_cost_per_request,
                                                                  rel=1e-9, abs=1e-12)
    visits = {r.name: r.expected_visits for r in plain.components}
    for row in templated.components:
        assert row.expected_visits == pytest.approx(visits[row.name.removeprefix("w.")], rel=1e-9, abs=1e-12)
