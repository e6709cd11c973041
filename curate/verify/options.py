"""Settings of a verification, shared by the parent and the worker processes."""

from __future__ import annotations

from dataclasses import dataclass

PERCENT_POLICIES = ("either", "fraction", "strip")
ROUNDING_POLICIES = ("given", "exact")
DECIMAL_COMMA_POLICIES = ("auto", "never")


@dataclass(frozen=True)
class Options:
    """How answers compare where conventions differ (README, "Verify", lists each rule).

    rel_tol: relative tolerance between numbers (never an absolute one).
    percent: how `50\\%` compares: "either" (equals 50 and 0.5; but `50\\%` against another
    percentage compares 50 with its number, so `50\\%` is not `0.5\\%`), "fraction" (0.5 only) or
    "strip" (50 only).
    rounding: "given" compares an answer written as a decimal at the precision it is written in
    (0.333 is 1/3, with at least `min_digits` significant digits); "exact" only within rel_tol.
    decimal_comma: "auto" reads `1,5` as 1.5 against a single number (`1,500` stays 1500); "never".
    ordered: whether a bare list `1, 2` must match in order (sets `\\{…\\}` never, tuples `(…)` always).
    fallback_last_number: take the last number of a response that has no boxed answer, answer
    marker, bare answer or final math span (the verdict reason says so)."""

    rel_tol: float = 1e-6
    percent: str = "either"
    rounding: str = "given"
    min_digits: int = 3
    decimal_comma: str = "auto"
    ordered: bool = False
    fallback_last_number: bool = True

    def __post_init__(self):
        if self.percent not in PERCENT_POLICIES:
            raise ValueError(f"percent must be one of {', '.join(PERCENT_POLICIES)}, not {self.percent!r}")
        if self.rounding not in ROUNDING_POLICIES:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDING_POLICIES)}, not {self.rounding!r}")
        if self.decimal_comma not in DECIMAL_COMMA_POLICIES:
            raise ValueError(f"decimal_comma must be one of {', '.join(DECIMAL_COMMA_POLICIES)}, "
                             f"not {self.decimal_comma!r}")
        if not 0 <= self.rel_tol < 1:
            raise ValueError(f"rel_tol must be in [0, 1), not {self.rel_tol}")
        if self.min_digits < 1:
            raise ValueError(f"min_digits must be at least 1, not {self.min_digits}")
