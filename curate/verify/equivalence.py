"""Are two parsed answers the same? Cheapest test first; runs inside a worker process.

Expressions: structural equality, then numbers compared with a relative tolerance, then (with
free symbols) values at seeded random points, and `simplify(a - b) == 0` only when sampling cannot
decide. `e` and `i` are first read as letters, then as Euler's number and the imaginary unit.
Structures: sets and bare lists are order-free, tuples and points ordered, intervals compare ends
and open/closed ends (`(a, b)` is a point or an open interval, whichever the other side is),
matrices elementwise (a one-row or one-column matrix equals a tuple of its entries), equations up
to sides and a constant factor (`a = b` is `b = a`, `y = 2x` is `2x - y = 0`), `x = 3` equals `3`,
inequalities up to orientation and a positive factor, and equal to the interval they describe.
A solved system — equations `symbol = value` with distinct symbols, listed (`x = 9, y = 7`, also
`x = 9 \\text{ and } y = 7`) or as `(x, y) = (9, 7)` — equals the point of its values in the order
written (`(9, 7)`, not `(7, 9)`), and another solved system with the same value for each symbol.

Percentages: with `percent="either"` (the default) `50\\%` equals both `50` and `0.5`; "fraction"
reads it as 0.5 only, "strip" as 50 only. When both sides carry `%` they compare as written
(`65.6\\%` is not `0.656\\%`): the 0.5 reading is there for an answer that dropped the sign.
"""

from __future__ import annotations

import random

import sympy as sp

from curate.verify.options import Options
from curate.verify.parse import Relation, Seq, SetOf, Unparseable, as_set, parse

_E, _I = sp.Symbol("e"), sp.Symbol("i")
_SAMPLES = 4


def judge(gold: str, pred: str, options: Options = Options()) -> tuple[str, str]:
    """Verdict and reason for two normalised answers that differ as strings."""
    policy = options.percent
    if policy == "either" and "%" in gold and "%" in pred:
        # Both are percentages, so their numbers are on one scale: reading one side as a fraction
        # and the other as written would make 65.6% equal 0.656%. Compare the numbers as written
        # ("strip", not "fraction"): `%` binds to the last factor, so `303/4\%` read as a fraction
        # is 303/0.04, while `\frac{303}{4}\%` is 0.7575.
        policy = "strip"
    try:
        golds = _variants(gold, policy)
    except Unparseable as exc:
        return "unparseable", f"gold: {exc}"
    try:
        preds = _variants(pred, policy)
    except Unparseable as exc:
        return "unparseable", f"answer: {exc}"
    reason = ""
    for g in golds:
        for p in preds:
            same, why = equal(g, p, options.rel_tol)
            if same:
                return "correct", why
            reason = reason or why
    return "incorrect", reason or "different values"


def _variants(text: str, policy: str) -> list:
    """The parses of `text` that the percent policy allows (one, or two for "either")."""
    if "%" not in text:
        return [parse(text)]
    scales = {"fraction": [sp.Rational(1, 100)], "strip": [sp.Integer(1)],
              "either": [sp.Rational(1, 100), sp.Integer(1)]}[policy]
    return [parse(text, percent=s) for s in scales]


def equal(a, b, tol: float) -> tuple[bool, str]:
    """Whether two parsed values are the same answer, and a short reason."""
    # Matrices first: sympy's ImmutableMatrix is also an Expr.
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return _matrix_equal(a, b, tol)
    if isinstance(a, sp.Expr) and isinstance(b, sp.Expr):
        return _expr_equal(a, b, tol)
    system = _system_equal(a, b, tol)
    if system is not None:
        return system
    if isinstance(a, Relation) or isinstance(b, Relation):
        return _relation_equal(a, b, tol)
    if isinstance(a, SetOf) or isinstance(b, SetOf):
        return _set_equal(a, b, tol)
    if isinstance(a, Seq) and isinstance(b, Seq):
        if (a.open, a.close) != (b.open, b.close):
            return False, f"different brackets {a.open}{a.close} and {b.open}{b.close}"
        return _ordered_equal(a.items, b.items, tol, "tuples")
    if isinstance(a, (Seq, sp.Set)) and isinstance(b, (Seq, sp.Set)):
        try:
            return _sets_of_reals_equal(as_set(a), as_set(b), tol)
        except Unparseable:
            return False, "a tuple and an interval"
    return False, f"{_kind(a)} and {_kind(b)}"


