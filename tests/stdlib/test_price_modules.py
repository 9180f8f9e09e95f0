"""The standard-library price modules: embeddings, vector_dbs, observability_prices,
human_rates, reindexing.

Each module compiles on its own and next to every other stdlib module (no name clashes);
every `param` carries its provenance in the comment right above it (a source URL with an
`as of` date, an assumption, or a derivation) and a description; embedding models come from
the price catalog and their `# catalog price:` comments match it; and each module prices one
architecture whose monthly figure is worked out by hand below from the numbers the module
states (catalog prices are read with `catalog.lookup`, never typed).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import pytest

import llmarch
import llmarch.stdlib
from llmarch.cli import EXIT_OK, main
from llmarch.compiler.loader import stdlib_modules
from llmarch.dsl import ast
from llmarch.dsl.parser import parse
from llmarch.stdlib import catalog

STDLIB = Path(llmarch.stdlib.__file__).parent
DAYS = 30                                   # the default month
REQUESTS = 1000 * DAYS                      # 1000 requests/day in every architecture below

# module -> the prefixes its declarations start with
PREFIXES = {
    "embeddings": ("embed_",),
    "vector_dbs": ("pinecone_", "weaviate_", "opensearch_", "pgvector_"),
    "observability_prices": ("langsmith_", "langfuse_", "helicone_", "arize_", "datadog_",
                             "cloudwatch_", "grafana_", "obs_"),
    "human_rates": ("human_",),
    "reindexing": ("reindex_",),
}
MODULES = sorted(PREFIXES)

HEADER = """
traffic = 1000 requests/day
model m { input = 1 USD/Mtok; output = 2 USD/Mtok }
"""
ANSWER = "llm answer { model = m; input = 1000 tokens; output = 200 tokens }\n"
ANSWER_COST = 1000 * 1e-6 + 200 * 2e-6      # 0.0014 USD per request


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-12)


def source(name: str) -> str:
    return (STDLIB / f"{name}.llmarch").read_text(encoding="utf-8")


def module_ast(name: str) -> ast.Module:
    return parse(source(name), path=f"{name}.llmarch")


def declarations(name: str) -> list:
    """The module's top-level params and models."""
    return [s for s in module_ast(name).statements if isinstance(s, (ast.Param, ast.Model))]


def comment_above(text: str, line: int) -> list[str]:
    """The comment lines directly above 1-based `line` (no blank line in between)."""
    lines = text.splitlines()
    block = []
    i = line - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.append(lines[i].strip())
        i -= 1
    return block[::-1]


def names_in(expr) -> set[str]:
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.BinOp):
        return names_in(expr.left) | names_in(expr.right)
    if isinstance(expr, ast.Neg):
        return names_in(expr.operand)
    if isinstance(expr, ast.Call):
        return set().union(*(names_in(a) for a in expr.args))
    return set()


def cost(text: str, tmp_path, **kw):
    return llmarch.loads(HEADER + text, path=str(tmp_path / "t.llmarch")).cost(**kw)


def rows(result):
    return {r.name: r for r in result.components}


# --- the modules exist, compile, and do not clash ------------------------------------------

def test_modules_are_installed_with_the_stdlib():
    assert set(MODULES) <= set(stdlib_modules())


@pytest.mark.parametrize("name", MODULES)
def test_each_module_compiles_when_imported(name, tmp_path):
    model = llmarch.loads(HEADER + f"import {name}\n" + ANSWER + "flow { start -> answer }\n",
                          path=str(tmp_path / "t.llmarch"))
    model.check()
    # a price module declares prices only: it adds no component and no cost
    assert [r.name for r in model.cost().components] == ["answer"]
    assert model.cost().monthly_total == approx(ANSWER_COST * REQUESTS)


@pytest.mark.parametrize("name", MODULES)
def test_every_name_is_prefixed(name):
    for decl in declarations(name):
        assert decl.name.startswith(PREFIXES[name]), f"{name}: `{decl.name}` lacks a module prefix"


def test_no_two_modules_declare_the_same_name():
    seen: dict[str, str] = {}
    for name in MODULES:
        for decl in declarations(name):
            assert decl.name not in seen, f"`{decl.name}` is declared by {seen[decl.name]} and {name}"
            seen[decl.name] = name


