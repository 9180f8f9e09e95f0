"""The price catalog against the installed genai-prices package.

Every expected price is read from genai-prices at test time (its provider list, its
`ModelInfo.get_prices`, its `calc_price`); no price is copied into this file. Costs of
tiered calls are also worked out by hand from the package's numbers.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import warnings
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib.metadata import version

import pytest
from hypothesis import given, settings, strategies as st

import genai_prices
from genai_prices import Usage, data as gp_data, data_snapshot, types as gp_types
from genai_prices.data_snapshot import find_provider_by_id

import llmarch
from llmarch.cli import EXIT_OK, EXIT_USAGE, main
from llmarch.stdlib import catalog
from llmarch.stdlib.catalog import CatalogError, Rate, Tier, call_cost, list_prices, lookup

FAR_FUTURE = datetime(2100, 1, 1, 12, tzinfo=UTC)   # "the newest price" in the package's terms
COMPONENTS = {"input": "input_mtok", "output": "output_mtok",
              "cache_read": "cache_read_mtok", "cache_write": "cache_write_mtok"}
# The sample: (provider, model id) as the snapshot spells them.
SAMPLE = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("openai", "o3"),
          ("anthropic", "claude-sonnet-4-0"), ("anthropic", "claude-opus-4-1"),
          ("anthropic", "claude-sonnet-4-5"), ("google", "gemini-2.5-pro")]


# --- reading the package -----------------------------------------------------------------------

def package_model(provider_id: str, model_id: str):
    provider = find_provider_by_id(gp_data.providers, provider_id)
    assert provider is not None, f"genai-prices has no provider {provider_id!r}"
    model = next((m for m in provider.models if m.id == model_id), None)
    assert model is not None, f"genai-prices has no model {provider_id}:{model_id}"
    return provider, model


def has_time_of_day(model) -> bool:
    return isinstance(model.prices, list) and any(
        isinstance(c.constraint, gp_types.TimeOfDateConstraint) for c in model.prices)


def expected_rate(value) -> Rate | None:
    """The package's value for one price key, as the catalog should report it."""
    if value is None:
        return None
    if isinstance(value, gp_types.TieredPrices):
        return Rate(value.base, tuple(Tier(t.start, t.price) for t in sorted(value.tiers, key=lambda t: t.start)))
    return Rate(value)


def assert_same_prices(price, model_price):
    for field, key in COMPONENTS.items():
        assert getattr(price, field) == expected_rate(getattr(model_price, key)), (price.ref, field)
    per_k = getattr(model_price, "requests_kcount")
    assert price.per_request == (None if per_k is None else per_k / 1000)


def oracle_cost(provider, model, when, input_tokens, output_tokens, cache_read=0, cache_write=0) -> Decimal:
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens,
                  cache_read_tokens=cache_read, cache_write_tokens=cache_write)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.calc_price(usage, provider, genai_request_timestamp=when).total_price


# --- lookup against the package ----------------------------------------------------------------

@pytest.mark.parametrize("provider_id,model_id", SAMPLE)
def test_sample_prices_equal_the_package(provider_id, model_id):
    provider, model = package_model(provider_id, model_id)
    price = lookup(f"{provider_id}:{model_id}")
    assert (price.provider, price.model, price.name) == (provider.id, model.id, model.name)
    assert_same_prices(price, model.get_prices(FAR_FUTURE))
    assert price.as_of is None
    assert price.source.startswith(f"genai-prices {version('genai-prices')} snapshot")
    assert provider.pricing_urls[0] in price.source


def test_sample_covers_tiers_and_cache_writes():
    """The sample is only worth something if it has a tiered model and cache-write prices."""
    _, gemini = package_model("google", "gemini-2.5-pro")
    assert isinstance(gemini.get_prices(FAR_FUTURE).input_mtok, gp_types.TieredPrices)
    assert lookup("google:gemini-2.5-pro").input.tiers
    _, sonnet = package_model("anthropic", "claude-sonnet-4-0")
    assert sonnet.get_prices(FAR_FUTURE).cache_write_mtok is not None
    assert lookup("anthropic:claude-sonnet-4-0").cache_write is not None