def _kind(value) -> str:
    if isinstance(value, sp.MatrixBase):
        return "a matrix"
    if isinstance(value, sp.Expr):
        return "a number or expression"
    if isinstance(value, Seq):
        return "a tuple"
    if isinstance(value, sp.Set):
        return "an interval or set"
    return type(value).__name__.lower()


# ------------------------------------------------------------------------------- expressions

def _expr_equal(a: sp.Expr, b: sp.Expr, tol: float) -> tuple[bool, str]:
    same, why = _expr_equal_once(a, b, tol)
    if same or not ({_E, _I} & (a.free_symbols | b.free_symbols)):
        return same, why
    constants = {_E: sp.E, _I: sp.I}
    same2, why2 = _expr_equal_once(a.xreplace(constants), b.xreplace(constants), tol)
    return (True, why2 + " (e, i as constants)") if same2 else (False, why)


def _expr_equal_once(a: sp.Expr, b: sp.Expr, tol: float) -> tuple[bool, str]:
    if a == b:
        return True, "same expression"
    if a.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or b.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        return False, "different infinite values"
    if not a.free_symbols and not b.free_symbols:
        close = _numbers_close(a, b, tol)
        if close is not None:
            return (True, "equal numbers") if close else (False, "different numbers")
    else:
        verdict = _sampled(a, b, tol)
        if verdict is False:
            return False, "differ at a sample point"
        if verdict is True:
            return True, "equal at random sample points"
    if sp.simplify(a - b) == 0:
        return True, "simplify(a - b) = 0"
    return False, "different expressions"


def _numbers_close(a: sp.Expr, b: sp.Expr, tol: float) -> bool | None:
    if a.is_Integer and b.is_Integer:  # counts: 1000001 is not 1000000, however close
        return a == b
    va, vb = sp.N(a, 30), sp.N(b, 30)
    if not (va.is_number and vb.is_number) or va.has(sp.zoo, sp.nan, sp.oo) or vb.has(sp.zoo, sp.nan, sp.oo):
        return None
    diff = abs(sp.N(va - vb, 30))
    scale = max(abs(va), abs(vb))
    if not (diff.is_number and scale.is_number):
        return None
    return bool(diff <= tol * scale) or bool(diff < 1e-12)


