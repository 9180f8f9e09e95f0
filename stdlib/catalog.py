"""The price catalog: model prices from the installed `genai-prices` snapshot.

`genai-prices` (Pydantic's price database) ships its data inside the package
(`genai_prices.data.providers`). This module reads that bundled data and nothing else:
it never calls the package's auto-update (`UpdatePrices`, which fetches over HTTP), and it
does not go through `genai_prices.calc_price`/`get_snapshot()`, which would pick up a
snapshot some other code in the process fetched. So a lookup is offline and gives the
same answer for the same installed package.

    >>> from llmarch.stdlib import catalog
    >>> price = catalog.lookup("openai:o3", as_of=date(2025, 6, 1))
    >>> price.input.base, price.valid_from
    (Decimal('10'), None)

References are `provider:model`, matched the way genai-prices matches them: provider ids
case-insensitively (and through a provider's own alias rules, e.g. `Anthropic`), model ids
through each model's match rules (aliases, dated snapshots such as `gpt-4o-2024-08-06`,
prefixes), falling back to the providers a provider resells (`azure:gpt-4o` has OpenAI's
prices). A reference several catalog entries match — a bare `model` that several providers
offer, an id that several models of one provider match — is an `AmbiguousReference` that
lists them all; genai-prices would take the first.

Which price applies (genai-prices keeps a model's price history as a list of conditional
prices, the last active one wins):

- a price with no condition always applies; a price with a start date applies from that
  date (UTC) on; `as_of=None` means the newest price, announced future changes included;
- genai-prices records no release dates: a model's first price starts, here, at the
  earliest date written in its ids (`gpt-4o-2024-08-06`), and a date before it is
  `NotYetPriced` (`_first_priced`); a model without a dated id takes its first price on
  any date;
- prices with a time-of-day condition: the catalog prices a call at an unknown hour, so it
  takes the price that applies for most hours of the day (DeepSeek's standard price, 16 h,
  rather than its 8-hour off-peak discount; its models' 7-hour peak price is not taken),
  and lists the others in `CatalogPrice.notes`;
- request-context variants (batch processing, priority/flex service tiers) are not taken:
  the catalog gives standard, synchronous prices.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable, Optional

from llmarch._cachedir import cache_folder

__all__ = [
    "Tier", "Rate", "CatalogPrice", "CatalogError", "AmbiguousReference", "NotYetPriced",
    "snapshot_info", "lookup", "list_prices", "call_cost", "parse_date",
    "format_usd", "format_rate", "prices_table", "prices_json",
]

PER_MTOK = 1_000_000
MAX_REF_LENGTH = 200


@dataclass(frozen=True)
class Tier:
    """A rate that applies once the input tokens of one call exceed `start`."""

    start: int          # tokens; the tier applies when the call's input tokens are > start
    per_mtok: Decimal   # USD per million tokens


@dataclass(frozen=True)
class Rate:
    """One price component, USD per million tokens, possibly with long-context tiers.

    Tiers are genai-prices' "cliff" tiers: once the *input* tokens of one call (all of them,
    cache reads and writes included) exceed a tier's `start`, that tier's rate applies to
    **all** tokens of this component in the call, not only to those above `start`. The
    threshold is always the call's input tokens, also for the output rate. A call with
    exactly `start` input tokens still pays `base`. (genai-prices 0.2.3,
    `types.calc_unit_price`: `if total_input_tokens > tier.start: applicable_price =
    tier.price`, then `unit_price = applicable_price * decimal_count`.)
    """

    base: Decimal
    tiers: tuple[Tier, ...] = ()   # ascending by start

    def at(self, input_tokens: int | Decimal) -> Decimal:
        """USD per million tokens for a call with `input_tokens` input tokens."""
        for tier in reversed(self.tiers):
            if input_tokens > tier.start:
                return tier.per_mtok
        return self.base


@dataclass(frozen=True)
class CatalogPrice:
    """The prices of one model at one date. Rates are USD per million tokens; a component
    the catalog does not price is None."""

    provider: str               # provider id, e.g. "openai"
    model: str                  # the canonical model id in the catalog
    name: str | None            # display name
    input: Rate | None
    output: Rate | None
    cache_read: Rate | None
    cache_write: Rate | None
    as_of: date | None          # the date asked for, or None for the newest price
    valid_from: date | None     # start of the dated price that applied, if dated
    source: str                 # "genai-prices 0.2.3 snapshot" + the provider's pricing page
    per_request: Decimal | None = None   # USD per call, for providers that charge one
    notes: tuple[str, ...] = ()          # what the catalog left out (time-of-day prices)
    first_priced: date | None = None     # the day the catalog's first price for the model starts, when it shows one
    version: str = ""                    # the genai-prices version, "0.2.3"
    priced_as: str | None = None         # a resold model: its owner's `provider:model` ("openai:gpt-4o")

    @property
    def ref(self) -> str:
        """`provider:model`, a reference `lookup` resolves back to this model."""
        return f"{self.provider}:{self.model}"

    @property
    def price_since(self) -> date | None:
        """The first day of the price period these prices are from: the start of the dated
        price that applied, else (the model's first price) `first_priced`; None when the
        catalog does not record it."""
        return self.valid_from if self.valid_from is not None else self.first_priced


class CatalogError(Exception):
    """An unknown, ambiguous or malformed price reference, or a bad date.

    `message` is one lowercase line; `suggestions` are `provider:model` references the user
    may have meant (best first); `help` is a ready-made hint line, or None."""

    def __init__(self, message: str, suggestions: Iterable[str] = (), help: Optional[str] = None):
        self.message = message
        self.suggestions = list(suggestions)
        if help is None and self.suggestions:
            help = "did you mean " + _one_of(self.suggestions) + "?"
        self.help = help
        super().__init__(message)


class AmbiguousReference(CatalogError):
    """A reference that several catalog entries match: `suggestions` lists every one of
    them (`provider:model`, sorted)."""


class NotYetPriced(CatalogError):
    """A date before the model's first price in the catalog. `first_priced` is the day the
    first price starts, and `evidence` the model id that date was read from."""

    def __init__(self, message: str, first_priced: date, evidence: Optional[str], help: Optional[str] = None,
                 note: Optional[str] = None):
        super().__init__(message, (), help)
        self.first_priced = first_priced
        self.evidence = evidence
        self.note = note      # where the date comes from, one line


def parse_date(text: str) -> date:
    """A calendar date written `YYYY-MM-DD` (the form `as of` and `--as-of` take)."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise CatalogError(f"expected a date as YYYY-MM-DD, got `{_shorten(str(text))}`")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CatalogError(f"`{text.strip()}` is not a calendar date ({exc})") from None


def _day(as_of) -> date | None:
    from datetime import datetime
    if isinstance(as_of, datetime):
        return as_of.date()
    if as_of is None or isinstance(as_of, date):
        return as_of
    raise CatalogError(f"`as_of` must be a date, got {type(as_of).__name__}")


# --- the bundled data ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Data:
    version: str
    providers: list          # genai_prices.types.Provider, the package's bundled list
    refs: tuple[tuple[str, str], ...]   # (provider id, model id) of every provider's own models
    newest_date: date | None


@lru_cache(maxsize=1)
def _data() -> _Data:
    # Imported here: the data module is large (about 0.2 s), and most commands never need it.
    from importlib.metadata import version
    from genai_prices import data, types

    providers = data.providers
    newest = None
    refs = []
    for provider in providers:
        for model in provider.models:
            refs.append((provider.id, model.id))
            for conditional in model.prices if isinstance(model.prices, list) else ():
                if isinstance(conditional.constraint, types.StartDateConstraint):
                    start = conditional.constraint.start_date
                    newest = start if newest is None or start > newest else newest
    return _Data(version("genai-prices"), providers, tuple(refs), newest)


def snapshot_info() -> dict:
    """What is installed: package version, providers and models, and a date.

    genai-prices records no snapshot date, so `date` is the newest start date of any price
    in the data (`date_source` says so); it may be a price change announced for the future."""
    d = _data()
    return {
        "package": "genai-prices",
        "version": d.version,
        "date": d.newest_date.isoformat() if d.newest_date else None,
        "date_source": "newest price start date in the data (genai-prices records no snapshot date)",
        "providers": len(d.providers),
        "models": len(d.refs),
    }


# --- lookup ----------------------------------------------------------------------------------

def lookup(ref: str, as_of: date | None = None) -> CatalogPrice:
    """The prices of `provider:model` (or of a bare `model` one provider offers) at `as_of`,
    or the newest prices. Raises `CatalogError` with did-you-mean suggestions.

    Answers are kept in a small on-disk cache keyed by the installed snapshot (see
    `_LookupCache`): loading genai-prices' data costs about 0.2 s a process, a cached
    answer about a millisecond, and it is the same answer."""
    key = None
    if isinstance(ref, str) and (as_of is None or isinstance(as_of, date)):
        day = _day(as_of)
        key = f"{ref.strip()}|{day.isoformat() if day else ''}"
    cache = _LookupCache.open() if key is not None else None
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    price = _lookup(ref, as_of)
    if cache is not None:
        cache.put(key, price)
    return price


class _LookupCache:
    """Resolved references, as JSON, in the platform's cache folder (`_cache_folder`:
    `$LLMARCH_CACHE_DIR`, else e.g. `$XDG_CACHE_HOME/llmarch` or `~/.cache/llmarch`),
    one file per installed genai-prices snapshot (named by the size and modification time of
    its data module, so upgrading the package starts a new file). The file is read once per
    process and written once, when the process ends (`flush`), so resolving many references
    costs one write. `LLMARCH_NO_CACHE=1` turns the cache off. Errors are never cached: their
    suggestions need the whole catalog anyway.

    The file is not trusted. At most `MAX_BYTES` are read, from a regular file only (a
    directory, a named pipe or a device in its place is not opened for reading); it must
    be UTF-8 JSON (no bare `NaN`/`Infinity`, no floats, no duplicate keys, no nesting deep
    enough to exhaust the parser's recursion), and every entry must be exactly what `put`
    writes: the same fields and types, finite non-negative prices in canonical form,
    ascending tiers, ISO dates, `as_of` the key's date (`_cached_price`). A cache that
    fails any of this is a miss as a whole: its answers are recomputed from genai-prices
    and the file is rewritten at exit. Writing goes through a temporary file in the same
    folder, renamed over the cache file, and removed if anything fails; a cache folder or
    file that cannot be written (a directory in the file's place, a read-only folder) is
    skipped silently."""

    FORMAT = 3   # bumped whenever what a lookup answers changes (2: time-of-day rule; 3: first price, version)
    MAX_ENTRIES = 2000
    # A full cache of the longest answers in genai-prices 0.2.3 (about 0.6 KB of JSON,
    # plus a key of at most MAX_REF_LENGTH characters) is under 2 MB; twice that is read,
    # and a file longer than this is invalid (a test checks the bound against the snapshot).
    MAX_BYTES = 4 * 1024 * 1024
    _open: dict = {}          # path -> the process's cache for it

    def __init__(self, path, entries: dict, prices: dict, stale: bool = False):
        self.path = path
        self.entries = entries    # key -> the JSON written for it
        self.prices = prices      # key -> its CatalogPrice, checked and decoded once
        self.dirty = False
        self.registered = False   # with atexit, once
        if stale:                 # an invalid file: replace it at exit, even if nothing is added
            self._changed()

    @classmethod
    def open(cls) -> Optional["_LookupCache"]:
        path = cls._path()
        if path is None:
            return None
        if path not in cls._open:
            cls._open[path] = cls._read(path)
        return cls._open[path]

    @classmethod
    def flush_all(cls) -> None:
        for cache in cls._open.values():
            cache.flush()

    @classmethod
    def _path(cls):
        folder = cache_folder()
        if folder is None:
            return None
        snapshot = snapshot_stamp()
        if snapshot is None:
            return None
        return folder / f"catalog-v{cls.FORMAT}-{snapshot}.json"

    @classmethod
    def _read(cls, path) -> "_LookupCache":
        import json
        try:
            data = _read_at_most(path, cls.MAX_BYTES)
        except FileNotFoundError:
            return cls(path, {}, {})
        except (OSError, ValueError):          # not a regular file, unreadable, too long
            return cls(path, {}, {}, stale=True)
        try:
            entries = json.loads(data.decode("utf-8"), object_pairs_hook=_json_object,
                                 parse_constant=_json_refuse, parse_float=_json_refuse)
            if type(entries) is not dict or len(entries) > cls.MAX_ENTRIES:
                raise ValueError("not an object of at most MAX_ENTRIES entries")
            prices = {key: _cached_price(key, raw) for key, raw in entries.items()}
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError, RecursionError):
            return cls(path, {}, {}, stale=True)
        return cls(path, entries, prices)

    def get(self, key: str) -> Optional[CatalogPrice]:
        return self.prices.get(key)

    def put(self, key: str, price: CatalogPrice) -> None:
        if len(self.entries) >= self.MAX_ENTRIES:
            return
        raw = _price_to_json(price)
        try:
            _cached_price(key, raw)   # what the reader would refuse is not written
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError):
            return
        self.entries[key] = raw
        self.prices[key] = price
        self._changed()

    def _changed(self) -> None:
        if not self.registered:
            import atexit
            atexit.register(self.flush)
            self.registered = True
        self.dirty = True

    def flush(self) -> None:
        import json
        import os
        import stat
        import tempfile

        if not self.dirty:
            return
        self.dirty = False
        data = json.dumps(self.entries, sort_keys=True).encode("utf-8")
        if len(data) > self.MAX_BYTES:   # cannot happen with MAX_ENTRIES entries; never write what is not read
            return
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                if not stat.S_ISREG(os.stat(self.path).st_mode):
                    return                  # a directory, a pipe, a device: not ours to replace
            except FileNotFoundError:
                pass
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".catalog-", suffix=".json")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)   # atomic: a concurrent reader sees the old or the new file
            tmp = None
        except (OSError, ValueError):
            pass
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _read_at_most(path, limit: int) -> bytes:
    """The bytes of the regular file `path`; ValueError if it is something else or longer
    than `limit` bytes (at most `limit + 1` are read). Opened without blocking, so that a
    named pipe in the file's place is refused instead of waited on."""
    import os
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path} is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise ValueError(f"{path} is longer than {limit} bytes")
    return b"".join(chunks)


