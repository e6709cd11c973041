"""The problem families: each draws a problem of a given difficulty with its exact answer.

A family is a function `(rng, difficulty) -> Problem`. It picks a wording (several templates per
family), numbers that grow with difficulty, the answer as a value (see `answers`), a few plausible
wrong answers (the mistakes people and models make: a sign slip, an off-by-one, the wrong formula),
and the worked steps a trace narrates. Problem text is a list of sentence templates with `{slot}`
names filled from `slots`, so a near-duplicate can rename the people and things or reorder the
premises and keep the same numbers, hence the same answer.

Steps never mention renameable slots (names, objects): a near-duplicate reuses its original's steps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction as F

from curate.synth.answers import (
    Interval,
    Number,
    Pair,
    PiMultiple,
    RootSet,
    Surd,
    Value,
    canonical,
    frac,
    plain,
)

NAMES = ("Alice", "Bob", "Priya", "Mateo", "Chen", "Fatima", "Olga", "Kwame", "Sofia", "Liam", "Aiko",
         "Diego", "Hannah", "Ravi", "Zara", "Tomás", "Ingrid", "Yusuf", "Mei", "Noah", "Leila", "Sven",
         "Amara", "Jonas", "Nadia", "Arjun", "Elena", "Omar", "Lucía", "Kenji")
ITEMS = ("apples", "pencils", "marbles", "stickers", "cookies", "books", "oranges", "stamps", "cards",
         "shells", "coins", "candles", "buttons", "tickets", "eggs", "plums", "crayons", "beads")
PLACES = ("bakery", "market", "bookshop", "stationery store", "corner shop", "farm stand", "toy store",
          "kiosk", "garden centre", "grocery")
# Slots a near-duplicate may rename, and the pools their values come from.
UNITS = ("metres", "feet", "yards", "centimetres", "inches")
RENAMEABLE: dict[str, tuple[str, ...]] = {"name": NAMES, "name2": NAMES, "items": ITEMS, "place": PLACES,
                                          "unit": UNITS}


@dataclass(frozen=True)
class Step:
    """One computation a trace narrates: `expr = value` (LaTeX; `rel` may be another relation, such
    as ⇒ between inequalities), with an optional slip (`miss`, a plausible wrong value) that a trace
    may write first and then correct. A last step whose value is the answer in one of its forms
    gets a wrong sample's value instead."""

    expr: str
    value: str
    miss: str | None = None
    note: str = ""
    rel: str = "="


@dataclass(frozen=True)
class Problem:
    family: str
    difficulty: int
    template: int
    sentences: tuple[str, ...]  # templates with {slot}s; the last one asks the question
    slots: dict[str, str]
    answer: Value
    wrong: tuple[Value, ...]
    steps: tuple[Step, ...]
    check: str  # one sentence that confirms the correct answer
    goal: str  # what is asked, as a trace restates it ("the value of x")
    reorderable: int = 0  # how many leading sentences are independent premises
    text: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(s.format(**self.slots) for s in self.sentences))


def _problem(family: str, d: int, template: int, sentences, slots, answer: Value, wrong, steps, check: str,
             goal: str, reorderable: int = 0) -> Problem:
    """Build a Problem, keeping only wrong answers that really differ from the answer."""
    wrong = tuple(w for w in dict.fromkeys(wrong) if w != answer and not _percent_alias(w, answer))
    if not wrong:
        wrong = (_nudge(answer),)
    return Problem(family, d, template, tuple(sentences), dict(slots), answer, wrong, tuple(steps), check, goal,
                   reorderable)


def _percent_alias(w: Value, answer: Value) -> bool:
    """Whether a wrong value would still be right when a percentage may drop its sign: verifiers
    (ours by default) accept `124\\%` written as `124` or `1.24`, so where either side is a
    percentage, a value 100× or 1/100 of the answer is not a wrong answer."""
    if not (isinstance(w, Number) and isinstance(answer, Number) and (w.percent or answer.percent)):
        return False
    return w.q in (answer.q, answer.q * 100, answer.q / 100)


def _nudge(v: Value) -> Value:
    """A last-resort wrong answer: the value moved by one."""
    if isinstance(v, Number):
        return Number(v.q + 1, v.percent, v.money)
    if isinstance(v, Surd):
        return Surd(v.coef + 1, v.radicand)
    if isinstance(v, PiMultiple):
        return PiMultiple(v.coef * 2)
    if isinstance(v, RootSet):
        return RootSet(tuple(r + 1 for r in v.roots), v.var)
    if isinstance(v, Interval):
        return Interval(v.lo, v.hi, not v.lo_closed, not v.hi_closed, v.var)
    return Pair(v.y, v.x) if v.x != v.y else Pair(v.x + 1, v.y)


def pick(rng: random.Random, seq):
    """`rng.choice(seq)`, about twice as fast (one float draw); the corpus makes millions of picks."""
    return seq[int(rng.random() * len(seq))]


def _people(rng: random.Random) -> dict[str, str]:
    name, name2 = rng.sample(NAMES, 2)
    return {"name": name, "name2": name2, "items": rng.choice(ITEMS), "place": rng.choice(PLACES)}


def _slip(rng: random.Random, v: int) -> str:
    return str(v + rng.choice((-10, -2, -1, 1, 2, 10)))


