"""The names a file's `settings { … }` block may set, with their defaults.

A leaf module: elaboration checks the names and values here, `lint` applies them, and
neither has to import the other.
"""

from __future__ import annotations

__all__ = ["LINT_THRESHOLDS", "SETTING_NAMES"]

#: Thresholds, with their defaults and what they bound.
LINT_THRESHOLDS: dict[str, float] = {
    "max_context_share": 0.5,    # L101: history + retrieved context, share of a call's input tokens
    "max_header_ratio": 5.0,     # L102: instruction header tokens per token of the user's message
    "max_fallback_share": 0.3,   # L201: requests reaching a fallback, per request
    "max_overhead_share": 0.3,   # L202: retry and fallback spend, share of inference spend
    "max_retrieval_ratio": 1.0,  # L301: retrieval spend per dollar of inference
    "max_rag_share": 0.95,       # L303: share of the requests reaching retrieval that run it
    "max_ops_ratio": 0.5,        # L401: observability/ops spend per dollar of inference
    "max_attempts": 1.5,         # L501: expected attempts each time a component is entered
    "min_loop_exit": 0.05,       # L502: a loop's best exit probability per pass
    "projection_months": 12,     # L103, L302: how far ahead growth is compared
}

#: Every name `settings` accepts: the month convention, the traffic's peak over its mean
#: (`capacity`), then the lint thresholds.
SETTING_NAMES = ("month", "peak", *LINT_THRESHOLDS)