def _json_object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a duplicate key")
    return obj


def _json_refuse(token: str):
    raise ValueError(f"`{token}`: the cache holds no floats, NaN or Infinity")


@lru_cache(maxsize=1)
def snapshot_stamp() -> Optional[str]:
    """The installed genai-prices data, as `size-mtime` of its data module: looked up once
    a process (a lookup must not stat the package every time), without importing it."""
    import importlib.util
    from pathlib import Path
    try:
        spec = importlib.util.find_spec("genai_prices")
        if spec is None or spec.origin is None:
            return None
        stat = (Path(spec.origin).parent / "data.py").stat()
    except (OSError, ValueError, ImportError):
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _rate_to_json(rate: Optional[Rate]):
    if rate is None:
        return None
    return {"base": str(rate.base), "tiers": [[t.start, str(t.per_mtok)] for t in rate.tiers]}


def _price_to_json(p: CatalogPrice) -> dict:
    return {"provider": p.provider, "model": p.model, "name": p.name,
            "input": _rate_to_json(p.input), "output": _rate_to_json(p.output),
            "cache_read": _rate_to_json(p.cache_read), "cache_write": _rate_to_json(p.cache_write),
            "as_of": p.as_of.isoformat() if p.as_of else None,
            "valid_from": p.valid_from.isoformat() if p.valid_from else None,
            "source": p.source, "per_request": None if p.per_request is None else str(p.per_request),
            "notes": list(p.notes),
            "first_priced": p.first_priced.isoformat() if p.first_priced else None,
            "version": p.version, "priced_as": p.priced_as}