def test_all_stdlib_modules_compile_together(tmp_path):
    imports = "".join(f"import {m}\n" for m in stdlib_modules())
    model = llmarch.loads(HEADER + imports + ANSWER + "flow { start -> answer }\n",
                          path=str(tmp_path / "t.llmarch"))
    model.check()
    declared = {d.name for m in MODULES for d in declarations(m)}
    params = {d.name for m in MODULES for d in declarations(m) if isinstance(d, ast.Param)}
    assert params <= set(model.parameters)
    assert len(declared) > 60


# --- provenance ------------------------------------------------------------------------------

AS_OF = re.compile(r"^# as of(?: (\d{4})(?:-(\d{2}))?\b|: undated \(.+\))")
URL = re.compile(r"https?://[^\s);,\"]+")


def provenance_cases():
    for name in MODULES:
        for decl in declarations(name):
            if isinstance(decl, ast.Param):
                yield pytest.param(name, decl.name, id=f"{name}.{decl.name}")


@pytest.mark.parametrize("name,param", list(provenance_cases()))
def test_every_param_has_provenance_and_a_description(name, param):
    text = source(name)
    decl = next(d for d in declarations(name) if d.name == param)
    assert decl.description and len(decl.description) >= 10, f"`{param}` needs a description"
    block = comment_above(text, decl.span.line)
    assert block, f"`{param}` has no comment right above it"
    kinds = [line for line in block if re.match(r"^# (source:|assumption \(|derived:)", line)]
    assert len(kinds) == 1 and block[0] == kinds[0], (
        f"`{param}`: the comment must start with one `# source:`, `# assumption (` or `# derived:`")
    kind = kinds[0]
    uses = names_in(decl.value)
    if kind.startswith("# derived:"):
        assert uses, f"`{param}` is marked derived but uses no other parameter"
        return
    # a stated number, not a formula of other parameters
    assert not uses, f"`{param}` is computed from {sorted(uses)}: mark it `# derived:`"
    if kind.startswith("# source:"):
        assert URL.search(" ".join(block)), f"`{param}`: a source needs the URL it was read from"
        dates = [AS_OF.match(line) for line in block if AS_OF.match(line)]
        assert len(dates) == 1, f"`{param}`: a source needs one `# as of YYYY-MM` (or `# as of: undated (...)`) line"
        year, month = dates[0].groups()
        if year is not None:
            seen = date(int(year), int(month or 1), 1)
            assert date(2020, 1, 1) <= seen <= date.today(), f"`{param}`: implausible date {seen}"


# --- embeddings: catalog models, comments that match the catalog --------------------------------

PRICE_LINE = re.compile(r"^# catalog price: ([0-9.]+) USD/Mtok input \(genai-prices ([0-9.]+)\)$")


def embedding_models():
    return [d for d in declarations("embeddings") if isinstance(d, ast.Model)]


def test_embeddings_are_all_catalog_models():
    models = embedding_models()
    assert len(models) >= 10
    for m in models:
        assert m.catalog, f"`{m.name}` types its prices by hand"
        overridden = {f.name for f in m.body.items} if m.body else set()
        assert overridden <= {"output"}, f"`{m.name}` overrides {sorted(overridden - {'output'})}"
    refs = {m.catalog for m in models}
    assert {"openai:text-embedding-3-small", "openai:text-embedding-3-large", "cohere:embed-v4.0",
            "google:gemini-embedding-001", "mistral:mistral-embed"} <= refs
    assert any(r.startswith("voyageai:") for r in refs)


@pytest.mark.parametrize("model", embedding_models(), ids=lambda m: m.name)
def test_embedding_comments_match_the_catalog(model):
    block = comment_above(source("embeddings"), model.span.line)
    price = catalog.lookup(model.catalog)
    # the source URL is the one the catalog cites for this provider
    src = next(line for line in block if line.startswith("# source:"))
    url = URL.search(src).group(0)
    assert url in price.source
    stated = [PRICE_LINE.match(line) for line in block if PRICE_LINE.match(line)]
    assert len(stated) == 1, f"`{model.name}` needs one `# catalog price:` line"
    value, snapshot = stated[0].groups()
    if snapshot != version("genai-prices"):
        pytest.skip(f"comment states genai-prices {snapshot}, installed {version('genai-prices')}")
    assert price.input.base == Decimal(value), f"`{model.name}`: the catalog now says {price.input.base}"