def _scale(d: int, low: int, high: int) -> int:
    """An upper bound that grows with difficulty 1..5 from `low` to `high`."""
    return low + (high - low) * (d - 1) // 4


def _n(q) -> Number:
    return Number(F(q))


# ------------------------------------------------------------------------------------ arithmetic

def arithmetic(rng: random.Random, d: int) -> Problem:
    hi = _scale(d, 12, 95)
    a, b = rng.randint(3, hi), rng.randint(3, hi)
    c = rng.randint(2, a * b - 1)
    ab, result = a * b, a * b - c
    steps = [Step(f"{a} \\times {b}", str(ab), _slip(rng, ab)), Step(f"{ab} - {c}", str(result), _slip(rng, result))]
    wrong = [_n(ab + c), _n(result + 1), _n(a * (b - c)) if b > c else _n(result - 10), _n(result - 1)]
    check = f"Adding back: {result} + {c} = {ab}, and {ab} / {a} = {b}. Consistent."
    t = rng.randrange(4)
    slots = _people(rng) | {"a": str(a), "b": str(b), "c": str(c)}
    if t == 0:
        sentences = ["Compute ${a} \\times {b} - {c}$."]
    elif t == 1:
        sentences = ["What is the value of ${a} \\cdot {b} - {c}$?"]
    elif t == 2:
        sentences = ["{name} buys {a} boxes of {items}, and each box holds {b} {items}.",
                     "On the way home {name} gives {c} of the {items} to {name2}.",
                     "How many {items} does {name} have left?"]
    else:
        sentences = ["A {place} packs {items} in crates of {b}.", "It fills {a} crates and then sells {c} {items}.",
                     "How many {items} remain?"]
    return _problem("arithmetic", d, t, sentences, slots, _n(result), wrong, steps, check,
                    "the number left after the subtraction")


# ------------------------------------------------------------------------------------- fractions

def _fraction(rng: random.Random, d: int) -> F:
    den = rng.randint(2, _scale(d, 6, 24))
    return F(rng.randint(1, den - 1), den)


SYMBOLS = {"+": "+", "-": "-", "\\times": "×", "\\div": "÷"}


