"""Write tests/data/verify_labelled.jsonl: (gold, model output, correct) cases by category.

    python tests/data/make_verify_labelled.py [--benchmarks DIR]

Each category is one failure pattern of issue 13 ("What goes wrong"), half right answers and half
plausible near-misses (a sign, a swapped pair, a wrong root, another rounding), written the way
teachers write: long reasoning (R1's <think>, QwQ's missing opening tag, s1.1's think/answer
lines, step-by-step markdown), answers boxed, marked in nine languages, or only stated in prose.
The seed is fixed, so the file is the same on every run. The MATH worked solutions used by
`gold_from_solution` come from DISTILLERY_BENCHMARKS (or --benchmarks); without it those rows are
written from the hand-written solutions only, so commit the generated file, not the recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from fractions import Fraction
from pathlib import Path

OUT = Path(__file__).resolve().parent / "verify_labelled.jsonl"
R = random.Random(13)
CASES: list[dict] = []


def add(category: str, gold: str, pred: str, correct: bool, note: str = "") -> None:
    case = {"category": category, "gold": gold, "pred": pred, "correct": correct}
    if note:
        case["note"] = note
    CASES.append(case)


# --- how reasoning models lay out an output -------------------------------------------------

OPENERS = [
    "Okay, let's see. {q}",
    "Alright, so I need to figure this out. {q}",
    "Let me start by reading the problem again carefully. {q}",
    "Hmm, okay. {q} Let me think step by step.",
    "So the question is asking this: {q}",
    "First, I should understand what is being asked. {q}",
]
MIDDLES = [
    "Wait, let me double-check that step, because it is easy to slip here.",
    "Hmm, that seems right, but let me verify it another way.",
    "Let me re-read the problem to make sure I didn't miss anything.",
    "Actually, hold on. Let me recompute this more carefully.",
    "Okay, that checks out.",
    "So far so good.",
]
CLOSERS = [
    "I think that's it.",
    "Yes, I'm fairly confident now.",
    "That matches my earlier estimate, so I'll go with it.",
    "Alright, that should be the answer.",
]


EXPLORE = [
    "Let me try a small example to make sure I understand the setup. Suppose the numbers were {a} and {b}; "
    "the same method gives {a} + {b} = {s}, which makes sense.",
    "Alternatively, maybe I can approach this differently. If I write it as {a} × {b} = {p}... hmm, no, that's not what is asked.",
    "Wait, is there a trick here? Let me re-read the problem. The quantities are given directly, so there shouldn't be hidden conditions.",
    "Let me estimate first: it should be somewhere around {a}0, so the order of magnitude is clear.",
    "Hmm, I remember a similar problem where the answer came out to {c}, but the numbers there were different, so that doesn't help.",
    "Let me be careful with units. Everything is in the same units, so no conversion is needed.",
    "Let me recount from scratch to make sure I haven't made an arithmetic slip: {a} + {b} = {s}, and {s} − {a} = {b}. Fine.",
    "Okay, going back to the main computation.",
    "Is it possible that I misread a number? No, the numbers are as I wrote them.",
    "I could also set up an equation, but the direct computation is simpler here.",
]


def think(question: str, steps: list[str], long: bool = False) -> str:
    """A few paragraphs of thinking, with the self-checks that reasoning models write; `long`
    adds the detours, estimates and recounts of a multi-thousand-character trace."""
    paras = [R.choice(OPENERS).format(q=question)]
    for i, step in enumerate(steps):
        if long:
            for _ in range(R.randint(4, 10)):
                a, b = R.randint(2, 19), R.randint(2, 19)
                paras.append(R.choice(EXPLORE).format(a=a, b=b, s=a + b, p=a * b, c=R.randint(3, 99)))
        paras.append(step)
        if i < len(steps) - 1 and R.random() < 0.5:
            paras.append(R.choice(MIDDLES))
        if long:
            paras.append(f"Let me redo that step to double-check. {step}")
    paras.append(R.choice(CLOSERS))
    return "\n\n".join(paras)


def layout(question: str, steps: list[str], ending: str, style: str | None = None) -> str:
    """An output whose final answer is given by `ending` (the last lines, as the model wrote them)."""
    style = style or R.choice(["r1", "r1", "qwq", "qwq", "s1", "markdown", "plain", "distill"])
    body = think(question, steps, long=R.random() < 0.8)
    summary = "\n".join(f"- {s}" for s in steps[-2:])
    if style == "r1":
        return f"<think>\n{body}\n</think>\n\n**Solution.**\n\n{summary}\n\n{ending}"
    if style == "qwq":  # the opening tag is in the prompt, not the output
        return f"{body}\n</think>\n\n{ending}"
    if style == "s1":
        return f"think\n{body}\nanswer\n{ending}"
    if style == "markdown":
        numbered = "\n\n".join(f"## Step {i + 1}\n{s}" for i, s in enumerate(steps))
        return f"{numbered}\n\n{ending}"
    if style == "distill":
        return f"<think>\n{body}\n</think>\n\n{ending}"
    return "\n\n".join(steps) + "\n\n" + ending


def boxed_end(ans: str) -> str:
    return R.choice([
        f"**Final Answer**\n\\[\n\\boxed{{{ans}}}\n\\]",
        f"The final answer is $\\boxed{{{ans}}}$.",
        f"Therefore, the final answer is: $\\boxed{{{ans}}}$. I hope it is correct.",
        f"So the answer is $\\boxed{{{ans}}}$.",
        f"### Final Answer\n$$\\boxed{{{ans}}}$$",
    ])


def fmt_num(x) -> str:
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"


def thousands(n: int) -> str:
    return f"{n:,}"


# --- word problems with their working, right and with a typical slip ------------------------

def wp_rent():
    m = R.choice([600, 720, 840, 900, 960, 1080, 1200, 1440, 1500, 1800])
    k = R.choice([d for d in (2, 3, 4, 5, 6) if (m * 12) % d == 0 and (m * 12) % (d + 1) == 0] or [2])
    right, wrong = m * 12 // k, m * 12 // (k + 1)
    q = f"The apartment costs ${m} a month and {k} roommates split the rent equally. How much does each roommate pay per year?"
    ok = [f"A year has 12 months, so the rent for a year is {m} × 12 = {m * 12} dollars.",
          f"Split among {k} roommates: {m * 12} ÷ {k} = {right}."]
    bad = [f"A year has 12 months, so the rent for a year is {m} × 12 = {m * 12} dollars.",
           f"Split among the roommates and me, that is {k + 1} people: {m * 12} ÷ {k + 1} = {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="dollars",
                say=lambda v: f"Each roommate pays **\\${v}** per year", money=True)


def wp_eggs():
    n = R.randint(14, 30)
    a, b = R.randint(2, 5), R.randint(2, 6)
    p = R.choice([2, 3, 4, 5])
    right, wrong = (n - a - b) * p, (n - a) * p
    q = f"Ducks lay {n} eggs per day. She eats {a} for breakfast and bakes muffins with {b}. She sells the rest for ${p} each. How much does she make per day?"
    ok = [f"Eggs left each day: {n} - {a} - {b} = {n - a - b}.", f"Money: {n - a - b} × {p} = {right} dollars."]
    bad = [f"Eggs left each day: {n} - {a} = {n - a}.", f"Money: {n - a} × {p} = {wrong} dollars."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="dollars",
                say=lambda v: f"She makes **\\${v}** every day at the farmers' market", money=True)


def wp_speed():
    v = R.choice([36, 40, 45, 48, 50, 54, 60, 72, 75, 80, 90])
    t = R.choice([20, 30, 40, 45, 50, 80, 90, 100])
    d = Fraction(v * t, 60)
    if d.denominator != 1:
        return wp_speed()
    right = int(d)
    wrong = right + R.choice([-5, 5, 10]) if right > 10 else right + 2
    q = f"A train travels at {v} km/h for {t} minutes. How many kilometres does it cover?"
    ok = [f"{t} minutes is {t}/60 of an hour.", f"Distance = {v} × {t}/60 = {right} km."]
    bad = [f"{t} minutes is {t}/60 of an hour.", f"Distance = {v} × {t}/60 ≈ {wrong} km (rounding the hours first)."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="km",
                say=lambda v: f"The train covers {v} km", money=False)


def wp_discount():
    price = R.choice([40, 60, 80, 120, 150, 200, 240, 250, 300, 360, 400, 480])
    d = R.choice([10, 15, 20, 25, 30, 40])
    right = Fraction(price * (100 - d), 100)
    if right.denominator != 1:
        return wp_discount()
    right = int(right)
    wrong = price * d // 100
    q = f"A jacket costs ${price} and is on sale for {d}% off. What is the sale price?"
    ok = [f"The discount is {d}% of {price}, which is {price * d // 100} dollars.",
          f"Sale price: {price} - {price * d // 100} = {right}."]
    bad = [f"The discount is {d}% of {price}.", f"{price} × {d}/100 = {wrong}, so the sale price is {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="dollars",
                say=lambda v: f"The jacket costs **\\${v}** on sale", money=True)


def wp_garden():
    w, ln = R.randint(3, 19), R.randint(20, 45)
    right, wrong = 2 * (w + ln), w * ln
    q = f"A rectangular garden is {w} m wide and {ln} m long. How many metres of fence go around it?"
    ok = ["The perimeter of a rectangle is 2(w + l).", f"2 × ({w} + {ln}) = 2 × {w + ln} = {right} m."]
    bad = [f"The fence has to cover the garden, so I need {w} × {ln}.", f"{w} × {ln} = {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="m",
                say=lambda v: f"The fence is {v} metres long", money=False)


def wp_savings():
    w, n, s = R.choice([15, 20, 25, 30, 35, 40]), R.randint(6, 16), R.choice([45, 60, 75, 90, 110])
    if w * (n - 1) <= s:
        return wp_savings()
    right, wrong = w * n - s, w * (n - 1) - s
    q = f"Tom saves ${w} every week for {n} weeks, then spends ${s} on a game. How much money does he have left?"
    ok = [f"Savings: {w} × {n} = {w * n} dollars.", f"After the game: {w * n} - {s} = {right}."]
    bad = [f"He saves for {n} weeks but the first week doesn't count, so {w} × {n - 1} = {w * (n - 1)}.",
           f"After the game: {w * (n - 1)} - {s} = {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="dollars",
                say=lambda v: f"Tom has **\\${v}** left", money=True)


def wp_pages():
    per, days = R.randint(12, 40), R.randint(5, 14)
    extra = R.randint(3, 11)
    right, wrong = per * days + extra, per * days - extra
    q = f"Maya read {per} pages a day for {days} days and then {extra} more pages. How many pages did she read?"
    ok = [f"{per} × {days} = {per * days} pages.", f"Plus {extra}: {per * days} + {extra} = {right}."]
    bad = [f"{per} × {days} = {per * days} pages.", f"Minus the {extra}: {per * days} - {extra} = {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="pages",
                say=lambda v: f"Maya read {v} pages in total", money=False)


def wp_sum():
    n = R.randint(12, 99)
    right, wrong = n * (n + 1) // 2, n * (n - 1) // 2
    q = f"What is the sum 1 + 2 + ... + {n}?"
    ok = [f"By Gauss's formula the sum is n(n+1)/2 with n = {n}.", f"{n} × {n + 1} / 2 = {right}."]
    bad = [f"The sum is n(n-1)/2 with n = {n}.", f"{n} × {n - 1} / 2 = {wrong}."]
    return dict(q=q, ok=ok, bad=bad, right=right, wrong=wrong, unit="",
                say=lambda v: f"The sum is {v}", money=False)


WORD_PROBLEMS = [wp_rent, wp_eggs, wp_speed, wp_discount, wp_garden, wp_savings, wp_pages, wp_sum]


def answer_in_prose() -> None:
    """Right answers stated only in prose or markdown, no box and often no marker."""
    def endings(p, v):
        money = p["money"]
        cash = f"${v}" if money else str(v)
        unit = f" {p['unit']}" if p["unit"] and not money else ""
        return [
            f"**Answer:** {p['say'](v)}.",
            f"Answer ${v}$",
            f"The answer should be {v}.",
            f"So the total is {v}{unit}.",
            f"### Final Answer\n{p['say'](v)}.",
            f"Therefore, the result is $\\$ {v}$." if money else f"Therefore, the result is \\({v}\\){unit}.",
            f"So, {p['say'](v)[0].lower() + p['say'](v)[1:]}.",
            f"**{p['say'](v).replace('**', '')}.**",
            f"Putting it together, we get \\[{v}\\]",
            f"Hence {cash}{unit} is what we are looking for.",
        ]
    for i in range(64):
        p = R.choice(WORD_PROBLEMS)()
        right = i % 2 == 0
        steps = p["ok"] if right else p["bad"]
        v = p["right"] if right else p["wrong"]
        ending = endings(p, v)[(i // 2) % 10]
        add("answer_in_prose", str(p["right"]), layout(p["q"], steps, ending), right)
    # Algebra stated in prose.
    algebra = [
        ("Solve $3y - 2 \\le 10$.", ["Add 2 to both sides: $3y \\le 12$.", "Divide by 3."], "y \\le 4", "Therefore $y \\le 4$ is the solution.", True),
        ("Solve $3y - 2 \\le 10$.", ["Add 2 to both sides: $3y \\le 12$.", "Divide by 3 and flip the inequality."], "y \\le 4", "Therefore $y \\ge 4$ is the solution.", False),
        ("Solve $2x + 3 = 17$.", ["Isolate the term with $x$."], "7", "Subtracting 3 from both sides gives $2x = 14$, so $x = 7$ is the solution.", True),
        ("Solve $2x + 3 = 17$.", ["Isolate the term with $x$."], "7", "Subtracting 3 from both sides gives $2x = 12$, so $x = 6$ is the solution.", False),
        ("For which $k$ are the lines $y = kx + 1$ and $y = -3x + 5$ parallel?", ["Parallel lines have equal slopes."], "-3",
         "The value of $k$ that makes the lines parallel is $-3$.", True),
        ("For which $k$ are the lines $y = kx + 1$ and $y = -3x + 5$ parallel?", ["Parallel lines have slopes of equal size."], "-3",
         "The value of $k$ that makes the lines parallel is $3$.", False),
        ("Find the slope of the line through $(0, 1)$ and $(2, 6)$.", ["The rise is $6 - 1 = 5$ and the run is $2 - 0 = 2$."], "\\frac{5}{2}",
         "So the slope of the line is $\\frac{5}{2}$.", True),
        ("Find the slope of the line through $(0, 1)$ and $(2, 6)$.", ["The run is $6 - 1 = 5$ and the rise is $2 - 0 = 2$."], "\\frac{5}{2}",
         "So the slope of the line is $\\frac{2}{5}$.", False),
        ("Find the area of a regular hexagon with side $2\\sqrt{2}$.", ["The area is $\\frac{3\\sqrt{3}}{2}s^2$ with $s^2 = 8$."], "12\\sqrt{3}",
         "The area of the hexagon works out to $12\\sqrt{3}$ square units.", True),
        ("Find the area of a regular hexagon with side $2\\sqrt{2}$.", ["The area is $\\frac{3\\sqrt{2}}{2}s^2$ with $s^2 = 8$."], "12\\sqrt{3}",
         "The area of the hexagon works out to $12\\sqrt{2}$ square units.", False),
    ]
    for q, working, gold, end, ok in algebra:
        add("answer_in_prose", gold, layout(q, working, end), ok)


def several_boxes() -> None:
    """Several answers each in its own box; a gold written as several boxes; a box repeated."""
    for i in range(24):
        a, b = R.sample([n for n in range(-12, 13) if n != 0], 2)
        a, b = sorted((a, b))
        s, p = a + b, a * b
        eq = f"x^2 {'-' if s > 0 else '+'} {abs(s)}x {'+' if p > 0 else '-'} {abs(p)} = 0" if s else f"x^2 - {-p} = 0"
        right = i % 2 == 0
        bb = b if right else -b
        if bb == a:
            bb = b + 1
        joiner = R.choice([" and ", ", ", " or ", "; "])
        box = R.choice(["\\boxed{{{}}}", "x = \\boxed{{{}}}", "\\boxed{{x = {}}}"])
        ending = f"The solutions are ${box.format(a)}${joiner}${box.format(bb)}$."
        steps = [f"We need to solve ${eq}$.", f"It factors as $(x {'-' if a > 0 else '+'} {abs(a)})(x {'-' if bb > 0 else '+'} {abs(bb)}) = 0$."]
        gold = R.choice([f"{a}, {b}", f"\\{{{a}, {b}\\}}", f"{b}, {a}", f"{a} \\text{{ and }} {b}"])
        add("several_boxes", gold, layout(f"Find all solutions of ${eq}$.", steps, ending), right,
            "several boxes in one closing sentence are one answer (a set of solutions)")
    for i in range(12):  # ordered results, boxed one by one: a tuple in the order asked
        a, b = R.sample(range(-9, 10), 2)
        right = i % 2 == 0
        x, y = (a, b) if right else (b, a)
        ending = f"So $a = \\boxed{{{x}}}$ and $b = \\boxed{{{y}}}$."
        add("several_boxes", f"({a}, {b})",
            layout("Find the ordered pair $(a, b)$.", [f"From the first equation, $a = {x}$.", f"Substituting, $b = {y}$."], ending),
            right, "a = [] and b = [] boxes read in order as the pair (a, b)")
    for i in range(12):  # the same box written twice (in the thinking and in the summary)
        v = R.randint(2, 400)
        right = i % 2 == 0
        w = v if right else v + R.choice([-2, -1, 1, 2])
        pred = (f"<think>\nLet me compute. The count comes to {w}, so the answer is \\boxed{{{w}}}.\n\n"
                f"Let me double-check by counting the complement... yes, {w}.\n</think>\n\n"
                f"Counting the complement and subtracting gives the same total.\n\n**Final Answer**\n\\[\\boxed{{{w}}}\\]")
        add("several_boxes", str(v), pred, right, "the same box repeated is one answer")
    for i in range(12):  # a box corrected later: the last one is the answer
        v = R.randint(3, 90)
        first = v + R.choice([-3, -1, 1, 4])
        right = i % 2 == 0
        last = v if right else first
        start = first if right else v
        pred = (f"Adding the cases I get $\\boxed{{{start}}}$.\n\nWait, that double counts the overlap. "
                f"Hmm, let me redo it: subtracting the overlap... Actually, let me recount from scratch.\n\n"
                f"After recounting carefully, the total is $\\boxed{{{last}}}$.")
        add("several_boxes", str(v), pred, right,
            "a box replaced after 'Wait, ... recount' in a later paragraph: the last box is the answer")
    gold_boxes = [
        ("$\\boxed{2}$ and $\\boxed{5}$", "The roots are \\boxed{2, 5}.", True),
        ("$\\boxed{2}$ and $\\boxed{5}$", "The roots are \\boxed{2, -5}.", False),
        ("$x = \\boxed{-1}$ or $x = \\boxed{4}$", "So $x \\in \\boxed{\\{-1, 4\\}}$.", True),
        ("$x = \\boxed{-1}$ or $x = \\boxed{4}$", "So $x \\in \\boxed{\\{1, 4\\}}$.", False),
        ("$\\boxed{3}, \\boxed{7}$", "Final answer: $x = 7$ or $x = 3$.", True),
        ("$\\boxed{3}, \\boxed{7}$", "Final answer: $x = 7$.", False),
    ]
    for gold, end, ok in gold_boxes:
        add("several_boxes", gold, layout("Find all real solutions.", ["Factor the polynomial.", "Check each factor for roots."], end), ok,
            "the gold itself is several boxes: all of them are the answer")


def wrong_span() -> None:
    """An earlier box or marker that is not the final answer; numbers written after the answer."""
    cat = "wrong_span"
    for i in range(16):  # an intermediate quantity boxed, then "Final Answer:"
        p = R.choice([wp_rent, wp_eggs, wp_discount, wp_savings])()
        right = i % 2 == 0
        mid = p["ok"][0].rstrip(".")
        first_num = re.findall(r"\d+", p["ok"][0])[-1]
        if right:
            pred = (f"{mid}, so the first quantity is $\\boxed{{{first_num}}}$.\n\n{p['ok'][1]}\n\n"
                    f"**Final Answer:** {p['right']}")
        else:
            pred = (f"{p['ok'][0]}\n\n{p['ok'][1]} So the answer is $\\boxed{{{p['right']}}}$.\n\n"
                    f"Wait, I should re-read the question. {p['bad'][-1]}\n\nFinal Answer: {p['wrong']}")
        add(cat, str(p["right"]), layout(p["q"], [], pred, "qwq") if R.random() < 0.5 else pred, right,
            "a later 'Final Answer:' overrides an earlier box")
    for i in range(14):  # a box inside the thinking, the answer stated after it
        p = R.choice(WORD_PROBLEMS)()
        right = i % 2 == 0
        early, late = (p["wrong"], p["right"]) if right else (p["right"], p["wrong"])
        steps_early = p["bad"] if right else p["ok"]
        steps_late = p["ok"] if right else p["bad"]
        pred = ("<think>\n" + "\n\n".join(steps_early) + f"\n\nSo maybe it's \\boxed{{{early}}}? Hmm, let me redo this.\n\n"
                + "\n\n".join(steps_late) + "\n\nYes.\n</think>\n\n" + "\n".join(steps_late)
                + f"\n\nThe answer is {late}.")
        add(cat, str(p["right"]), pred, right, "the answer after </think> overrides a tentative box in the thinking")
    for i in range(16):  # checks written after the final answer
        p = R.choice([wp_eggs, wp_garden, wp_pages, wp_sum])()
        right = i % 2 == 0
        v = p["right"] if right else p["wrong"]
        steps = p["ok"] if right else p["bad"]
        check = R.choice([
            f"\n\n**Check:** working backwards from {v} with {R.randint(2, 9)} steps gives the original numbers again ✓",
            f"\n\n(Sanity check with a smaller case: for 3 items the same method gives {R.randint(4, 12)}, which is right.)",
            f"\n\nVerification: {v} is consistent with all {R.randint(2, 5)} conditions.",
        ])
        marker = R.choice([f"The final answer is ${v}$.", f"**Answer: {v}**", f"Final Answer: {v}"])
        add(cat, str(p["right"]), layout(p["q"], steps, marker + check), right,
            "numbers after the stated answer are a check, not the answer")
    for i in range(16):  # two "the answer is": the later one counts
        p = R.choice(WORD_PROBLEMS)()
        right = i % 2 == 0
        a, b = (p["wrong"], p["right"]) if right else (p["right"], p["wrong"])
        steps = (p["bad"] + [f"So the answer is {a}.", "Hmm, wait. That doesn't use every condition. Let me redo it."]
                 + (p["ok"] if right else p["bad"]))
        if not right:
            steps = p["ok"] + [f"So the answer is {a}.", "Hmm, wait. Let me reconsider the wording."] + p["bad"]
        add(cat, str(p["right"]), layout(p["q"], steps, f"Therefore, the answer is {b}.", R.choice(["plain", "qwq", "s1"])), right,
            "the last answer statement wins over an earlier one")


def truncations() -> None:
    """Outputs cut off by the generation budget: after the answer (still answered) or inside <think>."""
    for i in range(12):
        p = R.choice([wp_eggs, wp_garden, wp_pages, wp_rent])()
        right = i % 2 == 0
        if right:
            tail = R.choice(["\n\nLet me verify once more: ", "\n\nTo double-check, the total of the", "\n\nWait, let me re-read the question to make sure it asks for"])
            end = R.choice([f"**Final Answer:** {p['right']}", f"The answer is $\\boxed{{{p['right']}}}$."]) + tail
            add("wrong_span", str(p["right"]), layout(p["q"], p["ok"], end, R.choice(["r1", "qwq", "markdown"])), True,
                "cut off after the answer: the answer stands")
        else:
            body = think(p["q"], p["ok"])
            cut = R.choice([" Hmm, but wait, does the question include", " But let me reconsider whether the", " Actually, hold on, I might have misread"])
            add("wrong_span", str(p["right"]), f"<think>\n{body.rsplit(chr(10) + chr(10), 1)[0]}{cut}", False,
                "cut off inside <think> (no closing tag) before any answer: there is no final answer, "
                "even though the last number written is the reference")


LANGS = {
    "fr": dict(
        lq="Résoudre l'équation ${a}x + {b} = {c}$.",
        rect=("Un rectangle mesure {w} m de large et {l} m de long. Quel est son périmètre ?", ["Le périmètre vaut 2 × ({w} + {l}) = {v} m."], ["Le périmètre vaut {w} + {l} = {v} m."]),
        eggs=("Les canards pondent {n} œufs par jour. Elle en mange {a}, en utilise {b} pour des muffins et vend le reste {p} $ pièce. Combien gagne-t-elle par jour ?",
              ["Il reste {n} - {a} - {b} = {r} œufs par jour.", "Elle gagne donc {r} × {p} = {v} dollars."],
              ["Il reste {n} - {a} = {r} œufs par jour.", "Elle gagne donc {r} × {p} = {v} dollars."]),
        lin=("Résolvons ${a}x + {b} = {c}$.", "On obtient ${a}x = {d}$, donc $x = {x}$."),
        ends=["**Réponse :** {v}", "La réponse est donc ${v}$.", "Réponse finale : $\\boxed{{{v}}}$", "Donc la réponse finale est {v}."],
        think=["D'accord, voyons.", "Vérifions ce calcul une deuxième fois.", "Oui, c'est cohérent."], comma=True),
    "de": dict(
        lq="Löse die Gleichung ${a}x + {b} = {c}$.",
        rect=("Ein Rechteck ist {w} m breit und {l} m lang. Wie groß ist sein Umfang?", ["Der Umfang ist 2 · ({w} + {l}) = {v} m."], ["Der Umfang ist {w} + {l} = {v} m."]),
        eggs=("Enten legen {n} Eier pro Tag. Sie isst {a}, backt mit {b} Muffins und verkauft den Rest für {p} $ pro Stück. Wie viel verdient sie pro Tag?",
              ["Übrig bleiben {n} - {a} - {b} = {r} Eier.", "Sie verdient also {r} · {p} = {v} Dollar."],
              ["Übrig bleiben {n} - {a} = {r} Eier.", "Sie verdient also {r} · {p} = {v} Dollar."]),
        lin=("Wir lösen ${a}x + {b} = {c}$.", "Es folgt ${a}x = {d}$, also $x = {x}$."),
        ends=["**Antwort:** {v}", "Die Antwort lautet ${v}$.", "Ergebnis: $\\boxed{{{v}}}$", "Die endgültige Antwort ist {v}."],
        think=["Okay, schauen wir mal.", "Ich prüfe die Rechnung noch einmal.", "Ja, das passt."], comma=True),
    "es": dict(
        lq="Resuelve la ecuación ${a}x + {b} = {c}$.",
        rect=("Un rectángulo mide {w} m de ancho y {l} m de largo. ¿Cuál es su perímetro?", ["El perímetro es 2 × ({w} + {l}) = {v} m."], ["El perímetro es {w} + {l} = {v} m."]),
        eggs=("Los patos ponen {n} huevos al día. Ella come {a}, usa {b} para magdalenas y vende el resto a {p} $ cada uno. ¿Cuánto gana al día?",
              ["Quedan {n} - {a} - {b} = {r} huevos.", "Gana {r} × {p} = {v} dólares."],
              ["Quedan {n} - {a} = {r} huevos.", "Gana {r} × {p} = {v} dólares."]),
        lin=("Resolvemos ${a}x + {b} = {c}$.", "Entonces ${a}x = {d}$, así que $x = {x}$."),
        ends=["**Respuesta:** {v}", "La respuesta es ${v}$.", "Respuesta final: $\\boxed{{{v}}}$", "Por lo tanto, la respuesta final es {v}."],
        think=["Bien, veamos.", "Voy a comprobar el cálculo otra vez.", "Sí, es correcto."], comma=True),
    "zh": dict(
        lq="求解方程 ${a}x + {b} = {c}$。",
        rect=("一个长方形宽{w}米，长{l}米。它的周长是多少米？", ["周长 = 2 × ({w} + {l}) = {v} 米。"], ["周长 = {w} + {l} = {v} 米。"]),
        eggs=("鸭子每天下{n}个蛋。她早餐吃{a}个，用{b}个做松饼，剩下的每个卖{p}美元。她每天赚多少钱？",
              ["每天剩下 {n} - {a} - {b} = {r} 个蛋。", "她每天赚 {r} × {p} = {v} 美元。"],
              ["每天剩下 {n} - {a} = {r} 个蛋。", "她每天赚 {r} × {p} = {v} 美元。"]),
        lin=("解方程 ${a}x + {b} = {c}$。", "得 ${a}x = {d}$，所以 $x = {x}$。"),
        ends=["答案：{v}", "所以答案是 ${v}$。", "最终答案：$\\boxed{{{v}}}$", "因此，答案为 **{v}**。"],
        think=["好的，我们来看看。", "让我再检查一下计算。", "对，没有问题。"], comma=False),
    "ru": dict(
        lq="Решите уравнение ${a}x + {b} = {c}$.",
        rect=("Прямоугольник имеет ширину {w} м и длину {l} м. Найдите его периметр.", ["Периметр равен 2 · ({w} + {l}) = {v} м."], ["Периметр равен {w} + {l} = {v} м."]),
        eggs=("Утки несут {n} яиц в день. Она съедает {a}, на кексы уходит {b}, остальные продаёт по {p} $. Сколько она зарабатывает в день?",
              ["Остаётся {n} - {a} - {b} = {r} яиц.", "Заработок: {r} · {p} = {v} долларов."],
              ["Остаётся {n} - {a} = {r} яиц.", "Заработок: {r} · {p} = {v} долларов."]),
        lin=("Решим уравнение ${a}x + {b} = {c}$.", "Получаем ${a}x = {d}$, значит $x = {x}$."),
        ends=["**Ответ:** {v}", "Ответ: ${v}$.", "Итак, окончательный ответ: $\\boxed{{{v}}}$", "Таким образом, ответ {v}."],
        think=["Хорошо, давайте посмотрим.", "Проверю вычисления ещё раз.", "Да, всё сходится."], comma=True),
    "ar": dict(
        lq="حل المعادلة ${a}x + {b} = {c}$.",
        rect=("مستطيل عرضه {w} م وطوله {l} م. ما محيطه؟", ["المحيط = 2 × ({w} + {l}) = {v} م."], ["المحيط = {w} + {l} = {v} م."]),
        eggs=("يضع البط {n} بيضة يوميًا. تأكل {a} وتستخدم {b} للكعك وتبيع الباقي بسعر {p} دولار للبيضة. كم تكسب يوميًا؟",
              ["يتبقى {n} - {a} - {b} = {r} بيضة.", "تكسب {r} × {p} = {v} دولارًا."],
              ["يتبقى {n} - {a} = {r} بيضة.", "تكسب {r} × {p} = {v} دولارًا."]),
        lin=("نحل المعادلة ${a}x + {b} = {c}$.", "نحصل على ${a}x = {d}$، إذن $x = {x}$."),
        ends=["الإجابة: {v}", "إذن الجواب هو ${v}$.", "الإجابة النهائية: $\\boxed{{{v}}}$", "وبالتالي فإن الإجابة هي {v}."],
        think=["حسنًا، لنرَ.", "دعني أتحقق من الحساب مرة أخرى.", "نعم، هذا صحيح."], comma=False),
    "hi": dict(
        lq="समीकरण ${a}x + {b} = {c}$ को हल कीजिए।",
        rect=("एक आयत की चौड़ाई {w} मीटर और लंबाई {l} मीटर है। उसका परिमाप कितना है?", ["परिमाप = 2 × ({w} + {l}) = {v} मीटर।"], ["परिमाप = {w} + {l} = {v} मीटर।"]),
        eggs=("बत्तखें रोज़ {n} अंडे देती हैं। वह {a} खाती है, {b} से मफ़िन बनाती है और बाकी {p} डॉलर प्रति अंडा बेचती है। वह रोज़ कितना कमाती है?",
              ["बचे अंडे: {n} - {a} - {b} = {r}।", "कमाई: {r} × {p} = {v} डॉलर।"],
              ["बचे अंडे: {n} - {a} = {r}।", "कमाई: {r} × {p} = {v} डॉलर।"]),
        lin=("समीकरण ${a}x + {b} = {c}$ हल करते हैं।", "तो ${a}x = {d}$, अतः $x = {x}$।"),
        ends=["उत्तर: {v}", "अतः उत्तर ${v}$ है।", "अंतिम उत्तर: $\\boxed{{{v}}}$", "इसलिए सही उत्तर **{v}** है।"],
        think=["ठीक है, देखते हैं।", "मैं गणना फिर से जाँचता हूँ।", "हाँ, यह सही है।"], comma=False),
    "ja": dict(
        lq="方程式 ${a}x + {b} = {c}$ を解きなさい。",
        rect=("長方形の幅は{w} m、長さは{l} mです。周の長さは何mですか？", ["周の長さは 2 × ({w} + {l}) = {v} m です。"], ["周の長さは {w} + {l} = {v} m です。"]),
        eggs=("アヒルは毎日{n}個の卵を産みます。朝食に{a}個食べ、マフィンに{b}個使い、残りを1個{p}ドルで売ります。1日にいくら稼ぎますか？",
              ["残りの卵は {n} - {a} - {b} = {r} 個です。", "収入は {r} × {p} = {v} ドルです。"],
              ["残りの卵は {n} - {a} = {r} 個です。", "収入は {r} × {p} = {v} ドルです。"]),
        lin=("方程式 ${a}x + {b} = {c}$ を解きます。", "${a}x = {d}$ となるので、$x = {x}$ です。"),
        ends=["答え：{v}", "よって、答えは ${v}$ です。", "最終的な答え：$\\boxed{{{v}}}$", "したがって、答えは **{v}** です。"],
        think=["さて、考えてみましょう。", "もう一度計算を確認します。", "はい、合っています。"], comma=False),
}


def lang_layout(L: dict, q: str, steps: list[str], ending: str) -> str:
    style = R.choice(["r1", "plain", "s1", "en_think"])
    if style == "r1":
        return f"<think>\n{L['think'][0]} {q}\n\n" + "\n\n".join(steps) + f"\n\n{L['think'][1]} {L['think'][2]}\n</think>\n\n" + "\n".join(steps) + f"\n\n{ending}"
    if style == "s1":
        return f"think\n{L['think'][0]}\n" + "\n".join(steps) + f"\nanswer\n{ending}"
    if style == "en_think":  # R1 often thinks in English and answers in the user's language
        return ("<think>\nOkay, the user wrote in another language, so I'll answer in it.\n\n"
                + think(q, steps, long=R.random() < 0.7) + "\n</think>\n\n" + "\n\n".join(steps) + f"\n\n{ending}")
    return "\n\n".join(steps) + f"\n\n{ending}"


def non_english() -> None:
    cat = "non_english"
    for code, L in LANGS.items():
        for i in range(10):
            right = i % 2 == 0
            end = L["ends"][(i // 2) % 4]
            if i < 4:
                n, a, b, p = R.randint(14, 30), R.randint(2, 5), R.randint(2, 6), R.choice([2, 3, 4, 5])
                q, ok, bad = L["eggs"]
                v, wv = (n - a - b) * p, (n - a) * p
                steps = [s.format(n=n, a=a, b=b, p=p, r=n - a - b, v=v) for s in ok] if right else \
                        [s.format(n=n, a=a, b=b, p=p, r=n - a, v=wv) for s in bad]
                add(cat, str(v), lang_layout(L, q.format(n=n, a=a, b=b, p=p), steps, end.format(v=v if right else wv)),
                    right, f"{code}: answer marker and prose in the language")
            elif i < 6:
                w, ln = R.randint(3, 19), R.randint(20, 45)
                q, ok, bad = L["rect"]
                v, wv = 2 * (w + ln), w + ln
                steps = [s.format(w=w, l=ln, v=v) for s in ok] if right else [s.format(w=w, l=ln, v=wv) for s in bad]
                add(cat, str(v), lang_layout(L, q.format(w=w, l=ln), steps, end.format(v=v if right else wv)),
                    right, f"{code}: answer marker and prose in the language")
            else:
                a = R.choice([2, 4]) if L["comma"] and i >= 8 else R.choice([3, 5, 7])
                x = Fraction(R.randint(-15, 15), 2 if a in (2, 4) else 1) or Fraction(3)
                b = R.randint(1, 20)
                c = a * x + b
                if c.denominator != 1:
                    a, c = 2 * a, 2 * a * x + b
                wx = (c + b) / a  # moved b across without changing its sign
                xv = x if right else wx
                if L["comma"] and xv.denominator in (2, 4, 5, 8, 10):  # a terminating decimal
                    xs = f"{float(xv):.10g}".replace(".", ",")
                    note = f"{code}: decimal comma in a {code} answer"
                else:
                    xs = fmt_num(xv)
                    note = f"{code}: answer marker and prose in the language"
                q, step = L["lin"]
                steps = [q.format(a=a, b=b, c=int(c)), step.format(a=a, d=int(a * xv), x=xs)] if (a * xv).denominator == 1 else \
                        [q.format(a=a, b=b, c=int(c)), step.format(a=a, d=fmt_num(a * xv), x=xs)]
                add(cat, fmt_num(x), lang_layout(L, L["lq"].format(a=a, b=b, c=int(c)), steps, end.format(v=xs)), right, note)


def relations() -> None:
    cat = "relations"
    triples = [(3, 4, 5), (5, 12, 13), (8, 15, 17), (6, 8, 10), (7, 24, 25), (9, 12, 15), (20, 21, 29), (12, 16, 20)]
    for i in range(12):
        a, b, c = R.choice(triples)
        right = i % 2 == 0
        chain = f"AB = \\sqrt{{{a}^2 + {b}^2}} = \\sqrt{{{a * a + b * b}}} = {c}" if right else \
                f"AB = \\sqrt{{{c}^2 - {a}^2}} = \\sqrt{{{c * c - a * a}}} = {b}"
        end = R.choice([f"So ${chain}$.", f"**Answer:** ${chain}$", f"$$\\boxed{{{chain}}}$$"])
        add(cat, str(c), layout(f"In right triangle ABC the legs are {a} and {b}. Find the hypotenuse AB.",
                                ["Use the Pythagorean theorem."], end), right, "a named left side and a chain: the last value counts")
    for i in range(12):
        b0, c0, x0 = R.randint(-6, 6), R.randint(-9, 9), R.choice([2, 3, -2, 4, -3])
        v = x0 * x0 + b0 * x0 + c0
        wv = x0 * x0 - b0 * x0 + c0  # f(-x0)
        if wv == v:
            b0 += 1
            v, wv = x0 * x0 + b0 * x0 + c0, x0 * x0 - b0 * x0 + c0
        right = i % 2 == 0
        got = v if right else wv
        f = f"x^2 {'+' if b0 >= 0 else '-'} {abs(b0)}x {'+' if c0 >= 0 else '-'} {abs(c0)}"
        end = R.choice([f"Therefore $f({x0}) = {got}$.", f"The final answer is $f({x0}) = {got}$.", f"\\boxed{{f({x0}) = {got}}}"])
        add(cat, str(v), layout(f"Let $f(x) = {f}$. Compute $f({x0})$.", [f"Substitute $x = {x0}$ into ${f}$."], end), right,
            "f(a) = value against the value")
    for i in range(12):
        n = R.choice([2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18, 19, 20, 21, 22, 23, 24])
        right = i % 2 == 0
        val = n ** 0.5
        approx = f"{val:.2f}" if right else f"{val + 0.02 * R.choice([-1, 1]):.2f}"
        add(cat, f"\\sqrt{{{n}}}", layout("Find the distance, to two decimal places if needed.",
                                          [f"The distance squared is {n}."], f"So $d = \\sqrt{{{n}}} \\approx {approx}$." if right and R.random() < 0.4 else f"So $d \\approx {approx}$."),
            right, "\\approx: the value written with two decimals is compared at that precision")
    pairs_sets = [((5, 2), (7, 2)), ((3, 2), (5, 3)), ((2, 3), (3, 2)), ((7, 3), (11, 5)), ((13, 2), (17, 2)), ((5, 3), (7, 5))]
    for i in range(12):
        (p1, q1), (p2, q2) = pairs_sets[i // 2]
        right = i % 2 == 0
        if not right:
            (p1, q1), (p2, q2) = (q1, p1), (q2, p2)
            if {(p1, q1), (p2, q2)} == set(pairs_sets[i // 2]):
                p1, q1 = p1 + 2, q1
        form = R.choice(["p={}, q={}; p={}, q={}", "(p, q) = ({}, {}) \\text{{ or }} ({}, {})", "p={},q={};p={},q={}"])
        (g1, g2) = pairs_sets[i // 2]
        add(cat, f"({g1[0]}, {g1[1]}), ({g2[0]}, {g2[1]})",
            layout("Find all pairs of primes (p, q) satisfying the equation.", ["Check small primes case by case."],
                   f"The solutions are ${form.format(p1, q1, p2, q2)}$."), right,
            "assignments p=, q= against a list of ordered pairs (p, q)")
    for i in range(12):
        m, c = R.sample([n for n in range(-7, 8) if n not in (0, 1)], 2)
        right = i % 2 == 0
        mm, cc = (m, c) if right else (c, m)
        line = f"y = {mm}x {'+' if cc > 0 else '-'} {abs(cc)}"
        gold = R.choice([f"y = {m}x {'+' if c > 0 else '-'} {abs(c)}", f"{m}x {'+' if c > 0 else '-'} {abs(c)}"])
        add(cat, gold, layout("Find the equation of the line.", [f"The slope is {mm}.", f"The intercept is {cc}."],
                              boxed_end(line) if R.random() < 0.5 else f"Hence the line is ${line}$."), right,
            "y = mx + c against the expression mx + c")
    for i in range(12):
        v = R.randint(2, 60)
        right = i % 2 == 0
        got = v if right else v + R.choice([-1, 1])
        lhs = R.choice(["a + b", "m + n", "k", "x", "S_{10}", "m\\angle ABC", "|z|", "N"])
        unit = "^\\circ" if "angle" in lhs else ""
        chain = f"{lhs} = {got}{unit}" if R.random() < 0.5 else f"{lhs} = {got - 1} + 1 = {got}{unit}"
        add(cat, str(v), layout("Compute the requested quantity.", ["Combine the two conditions."], f"Thus ${chain}$."), right,
            "a named left side (degrees on an angle)")


UNKNOWN_LATEX = [
    # (question, working, gold, answer as written, correct, note); pairs share a question
    ("A fair coin is flipped once. What is the probability of heads?", ["There are 2 equally likely outcomes and 1 of them is heads."],
     "\\frac{1}{2}", "\\frac{1}{2}", True, "doubled backslashes throughout (a JSON-escaped source)"),
    ("A fair die is rolled. What is the probability of a 1 or a 2?", ["Two of the six faces qualify, and 2/6 looks like one half... no, half of the faces is 3."],
     "\\frac{1}{3}", "\\dfrac{1}{2}", False, "doubled backslashes throughout (a JSON-escaped source)"),
    ("Simplify $\\sqrt{27}/3$.", ["$\\sqrt{27} = 3\\sqrt{3}$.", "Dividing by 3 leaves $\\sqrt{3}$."],
     "\\sqrt{3}", "\\sqrt{3}", True, "doubled backslashes throughout"),
    ("Simplify $\\sqrt{27}/3$.", ["$\\sqrt{27} = 3\\sqrt{2}$.", "Dividing by 3 leaves $\\sqrt{2}$."],
     "\\sqrt{3}", "\\sqrt{2}", False, "doubled backslashes throughout"),
    ("What is the largest value of $f(x) = 5 - (x-3)^2$ or of the constant 3, whichever is larger?", ["The parabola peaks at 5 when $x = 3$."],
     "5", "\\max\\{3, 5\\} = 5", True, ""),
    ("What is the largest value of $f(x) = 5 - (x-3)^2$ or of the constant 3, whichever is larger?", ["The parabola peaks at 4 when $x = 3$."],
     "5", "\\max\\{3, 4\\} = 4", False, ""),
    ("Find the minimum of $g(x) = x^2 - 4x + 2$.", ["Completing the square, $g(x) = (x-2)^2 - 2$."],
     "-2", "\\min_{x \\in \\mathbb{R}} g(x) = -2", True, ""),
    ("Find the minimum of $g(x) = x^2 - 4x + 2$.", ["Completing the square, $g(x) = (x-2)^2 + 2$."],
     "-2", "\\min_{x \\in \\mathbb{R}} g(x) = 2", False, ""),
    ("Find the domain of $h(x) = \\frac{1}{x}$.", ["The only forbidden value is where the denominator vanishes, $x = 0$."],
     "(-\\infty, 0) \\cup (0, \\infty)", "\\mathbb{R} \\setminus \\{0\\}", True, ""),
    ("Find the domain of $h(x) = \\frac{1}{x}$.", ["The denominator vanishes at $x = 1$."],
     "(-\\infty, 0) \\cup (0, \\infty)", "\\mathbb{R} \\setminus \\{1\\}", False, ""),
    ("For which $x$ is $\\sqrt{(x+2)(7-x)}$ defined?", ["We need $(x+2)(7-x) \\ge 0$.", "That holds between the roots, endpoints included."],
     "[-2, 7]", "x \\in [-2, 7]", True, ""),
    ("For which $x$ is $\\sqrt{(x+2)(7-x)}$ defined?", ["We need $(x+2)(7-x) \\ge 0$.", "At $x = -2$ the product is 0, but I'll exclude it to be safe."],
     "[-2, 7]", "x \\in (-2, 7]", False, ""),
    ("Solve $x^2 = 9$.", ["Take square roots of both sides."], "3, -3", "\\pm 3", True, "a leading \\pm is both signs"),
    ("Solve $x^2 = 9$.", ["Take the square root of both sides: $x = 3$."], "3, -3", "3", False, "only one of the two roots"),
    ("Solve $x^2 - 2 = 0$.", ["So $x^2 = 2$."], "\\sqrt{2}, -\\sqrt{2}", "x = \\pm\\sqrt{2}", True, ""),
    ("Solve $x^2 - 2 = 0$.", ["So $x^2 = 3$."], "\\sqrt{2}, -\\sqrt{2}", "x = \\pm\\sqrt{3}", False, ""),
    ("Solve $x^2 - 2x - 4 = 0$.", ["By the quadratic formula, $x = \\frac{2 \\pm \\sqrt{20}}{2}$."],
     "1 \\pm \\sqrt{5}", "1+\\sqrt{5}, 1-\\sqrt{5}", True, "a \\pm b is two answers"),
    ("Solve $x^2 - 2x - 4 = 0$.", ["By the quadratic formula, $x = \\frac{-2 \\pm \\sqrt{20}}{2}$."],
     "1 \\pm \\sqrt{5}", "-1 \\pm \\sqrt{5}", False, ""),
    ("Compute $e^{\\ln 2 + \\ln e^{2} - \\ln 2}$.", ["The logarithms of 2 cancel, leaving $e^{2}$ (written with the exponential-E macro)."],
     "e^{2}", "\\exponentialE^{2}", True, ""),
    ("Compute $e^{\\ln 2 + \\ln e^{2} - \\ln 2}$.", ["The logarithms combine to 3... so $e^{3}$ (written with the exponential-E macro)."],
     "e^{2}", "\\exponentialE^{3}", False, ""),
    ("Solve $(x-1)(x-2) = 0$.", ["Each factor gives a root."], "1, 2", "x = 1,\\quadx = 2", True, "\\quad glued to the next letter"),
    ("Solve $(x-1)(x-2) = 0$.", ["Each factor gives a root, the second one negative."], "1, 2", "x = 1,\\quadx = -2", False, "\\quad glued to the next letter"),
    ("Compute $1 + 2 + \\cdots + 10$.", ["Pair the terms: 5 pairs summing to 11."], "55", "\\sum_{k=1}^{10} k = 55", True, ""),
    ("Compute $1 + 2 + \\cdots + 10$.", ["Pair the terms from 1 to 9: 4.5 pairs summing to 10."], "55", "\\sum_{k=1}^{9} k = 45", False, ""),
    ("How many ways can 5 books be ordered on a shelf?", ["The first slot has 5 choices, the next 4, and so on."], "120", "\\prod_{k=1}^{5} k = 120", True, ""),
    ("How many ways can 5 books be ordered on a shelf?", ["The first book is fixed, the others can be ordered freely."], "120", "\\prod_{k=1}^{4} k = 24", False, ""),
    ("Find the area under $y = x^2$ from 0 to 1.", ["An antiderivative is $x^3/3$."], "\\frac{1}{3}", "\\int_0^1 x^2\\,dx = \\frac{1}{3}", True, ""),
    ("Find the area under $y = x^2$ from 0 to 1.", ["An antiderivative is $x^4/4$."], "\\frac{1}{3}", "\\int_0^1 x^3\\,dx = \\frac{1}{4}", False, ""),
    ("Compute $(2 + i)^2$.", ["$(2+i)^2 = 4 + 4i + i^2$, and $i^2 = -1$ (Mathematica writes the unit as I)."], "3+4i", "3 + 4I", True, "I as the imaginary unit"),
    ("Compute $(2 + i)^2$.", ["$(2+i)^2 = 4 - 4i + i^2$ (Mathematica writes the unit as I)."], "3+4i", "3 - 4I", False, "I as the imaginary unit"),
    ("Write the matrix $A$ with $a_{ij} = 2(i-1) + j$ for $i, j \\in \\{1, 2\\}$.", ["Row 1 is $1, 2$ and row 2 is $3, 4$."],
     "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]", True, ""),
    ("Write the matrix $A$ with $a_{ij} = 2(i-1) + j$ for $i, j \\in \\{1, 2\\}$.", ["Column 1 is $1, 2$ and column 2 is $3, 4$."],
     "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\left[\\begin{array}{cc} 1 & 3 \\\\ 2 & 4 \\end{array}\\right]", False, "transposed"),
    ("Find the matrix that scales $x$ by 2 and $y$ by $-3$.", ["It is diagonal."],
     "\\begin{pmatrix} 2 & 0 \\\\ 0 & -3 \\end{pmatrix}", "\\begin{bmatrix} 2 & 0 \\\\ 0 & -3 \\end{bmatrix}", True, ""),
    ("Find the matrix that scales $x$ by 2 and $y$ by $-3$.", ["It is diagonal, with the $y$ factor 3."],
     "\\begin{pmatrix} 2 & 0 \\\\ 0 & -3 \\end{pmatrix}", "\\begin{bmatrix} 2 & 0 \\\\ 0 & 3 \\end{bmatrix}", False, ""),
    ("Find the vector from $(3, -1)$ to $(2, 3)$.", ["Subtract coordinates: $(2 - 3, 3 - (-1))$."],
     "\\begin{pmatrix} -1 \\\\ 4 \\end{pmatrix}", "\\begin{pmatrix}-1\\\\4\\end{pmatrix}", True, ""),
    ("Find the vector from $(3, -1)$ to $(2, 3)$.", ["Subtract coordinates: $(3 - (-1), 2 - 3)$."],
     "\\begin{pmatrix} -1 \\\\ 4 \\end{pmatrix}", "\\begin{pmatrix}4\\\\-1\\end{pmatrix}", False, ""),
    ("How many handshakes happen among 5 people?", ["Each pair shakes once."], "10", "\\binom{5}{2}", True, ""),
    ("How many handshakes happen among 6 people?", ["Choose the people involved: three at a time."], "15", "\\binom{6}{3}", False, "C(6,3) = 20, not C(6,2) = 15"),
    ("Solve $x^3 = 8$ over the reals.", ["Take the cube root."], "2", "\\sqrt[3]{8}", True, ""),
    ("Solve $x^3 = 8$ over the reals.", ["Take the cube root of $8 + 1$."], "2", "\\sqrt[3]{9}", False, ""),
    ("Solve $2^x = 8$.", ["Take logarithms base 2."], "3", "\\log_2 8", True, ""),
    ("Solve $2^x = 8$.", ["Take logarithms base 2 of $2 \\cdot 8$."], "3", "\\log_2 16", False, ""),
    ("Find $\\sin 60^\\circ$.", ["In the 30-60-90 triangle the side opposite 60 degrees is $\\sqrt{3}$ over the hypotenuse 2."],
     "\\frac{\\sqrt{3}}{2}", "\\tfrac{\\sqrt3}{2}", True, ""),
    ("Find $\\sin 60^\\circ$.", ["It is the same as $\\sin 45^\\circ$... no wait, I'll use the 45-45-90 triangle."],
     "\\frac{\\sqrt{3}}{2}", "\\tfrac{\\sqrt2}{2}", False, ""),
    ("How many full boxes of 3 can be made from 20 eggs?", ["$20/3 = 6.67$, and only full boxes count."], "6", "\\left\\lfloor \\frac{20}{3} \\right\\rfloor", True, ""),
    ("How many full boxes of 3 can be made from 20 eggs?", ["$20/3 = 6.67$, so round up."], "6", "\\left\\lceil \\frac{20}{3} \\right\\rceil", False, "the ceiling is 7"),
    ("Find all real $x$ with $x^2 = -1$.", ["A square is never negative."], "\\varnothing", "\\emptyset", True, ""),
    ("Find all real $x$ with $x^2 = -1$.", ["Only $x = 0$ comes close... I'll say $\\{0\\}$."], "\\varnothing", "\\{0\\}", False, ""),
    ("Two lights blink every 4 and 6 seconds. After how many seconds do they first blink together again?", ["We need the least common multiple."],
     "12", "\\operatorname{lcm}(4, 6) = 12", True, ""),
    ("Two lights blink every 4 and 6 seconds. After how many seconds do they first blink together again?", ["We need the least common multiple; reading the periods as 6 and 8."],
     "12", "\\operatorname{lcm}(6, 8) = 24", False, ""),
    ("What is the largest tile side that tiles a 12 by 8 floor exactly?", ["We need the greatest common divisor."], "4", "\\gcd(12, 8) = 4", True, ""),
    ("What is the largest tile side that tiles a 12 by 8 floor exactly?", ["We need the greatest common divisor; reading the floor as 12 by 18."], "4", "\\gcd(12, 18) = 6", False, ""),
    ("Find the diagonal of a unit square.", ["By Pythagoras, $d^2 = 1 + 1$."], "\\sqrt{2}", "\\displaystyle \\sqrt{2}", True, ""),
    ("Find the diagonal of a unit square.", ["By Pythagoras, $d^2 = 4 + 4$."], "\\sqrt{2}", "\\displaystyle 2\\sqrt{2}", False, ""),
    ("In how many orders can 4 runners finish?", ["Permutations of 4."], "24", "4!", True, ""),
    ("In how many orders can 4 runners finish?", ["Permutations of the 4 runners and the referee."], "24", "5!", False, ""),
    ("Find the circumference of a circle of radius 1.", ["$C = 2\\pi r$."], "2\\pi", "2\\,\\pi", True, ""),
    ("Find the circumference of a circle of radius 1.", ["$C = \\pi r$."], "2\\pi", "\\pi\\,", False, ""),
    ("Compute $|2 - 7|$.", ["$2 - 7 = -5$, and the absolute value removes the sign."], "5", "\\left| -5 \\right|", True, ""),
    ("Compute $|2 - 7|$.", ["$2 - 7 = -5$."], "5", "-\\left| 5 \\right|", False, ""),
    ("Find $\\sin 30^\\circ$ in exact form.", ["$30^\\circ = \\pi/6$."], "\\frac{1}{2}", "\\sin\\frac{\\pi}{6}", True, ""),
    ("Find $\\sin 30^\\circ$ in exact form.", ["$30^\\circ = \\pi/6$, and I'll use the cosine."], "\\frac{1}{2}", "\\cos\\frac{\\pi}{6}", False, ""),
    ("Simplify $\\ln(e^3)$.", ["The logarithm undoes the exponential."], "3", "\\ln\\left(e^{3}\\right)", True, ""),
    ("Simplify $\\ln(e^3)$.", ["Rewrite the argument: $e^3 / e = e^2$."], "3", "\\ln\\left(e^{2}\\right)", False, ""),
    ("What fraction of the 4 seasons are not winter?", ["Three of four seasons."], "\\frac{3}{4}", "\\dfrac{3}{4}\\,\\!", True, ""),
    ("What fraction of the 4 seasons are not winter?", ["Four seasons over three."], "\\frac{3}{4}", "\\dfrac{4}{3}\\,\\!", False, ""),
    ("Solve $4x + 2 = 0$.", ["$4x = -2$."], "-\\frac{1}{2}", "\\mathbf{-\\tfrac{1}{2}}", True, ""),
    ("Solve $4x + 2 = 0$.", ["$4x = 2$."], "-\\frac{1}{2}", "\\mathbf{\\tfrac{1}{2}}", False, ""),
    ("Find the slope of $y = x^2$ at $x = 1$.", ["The derivative is $2x$."], "2", "\\frac{d}{dx}\\left(x^2\\right)\\Big|_{x=1} = 2", True, ""),
    ("Find the slope of $y = x^2$ at $x = 1$.", ["The derivative is $2x$, evaluated at the point $(2, 4)$."], "2", "\\frac{d}{dx}\\left(x^2\\right)\\Big|_{x=2} = 4", False, ""),
]


def unknown_latex() -> None:
    for question, working, gold, ans, ok, note in UNKNOWN_LATEX:
        end = R.choice([boxed_end(ans), f"**Final Answer:** ${ans}$", f"Therefore, the answer is $${ans}$$",
                        f"So the answer is \\({ans}\\)."])
        pred = layout(question, working, end)
        if note.startswith("doubled backslashes"):
            pred = pred.replace("\\", "\\\\")
        add("unknown_latex", gold, pred, ok, note)


def _round_str(x: float, d: int) -> str:
    return f"{x:.{d}f}"


def numbers() -> None:
    cat = "numbers"
    import math
    values = [(f"\\frac{{{p}}}{{{q}}}", p / q) for p, q in [(1, 3), (2, 3), (1, 7), (5, 7), (2, 9), (5, 11), (7, 12), (5, 6), (4, 13), (22, 7)]]
    values += [("\\sqrt{2}", math.sqrt(2)), ("\\sqrt{3}", math.sqrt(3)), ("2\\pi", 2 * math.pi), ("\\pi", math.pi),
               ("\\frac{\\sqrt{5}}{2}", math.sqrt(5) / 2), ("e", math.e), ("10\\sqrt{2}", 10 * math.sqrt(2)), ("\\frac{100}{3}", 100 / 3)]
    for i, (gold, x) in enumerate(values * 2):
        right = i % 2 == 0
        d = R.choice([3, 4]) if abs(x) < 1 else R.choice([2, 3, 4])
        r = round(x, d)
        shown = _round_str(r if right else r + R.choice([-2, 2]) * 10 ** -d, d)
        end = R.choice([f"So the answer is approximately ${shown}$.", f"**Answer:** $\\approx {shown}$", boxed_end(shown),
                        f"The probability is about {shown}."])
        add(cat, gold, layout("Compute the value (a decimal approximation is fine).", ["Set up the exact expression.", "Evaluate it numerically."], end),
            right, f"a decimal rounded to {d} places is compared at that precision" + ("" if right else "; this one is 2 units off in the last place"))
    for i in range(16):
        base, e = R.choice([2, 3, 5, 10]), R.randint(40, 120)
        right = i % 2 == 0
        ee = e if right else e + R.choice([-1, 1])
        form = R.choice(["\\frac{{1}}{{{b}^{{{e}}}}}", "{b}^{{-{e}}}", "\\left(\\frac{{1}}{{{b}}}\\right)^{{{e}}}", "1/{b}^{{{e}}}"])
        add(cat, f"\\frac{{1}}{{{base}^{{{e}}}}}", layout("Find the probability.", [f"Each of the {e} independent steps has probability 1/{base}."] if right else
                                                    [f"The first step is certain, and each of the other steps has probability 1/{base}."] if ee < e else
                                                    [f"Each of the {e} steps has probability 1/{base}, and so does the final check."],
                                                    boxed_end(form.format(b=base, e=ee))), right,
            "tiny numbers: an exponent one off is wrong however small the difference")
    for i in range(8):
        e = R.randint(60, 110)
        right = i % 2 == 0
        big = 2 ** e + 1
        shown = str(big) if right else str(big - 2)
        add(cat, f"2^{{{e}}} + 1", layout("How many subsets, plus the empty arrangement?", ["Count the subsets and add one."], boxed_end(shown)), right,
            "big integers compare exactly, not within a relative tolerance")
    comma = [
        ("1.5", "Calculez $3 \\div 2$.", "On divise 3 par 2.", "La réponse est $1{,}5$.", True),
        ("1.5", "Calculez $3 \\div 2$.", "On divise 3 par 2, ce qui donne deux et demi.", "La réponse est $2{,}5$.", False),
        ("\\frac{3}{4}", "Schreibe $\\frac{3}{4}$ als Dezimalzahl.", "Drei Viertel sind 75 Hundertstel.", "Die Antwort lautet $0{,}75$.", True),
        ("\\frac{3}{4}", "Schreibe $\\frac{3}{4}$ als Dezimalzahl.", "Drei Viertel sind 57 Hundertstel.", "Die Antwort lautet $0{,}57$.", False),
        ("2.25", "Un ruban de 9 m est coupé en 4 morceaux égaux. Quelle est la longueur d'un morceau ?", "9 ÷ 4 = 2,25.", "**Réponse :** 2,25 mètres", True),
        ("2.25", "Un ruban de 9 m est coupé en 4 morceaux égaux. Quelle est la longueur d'un morceau ?", "9 ÷ 4 = 2,52.", "**Réponse :** 2,52 mètres", False),
        ("\\frac{7}{2}", "Welche Zahl ergibt verdoppelt 7?", "Wir teilen 7 durch 2.", "Die gesuchte Zahl ist also 3,5.", True),
        ("\\frac{7}{2}", "Welche Zahl ergibt verdoppelt 9?... nein, 7?", "Wir teilen 9 durch 2.", "Die gesuchte Zahl ist also 4,5.", False),
        ("0.2", "¿Cuánto es $1 \\div 5$?", "Un quinto son dos décimas.", "La respuesta es $0{,}2$.", True),
        ("0.2", "¿Cuánto es $1 \\div 5$?", "Un quinto son dos centésimas.", "La respuesta es $0{,}02$.", False),
        ("1.75", "Вычислите $\\frac{7}{4}$ в виде десятичной дроби.", "7 / 4 = 1 и 3/4.", "**Ответ:** 1,75", True),
        ("1.75", "Вычислите $\\frac{7}{4}$ в виде десятичной дроби.", "7 / 4 = 1 и 4/7.", "**Ответ:** 1,57", False),
        ("7.2", "Un kilo de manzanas cuesta 2,40 €. ¿Cuánto cuestan 3 kilos?", "3 × 2,40 = 7,20.", "Cuestan **7,20 €**.", True),
        ("7.2", "Un kilo de manzanas cuesta 2,40 €. ¿Cuánto cuestan 3 kilos?", "3 × 2,40 = 6,20.", "Cuestan **6,20 €**.", False),
    ]
    for gold, q, working, end, ok in comma:
        add(cat, gold, layout(q, [working], end), ok, "decimal comma in a French/German/Spanish/Russian answer")
    thousands_cases = [
        ("1000000", "1,000,000", True), ("1000000", "100,000", False), ("12345", "12,345", True), ("12345", "12,354", False),
        ("1000", "1\\,000", True), ("1000", "10\\,000", False), ("2500000", "2\\,500\\,000", True), ("2500000", "250\\,000", False),
        ("1250", "\\$1,250", True), ("1250", "\\$1,205", False), ("86400", "86{,}400", True), ("86400", "84{,}600", False),
        ("3000000", "3 000 000", True), ("3000000", "300 000", False)]
    for gold, ans, ok in thousands_cases:
        end = R.choice([f"The total is ${ans}$.", f"**Final Answer:** {ans}", boxed_end(ans)])
        add(cat, gold, layout("Compute the total.", ["Multiply the count by the amount each."], end), ok,
            "thousands separators (comma, \\, thin space, {,} after a group of three, space)")
    mixed = [("-\\frac{7}{2}", "-3\\frac12", True), ("-\\frac{7}{2}", "-2\\frac12", False), ("-\\frac{5}{2}", "-3\\frac12", False),
             ("\\frac{13}{4}", "3\\frac{1}{4}", True), ("\\frac{13}{4}", "3\\frac{3}{4}", False), ("\\frac{7}{3}", "2\\ \\frac{1}{3}", True),
             ("\\frac{7}{3}", "2\\ \\frac{2}{3}", False), ("\\frac{17}{3}", "5\\tfrac{2}{3}", True), ("\\frac{17}{3}", "5\\tfrac{1}{3}", False),
             ("3.25", "3\\frac{1}{4}", True), ("2.75", "2\\frac{3}{4}", True), ("2.75", "\\frac{3}{2}", False),
             ("\\frac{11}{8}", "1\\frac{3}{8}", True), ("\\frac{11}{8}", "1\\frac{5}{8}", False)]
    for gold, ans, ok in mixed:
        add(cat, gold, layout("How many cups of flour are needed?", ["Add the amounts.", "Write the result as a mixed number."],
                              R.choice([boxed_end(ans), f"So we need ${ans}$ cups."])), ok, "a mixed number is its whole part plus the fraction")
    ratios = [("7:32", "7:32", True), ("7:32", "7 : 32", True), ("7:32", "32:7", False), ("3:2", "3 : 2", True), ("3:2", "2:3", False),
              ("1:4", "1:4", True), ("1:4", "1:5", False), ("5:3", "5\\!:\\!3", True), ("5:3", "3:5", False), ("2:7", "2:9", False)]
    for gold, ans, ok in ratios:
        add(cat, gold, layout("Find the ratio of the areas.", ["Compute each area.", "Divide and simplify."], R.choice([f"The ratio is ${ans}$.", boxed_end(ans)])),
            ok, "a ratio a:b, not a division")
    times = [("12:00", "12:00", True), ("12:00", "1:00", False), ("9:45", "9:45", True), ("9:45", "9:54", False), ("2:30", "2:30 \\text{ p.m.}", True),
             ("2:00", "5:00", False), ("10:30", "10:30", True), ("10:30", "10:03", False), ("6:15", "6{:}15", True), ("6:15", "6:45", False)]
    for gold, ans, ok in times:
        add(cat, gold, layout("At what time do they meet?", ["Compute the travel time.", "Add it to the start time."], R.choice([f"They meet at ${ans}$.", boxed_end(ans)])),
            ok, "a clock time, not a division (12:00 is not 1:00)")
    percent = [("25\\%", "25", True, "percent policy 'either': 25% against 25"), ("25", "25\\%", True, "percent policy 'either'"),
               ("25\\%", "2.5\\%", False, ""), ("25\\%", "75\\%", False, ""), ("12.5\\%", "12.5\\%", True, ""), ("12.5\\%", "1.25\\%", False, ""),
               ("40", "40\\%", True, "percent policy 'either'"), ("40", "60\\%", False, "")]
    for gold, ans, ok, note in percent:
        add(cat, gold, layout("What percentage of the students passed?", ["Divide the passing count by the total."], R.choice([f"So ${ans}$ of the students passed.", boxed_end(ans)])), ok, note)


def _roots_tex(rs) -> str:
    return ", ".join(fmt_num(r) for r in rs)


def sets_tuples() -> None:
    cat = "sets_tuples"
    for i in range(24):
        a, b = sorted(R.sample([n for n in range(-9, 10) if n != 0], 2))
        right = i % 2 == 0
        bb = b if right else -b
        if not right and bb == a:
            bb = b + 1
        gold = R.choice([f"\\{{{a}, {b}\\}}", f"{a}, {b}", f"{b}, {a}"])
        x, y = R.sample([a, bb], 2)
        ans = R.choice([f"x = {x} \\text{{ or }} x = {y}", f"x = {x};\\ x = {y}", f"\\{{{x}, {y}\\}}", f"x \\in \\{{{x}, {y}\\}}", f"{x} \\text{{ and }} {y}"])
        add(cat, gold, layout("Find all real roots.", ["Factor the quadratic."], R.choice([boxed_end(ans), f"The roots are ${ans}$."])), right,
            "a list of solutions is unordered")
    for i in range(12):
        a, b = R.sample(range(-8, 9), 2)
        right = i % 2 == 0
        x, y = (a, b) if right else (b, a)
        ans = R.choice([f"(x, y) = ({x}, {y})", f"x = {x}, y = {y}", f"\\left({x}, {y}\\right)", f"({x},{y})"])
        add(cat, f"({a}, {b})", layout("Solve the system for $(x, y)$.", ["Add the two equations.", "Back-substitute."], R.choice([boxed_end(ans), f"So the solution is ${ans}$."])), right,
            "an ordered pair: order matters")
    for i in range(8):
        p = [(R.randint(-5, 5), R.randint(-5, 5)) for _ in range(2)]
        while p[0] == p[1] or p[0][0] == p[0][1]:
            p = [(R.randint(-5, 5), R.randint(-5, 5)) for _ in range(2)]
        right = i % 2 == 0
        q = list(reversed(p)) if right else [(p[0][1], p[0][0]), p[1]]
        ans = "; ".join(f"({u}, {v})" for u, v in q)
        add(cat, ", ".join(f"({u}, {v})" for u, v in p), layout("Find all intersection points.", ["Substitute the line into the curve."],
                                                              f"The intersection points are ${ans}$."), right, "points separated by ';', in any order")
    fr = [Fraction(1, 2), Fraction(-3), Fraction(2, 3), Fraction(-1, 4), Fraction(5, 2), Fraction(3), Fraction(-2, 5)]
    for i in range(10):
        a, b = R.sample(fr, 2)
        right = i % 2 == 0
        aa, bb = (a, b) if right else (-a, -b)
        add(cat, f"\\left\\{{{fmt_num(a)}, {fmt_num(b)}\\right\\}}", layout("Solve the equation.", ["Use the quadratic formula."],
                                                                             R.choice([boxed_end(f"{fmt_num(bb)}, {fmt_num(aa)}"), f"So $x = {fmt_num(bb)}$ or $x = {fmt_num(aa)}$."])),
            right, "a set of fractions, in another order")
    for i in range(8):
        rs = sorted(R.sample(range(-6, 7), 3))
        right = i % 2 == 0
        got = rs[:] if right else rs[:2] + [rs[2] + 1 if rs[2] + 1 not in rs else rs[2] + 2]
        R.shuffle(got)
        add(cat, _roots_tex(rs), layout("Find all roots of the cubic.", ["By the rational root theorem, test small integers.", "Divide out and solve the quadratic."],
                                        boxed_end(", ".join(map(str, got)))), right, "three roots, any order")
    polar = [("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", True), ("\\left( 3, \\frac{\\pi}{2} \\right)", "(\\frac{\\pi}{2}, 3)", False),
             ("\\left( 2, \\frac{5\\pi}{3} \\right)", "\\left(2, \\tfrac{5\\pi}{3}\\right)", True), ("\\left( 2, \\frac{5\\pi}{3} \\right)", "\\left(2, \\tfrac{4\\pi}{3}\\right)", False)]
    for gold, ans, ok in polar:
        add(cat, gold, layout("Convert to polar coordinates.", ["Compute r.", "Find the angle in the right quadrant."], boxed_end(ans)), ok, "an ordered pair")


def _iv(a, b, lo, hi) -> str:
    return f"{'[' if lo else '('}{a}, {b}{']' if hi else ')'}"


def intervals_inequalities() -> None:
    cat = "intervals_inequalities"
    for i in range(20):
        a = R.randint(-9, 5)
        b = a + R.randint(1, 9)
        lo, hi = R.random() < 0.5, R.random() < 0.5
        right = i % 2 == 0
        plo, phi = (lo, hi) if right else ((not lo, hi) if R.random() < 0.5 else (lo, not hi))
        var = R.choice(["x", "x", "f(x)", "t"])
        rel = lambda closed: "\\le" if closed else "<"  # noqa: E731
        ans = R.choice([f"{a} {rel(plo)} {var} {rel(phi)} {b}", f"{var} \\in {_iv(a, b, plo, phi)}",
                        f"\\left{_iv(a, b, plo, phi)[0]}{a}, {b}\\right{_iv(a, b, plo, phi)[-1]}"])
        add(cat, _iv(a, b, lo, hi), layout("Find the range of values.", ["Solve the two inequalities.", "Intersect them."],
                                           R.choice([boxed_end(ans), f"Therefore ${ans}$."])), right, "an interval against the inequality on a variable or an expression")
    for i in range(12):
        c = R.randint(-8, 8)
        closed = R.random() < 0.5
        up = R.random() < 0.5
        right = i % 2 == 0
        pc = closed if right else not closed
        var = R.choice(["x", "y"])
        gold = f"[{c}, \\infty)" if (up and closed) else f"({c}, \\infty)" if up else f"(-\\infty, {c}]" if closed else f"(-\\infty, {c})"
        op = ("\\geq" if pc else ">") if up else ("\\le" if pc else "<")
        add(cat, gold, layout("Solve the inequality.", ["Move everything to one side.", "Divide by the positive coefficient."],
                              R.choice([f"Therefore ${var} {op} {c}$ is the solution.", boxed_end(f"{var} {op} {c}")])), right, "a ray against an inequality")
    for i in range(8):
        a = Fraction(R.randint(-12, 4), R.choice([1, 2, 4]))
        b = a + Fraction(R.randint(1, 6), R.choice([1, 2]))
        right = i % 2 == 0
        A, B = fmt_num(a), fmt_num(b)
        ans = f"x < {A} \\text{{ or }} x > {B}" if right else f"x < {A} \\text{{ or }} x \\ge {B}"
        add(cat, f"(-\\infty, {A}) \\cup ({B}, \\infty)", layout("For which x is the expression positive?", ["Find the roots.", "Check the sign on each piece."],
                                                                 R.choice([boxed_end(ans), f"So the answer is ${ans}$."])), right, "a union of intervals against 'or' of inequalities")
    units = [("-10", "-10\\,\\text{°F}", True), ("-10", "10\\,\\text{°F}", False), ("30^\\circ", "30", True), ("30^\\circ", "60", False),
             ("30", "30^{\\circ}", True), ("30", "30^{\\circ}C", True), ("30", "35^{\\circ}", False), ("12", "12 \\text{ cm}", True), ("12", "21 \\text{ cm}", False),
             ("45", "45\\text{ mph}", True), ("45", "54\\text{ mph}", False), ("2.5", "2.5\\ \\mathrm{km}", True), ("2.5", "3.5\\ \\mathrm{km}", False),
             ("150", "150 \\text{ square feet}", True), ("150", "105 \\text{ square feet}", False), ("18", "\\$18", True), ("18", "\\$16", False),
             ("90^\\circ", "90 \\text{ degrees}", True), ("90^\\circ", "180 \\text{ degrees}", False), ("6", "6\\text{ cm}^2", True), ("6", "8\\text{ cm}^2", False),
             ("40", "40\\,\\mathrm{m/s}", True), ("40", "400\\,\\mathrm{m/s}", False)]
    for gold, ans, ok in units:
        add(cat, gold, layout("Find the quantity, with units.", ["Apply the formula.", "Substitute the given values."],
                              R.choice([boxed_end(ans), f"**Answer:** ${ans}$", f"The answer is ${ans}$."])), ok, "a unit or degree sign after the number")


MULTI_BOX_SOLUTIONS = [
    ("Factoring, $(x-2)(x-5)=0$, so the solutions are $x=\\boxed{2}$ and $x=\\boxed{5}$.", ["2, 5", "\\boxed{5, 2}"], ["\\boxed{5}", "2, -5"]),
    ("Adding the equations gives $2a = 4$, so $\\boxed{a = 2}$, and then $\\boxed{b = -3}$.", ["(a, b) = (2, -3)", "a = 2, b = -3"], ["b = -3", "a = 2, b = 3"]),
    ("Then $k^2 = 36$, and the two possible values of $k$ are $\\boxed{-6}$ and $\\boxed{6}$.", ["k = \\pm 6", "-6, 6"], ["6", "k = \\pm 3"]),
    ("By the quadratic formula, $x = \\boxed{\\frac{1}{2}}$ or $x = \\boxed{-3}$.", ["\\frac{1}{2}, -3", "x=-3 \\text{ or } x = \\frac12"], ["\\frac{1}{2}, 3", "-3"]),
    ("Solving, $\\boxed{x = 1}$ and $\\boxed{y = 2}$.", ["(1, 2)", "x = 1,\\ y = 2"], ["y = 2", "(2, 1)"]),
    ("We distinguish two cases. If $n$ is even the remainder is $\\boxed{0}$; if $n$ is odd it is $\\boxed{1}$. Hence the remainders are $0$ and $1$.", ["0, 1", "\\{0, 1\\}"], ["1", "0, 2"]),
]


def gold_from_solution(benchmarks: str | None) -> None:
    cat = "gold_from_solution"
    for sol, goods, bads in MULTI_BOX_SOLUTIONS:
        for ans in goods:
            end = ans if ans.startswith("\\boxed") else boxed_end(ans)
            add(cat, sol, layout("Solve the problem.", ["Set up the equations.", "Solve them."], end), True, "a worked solution with several boxes: all of them are the answer")
        for ans in bads:
            end = ans if ans.startswith("\\boxed") else boxed_end(ans)
            add(cat, sol, layout("Solve the problem.", ["Set up the equations.", "Solve them."], end), False, "half (or a near-miss) of a several-box answer")
    if not benchmarks or not (Path(benchmarks) / "math_test_full.jsonl").exists():
        print("gold_from_solution: no benchmarks folder, hand-written solutions only")
        return
    rows = [json.loads(line) for line in (Path(benchmarks) / "math_test_full.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    single, repeated, fractions = [], [], []
    for r in rows:
        a, s = r["answer"].strip(), r["solution"]
        boxes = re.findall(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", s)
        if len(s) > 1500 or "[asy]" in s or not boxes or s.count("\\boxed") != len(boxes):
            continue
        if any(b.replace(" ", "").replace("dfrac", "frac") != a.replace(" ", "").replace("dfrac", "frac") for b in boxes):
            continue
        if re.fullmatch(r"-?\d+", a):
            (single if len(boxes) == 1 else repeated).append(r)
        elif re.fullmatch(r"-?\\d?frac\{\d+\}\{\d+\}", a) and len(boxes) == 1:
            fractions.append(r)
    R.shuffle(single)
    R.shuffle(repeated)
    R.shuffle(fractions)
    for i, r in enumerate(repeated[:12] + single[:52] + fractions[:16]):
        right = i % 2 == 0
        ans = r["answer"].strip()
        m = re.fullmatch(r"(-?)\\d?frac\{(\d+)\}\{(\d+)\}", ans)
        if m:
            value = Fraction(int(m[2]), int(m[3])) * (-1 if m[1] else 1)
            got_v = value if right else value + Fraction(R.choice([1, -1]), int(m[3]))
            if not right and got_v == value:
                got_v += 1
            num = abs(got_v.numerator)
            got = R.choice([fmt_num(got_v), f"{'-' if got_v < 0 else ''}\\dfrac{{{num}}}{{{got_v.denominator}}}",
                            f"{got_v.numerator}/{got_v.denominator}"])
        else:
            a = int(ans)
            got_i = a if right else R.choice([a + 1, a - 1, -a if a else 1, 2 * a if a else 2])
            if not right and got_i == a:
                got_i = a + 1
            got = str(got_i)
        sol = r["solution"]
        # The model's working follows the reference's, unboxed; a wrong one stops before the last step.
        working = re.sub(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", r"\1", sol if right else sol[: sol.rfind("\\boxed")])
        paras = [p.strip() for p in working.split("\n") if p.strip()]
        if not right:
            last = paras[-1] if paras else ""
            cut = max(last.rfind(". "), last.rfind(".$ "))
            paras = paras[:-1] + ([last[: cut + 1]] if cut > 0 else [])
            paras.append("Continuing from here carefully.")
        problem = r["problem"].split("\n")[0][:300]
        end = R.choice([boxed_end(got), f"**Final Answer:** {got}", f"The answer is ${got}$."])
        add(cat, sol, layout(problem, paras or ["Let me set up the relevant quantities."], end), right,
            f"gold is the worked MATH solution ({r.get('id', '')}); its box" + ("es all say the same" if len(re.findall("boxed", sol)) > 1 else " is the answer"))


def multiple_choice_text_unicode() -> None:
    cat = "multiple_choice_text_unicode"
    letters = "ABCDE"
    for i in range(24):
        g = R.choice(letters)
        right = i % 2 == 0
        p = g if right else R.choice([x for x in letters if x != g])
        other = R.choice([x for x in letters if x not in (g, p)])
        gold = R.choice([g, f"\\text{{({g})}}", f"({g})", f"\\textbf{{({g})}}"])
        end = [f"The answer is {p}, since {other} fails the second condition.", f"**Answer: ({p})**", f"$\\boxed{{\\textbf{{({p})}}}}$",
               f"\\boxed{{{p}}}", f"The correct option is ({p}) ${R.randint(2, 30)}\\sqrt{{2}}$.", f"Answer: {p}) {R.randint(10, 99)}"][i % 6]
        add(cat, gold, layout("Which of the following is true? (A) ... (E) ...", [f"Option ({other}) fails when n = 2.", f"Option ({p}) holds for all n."], end), right,
            "multiple choice: the letter, whatever the prose around it")
    texts = [
        ("Who ran fastest: Evelyn (400 m in 80 s) or Briana (300 m in 75 s)?", ["Evelyn: 400/80 = 5 m/s. Briana: 300/75 = 4 m/s."], "\\text{Evelyn}", "\\boxed{\\text{Evelyn}}", True),
        ("Who ran fastest: Evelyn (400 m in 80 s) or Briana (300 m in 75 s)?", ["Evelyn: 400/80 = 5 m/s. Briana: 300/75 = 6 m/s."], "\\text{Evelyn}", "\\boxed{\\text{Briana}}", False),
        ("Is $f(x) = x^4 - 3x^2$ even, odd, or neither?", ["$f(-x) = (-x)^4 - 3(-x)^2 = f(x)$."], "\\text{even}", "The function is $\\boxed{\\text{even}}$.", True),
        ("Is $f(x) = x^4 - 3x^2$ even, odd, or neither?", ["$f(-x) = -x^4 + 3x^2 = -f(x)$."], "\\text{even}", "The function is $\\boxed{\\text{odd}}$.", False),
        ("Facing north, Ana turns 90° clockwise three times and then 180°. Which way does she face?", ["Three clockwise quarter turns: east, south, west.", "A half turn from west gives east."], "\\text{east}", "**Answer:** East", True),
        ("Facing north, Ana turns 90° clockwise three times and then 180°. Which way does she face?", ["Three clockwise quarter turns: east, south, west.", "Then the half turn... I'll stay facing west."], "\\text{east}", "**Answer:** West", False),
        ("Is $g(x) = x^3 + 1$ even, odd, or neither?", ["$g(-x) = -x^3 + 1$, which is neither $g(x)$ nor $-g(x)$."], "\\text{neither}", "\\boxed{\\text{neither}}", True),
        ("Is $g(x) = x^3 + 1$ even, odd, or neither?", ["$g(-x) = x^3 + 1 = g(x)$."], "\\text{neither}", "\\boxed{\\text{even}}", False),
        ("Today is Saturday. What day is it 10 days from now?", ["10 days is one week and 3 days.", "Saturday + 3 days is Tuesday."], "\\text{Tuesday}", "So the party is on **Tuesday**.\n\nFinal Answer: Tuesday", True),
        ("Today is Saturday. What day is it 10 days from now?", ["10 days is one week and 5 days.", "Saturday + 5 days is Thursday."], "\\text{Tuesday}", "So the party is on **Thursday**.\n\nFinal Answer: Thursday", False),
    ]
    for q, working, gold, end, ok in texts:
        add(cat, gold, layout(q, working, end), ok, "a text answer")
    uni = [
        ("Solve $2x + 10 = 0$.", ["2x = −10."], "-5", "\\boxed{\uff0d5}", True, "full-width minus"),
        ("Solve $2x - 10 = 0$.", ["2x = −10."], "5", "\\boxed{\uff0d5}", False, "full-width minus"),
        ("What is 3 − 8?", ["Subtracting a larger number gives a negative result."], "-5", "The answer is \u22125.", True, "U+2212 minus sign"),
        ("What is 8 − 3?", ["Subtracting... 3 − 8."], "5", "The answer is \u22125.", False, "U+2212 minus sign"),
        ("A coin lands heads with what probability?", ["Two equally likely faces."], "\\frac{1}{2}", "The answer is ½.", True, "vulgar fraction"),
        ("A die shows 1 or 2 with what probability?", ["Two faces out of... four?"], "\\frac{1}{3}", "The answer is ½.", False, "vulgar fraction"),
        ("What fraction of an hour is 45 minutes?", ["45/60 simplifies by 15."], "\\frac{3}{4}", "**Answer:** ¾", True, ""),
        ("How many hours is 80 minutes?", ["80/60... I'll flip it: 60/80."], "\\frac{4}{3}", "**Answer:** ¾", False, ""),
        ("Find the diagonal of a unit square.", ["d² = 1² + 1² = 2."], "\\sqrt{2}", "Answer: √2", True, ""),
        ("Find the diagonal of a unit square.", ["d² = 1² + 1² + 1² = 3."], "\\sqrt{2}", "Answer: √3", False, ""),
        ("At what angle θ in [0, π] is cos θ = 0?", ["cos θ = 0 at a right angle."], "\\frac{\\pi}{2}", "So θ = π/2.", True, ""),
        ("At what angle θ in [0, π] is cos θ = 0?", ["cos θ = 1/2 at π/3."], "\\frac{\\pi}{2}", "So θ = π/3.", False, ""),
        ("What is the period of sin x?", ["sin(x + 2π) = sin x, and no smaller shift works."], "2\\pi", "The period is 2π.", True, ""),
        ("What is the period of sin x?", ["sin(x + π) = −sin x, close enough."], "2\\pi", "The period is π.", False, ""),
        ("Expand (x + 1)² − 2x − 1.", ["(x + 1)² = x² + 2x + 1."], "x^2", "Answer: x²", True, "superscript digit"),
        ("Expand (x + 1)² − 2x − 1.", ["(x + 1)² = x³ + 2x + 1."], "x^2", "Answer: x³", False, "superscript digit"),
        ("How many eggs are in a dozen?", ["A dozen is twelve."], "12", "Final Answer: \u200b12\u200b", True, "zero-width spaces"),
        ("How many eggs are in a dozen?", ["A dozen is twelve, digits swapped."], "12", "Final Answer: \u200b21\u200b", False, "zero-width spaces"),
        ("ما ناتج 6 × 6؟", ["6 × 6 = 36"], "36", "الإجابة: \u200f36\u200f", True, "right-to-left marks"),
        ("ما ناتج 7 × 9؟", ["7 × 9 = 63"], "36", "الإجابة: \u200f63\u200f", False, "right-to-left marks"),
        ("ما ناتج 4 × 9؟", ["4 × 9 = 36"], "36", "الإجابة النهائية: ٣٦", True, "Arabic-Indic digits"),
        ("ما ناتج 4 × 9؟", ["4 × 9 = 37"], "36", "الإجابة النهائية: ٣٧", False, "Arabic-Indic digits"),
        ("3 × 4 はいくつですか？", ["3 × 4 = 12 です。"], "12", "答え：１２", True, "full-width digits"),
        ("3 × 4 はいくつですか？", ["3 × 4 = 13 です。"], "12", "答え：１３", False, "full-width digits"),
        ("Write 0.001 as a power of ten.", ["0.001 = 1/1000."], "10^{-3}", "The answer is 10⁻³.", True, "superscript minus and digits"),
        ("Write 0.001 as a power of ten.", ["0.001 = 1/100."], "10^{-3}", "The answer is 10⁻².", False, "superscript minus and digits"),
        ("Find the limit of x² as x → ∞.", ["x² grows without bound."], "\\infty", "The limit is ∞.", True, ""),
        ("Find the limit of x² as x → ∞.", ["x² decreases without bound."], "\\infty", "The limit is −∞.", False, ""),
        ("Solve 2x − 3 ≤ 5.", ["2x ≤ 8."], "x \\le 4", "Answer: x ≤ 4", True, ""),
        ("Solve 2x − 3 ≤ 5.", ["Dividing flips the sign: 2x ≥ 8."], "x \\le 4", "Answer: x ≥ 4", False, ""),
        ("Find the smallest angle of a 30-60-90 triangle.", ["The angles are 30°, 60°, 90°."], "30", "The angle is 30°.", True, "degree sign"),
        ("Find the smallest angle of a 30-60-90 triangle.", ["The angles are 30°, 60°, 90°; the middle one."], "30", "The angle is 60°.", False, "degree sign"),
        ("Find the hypotenuse with legs 3 and 6.", ["c² = 9 + 36 = 45 = 9 · 5."], "3\\sqrt{5}", "Answer: 3√5", True, ""),
        ("Find the hypotenuse with legs 3 and 6.", ["c² = 9 + 36 = 45 = 25 · 3... roughly."], "3\\sqrt{5}", "Answer: 5√3", False, ""),
    ]
    for q, working, gold, end, ok, note in uni:
        add(cat, gold, layout(q, working, end), ok, note or "unicode math")


def extras() -> None:
    """More of the shapes real outputs take, added to their categories."""
    # Prose endings whose last number is not the answer.
    for i in range(16):
        right = i % 2 == 0
        if i % 4 < 2:
            p = R.choice([wp_eggs, wp_rent, wp_savings, wp_pages, wp_garden])()
            v, other = (p["right"], p["wrong"]) if right else (p["wrong"], p["right"])
            end = R.choice([f"So the correct total is {v}, not {other}.", f"The answer is {v} (not {other}, which forgets a step)."])
            note = "'v, not w': the answer is v"
        else:
            p = R.choice([wp_eggs, wp_rent])()
            v = p["right"] if right else p["wrong"]
            end = (f"So she makes {v} dollars a day, or {7 * v} dollars a week." if p["q"].startswith("Ducks")
                   else f"So each roommate pays {v} dollars a year, which is {2 * v} dollars over two years.")
            note = "a follow-up figure after the answer is not the answer"
        add("answer_in_prose", str(p["right"]), layout(p["q"], p["ok"] if right else p["bad"], end), right, note)
    for i in range(8):
        p = R.choice([wp_eggs, wp_discount, wp_savings])()
        right = i % 2 == 0
        v = p["right"] if right else p["wrong"]
        end = R.choice([f"Answer: ${v}", f"So the answer: **${v}**", f"**Final answer: ${v}**", f"The result is ${v}."])
        add("answer_in_prose", str(p["right"]), layout(p["q"], p["ok"] if right else p["bad"], end), right,
            "a bare dollar sign (markdown money, not a math delimiter)")
    # Money with cents, scientific notation, units inside the box.
    money = [("18.5", "\\$18.50", True), ("18.5", "\\$18.05", False), ("7.2", "7.20", True), ("7.2", "7.02", False),
             ("320000", "3.2 \\times 10^{5}", True), ("320000", "3.2 \\times 10^{4}", False),
             ("6.02 \\times 10^{23}", "6.02\\cdot 10^{23}", True), ("6.02 \\times 10^{23}", "6.02 \\times 10^{22}", False),
             ("0.00045", "4.5 \\times 10^{-4}", True), ("0.00045", "4.5 \\times 10^{-5}", False),
             ("18", "18 \\text{ dollars}", True), ("18", "81 \\text{ dollars}", False), ("18", "\\text{18 dollars}", True), ("18", "\\text{16 dollars}", False)]
    for gold, ans, ok in money:
        add("numbers", gold, layout("Work out the amount.", ["Multiply the unit value by the count.", "Write the result in the requested form."],
                                    boxed_end(ans)), ok, "trailing zeros, powers of ten, words inside the box")
    # Chinese and Japanese multiple choice.
    for i in range(8):
        g = R.choice("ABCD")
        right = i % 2 == 0
        p = g if right else R.choice([x for x in "ABCD" if x != g])
        end = R.choice([f"故选：{p}", f"所以正确答案是 ({p})。", f"答案：{p}", f"よって、正解は（{p}）です。"])
        add("multiple_choice_text_unicode", g, layout("下列说法正确的是（ ） A. … B. … C. … D. …", [f"选项 {R.choice([x for x in 'ABCD' if x != p])} 不成立。", f"选项 {p} 成立。"], end),
            right, "multiple choice with a Chinese or Japanese marker (full-width brackets)")
    # Boxes side by side in one display.
    for i in range(10):
        a, b = sorted(R.sample([n for n in range(-15, 16) if n], 2))
        right = i % 2 == 0
        bb = b if right else b + R.choice([-1, 1])
        if bb == a or bb == 0:
            bb = b + 2
        disp = R.choice([f"x_1 = \\boxed{{{a}}}, \\quad x_2 = \\boxed{{{bb}}}", f"\\boxed{{{a}}} \\text{{ and }} \\boxed{{{bb}}}",
                         f"\\boxed{{x = {a}}} \\quad \\text{{or}} \\quad \\boxed{{x = {bb}}}"])
        add("several_boxes", f"{a}, {b}", layout(f"Find the roots of $(x {'-' if a > 0 else '+'} {abs(a)})(x {'-' if b > 0 else '+'} {abs(b)}) = 0$.",
                                                 ["Set each factor to zero."], f"**Final Answer**\n\\[\n{disp}\n\\]"), right,
            "boxes side by side in one display are one answer")
    # Markers with units and other phrasings, per language.
    more_ends = {
        "fr": ["Par conséquent, la réponse est {v} $.", "**Réponse finale :** {v} dollars"],
        "de": ["Somit ist das Ergebnis {v} Dollar.", "**Antwort:** {v} Dollar"],
        "es": ["Así, la solución es {v} dólares.", "**Respuesta final:** {v} dólares"],
        "zh": ["综上所述，答案是 {v} 美元。", "故答案为：$\\boxed{{{v}}}$"],
        "ru": ["Итак, ответ: {v} долларов.", "**Ответ:** {v} долл."],
        "ar": ["الجواب النهائي هو {v} دولارًا.", "**الإجابة:** {v}"],
        "hi": ["अंतिम उत्तर: {v} डॉलर", "अतः उत्तर **{v}** डॉलर है।"],
        "ja": ["答えは {v} ドルとなります。", "**答え：** {v} ドル"],
    }
    for code, ends in more_ends.items():
        L = LANGS[code]
        for i in range(4):
            right = i % 2 == 0
            n, a, b, p = R.randint(14, 30), R.randint(2, 5), R.randint(2, 6), R.choice([2, 3, 4, 5])
            q, ok, bad = L["eggs"]
            v, wv = (n - a - b) * p, (n - a) * p
            steps = [s.format(n=n, a=a, b=b, p=p, r=n - a - b, v=v) for s in ok] if right else \
                    [s.format(n=n, a=a, b=b, p=p, r=n - a, v=wv) for s in bad]
            add("non_english", str(v), lang_layout(L, q.format(n=n, a=a, b=b, p=p), steps, ends[i // 2].format(v=v if right else wv)),
                right, f"{code}: answer marker with a unit")
    # Equations of curves: the same equation rearranged.
    curves = [
        ("(x-1)^2 + (y+2)^2 = 9", "x^2 - 2x + y^2 + 4y - 4 = 0", True), ("(x-1)^2 + (y+2)^2 = 9", "x^2 - 2x + y^2 + 4y + 4 = 0", False),
        ("y = 2x - 3", "2x - y - 3 = 0", True), ("y = 2x - 3", "2x - y + 3 = 0", False),
        ("x^2 + y^2 = 25", "y^2 = 25 - x^2", True), ("x^2 + y^2 = 25", "y^2 = 25 + x^2", False),
        ("y = -\\frac{1}{2}x + 4", "x + 2y = 8", True), ("y = -\\frac{1}{2}x + 4", "x - 2y = 8", False),
    ]
    for gold, ans, ok in curves:
        add("relations", gold, layout("Find the equation of the curve through the given points.", ["Use the given points to find the constants.", "Rearrange."],
                                      boxed_end(ans)), ok, "an equation equals the same equation rearranged")
    # Inequalities as the gold, intervals or set-builder as the answer.
    for i in range(12):
        a = R.randint(-9, 4)
        b = a + R.randint(1, 8)
        right = i % 2 == 0
        if i % 4 < 2:
            gold = f"x < {a} \\text{{ or }} x > {b}"
            ans = f"(-\\infty, {a}) \\cup ({b}, \\infty)" if right else f"(-\\infty, {a}] \\cup ({b}, \\infty)"
        else:
            gold = f"{a} \\le x < {b}"
            ans = f"\\{{x \\mid {a} \\le x < {b}\\}}" if right else f"\\{{x \\mid {a} < x < {b}\\}}"
        add("intervals_inequalities", gold, layout("Solve the inequality.", ["Find the critical points.", "Test each region."],
                                                   R.choice([boxed_end(ans), f"The solution set is ${ans}$."])), right,
            "an inequality gold against an interval or set-builder answer")
    # Solutions in words, no math delimiters.
    for i in range(8):
        a, b = sorted(R.sample(range(1, 20), 2))
        right = i % 2 == 0
        bb = b if right else b + 1
        add("sets_tuples", f"{a}, {b}", layout("Which whole numbers satisfy both conditions?", ["Check the candidates one by one."],
                                               R.choice([f"The solutions are {a} and {bb}.", f"So the numbers are {bb} and {a}."])), right,
            "a list of solutions in prose")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmarks", default=os.environ.get("DISTILLERY_BENCHMARKS"))
    args = ap.parse_args()
    answer_in_prose()
    several_boxes()
    wrong_span()
    truncations()
    non_english()
    relations()
    unknown_latex()
    numbers()
    sets_tuples()
    intervals_inequalities()
    gold_from_solution(args.benchmarks)
    multiple_choice_text_unicode()
    extras()
    with OUT.open("w", encoding="utf-8") as f:
        for case in CASES:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    from collections import Counter

    counts = Counter((c["category"], c["correct"]) for c in CASES)
    for cat in dict.fromkeys(c["category"] for c in CASES):
        print(f"{cat:32} {counts[cat, True]:4} right {counts[cat, False]:4} wrong")
    print(f"{len(CASES)} cases -> {OUT}")


if __name__ == "__main__":
    main()