# Bounds on the values the cache takes (genai-prices 0.2.3: prices 0 to 600 USD/Mtok, at
# most 20 characters; tiers start at 32k to 524k tokens).
_CACHED_PRICE_MAX = Decimal(10) ** 9
_CACHED_PRICE_MIN_EXPONENT = -30   # a non-zero price is at least 1E-30
_CACHED_NUMBER_LENGTH = 64
_CACHED_TIER_START_MAX = 10 ** 12
_ENTRY_FIELDS = frozenset({"provider", "model", "name", "input", "output", "cache_read", "cache_write",
                           "as_of", "valid_from", "source", "per_request", "notes", "first_priced",
                           "version", "priced_as"})


def _cached_price(key, raw) -> CatalogPrice:
    """The price a cache entry holds, if the entry is exactly what `_price_to_json` writes
    for a lookup of `key` (`ref|YYYY-MM-DD`, or `ref|` for the newest prices); ValueError if not."""
    if type(key) is not str:
        raise ValueError("a key that is not a string")
    ref, sep, day = key.rpartition("|")
    if not sep or not ref or ref != ref.strip() or len(ref) > MAX_REF_LENGTH:
        raise ValueError(f"a key that is not `provider:model|date`: {key[:80]!r}")
    if type(raw) is not dict or raw.keys() != _ENTRY_FIELDS:
        raise ValueError(f"{key}: not an entry of the cache's fields")
    price = CatalogPrice(
        provider=_cached_text(raw["provider"]), model=_cached_text(raw["model"]),
        name=None if raw["name"] is None else _cached_text(raw["name"], empty=True),
        input=_cached_rate(raw["input"]), output=_cached_rate(raw["output"]),
        cache_read=_cached_rate(raw["cache_read"]), cache_write=_cached_rate(raw["cache_write"]),
        as_of=_cached_date(raw["as_of"]), valid_from=_cached_date(raw["valid_from"]),
        source=_cached_text(raw["source"]),
        per_request=None if raw["per_request"] is None else _cached_decimal(raw["per_request"]),
        notes=tuple(_cached_text(note, empty=True) for note in _cached_list(raw["notes"])),
        first_priced=_cached_date(raw["first_priced"]), version=_cached_text(raw["version"]),
        priced_as=None if raw["priced_as"] is None else _cached_text(raw["priced_as"]))
    if price.as_of != _cached_date(day or None):
        raise ValueError(f"{key}: `as_of` is not the key's date")
    if not price.source.startswith(f"genai-prices {price.version} snapshot"):
        raise ValueError(f"{key}: a source that is not genai-prices")
    if price.as_of is not None and price.first_priced is not None and price.as_of < price.first_priced:
        raise ValueError(f"{key}: a date before the model's first price")   # lookup never answers that
    if _price_to_json(price) != raw:   # canonical forms: what the writer would write
        raise ValueError(f"{key}: not as the cache writes it")
    return price