def test_every_model_newest_and_dated_prices_equal_the_package():
    """All of the snapshot, newest prices and on three dates, against `ModelInfo.get_prices`;
    a model whose first price starts after the date is not listed (and `lookup` refuses it)."""
    checked = left_out = 0
    for when in (None, date(2025, 1, 1), date(2025, 6, 10), date(2026, 10, 19)):
        stamp = FAR_FUTURE if when is None else datetime.combine(when, time(12), UTC)
        listed = {p.ref: p for p in list_prices(as_of=when)}
        for provider in gp_data.providers:
            for model in provider.models:
                ref = f"{provider.id}:{model.id}"
                first = lookup(ref).first_priced
                if when is not None and first is not None and when < first:
                    assert ref not in listed
                    with pytest.raises(catalog.NotYetPriced):
                        lookup(ref, when)
                    left_out += 1
                    continue
                if has_time_of_day(model):
                    continue
                price = listed[ref]
                assert price.as_of == when
                assert_same_prices(price, model.get_prices(stamp))
                checked += 1
    assert checked > 4 * 1000 and left_out > 100


def test_o3_before_and_after_its_june_2025_cut():
    _, o3 = package_model("openai", "o3")
    cuts = [c.constraint.start_date for c in o3.prices
            if isinstance(c.constraint, gp_types.StartDateConstraint)]
    assert len(cuts) == 1 and (cuts[0].year, cuts[0].month) == (2025, 6)
    cut = cuts[0]
    before, after = lookup("openai:o3", as_of=cut - timedelta(days=1)), lookup("openai:o3", as_of=cut)
    assert_same_prices(before, o3.get_prices(datetime.combine(cut - timedelta(days=1), time(23, 59), UTC)))
    assert_same_prices(after, o3.get_prices(datetime.combine(cut, time(0, 1), UTC)))
    assert before.input.base > after.input.base and before.output.base > after.output.base
    assert (before.valid_from, after.valid_from) == (None, cut)
    assert (before.as_of, after.as_of) == (cut - timedelta(days=1), cut)
    assert lookup("openai:o3") == dataclasses.replace(after, as_of=None)   # newest = after the cut


def test_time_of_day_prices_take_the_price_of_most_hours_and_are_noted():
    candidates = [(p, m) for p in gp_data.providers for m in p.models if has_time_of_day(m)]
    if not candidates:
        pytest.skip("this genai-prices snapshot has no time-of-day prices")
    for provider, model in candidates:
        # the oracle: ask the package for every quarter hour of a day; the price most of
        # the day's quarter hours get is the one a call at an unknown hour should pay
        day = [model.get_prices(datetime(2100, 1, 1, h, m, tzinfo=UTC)) for h in range(24) for m in (0, 15, 30, 45)]
        distinct = []
        for prices in day:
            if not any(prices == d for d in distinct):
                distinct.append(prices)
        most = max(distinct, key=lambda d: sum(prices == d for prices in day))
        price = lookup(f"{provider.id}:{model.id}")
        assert_same_prices(price, most)
        assert price.notes and all("time-of-day" in n for n in price.notes)


# --- the first price and `as of` dates before it -----------------------------------------------

# Read by hand from genai-prices 0.2.3's data (`data.py`): the earliest date written in each
# model's catalog id or match rules, and the clause it is in.
FIRST_PRICED = {
    "openai:gpt-4o": (date(2024, 8, 6), "gpt-4o-2024-08-06"),               # equals, beside gpt-4o-2024-11-20
    "openai:gpt-4o-mini": (date(2024, 7, 18), "gpt-4o-mini-2024-07-18"),    # not ...-search-preview-2025-03-11
    "openai:o3": (date(2025, 4, 16), "o3-2025-04-16"),                      # before its 2025-06-10 cut
    "openai:gpt-4.1": (date(2025, 4, 14), "gpt-4.1-2025-04-14"),
    "anthropic:claude-opus-4-0": (date(2025, 5, 14), "claude-opus-4-20250514"),   # a compact date
    "aws:regional.anthropic.claude-3-opus-20240229-v1:0":                  # its catalog id
        (date(2024, 2, 29), "regional.anthropic.claude-3-opus-20240229-v1:0"),
    "anthropic:claude-sonnet-4-0": (None, None),   # `starts_with claude-sonnet-4-2025`: a year is not a date
    "google:gemini-2.5-pro": (None, None),         # no dated id
    "openai:gpt-4": (None, None),                  # `gpt-4-0613` has no year
}


