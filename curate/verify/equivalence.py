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

Numbers: integers compare exactly; other numbers within `rel_tol` (relative, never absolute: 1/2^99
is not 1/2^98); an answer written as a rounded decimal compares at the precision it is written in
(`rounding="given"`: 0.333 is 1/3, 0.33 too, but 0.3 is not, it has one significant digit, below
`min_digits`). A ratio `7:32` or a time `12:00` compares part by part with another, and as the
quotient a/b with a number (never `12:00` = `1:00`). A decimal comma (`1,5`) reads as 1.5 against a
single number when `decimal_comma="auto"`. A relation against a value: the value of its last side
(`x = 2 + 3 = 5`, `AB = 4`, `f(x) = 1` all state 5, 4, 1). A chain `0 < f(x) < 1`, and a list of
inequalities (`x < -2 or x > 3`), against an interval or union: the set it describes.

Percentages: with `percent="either"` (the default) `50\\%` equals both `50` and `0.5`; "fraction"
reads it as 0.5 only, "strip" as 50 only. When both sides carry `%` they compare as written
(`65.6\\%` is not `0.656\\%`): the 0.5 reading is there for an answer that dropped the sign.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import sympy as sp

from curate.verify import numbers
from curate.verify.options import Options
from curate.verify.parse import Ratio, Relation, Seq, SetOf, Unparseable, as_set, parse

_E, _I = sp.Symbol("e"), sp.Symbol("i")
_SAMPLES = 4
_DECIMAL_COMMA = re.compile(r"^(?:[^=,]*=)?-?\d+,\d+%?$")
_THOUSANDS_SHAPE = re.compile(r"(?:^|=)-?\d{1,3}(?:,\d{3})+%?$")


@dataclass(frozen=True)
class Tol:
    """How close two numbers must be: `rel` relative; `places` the decimal places a rounded answer
    was written with (None: exact), and its fewest significant `digits`, at least `min_digits`."""
    rel: float
    places: int | None = None
    digits: int = 0
    min_digits: int = 3
    ordered: bool = False


def _tolerance(gold: str, pred: str, options: Options) -> Tol:
    if options.rounding != "given":
        return Tol(options.rel_tol, ordered=options.ordered)
    side = pred if numbers.decimal_places(pred) is not None else gold
    return Tol(options.rel_tol, numbers.decimal_places(side), numbers.significant_digits(side), options.min_digits,
               options.ordered)


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
    tol = _tolerance(gold, pred, options)
    reason = ""
    for g in golds:
        for p in preds:
            same, why = equal(g, p, tol)
            if same:
                return "correct", why
            reason = reason or why
    if options.decimal_comma == "auto":
        comma = _decimal_comma(gold, golds, pred, preds, policy)
        if comma is not None:
            g, p, which = comma
            if equal(g, p, _tolerance(gold.replace(",", "."), pred.replace(",", "."), options))[0]:
                return "correct", f"equal numbers ({which} read with a decimal comma)"
    return "incorrect", reason or "different values"


def _decimal_comma(gold: str, golds: list, pred: str, preds: list, policy: str):
    """(gold, pred, which) re-read with `1,5` as 1.5, when one side is such a number and the other a
    single number; else None."""
    for text, other, which in ((pred, golds, "the answer"), (gold, preds, "the reference")):
        if _DECIMAL_COMMA.match(text) and not _THOUSANDS_SHAPE.match(text) and isinstance(other[0], sp.Expr):
            value = parse(text.replace(",", "."))
            return (other[0], value, which) if which == "the answer" else (value, other[0], which)
    return None


def _variants(text: str, policy: str) -> list:
    """The parses of `text` that the percent policy allows (one, or two for "either")."""
    if "%" not in text:
        return [parse(text)]
    scales = {"fraction": [sp.Rational(1, 100)], "strip": [sp.Integer(1)],
              "either": [sp.Rational(1, 100), sp.Integer(1)]}[policy]
    return [parse(text, percent=s) for s in scales]


def equal(a, b, tol: Tol) -> tuple[bool, str]:
    """Whether two parsed values are the same answer, and a short reason."""
    # Matrices first: sympy's ImmutableMatrix is also an Expr.
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        return _matrix_equal(a, b, tol)
    if isinstance(a, sp.Expr) and isinstance(b, sp.Expr):
        return _expr_equal(a, b, tol)
    if isinstance(a, Ratio) or isinstance(b, Ratio):
        return _ratio_equal(a, b, tol)
    if isinstance(a, SetOf) and len(a.items) == 1 and not isinstance(b, SetOf):
        return equal(a.items[0], b, tol)
    if isinstance(b, SetOf) and len(b.items) == 1 and not isinstance(a, SetOf):
        return equal(a, b.items[0], tol)
    for lst, one in ((a, b), (b, a)):
        # `\\boxed{15\\frac{39}{40}}, or \\boxed{\\frac{639}{40}}`: one answer written two ways
        if isinstance(lst, SetOf) and not lst.braces and isinstance(one, sp.Expr) and \
                all(equal(item, one, tol)[0] for item in lst.items):
            return True, "every form listed equals it"
    for lst, seq in ((a, b), (b, a)):
        # `\\boxed{-3}` and `\\boxed{-9}` (a bare list) against the point (-3, -9): in order
        if isinstance(lst, SetOf) and not lst.braces and isinstance(seq, Seq) and len(lst.items) == len(seq.items) \
                and not all(isinstance(i, Relation) for i in lst.items):
            return _ordered_equal(lst.items, seq.items, tol, "a list and a tuple")
    described = _described_sets(a, b, tol)
    if described is not None:
        return described
    system = _system_equal(a, b, tol)
    if system is not None:
        return system
    if isinstance(a, Relation) or isinstance(b, Relation):
        return _relation_equal(a, b, tol)
    if isinstance(a, SetOf) or isinstance(b, SetOf):
        if tol.ordered and isinstance(a, SetOf) and isinstance(b, SetOf) and not (a.braces or b.braces):
            return _ordered_equal(a.items, b.items, tol, "lists")
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