@pytest.mark.parametrize("model", embedding_models(), ids=lambda m: m.name)
def test_each_embedding_model_prices_a_call_from_the_catalog(model, tmp_path):
    r = cost(f"import embeddings\nembedding e {{ model = {model.name}; input = 500 tokens }}\nflow {{ start -> e }}\n",
             tmp_path)
    per_token = float(catalog.lookup(model.catalog).input.base) / 1e6
    # 500 tokens in, none out: 500 x the catalog's input price, 30,000 requests a month
    assert r.cost_per_request == approx(500 * per_token)
    assert r.monthly_total == approx(500 * per_token * REQUESTS)
    assert rows(r)["e"].category == "retrieval"


# --- one hand-derived architecture per module ----------------------------------------------------

def test_vector_dbs_pinecone_queries_and_an_opensearch_floor(tmp_path):
    text = """
import vector_dbs
retrieval search { cost = pinecone_query_cost }
fixed index "Pinecone storage and an OpenSearch collection" { cost = 20 GB * pinecone_storage_gb_month + opensearch_floor; category = retrieval }
fixed pods { cost = 2 * pinecone_pod_p1 }
flow { start -> search }
"""
    r = cost(text, tmp_path)
    # a 1 GB namespace costs 1 read unit a query: 16 USD / 1e6 = 0.000016 USD per query
    assert r.cost_per_request == approx(16e-6)
    # 20 GB x 0.33 = 6.60; 2 OCUs x 0.24 USD/h x 24 h x 30 days = 345.60; 2 pods x 100 = 200
    assert rows(r)["index"].monthly == approx(6.60 + 345.60)
    assert r.fixed_monthly == approx(6.60 + 345.60 + 200)
    assert r.monthly_total == approx(30_000 * 16e-6 + 552.20)      # 0.48 + 552.20
    # a 0.1 GB namespace still pays the 0.25 read-unit minimum: 0.25 x 16 / 1e6
    small = cost(text, tmp_path, set={"pinecone_namespace_size": "0.1 GB"})
    assert small.cost_per_request == approx(4e-6)
    # Enterprise's 24 USD per million read units, over a 7.14 GB namespace: 7.14 x 24 / 1e6
    big = cost(text, tmp_path, set={"pinecone_namespace_size": "7.14 GB",
                                    "pinecone_usd_per_million_read_units": "24 USD"})
    assert big.cost_per_request == approx(7.14 * 24e-6)


def test_observability_prices_langfuse_traces_datadog_logs_langsmith_seats(tmp_path):
    r = cost("""
import observability
import observability_prices
""" + ANSWER + """
use observability_stack as obs {
  per_trace = langfuse_trace; per_token = datadog_log_per_mtok; sample = 50%
  seats = 3 seats; seat_price = langsmith_plus_seat; platform = langfuse_core_plan
}
flow { start -> answer }
""", tmp_path)
    langfuse = 8 * 6 / 100_000                     # 6 units at 8 USD per 100k = 0.00048
    log_per_token = 0.10 * 0.004 / 1e6             # 0.10 USD/GB x 0.004 GB per Mtok = 4e-10
    tracing = 0.5 * (langfuse + 1200 * log_per_token)  # half the requests traced, 1,200 tokens each
    assert r.cost_per_request == approx(ANSWER_COST + tracing)
    assert r.fixed_monthly == approx(3 * 39 + 29)  # 117 + 29 = 146
    assert r.by_category["ops"] == approx(tracing * REQUESTS + 146)


def test_human_rates_loaded_paralegal_review(tmp_path):
    r = cost("""
import review
import human_rates
""" + ANSWER + """
use review_queue as qa { share = 5%; minutes = 6 min; hourly_rate = human_loaded_paralegal }
flow { start -> answer -> qa }
""", tmp_path)
    loaded = 29.31 * 45.65 / 32.07                 # 41.72 USD an hour: wage x employer cost per wage dollar
    per_review = loaded * 6 / 60                   # 6 minutes: 4.17 USD
    assert r.cost_per_request == approx(ANSWER_COST + 0.05 * per_review)
    assert r.by_category["human"] == approx(0.05 * per_review * REQUESTS)   # 6,258.19 a month
    assert r.by_category["human"] == pytest.approx(6258.19, abs=0.01)