def fractions(rng: random.Random, d: int) -> Problem:
    x, y = _fraction(rng, d), _fraction(rng, d)
    while x == y:
        y = _fraction(rng, d)
    op = rng.choice(("+", "-", "\\times", "\\div")) if d > 1 else rng.choice(("+", "-"))
    result = {"+": x + y, "-": x - y, "\\times": x * y, "\\div": x / y}[op]
    if op in "+-":  # the classic slip is adding numerators and denominators separately
        lcd = x.denominator * y.denominator // math.gcd(x.denominator, y.denominator)
        naive = F(x.numerator + (y.numerator if op == "+" else -y.numerator), x.denominator + y.denominator)
        nx, ny = x.numerator * (lcd // x.denominator), y.numerator * (lcd // y.denominator)
        top = nx + ny if op == "+" else nx - ny
        steps = [Step("\\text{common denominator}", str(lcd)),
                 Step(f"{frac(x)} {op} {frac(y)}", f"\\frac{{{nx}}}{{{lcd}}} {op} \\frac{{{ny}}}{{{lcd}}}")]
        if result.denominator == lcd:  # already in lowest terms
            steps.append(Step(f"\\frac{{{nx} {op} {ny}}}{{{lcd}}}", frac(result), frac(F(top + 1, lcd))))
        else:
            steps += [Step(f"\\frac{{{nx} {op} {ny}}}{{{lcd}}}", f"\\frac{{{top}}}{{{lcd}}}", f"\\frac{{{top + 1}}}{{{lcd}}}"),
                      Step(f"\\frac{{{top}}}{{{lcd}}}", frac(result), note="Reducing")]
        wrong = [_n(naive), _n(result + F(1, lcd)), _n(x - y if op == "+" else x + y)]
    else:
        flip = y if op == "\\times" else 1 / y
        steps = [Step(f"{frac(x)} {op} {frac(y)}", f"{frac(x)} \\times {frac(flip)}"),
                 Step(f"\\frac{{{x.numerator} \\cdot {flip.numerator}}}{{{x.denominator} \\cdot {flip.denominator}}}",
                      frac(result))]
        wrong = [_n(x * y if op == "\\div" else x / y), _n(result * 2), _n(result + 1)]
    check = f"As decimals: {float(x):.4g} {SYMBOLS[op]} {float(y):.4g} ≈ {float(result):.4g}, which matches {plain(result)}."
    t = rng.randrange(4)
    slots = _people(rng) | {"x": frac(x), "y": frac(y), "op": op}
    if t == 0:
        sentences = ["Compute ${x} {op} {y}$."]
    elif t == 1:
        sentences = ["Simplify ${x} {op} {y}$ and write the result in lowest terms."]
    elif t == 2:
        sentences = ["What is ${x} {op} {y}$?"]
    else:
        sentences = ["Let $a = {x}$.", "Let $b = {y}$.", "Evaluate $a {op} b$ as a single fraction."]
    return _problem("fractions", d, t, sentences, slots, _n(result), wrong, steps, check,
                    "the value of the expression as a fraction", reorderable=2 if t == 3 else 0)


# ----------------------------------------------------------------------------------- percentages

def percentages(rng: random.Random, d: int) -> Problem:
    t = rng.randrange(4)
    slots = _people(rng)
    if t in (0, 1):
        p = rng.choice((5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 60, 75, 80)) if d < 4 else rng.randint(1, 99)
        x = rng.randint(1, _scale(d, 20, 400)) * 20
        result = F(p * x, 100)
        steps = [Step(f"\\frac{{{p}}}{{100}} \\times {x}", plain(result), plain(result * 10))]
        answer, wrong = _n(result), [_n(result * 10), _n(F(x, p) if p else 1), _n(x - result)]
        check = f"{p}% is {p}/100, and {plain(result)} / {x} = {p / 100:g}, so it checks out."
        sentences = (["What is {p}% of {x}?"] if t == 0 else
                     ["A survey asked {x} people at a {place}.", "Exactly {p}% of them said yes.",
                      "How many people said yes?"])
        slots |= {"p": str(p), "x": str(x)}
        goal = f"{p}% of {x}"
    elif t == 2:
        b = rng.choice((8, 16, 20, 25, 40, 50, 80, 125, 200, 400))
        a = rng.randint(1, b * (2 if d > 3 else 1))
        pct = F(a * 100, b)
        steps = [Step(f"\\frac{{{a}}}{{{b}}}", plain(F(a, b))), Step(f"{plain(F(a, b))} \\times 100", plain(pct))]
        answer = Number(pct, percent=True)
        # Inverted ratio, decimal point slipped one place, off by one. (Two places, a/b itself,
        # is no wrong answer: `40\\%` written `0.4` is right.)
        wrong = [Number(F(b * 100, a), percent=True), Number(F(a * 10, b), percent=True), Number(pct + 1, percent=True)]
        check = f"{plain(pct)}% of {b} is {plain(pct * b / 100)}, which is {a}. Good."
        sentences, slots = ["{a} is what percent of {b}?"], slots | {"a": str(a), "b": str(b)}
        goal = "the percentage"
    else:
        price = rng.randint(2, _scale(d, 20, 200)) * 10
        up, down = rng.choice((10, 20, 25, 50)), rng.choice((10, 20, 25, 40))
        raised = F(price * (100 + up), 100)
        result = raised * (100 - down) / 100
        steps = [Step(f"{price} \\times {1 + up / 100:g}", plain(raised), plain(raised + 1)),
                 Step(f"{plain(raised)} \\times {1 - down / 100:g}", plain(result))]
        answer = Number(result, money=True)
        wrong = [Number(F(price * (100 + up - down), 100), money=True), Number(raised, money=True),
                 Number(result + 1, money=True)]
        check = f"Overall factor {1 + up / 100:g} × {1 - down / 100:g} = {(100 + up) * (100 - down) / 10000:g}, times {price} gives {plain(result)}."
        sentences = ["A coat at a {place} costs ${price}.", "The price is raised by {up}%.",
                     "Later the new price is lowered by {down}%.", "What is the final price in dollars?"]
        slots |= {"price": str(price), "up": str(up), "down": str(down)}
        goal = "the final price"
    return _problem("percentages", d, t, sentences, slots, answer, wrong, steps, check, goal)


# ------------------------------------------------------------------------------ linear equations

def _linear(a: int, b: int, var: str = "x") -> str:
    """`3x - 4` style text for a·var + b."""
    lead = {1: var, -1: f"-{var}"}.get(a, f"{a}{var}")
    return lead if b == 0 else f"{lead} {'+' if b > 0 else '-'} {abs(b)}"


def linear_equations(rng: random.Random, d: int) -> Problem:
    hi = _scale(d, 9, 30)
    a = rng.choice([k for k in range(-hi, hi + 1) if k not in (0, 1, -1)])
    c = rng.choice([k for k in range(-5, 6) if k != a]) if d > 2 else 0
    b, e = rng.randint(-hi * 3, hi * 3), rng.randint(-hi * 3, hi * 3)
    if d <= 2:  # easy ones come out whole
        x = F(rng.randint(-12, 12))
        e = a * int(x) + b - c * int(x)
    x = F(e - b, a - c)
    lhs, rhs = _linear(a, b), (_linear(c, e) if c else str(e))
    steps = [Step(f"{_linear(a - c, 0)}", str(e - b), str(e + b), note="Collecting x on the left and numbers on the right"),
             Step("x", f"\\frac{{{e - b}}}{{{a - c}}}"), Step("x", frac(x))]
    wrong = [_n(F(e + b, a - c)), _n(F(e - b, a + c)) if a + c else _n(-x), _n(-x)]
    check = f"Plugging x = {plain(x)} in: left side {plain(a * x + b)}, right side {plain(c * x + e)}. Equal."
    t = rng.randrange(3)
    slots = _people(rng) | {"lhs": lhs, "rhs": rhs}
    sentences = {0: ["Solve for $x$: ${lhs} = {rhs}$."], 1: ["Find $x$ such that ${lhs} = {rhs}$."],
                 2: ["{name} writes the equation ${lhs} = {rhs}$ on the board.", "What value of $x$ satisfies it?"]}[t]
    return _problem("linear_equations", d, t, sentences, slots, _n(x), wrong, steps, check, "the value of x")


# ---------------------------------------------------------------------------------------- systems

def _two(a: int, b: int) -> str:
    """`2x - y` style text for a·x + b·y."""
    return f"{_linear(a, 0)} {'+' if b > 0 else '-'} {'' if abs(b) == 1 else abs(b)}y"


def systems(rng: random.Random, d: int) -> Problem:
    hi = _scale(d, 5, 12)
    while True:
        a1, b1, a2, b2 = (rng.randint(-hi, hi) for _ in range(4))
        det = a1 * b2 - a2 * b1
        if det and 0 not in (a1, b1, a2, b2):
            break
    x, y = rng.randint(-9, 9), rng.randint(-9, 9)
    c1, c2 = a1 * x + b1 * y, a2 * x + b2 * y
    steps = [Step(f"D = ({a1})({b2}) - ({a2})({b1})", str(det), _slip(rng, det)),
             Step(f"x = \\frac{{({c1})({b2}) - ({c2})({b1})}}{{{det}}}", str(x)),
             Step(f"y = \\frac{{({a1})({c2}) - ({a2})({c1})}}{{{det}}}", str(y), str(-y) if y else "1")]
    check = f"First equation: {a1}·{x} + {b1}·{y} = {c1}. Second: {a2}·{x} + {b2}·{y} = {c2}. Both hold."
    eq1, eq2 = f"{_two(a1, b1)} = {c1}", f"{_two(a2, b2)} = {c2}"
    t = rng.randrange(3)
    slots = _people(rng) | {"eq1": eq1, "eq2": eq2}
    if t == 0:
        answer, goal = Pair(F(x), F(y)), "the solution (x, y)"
        wrong = [Pair(F(y), F(x)), Pair(F(x), F(-y)), Pair(F(-x), F(y))]
        sentences = ["Solve the system ${eq1}$ and ${eq2}$."]
    elif t == 1:
        answer, goal = _n(x + y), "x + y"
        wrong = [_n(x - y), _n(x + y + 1), _n(-x - y) if x + y else _n(2)]
        steps.append(Step(f"x + y = {x} + ({y})", str(x + y)))
        sentences = ["Given ${eq1}$", "and ${eq2}$,", "find the value of $x + y$."]
    else:
        answer, goal = _n(x * y), "the product xy"
        wrong = [_n(x + y), _n(-x * y) if x * y else _n(1), _n(x * y + 1)]
        steps.append(Step(f"xy = ({x})({y})", str(x * y)))
        sentences = ["{name} knows that ${eq1}$.", "{name2} knows that ${eq2}$.",
                     "Together they want the value of $xy$. What is it?"]
    return _problem("systems", d, t, sentences, slots, answer, wrong, steps, check, goal,
                    reorderable=2 if t == 2 else 0)


# ------------------------------------------------------------------------------------- quadratics

def _poly(a: int, b: int, c: int) -> str:
    out = {1: "x^2", -1: "-x^2"}.get(a, f"{a}x^2")
    for coef, var in ((b, "x"), (c, "")):
        if coef:
            mag = "" if abs(coef) == 1 and var else str(abs(coef))
            out += f" {'+' if coef > 0 else '-'} {mag}{var}"
    return out


def quadratics(rng: random.Random, d: int) -> Problem:
    hi = _scale(d, 10, 15)
    r1 = F(rng.randint(-hi, hi))
    if d >= 3 and rng.random() < 0.5:
        r2 = F(rng.choice((-1, 1)) * rng.randint(1, 9), rng.choice((2, 3, 4, 5)))
    else:
        r2 = F(rng.randint(-hi, hi)) if d > 1 or rng.random() < 0.8 else r1
    m = r2.denominator  # a(x - r1)(x - r2) with integer coefficients
    a, b, c = m, int(-m * (r1 + r2)), int(m * r1 * r2)
    disc = b * b - 4 * a * c
    root = math.isqrt(disc)
    roots = tuple(sorted({r1, r2}))
    steps = [Step(f"b^2 - 4ac = ({b})^2 - 4({a})({c})", str(disc), _slip(rng, disc)),
             Step(f"\\sqrt{{{disc}}}", str(root)),
             Step(f"x = \\frac{{{-b} \\pm {root}}}{{{2 * a}}}", ", ".join(frac(r) for r in roots))]
    wrong = [RootSet(tuple(sorted({-r for r in roots}))), RootSet((roots[0],)),
             RootSet(tuple(sorted({r1, -r2}))), RootSet(tuple(sorted({r + 1 for r in roots})))]
    check = "Substituting each root back: " + "; ".join(f"x = {plain(r)} gives 0" for r in roots) + "."
    t = rng.randrange(3)
    slots = _people(rng) | {"poly": _poly(a, b, c)}
    sentences = {0: ["Solve ${poly} = 0$ for real $x$."], 1: ["Find all real solutions of the equation ${poly} = 0$."],
                 2: ["Let $f(x) = {poly}$.", "Find the set of all $x$ with $f(x) = 0$."]}[t]
    return _problem("quadratics", d, t, sentences, slots, RootSet(roots), wrong, steps, check,
                    "the solution set")


# --------------------------------------------------------------------------------- number theory

def number_theory(rng: random.Random, d: int) -> Problem:
    t = rng.randrange(4)
    slots = _people(rng)
    if t == 0:
        g = rng.randint(2, _scale(d, 9, 40))
        a, b = g * rng.randint(2, 12), g * rng.randint(2, 12)
        result, other = math.gcd(a, b), a * b // math.gcd(a, b)
        steps = [Step(f"{max(a, b)} \\bmod {min(a, b)}", str(max(a, b) % min(a, b))),
                 Step(f"\\gcd({a}, {b})", str(result), _slip(rng, result))]
        wrong, check = [_n(other), _n(g), _n(result * 2)], f"{a} / {result} = {a // result} and {b} / {result} = {b // result}, which share no factor."
        sentences, slots, goal = ["What is the greatest common divisor of {a} and {b}?"], slots | {"a": str(a), "b": str(b)}, "the gcd"
    elif t == 1:
        a, b = rng.randint(4, _scale(d, 20, 90)), rng.randint(4, _scale(d, 20, 90))
        g = math.gcd(a, b)
        result = a * b // g
        steps = [Step(f"\\gcd({a}, {b})", str(g)), Step(f"\\frac{{{a} \\cdot {b}}}{{{g}}}", str(result), _slip(rng, result))]
        wrong, check = [_n(a * b) if g > 1 else _n(result + a), _n(g), _n(result + 1)], f"{result} / {a} = {result // a} and {result} / {b} = {result // b}, both whole."
        sentences = ["Bells at a {place} ring every {a} and every {b} minutes.", "They ring together now.",
                     "After how many minutes will they next ring together?"]
        slots, goal = slots | {"a": str(a), "b": str(b)}, "the least common multiple"
    elif t == 2:
        base, exp, mod = rng.randint(2, 12), rng.randint(5, _scale(d, 20, 200)), rng.choice((5, 7, 9, 11, 13))
        result = pow(base, exp, mod)
        steps = [Step(f"{base} \\bmod {mod}", str(base % mod)),
                 Step(f"{base}^{{{exp}}} \\bmod {mod}", str(result), str((result + 1) % mod))]
        wrong, check = [_n((result + 1) % mod), _n(base % mod), _n(exp % mod)], f"Computing {base}^{exp} mod {mod} by repeated squaring also gives {result}."
        sentences, slots, goal = ["Find the remainder when ${b}^{{{e}}}$ is divided by {m}."], slots | {"b": str(base), "e": str(exp), "m": str(mod)}, "the remainder"
    else:
        primes = rng.sample((2, 3, 5, 7, 11, 13), rng.randint(1, 2 + d // 2))
        exps = [rng.randint(1, 3 if d < 4 else 5) for _ in primes]
        num = math.prod(p ** e for p, e in zip(primes, exps))
        result = math.prod(e + 1 for e in exps)
        fact = " \\cdot ".join(f"{p}^{{{e}}}" if e > 1 else str(p) for p, e in sorted(zip(primes, exps)))
        steps = [Step(str(num), fact), Step(" \\cdot ".join(f"({e} + 1)" for e in exps), str(result))]
        wrong, check = [_n(math.prod(exps)), _n(result - 1), _n(result - 2)], f"Listing the divisors of {num} gives {result} of them."
        sentences, slots, goal = ["How many positive divisors does {num} have?"], slots | {"num": str(num)}, "the number of divisors"
    return _problem("number_theory", d, t, sentences, slots, _n(result), wrong, steps, check, goal)


# --------------------------------------------------------------------------------- combinatorics

WORDS = ("LETTER", "BANANA", "COFFEE", "PEPPER", "SUCCESS", "APPLE", "BALLOON", "MISSISSIPPI", "CHEESE", "GAMMA")


def combinatorics(rng: random.Random, d: int) -> Problem:
    t = rng.randrange(4)
    slots = _people(rng)
    if t == 0:
        n = rng.randint(5, _scale(d, 9, 20))
        k = rng.randint(2, min(n - 2, 6))
        result = math.comb(n, k)
        steps = [Step(f"\\binom{{{n}}}{{{k}}} = \\frac{{{n}!}}{{{k}!\\,{n - k}!}}", str(result), str(math.perm(n, k))),
                 Step(f"\\frac{{{math.perm(n, k)}}}{{{math.factorial(k)}}}", str(result))]
        answer = _n(result)
        wrong, check = [_n(math.perm(n, k)), _n(math.comb(n, k - 1)), _n(n * k)], f"Symmetry check: C({n}, {n - k}) = {result} as well."
        sentences = ["A club at a {place} has {n} members.", "In how many ways can a committee of {k} be chosen?"]
        slots, goal = slots | {"n": str(n), "k": str(k)}, "the number of committees"
    elif t == 1:
        if rng.random() < 0.3:
            word = rng.choice(WORDS[: 4 + d])
        else:  # a made-up string of tiles: many more distinct problems than real words give
            word = "".join(rng.choice("ABCDEGKMRST"[: 3 + d]) for _ in range(rng.randint(4, 5 + d)))
        counts = {ch: word.count(ch) for ch in sorted(set(word))}
        result = math.factorial(len(word)) // math.prod(math.factorial(c) for c in counts.values())
        reps = " ".join(f"{c}!" for c in counts.values() if c > 1) or "1"
        steps = [Step(f"{len(word)}!", str(math.factorial(len(word)))),
                 Step(f"\\frac{{{len(word)}!}}{{{reps}}}", str(result), str(result * 2))]
        answer = _n(result)
        wrong, check = [_n(math.factorial(len(word))), _n(result * 2), _n(result // 2 or 2)], "Each repeated letter divides out its own arrangements, so the count stands."
        sentences = (["How many distinct arrangements of the letters of {word} are there?"] if rng.random() < 0.5 else
                     ["{name} has letter tiles spelling {word}.", "How many distinct strings can {name} make using all the tiles?"])
        slots, goal = slots | {"word": word}, "the number of arrangements"
    elif t == 2:
        sides = rng.choice((4, 6, 8, 10, 12, 20)[: 2 + d])
        s = rng.randint(3, 2 * sides - 1)
        ways, outcomes = sides - abs(sides + 1 - s), sides * sides
        result = F(ways, outcomes)
        steps = [Step(f"\\#\\{{(a, b): a + b = {s}\\}}", str(ways)), Step(f"\\frac{{{ways}}}{{{outcomes}}}", frac(result))]
        answer = _n(result)
        wrong = [_n(F(ways, 2 * sides - 1)), _n(F(ways + 1, outcomes)), _n(F(1, sides))]
        check = f"Listing the pairs summing to {s} gives {ways} of the {outcomes} outcomes."
        sentences = ["{name} rolls two fair {sides}-sided dice.", "What is the probability that the sum is {s}?"]
        slots, goal = slots | {"s": str(s), "sides": str(sides)}, "the probability"
    else:
        r, b = rng.randint(2, _scale(d, 6, 15)), rng.randint(2, _scale(d, 6, 15))
        result = F(r * (r - 1), (r + b) * (r + b - 1))
        steps = [Step(f"\\frac{{{r}}}{{{r + b}}} \\cdot \\frac{{{r - 1}}}{{{r + b - 1}}}", frac(result), frac(F(r * r, (r + b) ** 2)))]
        answer = _n(result)
        wrong, check = [_n(F(r * r, (r + b) ** 2)), _n(F(r, r + b)), _n(F(r - 1, r + b))], f"Equivalently C({r}, 2) / C({r + b}, 2) = {plain(result)}."
        sentences = ["A bag holds {r} red and {b} blue {items}.", "Two are drawn without replacement.",
                     "What is the probability that both are red?"]
        slots, goal = slots | {"r": str(r), "b": str(b)}, "the probability both are red"
    return _problem("combinatorics", d, t, sentences, slots, answer, wrong, steps, check, goal)


# -------------------------------------------------------------------------------------- geometry

def _sqrt(n: int) -> tuple[int, int]:
    """√n = outside·√inside with inside square-free."""
    outside, inside, k = 1, n, 2
    while k * k <= inside:
        while inside % (k * k) == 0:
            inside //= k * k
            outside *= k
        k += 1
    return outside, inside


def _root_value(n: int, over: int = 1) -> Value:
    """√n / over as a Number when n is a perfect square, else a Surd."""
    outside, inside = _sqrt(n)
    return Number(F(outside, over)) if inside == 1 else Surd(F(outside, over), inside)


def geometry(rng: random.Random, d: int) -> Problem:
    t = rng.randrange(5)
    slots = _people(rng)
    hi = _scale(d, 20, 40)
    slots["unit"] = rng.choice(UNITS)
    if t == 0:
        diameter = rng.randint(2, hi)
        coef = F(diameter * diameter, 4)
        steps = [Step("r", plain(F(diameter, 2))), Step(f"\\pi r^2 = \\pi \\left({plain(F(diameter, 2))}\\right)^2", f"{plain(coef)}\\pi", f"{diameter * diameter}\\pi")]
        answer = PiMultiple(coef)
        wrong, check = [PiMultiple(F(diameter * diameter)), PiMultiple(F(diameter)), PiMultiple(coef * 2)], f"Area ≈ {float(coef) * math.pi:.2f}, between the inscribed and circumscribed squares' areas."
        sentences, slots, goal = ["A circular garden at a {place} has a diameter of {dia} {unit}.", "What is its area in square {unit}?"], slots | {"dia": str(diameter)}, "the area of the circle"
    elif t == 1:
        a, b = rng.randint(1, hi), rng.randint(1, hi)
        answer = _root_value(a * a + b * b)
        steps = [Step(f"{a}^2 + {b}^2", str(a * a + b * b), str(a * a + b * b + 1)), Step(f"\\sqrt{{{a * a + b * b}}}", canonical(answer))]
        wrong, check = [_n(a + b), _root_value(abs(a * a - b * b)) if a != b else _n(a), _n(a * a + b * b)], "The hypotenuse is longer than each leg and shorter than their sum, as it should be."
        sentences, slots, goal = ["A right triangle has legs of length {a} and {b} {unit}.", "Find the length of the hypotenuse."], slots | {"a": str(a), "b": str(b)}, "the hypotenuse"
    elif t == 2:
        s = rng.randint(2, 2 * hi)
        answer = Surd(F(s * s, 4), 3)
        steps = [Step(f"\\frac{{\\sqrt{{3}}}}{{4}} s^2 = \\frac{{\\sqrt{{3}}}}{{4}} \\cdot {s * s}", canonical(answer))]
        wrong, check = [Surd(F(s * s, 2), 3), Number(F(s * s, 2)), Surd(F(s * s, 4), 2)], f"Height = {plain(F(s, 2))}√3, and half of base times height gives the same area."
        sentences, slots, goal = (["Find the area of an equilateral triangle with side length {s}."] if rng.random() < 0.3 else
                     ["A tile at a {place} is an equilateral triangle with sides of {s} {unit}.", "What is its area?"]), slots | {"s": str(s)}, "the area of the triangle"
    elif t == 3:
        r, h = rng.randint(1, _scale(d, 10, 20)), rng.randint(1, _scale(d, 15, 30))
        answer = PiMultiple(F(r * r * h))
        steps = [Step(f"\\pi r^2 h = \\pi \\cdot {r * r} \\cdot {h}", f"{r * r * h}\\pi", f"{2 * r * h}\\pi")]
        wrong, check = [PiMultiple(F(2 * r * h)), PiMultiple(F(r * h * h)), PiMultiple(F(r * r * h, 3))], f"Base area {r * r}π times height {h} — yes, {r * r * h}π."
        sentences = ["A cylindrical can at a {place} has radius {r} {unit}.", "Its height is {h} {unit}.",
                     "What is its volume in cubic {unit}?"]
        slots, goal = slots | {"r": str(r), "h": str(h)}, "the volume of the cylinder"
        return _problem("geometry", d, t, sentences, slots, answer, wrong, steps, check, goal, reorderable=2)
    else:
        x1, y1, x2, y2 = (rng.randint(-hi, hi) for _ in range(4))
        if (x1, y1) == (x2, y2):
            x2 += 1
        sq = (x2 - x1) ** 2 + (y2 - y1) ** 2
        answer = _root_value(sq)
        steps = [Step(f"({x2 - x1})^2 + ({y2 - y1})^2", str(sq), str(sq + 2)), Step(f"\\sqrt{{{sq}}}", canonical(answer))]
        wrong, check = [_n(abs(x2 - x1) + abs(y2 - y1)), _n(sq), _root_value(sq + 1)], "The distance is at least as large as each coordinate difference. Fine."
        sentences, slots, goal = ["Find the distance between the points $({x1}, {y1})$ and $({x2}, {y2})$."], slots | {"x1": str(x1), "y1": str(y1), "x2": str(x2), "y2": str(y2)}, "the distance"
    return _problem("geometry", d, t, sentences, slots, answer, wrong, steps, check, goal)


# ------------------------------------------------------------------------------------- sequences

def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def sequences(rng: random.Random, d: int) -> Problem:
    t = rng.randrange(4)
    slots, reorderable = _people(rng), 0
    if t in (0, 1):
        a, step, n = rng.randint(-20, 30), rng.choice([k for k in range(-9, 12) if k]), rng.randint(6, _scale(d, 20, 120))
        terms = ", ".join(str(a + i * step) for i in range(4))
        if t == 0:
            result = a + (n - 1) * step
            steps = [Step("d", str(step)), Step(f"a_{{{n}}} = {a} + ({n} - 1)({step})", str(result), str(a + n * step))]
            wrong, check, goal = [_n(a + n * step), _n(result - step * 2), _n(n * step)], f"a_{n} - a_1 = {result - a} = {n - 1} × {step}. Right.", f"the {_ordinal(n)} term"
            sentences = ["The sequence {terms}, … is arithmetic.", "What is its {nth} term?"]
        else:
            last = a + (n - 1) * step
            result = n * (a + last) // 2
            steps = [Step(f"a_{{{n}}}", str(last)), Step(f"\\frac{{{n}({a} + {last})}}{{2}}", str(result), str(result + last))]
            wrong, check, goal = [_n(n * (a + last)), _n(result - last), _n(result + a)], f"Average term {plain(F(a + last, 2))} times {n} terms is {result}.", f"the sum of the first {n} terms"
            sentences = ["Consider the arithmetic sequence {terms}, ….", "Find the sum of its first {n} terms."]
        slots |= {"terms": terms, "n": str(n), "nth": _ordinal(n)}
    elif t == 2:
        a, r, n = rng.randint(1, 20), rng.choice((2, 3, -2, 4, -3, 5)), rng.randint(4, _scale(d, 7, 12))
        result = a * r ** (n - 1)
        steps = [Step("r", str(r)), Step(f"{a} \\cdot ({r})^{{{n - 1}}}", str(result), str(a * r ** n))]
        wrong, check, goal = [_n(a * r ** n), _n(-result), _n(a * r * (n - 1))], f"Dividing {result} by {r} repeatedly returns to {a} after {n - 1} steps.", f"the {_ordinal(n)} term"
        sentences = ["A geometric sequence starts {terms}, ….", "What is its {nth} term?"]
        slots |= {"terms": ", ".join(str(a * r ** i) for i in range(3)), "n": str(n), "nth": _ordinal(n)}
    else:
        a, m, c, n = rng.randint(1, 5), rng.choice((2, 3)), rng.randint(-3, 4), rng.randint(4, _scale(d, 6, 10))
        vals = [a]
        for _ in range(n - 1):
            vals.append(m * vals[-1] + c)
        result = vals[-1]
        steps = [Step(f"a_{{{i + 2}}} = {m} \\cdot {vals[i]} {'+' if c >= 0 else '-'} {abs(c)}", str(vals[i + 1]),
                      _slip(rng, vals[i + 1]) if i == 1 else None) for i in range(n - 1)]
        wrong, check, goal = [_n(vals[-2]), _n(m * result + c), _n(result + 1)], f"The values {', '.join(map(str, vals))} each follow the rule.", f"a_{n}"
        sentences, reorderable = ["Let $a_1 = {a}$.", "For $n \\ge 1$ let $a_{{n+1}} = {m}a_n {sign} {c}$.", "Find $a_{n}$."], 2
        slots |= {"a": str(a), "m": str(m), "sign": "+" if c >= 0 else "-", "c": str(abs(c)), "n": str(n)}
    return _problem("sequences", d, t, sentences, slots, _n(result), wrong, steps, check, goal, reorderable)


# ----------------------------------------------------------------------------------- inequalities

def inequalities(rng: random.Random, d: int) -> Problem:
    a = rng.choice([k for k in range(-_scale(d, 4, 9), _scale(d, 4, 9) + 1) if k not in (0,)])
    b = rng.randint(-15, 15)
    lo_x, hi_x = sorted(rng.sample(range(-10, 11), 2))
    if d >= 3:
        lo_x, hi_x = F(lo_x * 2 + 1, 2), F(hi_x)
    lo_x, hi_x = F(lo_x), F(hi_x)
    t = rng.randrange(3)
    slots = _people(rng) | {"expr": _linear(a, b)}
    if t < 2:
        lo_closed, hi_closed = rng.random() < 0.5, rng.random() < 0.5
        lo_v, hi_v = (a * lo_x + b, a * hi_x + b) if a > 0 else (a * hi_x + b, a * lo_x + b)
        left_closed, right_closed = (lo_closed, hi_closed) if a > 0 else (hi_closed, lo_closed)
        ops = {True: "\\le", False: "<"}
        slots |= {"lo": frac(lo_v), "hi": frac(hi_v), "op1": ops[left_closed], "op2": ops[right_closed]}
        answer = Interval(lo_x, hi_x, lo_closed, hi_closed)
        middle = f"{frac(lo_v - b)} {ops[left_closed]} {a}x {ops[right_closed]} {frac(hi_v - b)}"
        steps = [Step(f"{frac(lo_v)} {ops[left_closed]} {_linear(a, b)} {ops[right_closed]} {frac(hi_v)}", middle,
                      rel="\\Rightarrow", note=f"Subtracting {b} everywhere"),
                 Step(middle, answer.forms()["inequality"], rel="\\Rightarrow",
                      note=f"Dividing by {a}" + (", which flips both inequalities" if a < 0 else ""))]
        wrong = [Interval(lo_x, hi_x, not lo_closed, not hi_closed), Interval(-hi_x, -lo_x, hi_closed, lo_closed),
                 Interval(lo_x + 1, hi_x + 1, lo_closed, hi_closed)]
        sentences = (["Solve the inequality ${lo} {op1} {expr} {op2} {hi}$."] if t == 0 else
                     ["Find all real $x$ with ${lo} {op1} {expr} {op2} {hi}$.", "Give your answer in interval notation."])
    else:
        bound = a * lo_x + b
        closed = rng.random() < 0.5
        op = ("\\ge" if closed else ">") if a > 0 else ("\\le" if closed else "<")
        answer = Interval(lo_x, None, closed, False)
        slots |= {"op": op, "bound": frac(bound)}
        steps = [Step(f"{_linear(a, b)} {op} {frac(bound)}", f"{_linear(a, 0)} {op} {frac(bound - b)}",
                      rel="\\Rightarrow", note=f"Subtracting {b} from both sides"),
                 Step(f"{_linear(a, 0)} {op} {frac(bound - b)}", answer.forms()["inequality"], rel="\\Rightarrow",
                      note=f"Dividing by {a}" + (" and flipping the sign" if a < 0 else ""))]
        wrong = [Interval(None, lo_x, False, closed), Interval(lo_x, None, not closed, False),
                 Interval(-lo_x, None, closed, False)]
        sentences = ["{name} needs ${expr} {op} {bound}$.", "For which real $x$ does this hold?"]
    check = f"Testing a point inside, and one just outside, each end confirms {answer.forms()['interval']}."
    return _problem("inequalities", d, t, sentences, slots, answer, wrong, steps, check, "the solution set")


FAMILIES: dict[str, Callable[[random.Random, int], Problem]] = {
    f.__name__: f for f in (arithmetic, fractions, percentages, linear_equations, systems, quadratics,
                            number_theory, combinatorics, geometry, sequences, inequalities)
}
TOPICS = {"arithmetic": "arithmetic", "fractions": "fraction arithmetic", "percentages": "percentages",
          "linear_equations": "a linear equation", "systems": "a system of linear equations",
          "quadratics": "a quadratic equation", "number_theory": "number theory",
          "combinatorics": "counting and probability", "geometry": "geometry", "sequences": "sequences",
          "inequalities": "a linear inequality",
          # the teachers profile's own problems (synth/teachers.py)
          "premises": "arithmetic", "boilerplate_slope": "coordinate geometry",
          "boilerplate_coprime": "probability", "ill_posed": "an open-ended question"}
