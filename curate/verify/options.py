"""Settings of a verification, shared by the parent and the worker processes."""

from __future__ import annotations

from dataclasses import dataclass

PERCENT_POLICIES = ("either", "fraction", "strip")


@dataclass(frozen=True)
class Options:
    """rel_tol: relative tolerance between numbers. percent: how `50\\%` compares — "either"
    (equals 50 and 0.5; but `50\\%` against another percentage compares 50 with its number, so
    `50\\%` is not `0.5\\%`), "fraction" (0.5 only) or "strip" (50 only). fallback_last_number: take
    the last number of a response that has no boxed answer, answer marker or bare answer."""

    rel_tol: float = 1e-6
    percent: str = "either"
    fallback_last_number: bool = False

    def __post_init__(self):
        if self.percent not in PERCENT_POLICIES:
            raise ValueError(f"percent must be one of {', '.join(PERCENT_POLICIES)}, not {self.percent!r}")
        if not 0 <= self.rel_tol < 1:
            raise ValueError(f"rel_tol must be in [0, 1), not {self.rel_tol}")