def test_reindexing_vector_writes_for_a_weekly_rebuild(tmp_path):
    r = cost("""
import vector_dbs
import reindexing
fixed upserts { cost = reindex_docs_scale * reindex_changed_share * reindex_chunks_per_doc * pinecone_upsert_cost / reindex_every_week; category = retrieval }
""" + ANSWER + "flow { start -> answer }\n", tmp_path)
    # 100,000 docs x (800 / 400) chunks = 200,000 records a week; 30/7 weeks a month;
    # 7.14 write units each at 4 USD per million: 200,000 x 30/7 x 7.14 x 4e-6 = 24.48
    assert r.fixed_monthly == approx(200_000 * 30 / 7 * 7.14 * 4e-6)
    assert r.fixed_monthly == pytest.approx(24.48, abs=1e-9)
    assert rows(r)["upserts"].category == "retrieval"
    # nightly instead of weekly: 7 times as much
    nightly = cost("""
import vector_dbs
import reindexing
fixed upserts { cost = reindex_docs_scale * reindex_chunks_per_doc * pinecone_upsert_cost / reindex_every_night }
""" + ANSWER + "flow { start -> answer }\n", tmp_path)
    assert nightly.fixed_monthly == approx(7 * 24.48)


def test_reindex_job_with_a_catalog_embedding_model(tmp_path):
    r = cost("""
import rag
import embeddings
import reindexing
use reindex_job as weekly {
  embed_model = embed_openai_small
  documents = reindex_docs_scale * reindex_changed_share
  doc_tokens = reindex_doc_tokens * (1 + reindex_chunk_overlap)
  every = reindex_every_week
}
""" + ANSWER + "flow { start -> answer }\n", tmp_path)
    per_token = float(catalog.lookup("openai:text-embedding-3-small").input.base) / 1e6
    # 100,000 docs x 800 tokens x 1.1 (overlap) = 88 million tokens a run, 30/7 runs a month
    tokens_per_month = 100_000 * 800 * 1.1 * 30 / 7
    assert r.fixed_monthly == approx(tokens_per_month * per_token)
    assert rows(r)["weekly.reembed"].category == "retrieval"
    # the seed's growth: a 10k-document pilot costs a tenth as much
    pilot = cost("""
import rag
import embeddings
import reindexing
use reindex_job as weekly {
  embed_model = embed_openai_small
  documents = reindex_docs_pilot
  doc_tokens = reindex_doc_tokens * (1 + reindex_chunk_overlap)
  every = reindex_every_week
}
""" + ANSWER + "flow { start -> answer }\n", tmp_path)
    assert r.fixed_monthly == approx(10 * pilot.fixed_monthly)


# --- the documentation's tables follow the modules ------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "stdlib-prices.md"


@pytest.mark.parametrize("name", MODULES)
def test_docs_table_lists_every_declaration_with_its_value(name):
    doc = DOC.read_text(encoding="utf-8")
    table_rows = {line.split("|")[1].strip().strip("`"): line for line in doc.splitlines()
                  if line.startswith("| `")}
    for decl in declarations(name):
        assert decl.name in table_rows, f"docs/stdlib-prices.md has no row for `{decl.name}`"
        row = table_rows[decl.name]
        if isinstance(decl, ast.Model):
            assert f"`{decl.catalog}`" in row
        elif isinstance(decl.value, ast.Quantity):
            cells = [c.strip() for c in row.split("|")]
            assert cells[2] == decl.value.value and cells[3] == (decl.value.unit or ""), (
                f"docs row for `{decl.name}` says {cells[2]} {cells[3]}")


# --- overriding a module price from the command line ------------------------------------------------

def test_set_overrides_a_module_price_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "arch.llmarch"
    path.write_text(HEADER + "import vector_dbs\nretrieval search { cost = pinecone_query_cost }\n"
                    "flow { start -> search }\n", encoding="utf-8")
    assert main(["cost", str(path), "--format", "json"]) == EXIT_OK
    default = json.loads(capsys.readouterr().out)["results"]["monthly_total"]
    assert main(["cost", str(path), "--format", "json",
                 "--set", "pinecone_usd_per_million_read_units=20"]) == EXIT_OK
    raised = json.loads(capsys.readouterr().out)["results"]["monthly_total"]
    # 30,000 queries x 1 read unit: 16 / 1e6 -> 20 / 1e6 per query
    assert default == approx(30_000 * 16e-6)
    assert raised == approx(30_000 * 20e-6)


def test_an_unknown_module_parameter_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "arch.llmarch"
    path.write_text(HEADER + "import vector_dbs\nretrieval search { cost = pinecone_query_cost }\n"
                    "flow { start -> search }\n", encoding="utf-8")
    code = main(["cost", str(path), "--set", "pinecone_read_unit=20"])
    out, err = capsys.readouterr()
    assert code != EXIT_OK and "Traceback" not in out + err
    assert "pinecone_read_unit" in out + err
