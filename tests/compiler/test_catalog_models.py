"""Catalog models in the language: prices as of a date, overrides, discounts, cache writes,
and long-context tiers priced by hand from the package's numbers (read, never typed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

import llmarch
from llmarch.stdlib import catalog

DAY = 30  # days in a month


def per_token(rate) -> float:
    return float(rate) / 1e6


def cost(text: str, **kw):
    return llmarch.loads(text, path="t.llmarch").cost(**kw)


def one_call(model_line: str, tokens_in: int, tokens_out: int, extra: str = "") -> float:
    return cost(f"""
traffic = 1 requests/day
{model_line}
llm a {{ model = x; input = {tokens_in} tokens; output = {tokens_out} tokens{extra} }}
flow {{ start -> a }}
""").cost_per_request


def test_prices_as_of_a_date_follow_the_catalog():
    for when in ("2025-06-09", "2025-06-10"):
        p = catalog.lookup("openai:o3", date.fromisoformat(when))
        expected = 2000 * per_token(p.input.base) + 500 * per_token(p.output.base)
        got = one_call(f'model x = "openai:o3" as of "{when}"', 2000, 500)
        assert got == pytest.approx(expected, rel=1e-12)
    before = one_call('model x = "openai:o3" as of "2025-06-09"', 2000, 500)
    after = one_call('model x = "openai:o3" as of "2025-06-10"', 2000, 500)
    assert before > after          # the June 2025 price cut


def test_overrides_and_discount():
    p = catalog.lookup("openai:gpt-4o")
    got = one_call('model x = "openai:gpt-4o" { output = 1 USD/Mtok; discount = 10% }', 1000, 1000)
    assert got == pytest.approx(0.9 * (1000 * per_token(p.input.base) + 1000 * 1e-6), rel=1e-12)


def test_cache_reads_and_writes_use_their_own_prices():
    p = catalog.lookup("anthropic:claude-sonnet-4-0")
    assert p.cache_read is not None and p.cache_write is not None
    got = one_call('model x = "anthropic:claude-sonnet-4-0"', 10_000, 100, "; cached = 60%; cache_write = 10%")
    expected = (10_000 * (0.3 * per_token(p.input.base) + 0.6 * per_token(p.cache_read.base)
                          + 0.1 * per_token(p.cache_write.base)) + 100 * per_token(p.output.base))
    assert got == pytest.approx(expected, rel=1e-12)
    # the reference implementation agrees (it is checked against genai_prices.calc_price)
    reference = catalog.call_cost(p, 10_000, 100, cache_read_tokens=6_000, cache_write_tokens=1_000)
    assert got == pytest.approx(float(reference), rel=1e-12)


TIERED = "google:gemini-2.5-pro"


def test_a_long_context_tier_is_a_cliff_on_every_token():
    p = catalog.lookup(TIERED)
    assert p.input.tiers, "the snapshot should have a long-context tier for this model"
    start = p.input.tiers[0].start
    # below or at the threshold: base rates
    at = one_call(f'model x = "{TIERED}"', start, 1000)
    assert at == pytest.approx(start * per_token(p.input.base) + 1000 * per_token(p.output.base), rel=1e-12)
    # above it: the tier's rates on *every* token, output included
    above = one_call(f'model x = "{TIERED}"', start + 50_000, 1000)
    expected = ((start + 50_000) * per_token(p.input.tiers[0].per_mtok)
                + 1000 * per_token(p.output.tiers[0].per_mtok))
    assert above == pytest.approx(expected, rel=1e-12)
    assert above == pytest.approx(float(catalog.call_cost(p, start + 50_000, 1000)), rel=1e-12)


TIER_FILE = f"""
param prompt = 150000 tokens in [1000, 400000]
traffic = 1000 requests/day
model x = "{TIERED}"
llm a {{ model = x; input = prompt; output = 1000 tokens }}
flow {{ start -> a }}
"""


@pytest.mark.parametrize("prompt", [150_000.0, 260_000.0])
def test_sensitivity_differentiates_the_piece_that_applies(prompt):
    model = llmarch.loads(TIER_FILE, path="t.llmarch")
    row = next(r for r in model.sensitivity(set={"prompt": prompt}) if r.name == "prompt")
    h = 1.0
    up = model.cost(set={"prompt": prompt + h}).monthly_total
    down = model.cost(set={"prompt": prompt - h}).monthly_total
    assert row.derivative == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_solve_reports_a_target_the_tier_jumps_over():
    model = llmarch.loads(TIER_FILE, path="t.llmarch")
    p = catalog.lookup(TIERED)
    start = p.input.tiers[0].start
    month = 1000 * DAY
    below = month * (start * per_token(p.input.base) + 1000 * per_token(p.output.base))
    above = month * (start * per_token(p.input.tiers[0].per_mtok) + 1000 * per_token(p.output.tiers[0].per_mtok))
    with pytest.raises(llmarch.LlmarchError) as err:
        model.solve("prompt", (below + above) / 2)
    assert "jumps over it" in err.value.diagnostics[0].message
    # a target below the jump is met at one point, found exactly
    target = below * 0.5
    solution = model.solve("prompt", target)
    assert len(solution.solutions) == 1
    assert model.cost(set={"prompt": solution.solutions[0]}).monthly_total == pytest.approx(target, rel=1e-9)


def test_tiered_prices_evaluate_over_arrays():
    model = llmarch.loads(TIER_FILE, path="t.llmarch")
    names, arrays, batch = model.sweep([("prompt", np.array([100_000.0, 300_000.0]))])
    singles = [model.cost(set={"prompt": v}).monthly_total for v in (100_000.0, 300_000.0)]
    assert list(batch.monthly_total) == pytest.approx(singles, rel=1e-12)


def test_an_embedding_model_without_an_output_price_charges_no_output():
    p = catalog.lookup("openai:text-embedding-3-small")
    assert p.output is None
    got = one_call('model x = "openai:text-embedding-3-small"', 1000, 0)
    assert got == pytest.approx(1000 * per_token(p.input.base), rel=1e-12)
    assert isinstance(p.input.base, Decimal)


# --- where the prices come from ----------------------------------------------------------------

PROVENANCE_FILE = """
import embeddings
traffic = 1000 requests/day
model small = "openai:gpt-4o-mini" as of "2025-06-15"
model sonnet = "anthropic:claude-sonnet-4"
model reseller = "azure:gpt-4o" as of "2025-01-01"
model o3 = "openai:o3" as of "2025-06-09" { discount = 10%; output = 7 USD/Mtok }
model local { input = 0.1 USD/Mtok; output = 0.2 USD/Mtok }
model unused = "openai:gpt-4.1"
llm a { model = small; input = 100 tokens; output = 10 tokens; fail_rate = 1%; fallback_model = sonnet }
llm b { model = reseller; input = 100 tokens; output = 10 tokens }
llm c { model = o3; input = 100 tokens; output = 10 tokens }
fixed batch { model = local; tokens = 1000 tokens/month }
flow { start -> a -> b -> c }
"""


def test_every_model_in_use_says_which_entry_date_and_snapshot_priced_it():
    from importlib.metadata import version

    from llmarch.compiler.provenance import PriceSource
    snapshot = f"genai-prices {version('genai-prices')}"
    prices = cost(PROVENANCE_FILE).prices
    # dates read by hand from genai-prices 0.2.3: gpt-4o-mini-2024-07-18, gpt-4o-2024-08-06,
    # o3-2025-04-16 (its cut on 2025-06-10 is after the date asked for); claude-sonnet-4-0 has no dated id
    assert prices == (
        PriceSource("small", "openai:gpt-4o-mini", "openai:gpt-4o-mini", "gpt 4o mini", None, "2025-06-15",
                    "2024-07-18", snapshot),
        PriceSource("sonnet", "anthropic:claude-sonnet-4", "anthropic:claude-sonnet-4-0",
                    "Claude Sonnet 4", None, None, None, snapshot),
        PriceSource("reseller", "azure:gpt-4o", "azure:gpt-4o", "gpt 4o", "openai:gpt-4o", "2025-01-01",
                    "2024-08-06", snapshot),
        PriceSource("o3", "openai:o3", "openai:o3", "o3", None, "2025-06-09", "2025-04-16", snapshot,
                    ("output", "discount")),
        PriceSource("local"),
    )   # the 15 models `import embeddings` declares, and `unused`, are not in use


def test_the_cost_table_lists_them(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "prices.llmarch"
    path.write_text(PROVENANCE_FILE, encoding="utf-8")
    fresh = llmarch.load(path)
    cached = llmarch.load(path)
    assert fresh._numeric is None and cached._numeric is not None   # the second one runs from the cache
    texts = {}
    for fmt in ("table", "json", "markdown"):
        texts[fmt] = llmarch.api.format_cost(fresh.cost(), fmt)
        assert llmarch.api.format_cost(cached.cost(), fmt) == texts[fmt]   # byte for byte
    table = texts["table"].split("\n\n")[-1].splitlines()
    snapshot = catalog.lookup("openai:o3").version
    assert [line.split("  ")[0] for line in table[2:]] == ["small", "sonnet", "reseller", "o3", "local"]
    assert table[0].split() == ["model", "prices", "catalog", "entry", "as", "of", "price", "since", "source"]
    rows = {line.split()[0]: " ".join(line.split()) for line in table[2:]}
    assert rows["small"] == f"small openai:gpt-4o-mini 2025-06-15 2024-07-18 genai-prices {snapshot}"
    assert rows["sonnet"] == ("sonnet anthropic:claude-sonnet-4-0 (written anthropic:claude-sonnet-4) newest "
                              f"not recorded genai-prices {snapshot}")
    assert rows["reseller"] == (f"reseller azure:gpt-4o, priced as openai:gpt-4o 2025-01-01 2024-08-06 "
                                f"genai-prices {snapshot}")
    assert rows["o3"] == f"o3 openai:o3 2025-06-09 2025-04-16 genai-prices {snapshot}; the file sets output, discount"
    assert rows["local"] == "local in the file the file"
    assert "| `sonnet` | anthropic:claude-sonnet-4-0 (written anthropic:claude-sonnet-4) | newest | not recorded |" \
        in texts["markdown"]


def test_explain_export_report_and_diagram_name_them_too():
    model = llmarch.loads(PROVENANCE_FILE, path="t.llmarch")
    snapshot = f"genai-prices {catalog.lookup('openai:o3').version}"
    lines = {
        "small: openai:gpt-4o-mini, as of 2025-06-15, price since 2024-07-18; " + snapshot,
        "sonnet: anthropic:claude-sonnet-4-0 (written anthropic:claude-sonnet-4), newest price, "
        "price period start not recorded; " + snapshot,
        "reseller: azure:gpt-4o, priced as openai:gpt-4o, as of 2025-01-01, price since 2024-08-06; " + snapshot,
        "o3: openai:o3, as of 2025-06-09, price since 2025-04-16; " + snapshot + "; the file sets output, discount",
        "local: prices written in the file",
    }
    explained = model.explain().split("Model prices (where they come from):\n", 1)[1].split("\n\n", 1)[0]
    assert {line.strip() for line in explained.splitlines()} == lines
    exported = model.export()["prices"]
    assert exported == [p.to_json() for p in model.cost().prices]
    assert exported[1] == {"model": "sonnet", "reference": "anthropic:claude-sonnet-4",
                           "entry": "anthropic:claude-sonnet-4-0", "name": "Claude Sonnet 4", "priced_as": None,
                           "as_of": None, "price_since": None, "catalog": snapshot, "overrides": []}
    dot = model.to_dot()
    assert all(f'<FONT POINT-SIZE="8">{line}</FONT>' in dot for line in lines)
    html = model.report()
    assert '<section id="prices"><h2>Model prices</h2>' in html
    assert ("<tr><td><code>reseller</code></td><td>azure:gpt-4o, priced as openai:gpt-4o</td><td>2025-01-01</td>"
            f"<td>2024-08-06</td><td>{snapshot}</td></tr>") in html
    assert ">azure:gpt-4o, priced as openai:gpt-4o</td>" in model._repr_html_()       # the notebook summary
    markdown = model.report(format="markdown")
    assert f"| `o3` | openai:o3 | 2025-06-09 | 2025-04-16 | {snapshot}; the file sets output, discount |" in markdown


def test_a_reference_as_written_is_escaped_where_it_is_shown():
    # genai-prices matches `gpt-4o-mini-audio…` by prefix, so any text may follow it
    model = llmarch.loads('traffic = 1 requests/day\nmodel x = "openai:gpt-4o-mini-audio<b>&x"\n'
                          'llm a { model = x; input = 1 tokens; output = 1 tokens }\nflow { start -> a }\n',
                          path="t.llmarch")
    assert model.cost().prices[0].reference == "openai:gpt-4o-mini-audio<b>&x"
    assert "(written openai:gpt-4o-mini-audio&lt;b&gt;&amp;x)" in model.report()
    assert "(written openai:gpt-4o-mini-audio&lt;b&gt;&amp;x)" in model.to_dot()
    assert "<b>&x" not in model.report() and "<b>&x" not in model.to_dot()