def _cached_text(value, empty: bool = False) -> str:
    if type(value) is not str or not (value or empty):
        raise ValueError("a text field that is not a non-empty string")
    return value


def _cached_list(value) -> list:
    if type(value) is not list:
        raise ValueError("not a list")
    return value


def _cached_date(value) -> Optional[date]:
    if value is None:
        return None
    if type(value) is not str or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date that is not YYYY-MM-DD")
    return date.fromisoformat(value)


def _cached_decimal(value) -> Decimal:
    """A price: a string in `str(Decimal)` form, finite, non-negative, within bounds."""
    if type(value) is not str or not value or len(value) > _CACHED_NUMBER_LENGTH:
        raise ValueError("a price that is not a short string")
    number = Decimal(value)   # InvalidOperation (an ArithmeticError) if not a number
    if not number.is_finite() or number.is_signed() or number > _CACHED_PRICE_MAX \
            or (number and number.adjusted() < _CACHED_PRICE_MIN_EXPONENT) or str(number) != value:
        raise ValueError(f"a price out of bounds or not canonical: {value!r}")
    return number


def _cached_rate(value) -> Optional[Rate]:
    if value is None:
        return None
    if type(value) is not dict or value.keys() != {"base", "tiers"}:
        raise ValueError("a rate that is not {base, tiers}")
    tiers = []
    for tier in _cached_list(value["tiers"]):
        if type(tier) is not list or len(tier) != 2:
            raise ValueError("a tier that is not [start, price]")
        start = tier[0]
        if type(start) is not int or not 0 <= start <= _CACHED_TIER_START_MAX \
                or (tiers and start < tiers[-1].start):
            raise ValueError("a tier start that is not a count of tokens in ascending order")
        tiers.append(Tier(start, _cached_decimal(tier[1])))
    return Rate(_cached_decimal(value["base"]), tuple(tiers))


