"""Lint rules: each has a file that triggers it and one that does not; thresholds from the
file and from pyproject.toml; silencing comments; exit codes."""

from pathlib import Path

import pytest

from llmarch.cli import EXIT_BUDGET, EXIT_LINT, EXIT_OK, main

ROOT = Path(__file__).resolve().parents[2]

HEAD = """
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
model big { input = 10 USD/Mtok; output = 20 USD/Mtok }
"""

CASES = {
    # code: (triggers, clean)
    "L101": ("llm a { model = m; input { system = 100 tokens; user = 100 tokens; history = 300 tokens }; output = 10 tokens }\nflow { start -> a }",
             "llm a { model = m; input { system = 100 tokens; user = 100 tokens; history = 150 tokens }; output = 10 tokens }\nflow { start -> a }"),
    "L102": ("llm a { model = m; input { system = 300 tokens; user = 20 tokens }; output = 10 tokens }\nflow { start -> a }",
             "llm a { model = m; input { system = 20 tokens; user = 300 tokens }; output = 10 tokens }\nflow { start -> a }"),
    "L103": ("param prompt = 500 tokens + 125 tokens * time / (1 month)\nllm a { model = m; input = prompt; output = 10 tokens }\nflow { start -> a }",
             "param prompt = 500 tokens\nllm a { model = m; input = prompt * (1 + 0 * time / (1 month)); output = 10 tokens }\nflow { start -> a }"),
    "L302": ("param docs = 1000 docs * 2 ^ (time / (6 months))\nllm a { model = m; input = 100 tokens; output = 10 tokens }\nfixed index { cost = docs * 0.01 USD/doc/month; category = retrieval }\nflow { start -> a }",
             "param docs = 1000 docs * (1 + 0 * time / (1 month))\nllm a { model = m; input = 100 tokens; output = 10 tokens }\nfixed index { cost = docs * 0.01 USD/doc/month; category = retrieval }\nflow { start -> a }"),
    "L201": ("llm a { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 40%; fallback_model = big }\nflow { start -> a }",
             "llm a { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 10%; fallback_model = big }\nflow { start -> a }"),
    "L202": ("llm a { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 30%; fallback_model = big }\nflow { start -> a }",
             "llm a { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 1%; fallback_model = big }\nflow { start -> a }"),
    "L301": ("llm a { model = m; input = 100 tokens; output = 10 tokens }\nretrieval r { cost = 0.001 USD }\nflow { start -> r -> a }",
             "llm a { model = m; input = 100 tokens; output = 10 tokens }\nretrieval r { cost = 0.00001 USD }\nflow { start -> r -> a }"),
    "L303": ("llm a { model = m; input = 100 tokens; output = 10 tokens }\nrouter r {}\nretrieval s { cost = 0.00001 USD }\nflow {\n  start -> r -> s -> a\n}",
             "llm a { model = m; input = 100 tokens; output = 10 tokens }\nrouter r {}\nretrieval s { cost = 0.00001 USD }\nflow {\n  start -> r\n  r -> s (p = 60%)\n  r -> a (otherwise)\n  s -> a\n}"),
    "L401": ("llm a { model = m; input = 100 tokens; output = 10 tokens }\nobserve o { per_request = 0.001 USD }\nflow { start -> a }",
             "llm a { model = m; input = 100 tokens; output = 10 tokens }\nobserve o { per_request = 0.00001 USD }\nflow { start -> a }"),
    "L402": ("llm a { model = m; input = 100 tokens; output = 10 tokens }\nobserve o { per_token = 0.01 USD/Mtok }\nflow { start -> a }",
             "llm a { model = m; input = 100 tokens; output = 10 tokens }\nobserve o { per_token = 0.01 USD/Mtok; sample = 10% }\nflow { start -> a }"),
    "L501": ("tool t { cost = 0.001 USD; fail_rate = 50%; attempts = 4 }\nflow { start -> t }",
             "tool t { cost = 0.001 USD; fail_rate = 10%; attempts = 4 }\nflow { start -> t }"),
    "L502": ("tool t { cost = 0.001 USD }\nflow {\n  start -> t\n  t -> t (p = 98%)\n}",
             "tool t { cost = 0.001 USD }\nflow {\n  start -> t\n  t -> t (p = 50%)\n}"),
    # 1000 requests/day × 3 at the peak is 2.08 calls a minute: over 2 rpm, under 3
    "L601": ("model lim { input = 1 USD/Mtok; output = 2 USD/Mtok; rpm = 2 requests/min }\nsettings { peak = 3 }\n"
             "llm a { model = lim; input = 100 tokens; output = 10 tokens }\nflow { start -> a }",
             "model lim { input = 1 USD/Mtok; output = 2 USD/Mtok; rpm = 3 requests/min }\nsettings { peak = 3 }\n"
             "llm a { model = lim; input = 100 tokens; output = 10 tokens }\nflow { start -> a }"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_rule_triggers_and_stays_quiet(compile_text, code):
    triggers, clean = CASES[code]
    found = {d.code for d in compile_text(HEAD + triggers).lint()}
    assert code in found
    quiet = {d.code for d in compile_text(HEAD + clean, name="clean.llmarch").lint()}
    assert code not in quiet


def test_findings_carry_numbers_signal_and_decision(compile_text):
    (finding,) = [d for d in compile_text(HEAD + CASES["L201"][0]).lint() if d.code == "L201"]
    assert finding.severity == "warning"
    assert "40% of requests reach the more expensive `a@big`" in finding.message and "limit 30%" in finding.message
    assert "inflating cost" in finding.message and "fallback triggers" in finding.help
    assert finding.span is not None and finding.span.line == 5


def test_thresholds_from_the_file_and_from_pyproject(tmp_path, compile_text):
    relaxed = compile_text(HEAD + "settings { max_fallback_share = 50% }\n" + CASES["L201"][0])
    assert "L201" not in {d.code for d in relaxed.lint()}
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.llmarch]\nmax_fallback_share = 0.5\n")
    (project / "a.llmarch").write_text(HEAD + CASES["L201"][0])
    import llmarch
    assert "L201" not in {d.code for d in llmarch.load(project / "a.llmarch").lint()}
    (project / "b.llmarch").write_text(HEAD + "settings { max_fallback_share = 0.2 }\n" + CASES["L201"][0])
    assert "L201" in {d.code for d in llmarch.load(project / "b.llmarch").lint()}   # the file wins


def test_a_cheaper_fallback_is_no_spiral(compile_text):
    text = CASES["L201"][0].replace("fallback_model = big", "fallback_model = cheap")
    found = {d.code for d in compile_text(HEAD + "model cheap { input = 0.1 USD/Mtok; output = 0.2 USD/Mtok }\n" + text).lint()}
    assert "L201" not in found


def test_a_comment_silences_one_rule_on_its_line(compile_text):
    text = CASES["L201"][0].replace("fallback_model = big }", "fallback_model = big }  # llmarch: ignore[L201]")
    found = {d.code for d in compile_text(HEAD + text).lint()}
    assert "L201" not in found and "L202" in found


def test_exit_codes(tmp_path, capsys):
    path = tmp_path / "a.llmarch"
    path.write_text(HEAD + CASES["L501"][1])
    assert main(["lint", str(path)]) == EXIT_OK
    path.write_text(HEAD + CASES["L501"][0])
    assert main(["lint", str(path)]) == EXIT_LINT
    assert "warning[L501]" in capsys.readouterr().err
    path.write_text(HEAD + CASES["L501"][1] + "\nbudget monthly_total < 1 USD/month\n")
    assert main(["lint", str(path)]) == EXIT_BUDGET


def test_support_example_shows_its_archetypes_and_optimized_clears_them():
    from pathlib import Path
    import llmarch
    model = llmarch.load(Path(__file__).resolve().parents[2] / "examples" / "support_assistant.llmarch")
    assert {d.code for d in model.lint("production")} >= {"L101", "L303", "L401", "L402"}
    assert model.lint("optimized") == []


def test_a_finding_inside_a_template_instance_points_at_its_use_and_can_be_silenced_there(compile_text):
    text = """\
traffic = 1000 requests/day
import observability
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
llm a { model = m; input = 1000 tokens; output = 100 tokens }
use observability_stack as obs { per_trace = 0.001 USD/trace; per_token = 2 USD/Mtok }
flow { start -> a }
"""
    found = [d for d in compile_text(text).lint() if d.code == "L402"]
    assert len(found) == 1
    assert found[0].span.file == "<stdlib>/observability.llmarch"
    assert [(n[1].file.endswith("case.llmarch"), n[1].line) for n in found[0].notes] == [(True, 5)]
    silenced = text.replace("per_token = 2 USD/Mtok }", "per_token = 2 USD/Mtok }  # llmarch: ignore[L402]")
    assert "L402" not in {d.code for d in compile_text(silenced).lint()}


def test_regeneration_edge_without_on_failure(compile_text):
    """L203: a guardrail that sends answers back for regeneration must mark the edge
    on_failure, or the happy path counts the regenerations (the stdlib's guarded_generation
    had this slip)."""
    slip = compile_text("""
        architecture "case"
        traffic = 100 requests/day
        tool generate { cost = 0.01 USD }
        guardrail check { cost = 0.001 USD }
        flow {
          start -> generate -> check
          check -> generate (p = 20%)
        }
    """)
    findings = [f for f in slip.lint() if f.code == "L203"]
    assert len(findings) == 1 and "`check` sends requests back to `generate`" in findings[0].message
    assert findings[0].span.line == 8
    # the happy path then holds the regenerations: no overhead at all
    assert slip.cost().failure_overhead_per_request == pytest.approx(0.0)
    fixed = compile_text("""
        architecture "case"
        traffic = 100 requests/day
        tool generate { cost = 0.01 USD }
        guardrail check { cost = 0.001 USD }
        flow {
          start -> generate -> check
          check -> generate (p = 20%, on_failure)
        }
    """)
    assert not [f for f in fixed.lint() if f.code == "L203"]
    # marked: the regenerations are overhead, 0.011 × (1/0.8 − 1) per request
    assert fixed.cost().failure_overhead_per_request == pytest.approx(0.011 * 0.25)


def test_stdlib_and_examples_mark_every_regeneration(tmp_path):
    import glob

    import llmarch
    for path in sorted(glob.glob(str(ROOT / "examples" / "**" / "*.llmarch"), recursive=True)):
        model = llmarch.load(path, cache=False)
        for scenario in [None, *model.scenarios]:
            assert not [f for f in model.lint(scenario) if f.code == "L203"], (path, scenario)
    source = tmp_path / "uses.llmarch"
    source.write_text('import guardrails\narchitecture "t"\ntraffic = 10 requests/day\n'
                      'model m { input = 1 USD/Mtok; output = 1 USD/Mtok }\n'
                      'use guarded_generation as g { model = m; input = 100 tokens; output = 10 tokens; rejected = 10% }\n'
                      'flow { start -> g }\n')
    model = llmarch.load(source, cache=False)
    assert not [f for f in model.lint() if f.code == "L203"]
    assert model.cost().failure_overhead_per_request > 0


SUMMARIZER = HEAD + """
llm summarize {
  model = m
  input { instructions = 300 tokens<header>; document = 3000 tokens<document> }
  output = 300 tokens
}
flow { start -> summarize }
"""


def _summarizer(header: str = "", document: str = "") -> str:
    return SUMMARIZER.replace("<header>", header).replace("<document>", document)


def test_a_summarizers_own_document_declared_as_payload_is_not_bloat(compile_text):
    """The issue's case: a summarizer's `document` is what it works on. Undeclared, its name
    makes it retrieved context (L101, with a note saying so); declared `as payload`, it is not
    bloat, and it is the request's content next to which L102 weighs the header."""
    guessed = [d for d in compile_text(_summarizer()).lint() if d.code == "L101"]
    assert len(guessed) == 1
    assert "`document` makes 3,000 of the 3,300 input tokens of `summarize` (91%" in guessed[0].message
    (note, span), = guessed[0].notes
    assert "guessed from the name `document`; declare `as retrieved` to be sure" in note
    assert "`as payload`" in note and span.line == 8
    declared = compile_text(_summarizer(" as instructions", " as payload"), name="b.llmarch")
    assert declared.lint() == []


def test_a_declared_role_is_read_whatever_the_name_and_needs_no_note(compile_text):
    text = HEAD + """
llm answer {
  model = m
  input { rules = 120 tokens as instructions; kb = 900 tokens as retrieved; said = 100 tokens as user }
  output = 50 tokens
}
flow { start -> answer }
"""
    (finding,) = compile_text(text).lint()
    assert finding.code == "L101" and "`kb` makes 900 of the 1,120 input tokens" in finding.message
    assert finding.notes == ()
    # the same parts with no roles: nothing in their names says what they are, so no rule reads them
    assert compile_text(text.replace(" as instructions", "").replace(" as retrieved", "")
                        .replace(" as user", ""), name="b.llmarch").lint() == []


def test_several_context_parts_make_one_sum():
    import llmarch
    model = llmarch.loads(HEAD + "llm a { model = m; input { question = 100 tokens as user; history = 300 tokens as history; "
                          "chunks = 300 tokens as retrieved }; output = 10 tokens }\nflow { start -> a }\n")
    (finding,) = model.lint()
    assert "`history` + `chunks` makes 600 of the 700 input tokens of `a` (86%, limit 50%)" in finding.message


def test_header_ratio_counts_the_payload_with_the_users_message(compile_text):
    text = HEAD + ("llm a { model = m; input { system = 600 tokens as instructions; ask = 20 tokens as user<more> }; "
                   "output = 10 tokens }\nflow { start -> a }\n")
    (finding,) = compile_text(text.replace("<more>", "")).lint()
    assert finding.code == "L102" and finding.notes == ()
    assert "is 600 tokens, 30.0x the 20 tokens of the user's message (limit 5x)" in finding.message
    # a 200-token document the user attached: the header is 2.7x the request's own content
    assert compile_text(text.replace("<more>", "; attached = 200 tokens as payload"), name="b.llmarch").lint() == []


def test_fallback_overhead_points_at_the_component_that_drives_it(compile_text):
    """L202 is reported at the component whose failure handling adds the most inference
    spend, with a note at the field that sends it there."""
    text = HEAD + """
llm cheap { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 30%; fallback_model = big }
llm steady { model = m; input = 100 tokens; output = 10 tokens; fail_rate = 1%; attempts = 2 }
flow { start -> steady -> cheap }
"""
    (finding,) = [d for d in compile_text(text).lint() if d.code == "L202"]
    assert finding.span.line == 6 and "`cheap` adds the most" in finding.message
    (note, span), = finding.notes
    assert note == "through its `fallback_model`" and (span.line, span.column) == (6, 81)


def test_rag_overreach_points_at_the_costliest_retrieval_in_the_users_file(compile_text):
    """L301 names the retrieval cost that costs the most; one made by a standard-library
    template is shown at the `use` in the user's file, not inside the library."""
    text = """\
import rag
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
model embed { input = 0.02 USD/Mtok; output = 0 USD/Mtok }
llm a { model = m; input = 100 tokens; output = 10 tokens }
use rag_pipeline as kb { embed_model = embed; search_cost = 0.01 USD/query }
fixed vector_db { cost = 50 USD/month; category = retrieval }
flow { start -> kb -> a }
"""
    (finding,) = [d for d in compile_text(text).lint() if d.code == "L301"]
    assert "`kb.search` costs the most, $300.00 a month" in finding.message
    assert finding.span.file.endswith("case.llmarch") and finding.span.line == 6
    cheaper = compile_text(text.replace("0.01 USD/query", "0.0001 USD/query").replace("50 USD/month", "500 USD/month"),
                           name="b.llmarch")
    (finding,) = [d for d in cheaper.lint() if d.code == "L301"]
    assert "`vector_db` costs the most" in finding.message and finding.span.line == 7


def test_success_overload_reads_the_fixed_point(compile_text):
    """1000 × 3 requests a day at the peak, 2.0833 a minute, against 2 rpm with no retry:
    θ = 1 − 2 / 2.0833 = 4%, so 96% of requests succeed and a request pays 4% less."""
    (finding,) = [d for d in compile_text(HEAD + CASES["L601"][0]).lint() if d.code == "L601"]
    assert "`lim`'s `rpm` refuses 4.0% of its calls" in finding.message
    assert "succeeds with 96% (not 100%)" in finding.message and "costs 4.0% less (refused requests pay nothing)" in finding.message
    assert finding.span.line == 5 and "capacity" in finding.help