@pytest.mark.parametrize("ref", FIRST_PRICED)
def test_the_first_price_starts_at_the_earliest_date_in_the_model_ids(ref):
    first, evidence = FIRST_PRICED[ref]
    assert lookup(ref).first_priced == first
    if first is None:
        assert lookup(ref, date(2015, 1, 1)).valid_from is None   # any date takes the first price
        return
    with pytest.raises(catalog.NotYetPriced) as err:
        lookup(ref, first - timedelta(days=1))
    assert (err.value.first_priced, err.value.evidence) == (first, evidence)
    at_first = lookup(ref, first)
    assert at_first.price_since == first and at_first.valid_from is None


def test_gpt_4o_as_of_2023_is_refused_with_the_first_date():
    with pytest.raises(catalog.NotYetPriced) as err:
        lookup("openai:gpt-4o", date(2023, 1, 1))
    assert err.value.message == ("`openai:gpt-4o` has no price in the catalog on 2023-01-01: "
                                 "its first price starts on 2024-08-06")
    assert err.value.help == "write a date from 2024-08-06 on, or leave out `as of` for the newest price"
    assert err.value.note == ("genai-prices records no release dates; 2024-08-06 is the earliest date in the "
                              "model's ids (`gpt-4o-2024-08-06`)")
    # resold: azure's gpt-4o is openai's entry, with its first date
    with pytest.raises(catalog.NotYetPriced, match="`azure:gpt-4o` has no price"):
        lookup("azure:gpt-4o", date(2024, 8, 5))


def test_price_since_is_the_period_used():
    # o3: first price from 2025-04-16 (its id), the cut from 2025-06-10 (a dated price)
    assert lookup("openai:o3", date(2025, 6, 9)).price_since == date(2025, 4, 16)
    assert lookup("openai:o3", date(2025, 6, 10)).price_since == date(2025, 6, 10)
    assert lookup("openai:o3").price_since == date(2025, 6, 10)
    assert lookup("google:gemini-2.5-pro").price_since is None     # not recorded


def test_a_dated_first_price_starts_where_its_date_says(monkeypatch):
    """A model whose first conditional price has a start date (none in 0.2.3) is not priced
    before it, and the note says where the date comes from."""
    provider = _fake_provider([("acme-1", [gp_types.ClauseEquals(equals="acme-1")])])
    start = date(2025, 3, 1)
    provider.models[0].prices = [gp_types.ConditionalPrice(constraint=gp_types.StartDateConstraint(start_date=start),
                                                           prices=gp_types.ModelPrice(input_mtok=Decimal(1)))]
    monkeypatch.setattr(catalog, "_data", lambda: catalog._Data("9.9", [provider], (("acme", "acme-1"),), start))
    with pytest.raises(catalog.NotYetPriced) as err:
        catalog._lookup("acme:acme-1", date(2025, 2, 28))
    assert err.value.evidence is None and err.value.note == "the model's first price in genai-prices 9.9 starts on 2025-03-01"
    assert catalog._lookup("acme:acme-1", start).price_since == start


def test_provenance_fields():
    price = lookup("openai:gpt-4o", date(2025, 6, 15))
    assert (price.version, price.priced_as) == (version("genai-prices"), None)
    assert lookup("azure:gpt-4o").priced_as == "openai:gpt-4o"


# --- matching and ambiguity ---------------------------------------------------------------------