def _sampled(a: sp.Expr, b: sp.Expr, tol: float) -> bool | None:
    """False if a and b differ at a seeded random point, True if equal at every point, None if
    the points could not be evaluated."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(1729)
    agreed = 0
    for _ in range(_SAMPLES):
        # Positive points: answers assume the usual domain (sqrt(x^2) = x for lengths).
        point = {s: sp.Rational(rng.randint(300, 2300), 1000) for s in symbols}
        close = _numbers_close(a.xreplace(point), b.xreplace(point), tol)
        if close is False:
            return False
        agreed += close is True
    return True if agreed == _SAMPLES else None


# -------------------------------------------------------------------------------- structures

def _ordered_equal(xs, ys, tol: float, what: str) -> tuple[bool, str]:
    if len(xs) != len(ys):
        return False, f"{what} of {len(xs)} and {len(ys)} entries"
    for k, (x, y) in enumerate(zip(xs, ys)):
        same, why = equal(x, y, tol)
        if not same:
            return False, f"entry {k + 1} differs: {why}"
    return True, f"equal {what}"


def _set_equal(a, b, tol: float) -> tuple[bool, str]:
    xs = list(a.items) if isinstance(a, SetOf) else [a]
    ys = list(b.items) if isinstance(b, SetOf) else [b]
    if isinstance(a, sp.FiniteSet) or isinstance(b, sp.FiniteSet) or a == sp.EmptySet or b == sp.EmptySet:
        xs = list(a.args) if isinstance(a, sp.Set) else xs
        ys = list(b.args) if isinstance(b, sp.Set) else ys
    if len(xs) != len(ys):
        return False, f"sets of {len(xs)} and {len(ys)} elements"
    unmatched = list(ys)
    for x in xs:
        for k, y in enumerate(unmatched):
            if equal(x, y, tol)[0]:
                del unmatched[k]
                break
        else:
            return False, "an element has no equal in the other set"
    return True, "equal sets"


def _matrix_equal(a, b, tol: float) -> tuple[bool, str]:
    def entries(m):
        if isinstance(m, sp.MatrixBase):
            return m.shape, list(m)
        if isinstance(m, Seq):
            return None, list(m.items)
        return None, None

    (sa, xs), (sb, ys) = entries(a), entries(b)
    if xs is None or ys is None:
        return False, "a matrix and something else"
    if sa is not None and sb is not None and sa != sb:
        return False, f"matrices of shape {sa} and {sb}"
    vector = (sa or sb)
    if (sa is None or sb is None) and 1 not in vector:
        return False, "a matrix and a tuple"
    return _ordered_equal(xs, ys, tol, "matrices")


def _sets_of_reals_equal(a: sp.Set, b: sp.Set, tol: float) -> tuple[bool, str]:
    if a == b:
        return True, "same set"
    pa, pb = _pieces(a), _pieces(b)
    if pa is None or pb is None or len(pa) != len(pb):
        return False, "different sets"
    for x, y in zip(sorted(pa, key=_sort_key), sorted(pb, key=_sort_key)):
        if isinstance(x, sp.Interval) != isinstance(y, sp.Interval):
            return False, "an interval and a set of points"
        if isinstance(x, sp.Interval):
            if (x.left_open, x.right_open) != (y.left_open, y.right_open):
                return False, "different open or closed ends"
            if not (_expr_equal(x.start, y.start, tol)[0] and _expr_equal(x.end, y.end, tol)[0]):
                return False, "different interval ends"
        elif not _set_equal(SetOf(tuple(x.args)), SetOf(tuple(y.args)), tol)[0]:
            return False, "different points"
    return True, "equal intervals"


def _pieces(s: sp.Set):
    if isinstance(s, sp.Union):
        return list(s.args)
    if isinstance(s, (sp.Interval, sp.FiniteSet)):
        return [s]
    return None


def _sort_key(piece: sp.Set):
    start = piece.start if isinstance(piece, sp.Interval) else piece.inf
    try:
        return float(start)
    except TypeError:
        return float("inf")


# ---------------------------------------------------------------------------- solved systems

def _system_equal(a, b, tol: float) -> tuple[bool, str] | None:
    """A solved system against a point or another solved system; None when neither side is one
    (or the other side is something else: `x = 9, y = 7` against a bare list stays order-free)."""
    sa, sb = _assignments(a), _assignments(b)
    if sa is None and sb is None:
        return None
    if sa is not None and sb is not None:
        if sorted(s.name for s, _ in sa) != sorted(s.name for s, _ in sb):
            return False, "systems in different variables"
        values = dict(sb)
        for symbol, value in sa:
            same, why = equal(value, values[symbol], tol)
            if not same:
                return False, f"different values of {symbol}: {why}"
        return True, "the same value of each variable"
    system, other = (sa, b) if sa is not None else (sb, a)
    if isinstance(other, Seq) and (other.open, other.close) == ("(", ")"):
        # The point lists values in the order the system names its variables.
        same, why = _ordered_equal([v for _, v in system], list(other.items), tol, "points")
        return same, f"a solved system and a point: {why}"
    return None


def _assignments(value) -> list[tuple[sp.Symbol, object]] | None:
    """`x = 9, y = 7` (or `(x, y) = (9, 7)`) → [(x, 9), (y, 7)]: two or more equations, each a
    distinct symbol equal to a value free of the system's symbols; anything else → None."""
    if isinstance(value, SetOf) and all(isinstance(item, Relation) for item in value.items):
        pairs = []
        for rel in value.items:
            pair = _assignment(rel)
            if pair is None:
                return None
            pairs.append(pair)
    elif isinstance(value, Relation) and value.ops == ("=",):
        left, right = value.sides
        if not (isinstance(left, Seq) and isinstance(right, Seq) and len(left.items) == len(right.items)
                and all(isinstance(s, sp.Symbol) for s in left.items)):
            return None
        pairs = list(zip(left.items, right.items))
    else:
        return None
    symbols = {s for s, _ in pairs}
    if len(pairs) < 2 or len(symbols) != len(pairs):
        return None
    if any(isinstance(v, sp.Expr) and v.free_symbols & symbols for _, v in pairs):
        return None  # `x = 1, y = 2x` is a system still to solve, not its solution
    return pairs