def _lookup(ref: str, as_of: date | None = None) -> CatalogPrice:
    if not isinstance(ref, str) or not ref.strip():
        raise CatalogError("empty price reference: expected `provider:model`, e.g. `openai:gpt-4o`")
    as_of = _day(as_of)
    ref = ref.strip()
    if len(ref) > MAX_REF_LENGTH:
        raise CatalogError(f"price reference is {len(ref)} characters long (at most {MAX_REF_LENGTH})")
    provider, model = _resolve(ref)
    if as_of is not None:
        first, evidence = _first_priced(model)
        if first is not None and as_of < first:
            raise _not_yet_priced(f"{provider.id}:{model.id}", as_of, first, evidence)
    return _price(provider, model, as_of)


def _resolve(ref: str) -> tuple[Any, Any]:
    """(provider, model) for a reference: `provider:model`, or a bare model id that one
    catalog entry matches."""
    from genai_prices.data_snapshot import find_provider_by_id

    d = _data()
    provider_text, sep, model_text = ref.partition(":")
    provider_text, model_text = provider_text.strip(), model_text.strip()
    if not sep:
        return _bare(ref)
    if not provider_text:
        raise CatalogError(f"price reference `{ref}` has no provider: expected `provider:model`")
    provider = find_provider_by_id(d.providers, provider_text)
    model = _find(provider, model_text, d.providers) if provider is not None and model_text else None
    if model is not None:
        return provider, model
    owners = _owners(ref)   # model ids may hold a colon themselves (`x/y:free`, `ft:gpt-4o`)
    if len(owners) == 1:
        return owners[0]
    if owners:
        raise _ambiguous(ref, owners)
    if provider is None:
        suggestions = _provider_suggestions(provider_text, model_text)
        raise CatalogError(f"unknown provider `{provider_text}` in the price catalog", suggestions,
                           None if suggestions else "`llmarch prices` lists the providers the catalog knows")
    if not model_text:
        raise CatalogError(f"price reference `{ref}` has no model: expected `{provider.id}:MODEL`")
    suggestions = _close_models(model_text, [r for r in d.refs if r[0] == provider.id]) \
        or _close_models(model_text, d.refs)
    raise CatalogError(f"unknown model `{model_text}` for provider `{provider.id}` in the price catalog",
                       suggestions, None if suggestions else f"`llmarch prices {provider.id}:` lists its models")


def _bare(model_text: str) -> tuple[Any, Any]:
    owners = _owners(model_text)
    if len(owners) == 1:
        return owners[0]
    if owners:
        raise _ambiguous(model_text, owners)
    suggestions = _close_models(model_text, _data().refs)
    raise CatalogError(f"unknown model `{model_text}` in the price catalog", suggestions,
                       None if suggestions else "write `provider:model`; `llmarch prices` lists the catalog")


def _ambiguous(ref: str, matches: list[tuple[Any, Any]]) -> AmbiguousReference:
    """Several catalog entries match `ref`: name them all, sorted, and ask for the full id."""
    refs = sorted({f"{p.id}:{m.id}" for p, m in matches})
    providers = {p.id for p, _ in matches}
    if len(providers) == len(refs):
        message = f"model `{ref}` is offered by {len(refs)} providers: name one"
    elif len(providers) == 1:
        message = f"`{ref}` matches {len(refs)} models of provider `{next(iter(providers))}`: name one"
    else:
        message = f"`{ref}` matches {len(refs)} models in the price catalog: name one"
    return AmbiguousReference(message, refs, "write the full `provider:model` id: " + _one_of(refs))


def _owners(model_text: str) -> list[tuple[Any, Any]]:
    """(provider, model) for every model of every provider that `model_text` names (a
    provider's own models only, not those it resells)."""
    owners = []
    for provider in _data().providers:
        own = _own_matches(provider, model_text)
        if not own:
            own = _own_matches(provider, model_text, dashed=True)
        owners += [(provider, model) for model in own]
    return owners


def _own_matches(provider, model_text: str, dashed: bool = False) -> list:
    """The provider's own models that `model_text` names: the one whose catalog id it is
    (so every listed `provider:model` resolves; 85 ids in genai-prices 0.2.3 are not
    matched by their own rules, e.g. AWS `regional.…` ids), else every model whose match
    rules accept it (with `dashed`, with a compact date spelt out: `-20251211` as
    `-2025-12-11`, which genai-prices' `Provider.find_model` tries when nothing matches)."""
    lowered = model_text.lower()
    for model in provider.models:
        if model.id.lower() == lowered:
            return [model]
    if dashed:
        lowered, before = _dashed_dates(lowered), lowered
        if lowered == before:
            return []
    return [model for model in provider.models if model.is_match(lowered)]