def _fake_provider(models):
    """A provider of models (id, [match clauses]) that genai-prices' own types describe."""
    return gp_types.Provider(
        id="acme", name="Acme", api_pattern="acme", pricing_urls=["https://acme.example/pricing"],
        models=[gp_types.ModelInfo(id=model_id, match=gp_types.ClauseOr(or_=clauses), name=model_id,
                                   prices=gp_types.ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(2)))
                for model_id, clauses in models])


def test_an_id_several_models_of_a_provider_match_is_ambiguous(monkeypatch):
    """genai-prices takes the first model whose rules match; the catalog refuses to guess.
    (No reference in 0.2.3 is ambiguous this way: see the next test.)"""
    provider = _fake_provider([("acme-pro", [gp_types.ClauseStartsWith(starts_with="acme-pro")]),
                               ("acme", [gp_types.ClauseStartsWith(starts_with="acme")])])
    assert provider.find_model("acme-pro-2").id == "acme-pro"   # what the package would silently take
    monkeypatch.setattr(catalog, "_data", lambda: catalog._Data(
        "9.9", [provider], (("acme", "acme-pro"), ("acme", "acme")), None))
    with pytest.raises(catalog.AmbiguousReference) as err:
        catalog._lookup("acme:acme-pro-2")
    assert err.value.message == "`acme:acme-pro-2` matches 2 models of provider `acme`: name one"
    assert err.value.suggestions == ["acme:acme", "acme:acme-pro"]
    assert err.value.help == "write the full `provider:model` id: `acme:acme` or `acme:acme-pro`"
    with pytest.raises(catalog.AmbiguousReference):
        catalog._lookup("acme-pro-2")            # bare: the same two
    assert catalog._lookup("acme:acme-pro").model == "acme-pro"    # a catalog id is exact
    assert catalog._lookup("acme:ACME").model == "acme"


def test_no_reference_in_the_snapshot_is_ambiguous_within_its_provider():
    """Every catalog id and every id a match rule spells out resolves, to the model
    genai-prices' `find_model` gives (catalog ids excepted: those always name their model)."""
    checked = 0
    for provider in gp_data.providers:
        for model in provider.models:
            for text in catalog._literal_ids(model):
                found = catalog._find(provider, text, gp_data.providers)
                if text.lower() != model.id.lower():
                    assert found is provider.find_model(text, all_providers=gp_data.providers), (provider.id, text)
                checked += 1
    assert checked > 5000


def test_a_provider_less_id_with_a_colon_offered_by_several_providers():
    # `gpt-4o:extended` is no provider's `gpt-4o`: openai and openrouter both list the id
    with pytest.raises(catalog.AmbiguousReference) as err:
        lookup("gpt-4o:extended")
    assert err.value.message == "model `gpt-4o:extended` is offered by 2 providers: name one"
    assert err.value.suggestions == ["openai:gpt-4o:extended", "openrouter:gpt-4o:extended"]
    assert lookup("openai:gpt-4o:extended").ref == "openai:gpt-4o:extended"


def test_matching_follows_genai_prices():
    # case-insensitive provider and model ids, a dated alias, a provider alias, resold models
    assert lookup("OpenAI:GPT-4o").ref == "openai:gpt-4o"
    provider = find_provider_by_id(gp_data.providers, "openai")
    alias = next(a.equals for a in provider.find_model("gpt-4o").match.or_ if a.equals != "gpt-4o")
    assert lookup(f"openai:{alias}").ref == "openai:gpt-4o"
    assert lookup("Anthropic:claude-sonnet-4-0").provider == "anthropic"
    azure = find_provider_by_id(gp_data.providers, "azure")
    resold = azure.find_model("gpt-4o", all_providers=gp_data.providers)
    assert not any(resold is m for m in azure.models)   # the package prices azure's gpt-4o as openai's
    price = lookup("azure:gpt-4o")
    assert (price.provider, price.model) == ("azure", resold.id) and "priced as openai" in price.source


def test_every_listed_reference_resolves_to_itself():
    for price in list_prices():
        again = lookup(price.ref)
        assert (again.provider, again.model) == (price.provider, price.model)


