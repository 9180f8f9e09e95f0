"""Where a model's token prices come from: one catalog entry at one date, or the file.

A leaf: the prices pass makes a `PriceSource` for every model, the results carry those of
the models the architecture uses, and every output names them (`cost`, `explain`,
`export`, the report, the diagram's legend). Plain strings only, so that the compile
cache stores them and a cached `cost` prints what a fresh compile prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["PriceSource"]


@dataclass(frozen=True)
class PriceSource:
    """One model's prices: from which catalog entry, for which date, from which snapshot.

    For a model priced in the file, only `model` is set (and `reference`, `entry`,
    `catalog` are None)."""

    model: str                         # the model's name in the file: "small"
    reference: Optional[str] = None    # the reference as written: "anthropic:claude-sonnet-4"
    entry: Optional[str] = None        # the catalog entry that priced it: "anthropic:claude-sonnet-4-0"
    name: Optional[str] = None         # the entry's display name: "Claude Sonnet 4"
    priced_as: Optional[str] = None    # a resold model: the owner's entry ("openai:gpt-4o" for azure:gpt-4o)
    as_of: Optional[str] = None        # the date asked for, YYYY-MM-DD; None: the newest prices
    price_since: Optional[str] = None  # the first day of the price period used; None: not recorded
    catalog: Optional[str] = None      # the snapshot: "genai-prices 0.2.3"
    overrides: tuple[str, ...] = ()    # what the file changes: "input", "output", "cached_input", "cache_write", "discount"

    @property
    def from_catalog(self) -> bool:
        return self.entry is not None

    def to_tuple(self) -> tuple:
        """Plain data for the compile cache (marshal); `from_tuple` reads it back."""
        return (self.model, self.reference, self.entry, self.name, self.priced_as, self.as_of, self.price_since,
                self.catalog, tuple(self.overrides))

    @classmethod
    def from_tuple(cls, raw) -> "PriceSource":
        *head, overrides = raw
        return cls(*head, tuple(overrides))

    def to_json(self) -> dict:
        """The object `cost --format json` and `export` list under `prices`."""
        return {"model": self.model, "reference": self.reference, "entry": self.entry, "name": self.name,
                "priced_as": self.priced_as, "as_of": self.as_of, "price_since": self.price_since,
                "catalog": self.catalog, "overrides": list(self.overrides)}