def _expr_equal(a: sp.Expr, b: sp.Expr, tol: Tol) -> tuple[bool, str]:
    same, why = _expr_equal_once(a, b, tol)
    if same or not ({_E, _I} & (a.free_symbols | b.free_symbols)):
        return same, why
    constants = {_E: sp.E, _I: sp.I}
    same2, why2 = _expr_equal_once(a.xreplace(constants), b.xreplace(constants), tol)
    return (True, why2 + " (e, i as constants)") if same2 else (False, why)


def _expr_equal_once(a: sp.Expr, b: sp.Expr, tol: Tol) -> tuple[bool, str]:
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
    if _simplifies_to_zero(a - b):
        return True, "simplify(a - b) = 0"
    return False, "different expressions"


def _simplifies_to_zero(e: sp.Expr) -> bool:
    try:
        return sp.simplify(e.doit() if e.has(sp.Sum, sp.Product, sp.Integral) else e) == 0
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, AttributeError):
        return False  # sympy gives up on some expressions; they stay unequal


def _numbers_close(a: sp.Expr, b: sp.Expr, tol: Tol) -> bool | None:
    a, b = _exact(a), _exact(b)
    if a.is_Integer and b.is_Integer:  # counts: 1000001 is not 1000000, however close
        return a == b
    if a.is_Rational and b.is_Rational:
        return numbers.close(_fraction(a), _fraction(b), tol.places, tol.digits, tol.rel, tol.min_digits)
    va, vb = _evalf(a), _evalf(b)
    if va is None or vb is None:
        return None
    if not (va.is_number and vb.is_number) or va.has(sp.zoo, sp.nan, sp.oo) or vb.has(sp.zoo, sp.nan, sp.oo):
        return None
    parts = [*va.as_real_imag(), *vb.as_real_imag()]
    if not all(isinstance(x, (sp.Float, sp.Rational)) or x == 0 for x in parts):
        return None  # not reduced to numbers (an unevaluated function of them)
    ra, ia, rb, ib = (_fraction(sp.Rational(x)) for x in parts)
    # 30 digits of each side: their difference is exact enough for a 1e-6 relative tolerance;
    # complex numbers compare part by part
    rel = max(tol.rel, 1e-25)
    return (numbers.close(ra, rb, tol.places, tol.digits, rel, tol.min_digits)
            and numbers.close(ia, ib, tol.places, tol.digits, rel, tol.min_digits))


def _exact(e: sp.Expr) -> sp.Expr:
    """`2^{108} + 1` as the integer it is (sizes were checked at parse time), so it compares exactly."""
    if e.is_Rational or not e.is_number or e.has(sp.Float):
        return e
    if all(isinstance(n, (sp.Add, sp.Mul, sp.Pow, sp.Rational)) for n in sp.preorder_traversal(e)):
        try:
            value = e.doit()
        except (ValueError, TypeError, ArithmeticError):
            return e
        return value if value.is_Rational else e
    return e


def _fraction(r: sp.Rational):
    from fractions import Fraction

    return Fraction(int(r.p), int(r.q))


def _evalf(e: sp.Expr):
    try:
        if e.has(sp.Sum, sp.Product, sp.Integral, sp.UnevaluatedExpr):
            e = e.doit()
        v = sp.N(e, 30)
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, AttributeError):
        return None
    return v if v.is_number else None


def _sampled(a: sp.Expr, b: sp.Expr, tol: Tol) -> bool | None:
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

def _ordered_equal(xs, ys, tol: Tol, what: str) -> tuple[bool, str]:
    if len(xs) != len(ys):
        return False, f"{what} of {len(xs)} and {len(ys)} entries"
    for k, (x, y) in enumerate(zip(xs, ys)):
        same, why = equal(x, y, tol)
        if not same:
            return False, f"entry {k + 1} differs: {why}"
    return True, f"equal {what}"


def _set_equal(a, b, tol: Tol) -> tuple[bool, str]:
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


def _matrix_equal(a, b, tol: Tol) -> tuple[bool, str]:
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