def test_a_bare_model_is_accepted_only_when_one_provider_offers_it():
    owners = [p.id for p in gp_data.providers if p.find_model("gpt-4o")]
    assert len(owners) > 1
    with pytest.raises(catalog.AmbiguousReference) as err:
        lookup("gpt-4o")
    assert err.value.message == f"model `gpt-4o` is offered by {len(owners)} providers: name one"
    assert err.value.suggestions == sorted(f"{p}:gpt-4o" for p in owners) == ["github-copilot:gpt-4o", "openai:gpt-4o"]
    assert err.value.help == "write the full `provider:model` id: `github-copilot:gpt-4o` or `openai:gpt-4o`"
    unique = next(m.id for m in find_provider_by_id(gp_data.providers, "openai").models
                  if m.id.startswith("o") and sum(p.find_model(m.id) is not None for p in gp_data.providers) == 1)
    assert lookup(unique).ref == f"openai:{unique}"


def test_did_you_mean_for_a_misspelt_model():
    with pytest.raises(CatalogError) as err:
        lookup("openai:gpt-4o-mni")
    assert err.value.message == "unknown model `gpt-4o-mni` for provider `openai` in the price catalog"
    assert err.value.suggestions[0] == "openai:gpt-4o-mini"
    assert 1 <= len(err.value.suggestions) <= 3
    assert err.value.help.startswith("did you mean `openai:gpt-4o-mini`")


def test_an_unknown_provider_has_its_own_message():
    with pytest.raises(CatalogError) as err:
        lookup("openia:gpt-4o")
    assert err.value.message == "unknown provider `openia` in the price catalog"
    assert err.value.suggestions == ["openai:gpt-4o"]
    with pytest.raises(CatalogError) as err:
        lookup("nosuchprovider:nosuchmodel")
    assert err.value.message.startswith("unknown provider") and err.value.suggestions == []
    assert "llmarch prices" in err.value.help


@pytest.mark.parametrize("ref", ["", "   ", ":gpt-4o", "openai:", "x" * 500])
def test_malformed_references(ref):
    with pytest.raises(CatalogError) as err:
        lookup(ref)
    assert err.value.message and err.value.message[0].islower() and "\n" not in err.value.message


def test_parse_date():
    assert catalog.parse_date("2025-05-01") == date(2025, 5, 1)
    for bad in ("2025-13-01", "2025-02-30", "20250501", "yesterday", "2025-5-1"):
        with pytest.raises(CatalogError):
            catalog.parse_date(bad)


# --- listing -----------------------------------------------------------------------------------

def test_list_prices_glob_substring_and_order():
    every = [f"{p.id}:{m.id}" for p in gp_data.providers for m in p.models]
    glob = list_prices("OpenAI:GPT-4o*")
    assert [p.ref for p in glob] == sorted((r for r in every if r.lower().startswith("openai:gpt-4o")),
                                           key=lambda r: (r.split(":")[0], r.split(":", 1)[1].lower()))
    sub = list_prices("GEMINI-2.5-PRO")
    assert sub and {p.ref for p in sub} == {r for r in every if "gemini-2.5-pro" in r.lower()}
    assert list_prices("no-such-model-anywhere") == []
    everything = list_prices()
    assert len(everything) == len(every) == catalog.snapshot_info()["models"]
    keys = [(p.provider, p.model.lower(), p.model) for p in everything]
    assert keys == sorted(keys)


def test_snapshot_info_reads_the_package():
    info = catalog.snapshot_info()
    assert info["version"] == genai_prices.__version__ == version("genai-prices")
    assert info["providers"] == len(gp_data.providers)
    newest = max(c.constraint.start_date for p in gp_data.providers for m in p.models
                 if isinstance(m.prices, list) for c in m.prices
                 if isinstance(c.constraint, gp_types.StartDateConstraint))
    assert info["date"] == newest.isoformat() and "newest" in info["date_source"]


# --- tiers and the cost of one call --------------------------------------------------------------