def _find(provider, model_text: str, all_providers=None):
    """The model `model_text` names at `provider`, in genai-prices' order (`find_model`):
    the provider's own models, then (when `all_providers` is given) those of the providers
    it resells, in the order it lists them; then both again with a compact date spelt out.
    Several of the provider's own models at one step is an `AmbiguousReference` (a
    resold model is taken as genai-prices takes it: the provider's order decides)."""
    def one(own: list):
        if len(own) > 1:
            raise _ambiguous(f"{provider.id}:{model_text}", [(provider, m) for m in own])
        return own[0] if own else None

    found = one(_own_matches(provider, model_text))
    if found is not None:
        return found
    if all_providers is not None:
        found = provider.find_model(model_text, all_providers=all_providers)
        if found is None or not any(found is m for m in provider.models):
            return found    # resold, or nothing anywhere
    return one(_own_matches(provider, model_text, dashed=True))


_COMPACT_DATE = re.compile(r"(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


def _dashed_dates(model_ref: str) -> str:
    """`gpt-5.2-20251211` → `gpt-5.2-2025-12-11`: genai-prices 0.2.3's
    `types._normalize_compact_dated_ref` (a private function, so written out here), which
    `Provider.find_model` tries when a reference matches nothing as written."""
    def dashed(found: re.Match) -> str:
        year, month, day = (int(found.group(i)) for i in range(2, 5))
        try:
            date(year, month, day)
        except ValueError:
            return found.group(0)
        return f"{found.group(1)}{year:04d}-{month:02d}-{day:02d}"
    return _COMPACT_DATE.sub(dashed, model_ref)


# --- the first price -------------------------------------------------------------------------

# A date written in a model id: `2024-08-06` or `20240806` (not `0613`, which has no year).
_ID_DATE = re.compile(r"(?<!\d)(20\d\d)(-?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")


def _first_priced(model) -> tuple[date | None, str | None]:
    """The day the catalog's first price for `model` starts, and the id it was read from.

    genai-prices records when a price *changes* (a start date on a later conditional price)
    but not when a model's first price starts: that price has no condition. Its start is
    then the earliest date written in the model's own ids — its catalog id and the ids its
    match rules name literally (`gpt-4o-2024-08-06`, `claude-opus-4-20250514`; regular
    expressions are not read) — a dated snapshot is priced from the day it is released. A
    first price with a start date of its own gives that date (and no id). A model with no
    dated id, or whose dated ids are not before its first price change (then they are not
    its start), has no known start: (None, None)."""
    from genai_prices import types

    prices = model.prices if isinstance(model.prices, list) else []
    if prices and isinstance(prices[0].constraint, types.StartDateConstraint):
        return prices[0].constraint.start_date, None
    changes = [c.constraint.start_date for c in prices if isinstance(c.constraint, types.StartDateConstraint)]
    best: tuple[date, str] | None = None
    for text in _literal_ids(model):
        for found in _ID_DATE.finditer(text):
            try:
                day = date(int(found.group(1)), int(found.group(3)), int(found.group(4)))
            except ValueError:
                continue
            if best is None or day < best[0]:
                best = (day, text)
    if best is None or (changes and best[0] >= min(changes)):
        return None, None
    return best


def _literal_ids(model) -> list[str]:
    """The model's catalog id and every id its match rules spell out (equals, starts_with,
    ends_with, contains; in `or` and `and` clauses), in the order written."""
    out = [model.id]
    stack = [model.match]
    while stack:
        clause = stack.pop(0)
        for key in ("equals", "starts_with", "ends_with", "contains"):
            value = getattr(clause, key, None)
            if isinstance(value, str):
                out.append(value)
        for key in ("or_", "and_"):
            stack.extend(getattr(clause, key, None) or ())
    return out


def _not_yet_priced(ref: str, as_of: date, first: date, evidence: str | None) -> NotYetPriced:
    day = first.isoformat()
    note = (f"genai-prices records no release dates; {day} is the earliest date in the model's ids (`{evidence}`)"
            if evidence is not None else f"the model's first price in genai-prices {_data().version} starts on {day}")
    return NotYetPriced(f"`{ref}` has no price in the catalog on {as_of.isoformat()}: its first price starts on {day}",
                        first, evidence, f"write a date from {day} on, or leave out `as of` for the newest price", note)


def _close_models(model_text: str, refs: Iterable[tuple[str, str]]) -> list[str]:
    by_model: dict[str, list[str]] = {}
    for provider_id, model_id in refs:
        by_model.setdefault(model_id.lower(), []).append(f"{provider_id}:{model_id}")
    close = difflib.get_close_matches(model_text.lower(), sorted(by_model), n=3, cutoff=0.6)
    return [ref for m in close for ref in sorted(by_model[m])][:3]


def _provider_suggestions(provider_text: str, model_text: str) -> list[str]:
    d = _data()
    ids = sorted({p.id for p in d.providers})
    suggestions = []
    for provider_id in difflib.get_close_matches(provider_text.lower(), ids, n=3, cutoff=0.6):
        provider = next(p for p in d.providers if p.id == provider_id)
        try:
            model = _find(provider, model_text, d.providers) if model_text else None
        except AmbiguousReference:
            model = None
        if model is not None:
            suggestions.append(f"{provider.id}:{model.id}")
    if not suggestions and model_text:   # a misspelt provider far from any id: who sells it?
        suggestions = sorted(f"{p.id}:{m.id}" for p, m in _owners(model_text))[:3]
    return suggestions


# --- prices at a date ------------------------------------------------------------------------

_COMPONENTS = (("input", "input_mtok"), ("output", "output_mtok"),
               ("cache_read", "cache_read_mtok"), ("cache_write", "cache_write_mtok"))


def _price(provider, model, as_of: date | None) -> CatalogPrice:
    from genai_prices import types

    d = _data()
    model_price, valid_from, notes = _applicable(model, as_of, types)
    values = model_price.__dict__
    rates = {field: _rate(values.get(key), types) for field, key in _COMPONENTS}
    per_thousand = values.get("requests_kcount")
    source = f"genai-prices {d.version} snapshot"
    owner = provider
    if not any(model is m for m in provider.models):   # resold: priced as the owner prices it
        owner = next((p for p in d.providers if any(model is m for m in p.models)), provider)
        source += f", {provider.id} priced as {owner.id}"
    if owner.pricing_urls:
        source += f" ({owner.pricing_urls[0]})"
    return CatalogPrice(
        provider=provider.id, model=model.id, name=model.name, **rates,
        as_of=as_of, valid_from=valid_from, source=source,
        per_request=None if per_thousand is None else Decimal(per_thousand) / 1000,
        notes=notes, first_priced=_first_priced(model)[0], version=d.version,
        priced_as=None if owner is provider else f"{owner.id}:{model.id}",
    )


def _applicable(model, as_of: date | None, types):
    """genai-prices' `ModelInfo.get_prices`, with a date instead of a timestamp: the last
    active conditional price wins, else the first. A call's hour is unknown, so of the
    prices that depend on the time of day the catalog takes the one that applies for most
    hours of the day (DeepSeek's standard price applies 16 hours a day, its off-peak
    discount 8), and notes the others."""
    if not isinstance(model.prices, list):
        return model.prices, None, ()
    chosen = model.prices[0]
    for conditional in reversed(model.prices):
        constraint = conditional.constraint
        if constraint is None or (isinstance(constraint, types.StartDateConstraint)
                                  and (as_of is None or as_of >= constraint.start_date)):
            chosen = conditional
            break
    start = chosen.constraint.start_date if isinstance(chosen.constraint, types.StartDateConstraint) else None
    windows = [c for c in model.prices if isinstance(c.constraint, types.TimeOfDateConstraint)]
    if not windows:
        return chosen.prices, start, ()
    hours: list[tuple[object, float, list]] = []     # (prices, hours a day, windows), first seen first
    for c in windows:
        length = _hours(c.constraint)
        for entry in hours:
            if entry[0] == c.prices:
                entry[2].append(c)
                hours[hours.index(entry)] = (entry[0], entry[1] + length, entry[2])
                break
        else:
            hours.append((c.prices, length, [c]))
    outside = 24.0 - sum(h for _, h, _ in hours)
    prices, most, taken = max(hours, key=lambda e: e[1])
    notes = []
    if most > outside:   # a time-of-day price applies most of the day: take it
        notes.append(f"time-of-day prices: {_brief(prices, types)} {_spans(taken)} ({most:g} h a day) taken; "
                     f"{_brief(chosen.prices, types)} the other {outside:g} h")
        others = [e for e in hours if e[0] is not prices]
        chosen_prices = prices
    else:
        others = hours
        chosen_prices = chosen.prices
    notes += [f"time-of-day price not taken: {_brief(p, types)} {_spans(w)} ({h:g} h a day)" for p, h, w in others]
    return chosen_prices, start, tuple(notes)


def _hours(constraint) -> float:
    start, end = _utc(constraint.start_time), _utc(constraint.end_time)
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (minutes % (24 * 60)) / 60


def _spans(conditionals) -> str:
    return ", ".join(f"{_utc(c.constraint.start_time):%H:%M}–{_utc(c.constraint.end_time):%H:%M}"
                     for c in conditionals) + " UTC"


def _utc(moment):
    """A time of day in UTC (genai-prices reads naive times as UTC)."""
    from datetime import datetime, timezone
    if moment.tzinfo is None:
        return moment
    return datetime.combine(date(2000, 1, 1), moment).astimezone(timezone.utc).time()


def _rate(value, types) -> Rate | None:
    if value is None:
        return None
    if isinstance(value, types.TieredPrices):
        tiers = sorted(value.tiers, key=lambda t: t.start)
        return Rate(Decimal(value.base), tuple(Tier(int(t.start), Decimal(t.price)) for t in tiers))
    return Rate(Decimal(value))


def _brief(model_price, types) -> str:
    parts = []
    for field, key in _COMPONENTS:
        rate = _rate(model_price.__dict__.get(key), types)
        if rate is not None:
            parts.append(f"{field.replace('_', ' ')} {format_rate(rate)}")
    return ", ".join(parts) or "other prices"


# --- listing ---------------------------------------------------------------------------------

def list_prices(pattern: str | None = None, as_of: date | None = None) -> list[CatalogPrice]:
    """Every provider's own models, sorted by provider and model; `pattern` is a
    case-insensitive glob (`openai:gpt-4o*`) or else a substring of `provider:model`.
    With `as_of`, the models priced on that day: one whose first price starts later
    (`CatalogPrice.first_priced`) is left out."""
    as_of = _day(as_of)
    d = _data()
    needle = (pattern or "").strip().lower()
    glob = any(ch in needle for ch in "*?[")
    out = []
    for provider in d.providers:
        for model in provider.models:
            ref = f"{provider.id}:{model.id}".lower()
            if needle and not (fnmatch.fnmatchcase(ref, needle) if glob else needle in ref):
                continue
            price = _price(provider, model, as_of)
            if as_of is not None and price.first_priced is not None and as_of < price.first_priced:
                continue
            out.append(price)
    out.sort(key=lambda p: (p.provider, p.model.lower(), p.model))
    return out


# --- the reference implementation of one call's cost -----------------------------------------

def call_cost(price: CatalogPrice, input_tokens, output_tokens, cache_read_tokens=0,
              cache_write_tokens=0) -> Decimal:
    """USD for one call, exactly as genai-prices bills it.

    `input_tokens` are **all** input tokens of the call, cache reads and writes included
    (genai-prices' convention, and llmarch's `input`). The uncached rest pays `input`; cache
    reads pay `cache_read` and cache writes `cache_write` — or `input` when the model has no
    such price. Every rate is taken at the call's total input tokens (see `Rate`). A
    per-request fee is added once. Components without a price cost nothing.
    """
    counts = {"input_tokens": input_tokens, "output_tokens": output_tokens,
              "cache_read_tokens": cache_read_tokens, "cache_write_tokens": cache_write_tokens}
    for what, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, Decimal)) or n < 0:
            raise ValueError(f"{what} must be a non-negative int or Decimal, got {n!r}")
    uncached = Decimal(input_tokens)
    if price.cache_read is not None:
        uncached -= cache_read_tokens
    if price.cache_write is not None:
        uncached -= cache_write_tokens
    if uncached < 0:
        raise ValueError(f"cache reads ({cache_read_tokens}) and writes ({cache_write_tokens}) "
                         f"exceed the call's input tokens ({input_tokens})")
    total = Decimal(0)
    for rate, count in ((price.input, uncached), (price.output, output_tokens),
                        (price.cache_read, cache_read_tokens), (price.cache_write, cache_write_tokens)):
        if rate is not None:
            total += rate.at(input_tokens) * Decimal(count) / PER_MTOK
    if price.per_request is not None:
        total += price.per_request
    return total


