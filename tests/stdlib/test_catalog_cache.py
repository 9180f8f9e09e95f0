"""The on-disk cache of catalog lookups: same answers, no genai-prices import on a hit,
and a broken cache is ignored: recomputed, rewritten, never an error or a stray file."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import date

import pytest

from llmarch._cachedir import cache_folder

from llmarch.stdlib import catalog

REFS = [("openai:gpt-4o", None), ("openai:o3", date(2025, 6, 9)), ("google:gemini-2.5-pro", None),
        ("anthropic:claude-sonnet-4-0", date(2025, 6, 15)), ("openai:text-embedding-3-small", None)]


def test_a_cached_answer_equals_a_fresh_one(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    fresh = [catalog._lookup(ref, when) for ref, when in REFS]
    first = [catalog.lookup(ref, when) for ref, when in REFS]      # computed, kept
    catalog._LookupCache.flush_all()                                # written (at exit, normally)
    catalog._LookupCache._open.clear()                              # as a new process would
    files = list(tmp_path.glob("catalog-*.json"))
    assert len(files) == 1 and len(json.loads(files[0].read_text())) == len(REFS)
    second = [catalog.lookup(ref, when) for ref, when in REFS]     # read back
    assert first == fresh and second == fresh


def test_a_hit_does_not_load_genai_prices(tmp_path):
    env = {"LLMARCH_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = ("import sys; from llmarch.stdlib import catalog; p = catalog.lookup('openai:gpt-4o'); "
            "print(p.input.base, 'genai_prices' in sys.modules)")
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert cold.stdout.split()[1] == "True"
    assert warm.stdout.split() == [cold.stdout.split()[0], "False"]


def test_a_corrupt_or_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    expected = catalog._lookup("openai:gpt-4o")
    catalog.lookup("openai:gpt-4o")
    catalog._LookupCache.flush_all()
    path = next(tmp_path.glob("catalog-*.json"))
    path.write_text('{"openai:gpt-4o|": {"provider": 3}}')          # garbage entry
    catalog._LookupCache._open.clear()
    assert catalog.lookup("openai:gpt-4o") == expected
    path.write_text("not json")
    catalog._LookupCache._open.clear()
    assert catalog.lookup("openai:gpt-4o") == expected
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path / "file.txt" / "below"))
    (tmp_path / "file.txt").write_text("a file where a folder should be")
    assert catalog.lookup("openai:gpt-4o") == expected
    catalog._LookupCache.flush_all()                                # an unwritable folder: ignored


def test_errors_are_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        try:
            catalog.lookup("openai:gpt-4o-mni")
        except catalog.CatalogError as exc:
            assert exc.suggestions[0] == "openai:gpt-4o-mini"
        else:
            raise AssertionError("expected a CatalogError")
    catalog._LookupCache.flush_all()
    assert not list(tmp_path.glob("catalog-*.json"))


# --- a cache file that lies: every entry is checked against what the writer writes ------------

TIERED = ("google:gemini-2.5-pro", None)        # tiers in three components
DATED = ("openai:o3", date(2025, 6, 9))          # a dated key, a dated price
G = "google:gemini-2.5-pro|"
O = "openai:o3|2025-06-09"
BARE = "@@bare@@"                                # replaced by a bare JSON token


def _new_process():
    catalog._LookupCache._open.clear()


@pytest.fixture
def cache_file(tmp_path, monkeypatch):
    """The cache file for this test's folder, and the answers computed without a cache."""
    monkeypatch.setenv("LLMARCH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("LLMARCH_NO_CACHE", raising=False)
    _new_process()
    yield catalog._LookupCache._path()
    for cache in catalog._LookupCache._open.values():
        cache.dirty = False                        # nothing left for the exit flush
    _new_process()


def _fresh():
    return {G: catalog._lookup(*TIERED), O: catalog._lookup(*DATED)}


def _written(path) -> dict:
    """What a process that looked up both references leaves on disk."""
    catalog.lookup(*TIERED)
    catalog.lookup(*DATED)
    catalog._LookupCache.flush_all()
    _new_process()
    return json.loads(path.read_text(encoding="utf-8"))


def _at(*where, value):
    def mutate(data):
        node = data
        for step in where[:-1]:
            node = node[step]
        node[where[-1]] = value
        return json.dumps(data)
    return mutate


def _bare(*where, token):
    def mutate(data):
        return _at(*where, value=BARE)(data).replace(json.dumps(BARE), token)
    return mutate


def _deep_name(data):
    text = json.dumps(data)
    return text.replace(json.dumps(data[G]["name"]), "[" * 100_000 + "]" * 100_000)


def _unsorted_tiers(data):
    data[G]["input"]["tiers"] = [[300000, "5"], [200000, "2.5"]]
    return json.dumps(data)


def _without(key):
    def mutate(data):
        del data[G][key]
        return json.dumps(data)
    return mutate


def _rename(old, new):
    def mutate(data):
        data[new] = data.pop(old)
        return json.dumps(data)
    return mutate


def _duplicate_key(data):
    body = json.dumps(data)[1:]
    return '{' + json.dumps(G) + ': {"provider": 3}, ' + body   # the last one would win


def _too_many(data):
    entry = data[O]
    for n in range(catalog._LookupCache.MAX_ENTRIES):
        day = date.fromordinal(date(2000, 1, 1).toordinal() + n).isoformat()
        data[f"openai:o3|{day}"] = dict(entry, as_of=day)
    return json.dumps(data)


def _huge(data):   # well-formed, but more than the reader reads
    return json.dumps(data) + " " * (catalog._LookupCache.MAX_BYTES + 1)


CORRUPT = {
    # unreadable
    "deep list": lambda d: "[" * 200_000,
    "deep object": lambda d: '{"a": ' * 200_000,
    "deep value in a good file": _deep_name,
    "truncated": lambda d: json.dumps(d)[: len(json.dumps(d)) // 2],
    "empty": lambda d: "",
    "binary": lambda d: bytes(range(256)) * 16,
    "NUL bytes": lambda d: b"\0" * 4096,
    "latin-1": lambda d: json.dumps(d, ensure_ascii=False).replace("Gemini", "G\xe9mini").encode("latin-1"),
    "huge": _huge,
    "too many entries": _too_many,
    "duplicate key": _duplicate_key,
    # not the writer's shape
    "a list": lambda d: "[]",
    "null": lambda d: "null",
    "a string": lambda d: '"{}"',
    "entry a list": _at(G, value=[]),
    "entry null": _at(G, value=None),
    "missing field": _without("input"),
    "extra field": _at(G, "extra", value=1),
    "rate without tiers": _at(G, "input", value={"base": "1.25"}),
    "rate extra key": _at(G, "input", "why", value=1),
    "rate a string": _at(G, "input", value="1.25"),
    "tiers a dict": _at(G, "input", "tiers", value={"200000": "2.5"}),
    "tier of three": _at(G, "input", "tiers", 0, value=[200000, "2.5", "x"]),
    "tier start a string": _at(G, "input", "tiers", 0, 0, value="200000"),
    "tier start true": _at(G, "input", "tiers", 0, 0, value=True),
    "tier start negative": _at(G, "input", "tiers", 0, 0, value=-1),
    "tier start float": _bare(G, "input", "tiers", 0, 0, token="2e5"),
    "tier start huge": _at(G, "input", "tiers", 0, 0, value=10 ** 30),
    "tiers unsorted": _unsorted_tiers,
    "provider a number": _at(G, "provider", value=3),
    "provider empty": _at(G, "provider", value=""),
    "model null": _at(G, "model", value=None),
    "name a number": _at(G, "name", value=3),
    "source elsewhere": _at(G, "source", value="my own prices"),
    "notes a string": _at(G, "notes", value="x"),
    "notes of numbers": _at(G, "notes", value=[1]),
    # wrong values
    "price NaN": _at(G, "input", "base", value="NaN"),
    "price sNaN": _at(G, "input", "base", value="sNaN"),
    "price Infinity": _at(G, "input", "base", value="Infinity"),
    "price -Infinity": _at(G, "input", "base", value="-Infinity"),
    "price 1e400": _at(G, "input", "base", value="1e400"),
    "price 1E+400": _at(G, "input", "base", value="1E+400"),
    "price 1E-400": _at(G, "input", "base", value="1E-400"),
    "price -1": _at(G, "input", "base", value="-1"),
    "price -0": _at(G, "input", "base", value="-0"),
    "price not canonical": _at(G, "input", "base", value="125E-2"),
    "price with spaces": _at(G, "input", "base", value=" 1.25"),
    "price with underscores": _at(G, "output", "base", value="1_0"),
    "price a word": _at(G, "input", "base", value="cheap"),
    "price empty": _at(G, "input", "base", value=""),
    "tier price NaN": _at(G, "output", "tiers", 0, 1, value="NaN"),
    "tier price -1": _at(G, "output", "tiers", 0, 1, value="-1"),
    "per request -1": _at(G, "per_request", value="-1"),
    "per request a number": _at(G, "per_request", value=1),
    "bare NaN": _bare(G, "input", "base", token="NaN"),
    "bare Infinity": _bare(G, "input", "base", token="Infinity"),
    "bare -Infinity": _bare(G, "input", "base", token="-Infinity"),
    "bare 1e400": _bare(G, "input", "base", token="1e400"),
    "bare -1": _bare(G, "input", "base", token="-1"),
    "bare 1.25": _bare(G, "input", "base", token="1.25"),
    "bare true": _bare(G, "input", "base", token="true"),
    # dates and keys
    "as_of not the key's": _at(O, "as_of", value="2025-06-10"),
    "as_of on an undated key": _at(G, "as_of", value="2025-06-10"),
    "as_of not a date": _at(O, "as_of", value="2025-13-01"),
    "as_of compact": _at(O, "as_of", value="20250609"),
    "valid_from a word": _at(O, "valid_from", value="yesterday"),
    "valid_from a number": _at(O, "valid_from", value=20250609),
    "first_priced a word": _at(O, "first_priced", value="launch day"),
    "first_priced after the key's date": _at(O, "first_priced", value="2025-06-10"),
    "version empty": _at(G, "version", value=""),
    "version not the source's": _at(G, "version", value="9.9.9"),
    "priced_as a number": _at(G, "priced_as", value=1),
    "key without a date part": _rename(O, "openai:o3"),
    "key with a bad date": _rename(O, "openai:o3|2025-02-30"),
    "key without a reference": _rename(G, "|"),
    "key with spaces": _rename(G, " google:gemini-2.5-pro|"),
}


@pytest.mark.parametrize("mutate", list(CORRUPT.values()), ids=list(CORRUPT))
def test_a_corrupt_cache_is_a_miss_and_is_rewritten(cache_file, mutate, monkeypatch):
    fresh = _fresh()
    good = _written(cache_file)
    assert set(good) == {G, O}
    bad = mutate(copy.deepcopy(good))
    if isinstance(bad, bytes):
        cache_file.write_bytes(bad)
    else:
        cache_file.write_text(bad, encoding="utf-8")
    assert catalog.lookup(*TIERED) == fresh[G]         # recomputed, not read
    assert catalog.lookup(*DATED) == fresh[O]
    catalog._LookupCache.flush_all()                   # the exit flush rewrites the file
    assert json.loads(cache_file.read_text(encoding="utf-8")) == good
    assert sorted(os.listdir(cache_file.parent)) == [cache_file.name]
    _new_process()                                     # and the next process reads it back
    monkeypatch.setattr(catalog, "_lookup", None)      # a miss would fail
    assert catalog.lookup(*TIERED) == fresh[G] and catalog.lookup(*DATED) == fresh[O]


def test_a_corrupt_cache_is_rewritten_even_when_nothing_is_found(cache_file):
    cache_file.write_text("[" * 1000, encoding="utf-8")
    with pytest.raises(catalog.CatalogError):
        catalog.lookup("openai:gpt-4o-mni")
    catalog._LookupCache.flush_all()
    assert json.loads(cache_file.read_text(encoding="utf-8")) == {}


def test_the_reader_takes_everything_the_writer_writes():
    """Every price of the snapshot, newest and dated, passes the reader's checks, and the
    cache bound holds a full cache of the longest entries."""
    longest = 0
    for when in (None, date(2025, 6, 9)):
        for price in catalog.list_prices(as_of=when):
            key = f"{price.ref}|{when.isoformat() if when else ''}"
            raw = json.loads(json.dumps(catalog._price_to_json(price)))
            assert catalog._cached_price(key, raw) == price
            longest = max(longest, len(json.dumps({"x" * catalog.MAX_REF_LENGTH + key: raw})))
    assert longest * catalog._LookupCache.MAX_ENTRIES < catalog._LookupCache.MAX_BYTES


@pytest.mark.parametrize("case", ["deep list", "bare NaN", "price Infinity", "price 1e400", "price -1"])
def test_the_command_prices_right_with_a_corrupt_cache(cache_file, case, tmp_path, monkeypatch, capsys):
    from llmarch import cli

    source = tmp_path / "arch.llmarch"
    source.write_text('model g = "google:gemini-2.5-pro"\ntraffic = 1000 requests/day\n'
                      "llm a { model = g; input = 250000 tokens; output = 2000 tokens }\n"
                      "flow { start -> a }\n", encoding="utf-8")
    monkeypatch.setenv("LLMARCH_NO_CACHE", "1")
    assert cli.main(["cost", str(source)]) == 0
    expected = capsys.readouterr()
    monkeypatch.delenv("LLMARCH_NO_CACHE")
    good = _written(cache_file)
    cache_file.write_text(CORRUPT[case](copy.deepcopy(good)), encoding="utf-8")
    assert cli.main(["cost", str(source)]) == 0
    assert capsys.readouterr() == expected
    catalog._LookupCache.flush_all()
    assert json.loads(cache_file.read_text(encoding="utf-8"))[G] == good[G]


def test_a_directory_in_place_of_the_cache_file(cache_file):
    fresh = _fresh()
    cache_file.mkdir()
    assert catalog.lookup(*TIERED) == fresh[G]
    catalog._LookupCache.flush_all()                   # cannot write there: no error, no litter
    assert sorted(os.listdir(cache_file.parent)) == [cache_file.name] and cache_file.is_dir()
    assert os.listdir(cache_file) == []


def test_a_failed_write_leaves_no_temporary_file(cache_file, monkeypatch):
    def refuse(*args):
        raise OSError("disk full")

    catalog.lookup(*TIERED)
    monkeypatch.setattr(os, "replace", refuse)
    catalog._LookupCache.flush_all()
    assert os.listdir(cache_file.parent) == []


def _exit_flush(tmp_path, place):
    """A process that looks a price up and exits, with `place` at the cache file's path."""
    code = ("import sys; from llmarch.stdlib import catalog; p = catalog._LookupCache._path(); "
            "print(p); sys.stdout.flush(); " + place +
            "; print(catalog.lookup('google:gemini-2.5-pro').input.base)")
    env = {"LLMARCH_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_an_unusable_cache_file_never_fails_the_command(tmp_path):
    done = _exit_flush(tmp_path, "p.mkdir()")
    assert (done.returncode, done.stderr, done.stdout.split()[1]) == (0, "", "1.25")
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(done.stdout.split()[0])]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_in_place_of_the_cache_file_is_not_waited_on(tmp_path):
    done = _exit_flush(tmp_path, "__import__('os').mkfifo(p)")
    assert (done.returncode, done.stderr, done.stdout.split()[1]) == (0, "", "1.25")
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(done.stdout.split()[0])]


# --- where the cache lives ---------------------------------------------------------------------

HOME = "/home/someone"


@pytest.mark.parametrize("platform,env,folder", [
    ("linux", {}, "/home/someone/.cache/llmarch"),
    ("linux", {"XDG_CACHE_HOME": "/var/cache/someone"}, "/var/cache/someone/llmarch"),
    ("linux", {"XDG_CACHE_HOME": ""}, "/home/someone/.cache/llmarch"),
    ("linux", {"XDG_CACHE_HOME": "relative/cache"}, "/home/someone/.cache/llmarch"),   # XDG: ignored
    ("freebsd14", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/llmarch"),
    ("darwin", {}, "/home/someone/Library/Caches/llmarch"),
    ("darwin", {"XDG_CACHE_HOME": "/xdg"}, "/home/someone/Library/Caches/llmarch"),
    ("win32", {"LOCALAPPDATA": "/local/app/data"}, "/local/app/data/llmarch/Cache"),
    ("win32", {}, "/home/someone/AppData/Local/llmarch/Cache"),
    ("win32", {"XDG_CACHE_HOME": "/xdg"}, "/home/someone/AppData/Local/llmarch/Cache"),
    # the override wins everywhere; turning the cache off wins over both
    ("linux", {"LLMARCH_CACHE_DIR": "/mine", "XDG_CACHE_HOME": "/xdg"}, "/mine"),
    ("darwin", {"LLMARCH_CACHE_DIR": "/mine"}, "/mine"),
    ("win32", {"LLMARCH_CACHE_DIR": "/mine", "LOCALAPPDATA": "/local"}, "/mine"),
    ("linux", {"LLMARCH_CACHE_DIR": "", "XDG_CACHE_HOME": "/xdg"}, "/xdg/llmarch"),
    ("linux", {"LLMARCH_NO_CACHE": "1", "LLMARCH_CACHE_DIR": "/mine", "XDG_CACHE_HOME": "/xdg"}, None),
])
def test_the_cache_folder_follows_the_platform(platform, env, folder):
    from pathlib import Path
    found = cache_folder(env, platform, lambda: Path(HOME))
    assert found == (None if folder is None else Path(folder))


def test_no_home_no_cache_unless_a_folder_is_named():
    from pathlib import Path
    for home in (None, Path(""), Path("relative")):        # never a cache in the working directory
        for platform in ("linux", "darwin", "win32"):
            assert cache_folder({}, platform, lambda: home) is None
    assert cache_folder({"XDG_CACHE_HOME": "/xdg"}, "linux", lambda: None) == Path("/xdg/llmarch")
    assert cache_folder({"LOCALAPPDATA": "/l"}, "win32", lambda: None) == Path("/l/llmarch/Cache")
    assert cache_folder({"LLMARCH_CACHE_DIR": "here"}, "linux", lambda: None) == Path("here")


def test_the_cache_is_written_under_xdg_cache_home(tmp_path, monkeypatch):
    expected = catalog._lookup(*TIERED)
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    monkeypatch.delenv("LLMARCH_CACHE_DIR")
    monkeypatch.delenv("LLMARCH_NO_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(home))                 # so that nothing can reach the real one
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.setattr(sys, "platform", "linux")
    _new_process()
    try:
        assert catalog.lookup(*TIERED) == expected
        catalog._LookupCache.flush_all()
    finally:
        _new_process()
    files = list((xdg / "llmarch").iterdir())
    assert [f.name for f in files] == [f"catalog-v{catalog._LookupCache.FORMAT}-{catalog.snapshot_stamp()}.json"]
    assert list(json.loads(files[0].read_text(encoding="utf-8"))) == [G]
    assert not home.exists()