def test_tier_applies_to_all_tokens_once_input_exceeds_its_start():
    rate = Rate(Decimal("1.25"), (Tier(200_000, Decimal("2.5")),))
    assert rate.at(200_000) == Decimal("1.25") and rate.at(200_001) == Decimal("2.5")
    two = Rate(Decimal("1"), (Tier(32_000, Decimal("2")), Tier(128_000, Decimal("3"))))
    assert [two.at(n) for n in (0, 32_000, 32_001, 128_000, 128_001)] == [1, 1, 2, 2, 3]


def test_gemini_250k_input_by_hand_and_by_calc_price():
    provider, model = package_model("google", "gemini-2.5-pro")
    prices = model.get_prices(FAR_FUTURE)
    tier_in, tier_out = prices.input_mtok.tiers[0], prices.output_mtok.tiers[0]
    assert tier_in.start < 250_000
    by_hand = (250_000 * tier_in.price + 2_000 * tier_out.price) / 1_000_000   # all tokens at the tier rate
    marginal = (tier_in.start * prices.input_mtok.base + (250_000 - tier_in.start) * tier_in.price
                + 2_000 * tier_out.price) / 1_000_000
    price = lookup("google:gemini-2.5-pro")
    assert call_cost(price, 250_000, 2_000) == by_hand != marginal
    oracle = genai_prices.calc_price(Usage(input_tokens=250_000, output_tokens=2_000), "gemini-2.5-pro",
                                     provider_id="google", genai_request_timestamp=FAR_FUTURE)
    assert oracle.total_price == by_hand
    # at the threshold exactly, the base rates
    at_start = (tier_in.start * prices.input_mtok.base + 2_000 * prices.output_mtok.base) / 1_000_000
    assert call_cost(price, tier_in.start, 2_000) == at_start


def test_cached_tiered_call_by_hand():
    """300k input of which 100k read from the cache and 50k written, on a model with tiered
    cache prices: the uncached 150k pay input, and every rate is the tier's."""
    provider, model = package_model("anthropic", "claude-sonnet-4-5")
    p = model.get_prices(FAR_FUTURE)
    assert all(isinstance(v, gp_types.TieredPrices)
               for v in (p.input_mtok, p.output_mtok, p.cache_read_mtok, p.cache_write_mtok))
    rate = {k: getattr(p, k).tiers[0].price for k in COMPONENTS.values()}
    assert all(getattr(p, k).tiers[0].start < 300_000 for k in COMPONENTS.values())
    by_hand = (150_000 * rate["input_mtok"] + 1_000 * rate["output_mtok"]
               + 100_000 * rate["cache_read_mtok"] + 50_000 * rate["cache_write_mtok"]) / 1_000_000
    price = lookup("anthropic:claude-sonnet-4-5")
    assert call_cost(price, 300_000, 1_000, 100_000, 50_000) == by_hand
    assert oracle_cost(provider, model, FAR_FUTURE, 300_000, 1_000, 100_000, 50_000) == by_hand


def test_per_request_fee_and_cache_reads_without_a_cache_price():
    provider, model = next((p, m) for p in gp_data.providers for m in p.models
                           if not has_time_of_day(m) and m.get_prices(FAR_FUTURE).requests_kcount is not None
                           and m.get_prices(FAR_FUTURE).cache_read_mtok is None
                           and m.get_prices(FAR_FUTURE).input_mtok is not None)
    p = model.get_prices(FAR_FUTURE)
    price = lookup(f"{provider.id}:{model.id}")
    # no cache-read price: cache reads pay the input rate; the fee is per call
    by_hand = (10_000 * p.input_mtok + 500 * p.output_mtok) / 1_000_000 + p.requests_kcount / 1000
    assert call_cost(price, 10_000, 500, cache_read_tokens=4_000) == by_hand
    assert oracle_cost(provider, model, FAR_FUTURE, 10_000, 500, cache_read=4_000) == by_hand