def _sets_of_reals_equal(a: sp.Set, b: sp.Set, tol: Tol) -> tuple[bool, str]:
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

def _system_equal(a, b, tol: Tol) -> tuple[bool, str] | None:
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

def _relation_equal(a, b, tol: Tol) -> tuple[bool, str]:
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
    if all(op == "=" for op in rel.ops) and isinstance(other, (sp.Expr, Seq, SetOf, sp.Set, sp.MatrixBase)):
        # `AB = 4`, `f(x) = 1`, `x = 2 + 3 = 5`: the equation states its last side
        same, why = equal(rel.sides[-1], other, tol)
        if same:
            return True, f"last side of the equation: {why}"
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


def _link_equal(x, y, tol: Tol) -> bool:
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
    try:
        ratio = sp.cancel(a / b)
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, sp.PolynomialError):
        return None
    return ratio if ratio.is_number and ratio != 0 and ratio.is_real else None


def _solution_set(rel: Relation):
    """The set of reals an inequality (or chain) describes, or None. When one side is the only
    one that is not a number (`0 < f(x) < 1`, `-2 \\le x \\le 7`), it is the variable; else a
    one-variable inequality is solved."""
    if any(op in ("=", "!=") for op in rel.ops) or not all(isinstance(s, sp.Expr) for s in rel.sides):
        return None
    named = [k for k, side in enumerate(rel.sides) if not side.is_number]
    if len(named) == 1 and _is_name(rel.sides[named[0]]):
        direct = _bounds(rel, named[0])
        if direct is not None:
            return direct
        x = sp.Dummy("x")
        sides = [x if k == named[0] else side for k, side in enumerate(rel.sides)]
    else:
        symbols = set().union(*(side.free_symbols for side in rel.sides))
        if len(symbols) != 1:
            return None
        (x,) = symbols
        sides = list(rel.sides)
    ops = {"<": sp.StrictLessThan, "<=": sp.LessThan, ">": sp.StrictGreaterThan, ">=": sp.GreaterThan}
    result = sp.S.Reals
    try:
        for op, left, right in zip(rel.ops, sides, sides[1:]):
            result = sp.Intersection(result, sp.solveset(ops[op](left, right), x, domain=sp.S.Reals))
    except (ValueError, TypeError, ArithmeticError, NotImplementedError):
        return None
    return result


def _bounds(rel: Relation, k: int):
    """The interval a chain of bounds on one name states (`-7 < x \\le 2`), built directly."""
    result = sp.S.Reals
    for op, (i, left), (_, right) in zip(rel.ops, enumerate(rel.sides), enumerate(rel.sides[1:], 1)):
        if k not in (i, i + 1):
            return None
        bound = right if i == k else left
        if not bound.is_real and bound not in (sp.oo, -sp.oo):
            return None
        if i != k:  # bound op x: flip to x op' bound
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        piece = {"<": sp.Interval(-sp.oo, bound, True, True), "<=": sp.Interval(-sp.oo, bound, True, False),
                 ">": sp.Interval(bound, sp.oo, True, True), ">=": sp.Interval(bound, sp.oo, False, True)}[op]
        result = sp.Intersection(result, piece)
    return result


def _is_name(e: sp.Expr) -> bool:
    """A symbol, a function of symbols (`f(x)`), or a product of letters (`AB`): a named quantity."""
    if isinstance(e, sp.Symbol) or isinstance(e, sp.core.function.AppliedUndef):
        return True
    return isinstance(e, sp.Mul) and all(isinstance(f, sp.Symbol) for f in e.args)


def _described_sets(a, b, tol: Tol):
    """A list of inequalities (`x < -2, x > 3`: "or" between them) against an interval or union:
    the union of the sets they describe. None when neither side is such a list."""
    for rels, other in ((a, b), (b, a)):
        if (isinstance(rels, SetOf) and len(rels.items) > 1 and all(isinstance(r, Relation) for r in rels.items)
                and isinstance(other, (sp.Set, Seq))):
            pieces = [_solution_set(r) for r in rels.items]
            if any(p is None for p in pieces):
                return None
            try:
                return _sets_of_reals_equal(sp.Union(*pieces), as_set(other), tol)
            except Unparseable:
                return None
    return None


# ------------------------------------------------------------------------------------ ratios

def _ratio_equal(a, b, tol: Tol) -> tuple[bool, str]:
    """`7:32` against `7:32` part by part (`12:00` is not `1:00`); against a number, a/b."""
    if isinstance(a, Ratio) and isinstance(b, Ratio):
        if len(a.parts) != len(b.parts):
            return False, "ratios of different lengths"
        if all(x == y for x, y in zip(a.parts, b.parts)):
            return True, "same ratio"
        return False, "different ratios"
    ratio, other = (a, b) if isinstance(a, Ratio) else (b, a)
    if len(ratio.parts) == 2 and ratio.parts[1] != 0 and isinstance(other, sp.Expr):
        same, why = _expr_equal(ratio.parts[0] / ratio.parts[1], other, tol)
        return same, f"a ratio as a quotient: {why}"
    return False, "a ratio and something else"