def _assignment(rel: Relation) -> tuple[sp.Symbol, object] | None:
    """`x = 9` → (x, 9), `9 = x` → (x, 9); anything else → None."""
    if rel.ops != ("=",):
        return None
    left, right = rel.sides
    if isinstance(left, sp.Symbol):
        return left, right
    if isinstance(right, sp.Symbol) and isinstance(left, sp.Expr) and not left.free_symbols:
        return right, left
    return None


# --------------------------------------------------------------------------------- relations

def _relation_equal(a, b, tol: float) -> tuple[bool, str]:
    if isinstance(a, Relation) and isinstance(b, Relation):
        la, lb = _links(a), _links(b)
        if len(la) != len(lb):
            return False, "relations of different lengths"
        unmatched = list(lb)
        for x in la:
            for k, y in enumerate(unmatched):
                if _link_equal(x, y, tol):
                    del unmatched[k]
                    break
            else:
                return False, "different relations"
        return True, "equivalent relations"
    rel, other = (a, b) if isinstance(a, Relation) else (b, a)
    value = _assigned_value(rel)
    if value is not None and isinstance(other, (sp.Expr, Seq, SetOf, sp.Set, sp.MatrixBase)):
        same, why = equal(value, other, tol)
        if same:
            return True, f"value of the equation: {why}"
    solved = _solution_set(rel)
    if solved is not None and isinstance(other, (sp.Set, Seq)):
        try:
            return _sets_of_reals_equal(solved, as_set(other), tol)
        except Unparseable:
            pass
    return False, "a relation and a value"


def _assigned_value(rel: Relation):
    """`x = 3` → 3; `3 = x` → 3; anything else → None."""
    pair = _assignment(rel)
    return None if pair is None else pair[1]


def _links(rel: Relation) -> list[tuple[sp.Expr, str]]:
    """Each link of a chain as (expr, kind) with the meaning `expr kind 0` and kind in
    "=", "!=", ">", ">=" (a < b becomes b - a > 0)."""
    out = []
    for op, left, right in zip(rel.ops, rel.sides, rel.sides[1:]):
        if not (isinstance(left, sp.Expr) and isinstance(right, sp.Expr)):
            raise Unparseable("relation between non-expressions")
        if op in ("<", "<="):
            out.append((right - left, ">" if op == "<" else ">="))
        elif op in (">", ">="):
            out.append((left - right, op))
        else:
            out.append((left - right, op))
    return out


def _link_equal(x, y, tol: float) -> bool:
    (ex, kx), (ey, ky) = x, y
    if kx != ky:
        return False
    if ex == 0 or ey == 0:
        return ex == ey
    if kx in ("=", "!="):
        return _expr_equal(ex, ey, tol)[0] or _expr_equal(ex, -ey, tol)[0] or _constant_ratio(ex, ey) is not None
    ratio = _constant_ratio(ex, ey)
    return _expr_equal(ex, ey, tol)[0] or (ratio is not None and ratio > 0)


def _constant_ratio(a: sp.Expr, b: sp.Expr):
    ratio = sp.cancel(a / b)
    return ratio if ratio.is_number and ratio != 0 and ratio.is_real else None


def _solution_set(rel: Relation):
    """The set of reals a one-variable inequality (or chain) describes, or None."""
    symbols = set()
    for side in rel.sides:
        if not isinstance(side, sp.Expr):
            return None
        symbols |= side.free_symbols
    if len(symbols) != 1 or any(op in ("=", "!=") for op in rel.ops):
        return None
    (x,) = symbols
    ops = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan}
    result = sp.S.Reals
    for op, left, right in zip(rel.ops, rel.sides, rel.sides[1:]):
        result = sp.Intersection(result, sp.solveset(ops[op](left, right), x, domain=sp.S.Reals))
    return result