def test_call_cost_against_the_package_for_every_model_around_every_tier():
    compared = 0
    for provider in gp_data.providers:
        for model in provider.models:
            if has_time_of_day(model):
                continue
            price = lookup(f"{provider.id}:{model.id}")
            if price.input is None and price.output is None:
                continue
            rates = (price.input, price.output, price.cache_read, price.cache_write)
            starts = sorted({t.start for r in rates if r for t in r.tiers})
            for tokens in [0, 1_000] + [n for s in starts for n in (s, s + 1)]:
                for cache_read, cache_write in ((0, 0), (tokens // 4, tokens // 8)):
                    expected = oracle_cost(provider, model, FAR_FUTURE, tokens, 777, cache_read, cache_write)
                    assert call_cost(price, tokens, 777, cache_read, cache_write) == expected, \
                        (price.ref, tokens, cache_read, cache_write)
                    compared += 1
    assert compared > 5_000


TIERED_SAMPLE = ["google:gemini-2.5-pro", "anthropic:claude-sonnet-4-5", "openrouter:qwen/qwen3-coder-flash",
                 "openai:gpt-4o", "anthropic:claude-sonnet-4-0"]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(ref=st.sampled_from(TIERED_SAMPLE), input_tokens=st.integers(0, 1_500_000),
       output_tokens=st.integers(0, 200_000), read_share=st.integers(0, 100), write_share=st.integers(0, 100))
def test_call_cost_equals_calc_price(ref, input_tokens, output_tokens, read_share, write_share):
    cache_read = input_tokens * read_share // 100
    cache_write = (input_tokens - cache_read) * write_share // 100
    provider_id, model_id = ref.split(":", 1)
    oracle = genai_prices.calc_price(
        Usage(input_tokens=input_tokens, output_tokens=output_tokens,
              cache_read_tokens=cache_read, cache_write_tokens=cache_write),
        model_id, provider_id=provider_id, genai_request_timestamp=FAR_FUTURE)
    assert call_cost(lookup(ref), input_tokens, output_tokens, cache_read, cache_write) == oracle.total_price


def test_call_cost_rejects_impossible_counts():
    price = lookup("anthropic:claude-sonnet-4-0")
    for args in ((-1, 0), (10, -5), (True, 0), (1.5, 0)):
        with pytest.raises(ValueError):
            call_cost(price, *args)
    with pytest.raises(ValueError, match="exceed"):
        call_cost(price, 100, 0, cache_read_tokens=80, cache_write_tokens=30)


# --- offline ---------------------------------------------------------------------------------

def test_nothing_touches_the_network(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("the price catalog tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    catalog._data.cache_clear()   # load the data again, under the patch
    try:
        assert lookup("openai:gpt-4o").input is not None
        assert list_prices("anthropic:")
        assert main(["prices", "gemini", "--format", "json"]) == EXIT_OK
    finally:
        catalog._data.cache_clear()
    assert json.loads(capsys.readouterr().out)["prices"]


def test_a_snapshot_fetched_by_genai_prices_is_ignored(monkeypatch):
    """`UpdatePrices` swaps in a downloaded snapshot process-wide; the catalog keeps to the
    bundled data, so the same installed package always gives the same answer."""
    empty = data_snapshot.DataSnapshot(providers=[], from_auto_update=True)
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", empty)
    assert data_snapshot.get_snapshot() is empty
    assert lookup("openai:gpt-4o").model == "gpt-4o"


# --- CLI and API ----------------------------------------------------------------------------

def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_cli_table(capsys):
    code, out, _ = run(capsys, "prices", "gemini-2.5-pro")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].startswith(f"genai-prices {version('genai-prices')} snapshot")
    assert catalog.snapshot_info()["date"] in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("provider"))
    assert lines[header].split() == ["provider", "model", "input", "output", "cache", "read", "cache", "write"]
    row = next(line for line in lines if line.startswith("google ") and " gemini-2.5-pro " in line)
    gemini = lookup("google:gemini-2.5-pro")
    assert catalog.format_rate(gemini.input) in row and catalog.format_rate(gemini.output) in row
    assert "(>200k:" in row   # the tier, shown beside the base rate


def test_format_rate():
    assert catalog.format_rate(Rate(Decimal("1.25"), (Tier(200_000, Decimal("2.5")),))) == "1.25 (>200k: 2.50)"
    assert catalog.format_rate(Rate(Decimal("0.075"))) == "0.075"
    assert catalog.format_rate(Rate(Decimal("10"), (Tier(199_999, Decimal("20")), Tier(1_000_000, Decimal("30"))))) \
        == "10.00 (>199,999: 20.00, >1M: 30.00)"
    assert catalog.format_rate(None) == "—"


def test_cli_json(capsys):
    code, out, _ = run(capsys, "prices", "openai:o3", "--as-of", "2025-06-01", "--format", "json")
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["as_of"] == "2025-06-01"
    assert doc["snapshot"] == catalog.snapshot_info()
    for row in doc["prices"]:
        assert set(row) == {"provider", "model", "name", "input_per_mtok", "output_per_mtok",
                            "cache_read_per_mtok", "cache_write_per_mtok", "tiers"}
    o3 = next(r for r in doc["prices"] if r["model"] == "o3")
    _, model = package_model("openai", "o3")
    package = model.get_prices(datetime(2025, 6, 1, 12, tzinfo=UTC))
    assert o3["input_per_mtok"] == float(package.input_mtok) and o3["output_per_mtok"] == float(package.output_mtok)
    assert o3["cache_write_per_mtok"] is None and o3["tiers"] == {}
    _, out, _ = run(capsys, "prices", "google:gemini-2.5-pro", "-f", "json")
    gemini = next(r for r in json.loads(out)["prices"] if r["model"] == "gemini-2.5-pro")
    tier = package_model("google", "gemini-2.5-pro")[1].get_prices(FAR_FUTURE).input_mtok.tiers[0]
    assert gemini["tiers"]["input"] == [{"start": tier.start, "per_mtok": float(tier.price)}]
    assert json.loads(out)["as_of"] is None


def test_cli_output_is_deterministic(capsys):
    first = run(capsys, "prices", "anthropic", "-f", "json")[1]
    catalog._data.cache_clear()
    assert run(capsys, "prices", "anthropic", "-f", "json")[1] == first
    assert run(capsys, "prices", "anthropic")[1] == run(capsys, "prices", "anthropic")[1]


@pytest.mark.parametrize("argv,message", [
    (["prices", "--as-of", "2025-13-01"], "is not a calendar date"),
    (["prices", "--as-of", "June 2025"], "expected a date as YYYY-MM-DD"),
    (["prices", "no-such-model-anywhere"], "no model in the price catalog matches `no-such-model-anywhere`"),
    (["prices", "openai:o3-pro", "--as-of", "2025-01-01"],
     "no model matching `openai:o3-pro` has a price in the catalog on 2025-01-01: the first of them starts on "
     "2025-06-10"),
])
def test_cli_usage_errors(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and err.startswith("error[E600]: ") and message in err


def test_api_prices():
    assert "prices" in llmarch.__all__
    rows = llmarch.prices("openai:o3", "2025-06-09")
    assert rows == list_prices("openai:o3", date(2025, 6, 9))
    assert llmarch.prices("openai:o3", datetime(2025, 6, 9, 8)) == rows
    assert llmarch.prices("openai:gpt-4o*")[0].ref == "openai:gpt-4o"
    for bad in ("2025-06-31", 20250609):
        with pytest.raises(llmarch.LlmarchError) as err:
            llmarch.prices(as_of=bad)
        assert err.value.diagnostics[0].code == "E600"


def test_as_of_takes_a_date_or_a_datetime_and_nothing_else():
    assert lookup("openai:o3", datetime(2025, 6, 9, 23, 59)) == lookup("openai:o3", date(2025, 6, 9))
    with pytest.raises(CatalogError, match="must be a date"):
        lookup("openai:o3", "2025-06-09")
    with pytest.raises(CatalogError, match="must be a date"):
        list_prices("o3", 20250609)