# --- rendering for `llmarch prices` ----------------------------------------------------------

def format_usd(value: Decimal) -> str:
    """At least two decimals, more when the price has them (10.00, 1.25, 0.075), and at
    most four significant digits past six decimals (0.08333 for 0.0833333333333333)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    if places > 6 and value:
        places = max(2, 3 - value.adjusted())
    return f"{value:.{places}f}"


def _tokens(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def format_rate(rate: Rate | None) -> str:
    """`1.25`, or `1.25 (>200k: 2.50)` for a tiered rate; `—` when unknown."""
    if rate is None:
        return "—"
    text = format_usd(rate.base)
    if rate.tiers:
        text += " (" + ", ".join(f">{_tokens(t.start)}: {format_usd(t.per_mtok)}" for t in rate.tiers) + ")"
    return text


def _header(as_of: date | None) -> list[str]:
    info = snapshot_info()
    when = f"as of {as_of.isoformat()} (models first priced later left out)" if as_of else "newest known prices"
    return [f"genai-prices {info['version']} snapshot: {info['providers']} providers, {info['models']} models, "
            f"newest price date {info['date']} (the package records no snapshot date)",
            f"USD per million tokens, {when}; standard tier, no batch or time-of-day discounts"]


def prices_table(prices: list[CatalogPrice], as_of: date | None = None) -> str:
    """The text `llmarch prices` prints."""
    header = ["provider", "model", "input", "output", "cache read", "cache write"]
    rows = [[p.provider, p.model, format_rate(p.input), format_rate(p.output),
             format_rate(p.cache_read), format_rate(p.cache_write)] for p in prices]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = _header(as_of) + ["", line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    extras = [f"{p.ref}: plus {format_usd(p.per_request)} USD per request" for p in prices
              if p.per_request is not None]
    extras += [f"{p.ref}: {note}" for p in prices for note in p.notes]
    if extras:
        out += [""] + extras
    return "\n".join(out) + "\n"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def prices_json(prices: list[CatalogPrice], as_of: date | None = None) -> dict:
    """The document `llmarch prices --format json` prints (format_version 1)."""
    rows = []
    for p in prices:
        tiers = {field: [{"start": t.start, "per_mtok": float(t.per_mtok)} for t in rate.tiers]
                 for field, rate in (("input", p.input), ("output", p.output),
                                     ("cache_read", p.cache_read), ("cache_write", p.cache_write))
                 if rate is not None and rate.tiers}
        rows.append({
            "provider": p.provider, "model": p.model, "name": p.name,
            "input_per_mtok": _number(p.input and p.input.base),
            "output_per_mtok": _number(p.output and p.output.base),
            "cache_read_per_mtok": _number(p.cache_read and p.cache_read.base),
            "cache_write_per_mtok": _number(p.cache_write and p.cache_write.base),
            "tiers": tiers,
        })
    return {"format_version": 1, "snapshot": snapshot_info(),
            "as_of": as_of.isoformat() if as_of else None, "prices": rows}


def _one_of(items: list[str]) -> str:
    quoted = [f"`{s}`" for s in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
