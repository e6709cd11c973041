"""curate.verify: extraction, normalisation, parsing, equivalence, the worker pool, the command
and the stage, on real benchmark answers, labelled cases, and hostile input."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from conftest import BENCHMARKS
from curate import stages
from curate.cli import main
from curate.stages import StageContext
from curate.verify import Options, extract_answer, extract_gold, normalize, verify_batch, verify_pair
from curate.verify.extract import find_answer
from curate.verify.pool import JudgePool, VerifyError

CASES = Path(__file__).resolve().parent / "data" / "verify_cases.jsonl"


def _rows(name: str) -> list[dict]:
    path = BENCHMARKS / name
    if not path.exists():
        pytest.skip(f"the real benchmark files are not here ({path}): set DISTILLERY_BENCHMARKS to their folder")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ------------------------------------------------------------------------------ labelled cases

def test_labelled_cases_cover_every_kind_and_all_agree():
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    assert len(cases) >= 150
    kinds = Counter(c["kind"].split("/")[0] for c in cases)
    assert set(kinds) == {"extract", "norm", "parse", "eq"}
    assert 0.3 < sum(c["correct"] for c in cases) / len(cases) < 0.8  # positives and negatives
    verdicts = verify_batch([c["gold"] for c in cases], [c["pred"] for c in cases], workers=2)
    wrong = [(c["kind"], c["gold"], c["pred"], c["correct"], v.verdict, v.reason)
             for c, v in zip(cases, verdicts) if v.correct != c["correct"]]
    assert wrong == []


# ---------------------------------------------------------------------------------- extraction

@pytest.mark.parametrize("text, answer, rule", [
    (r"so $\boxed{\frac{1}{\sqrt{2}}}$.", r"\frac{1}{\sqrt{2}}", "boxed"),
    (r"Try \boxed{1}. Hmm, recheck: \fbox{2}", "2", "boxed"),  # a box before a sentence break is a draft
    (r"The roots are \boxed{2} and \boxed{5}.", "2, 5", "2 boxes joined"),
    (r"So $p = \boxed{5}$, $q = \boxed{2}$", "5, 2", "2 boxes joined"),
    (r"The answer is \boxed 5.", "5", "boxed"),
    (r"first \boxed{3}, then \boxed{4", "3", "boxed"),  # a truncated last box falls back to a complete one
    (r"We get \boxed{7} for now.\n\nFinal Answer: 9", "9", "answer marker after the last box"),
    ("Reasoning.\nFinal Answer: The final answer is $x = 2$. I hope it is correct.", "x = 2", "answer marker"),
    ("So the answer is 12 because it fits.", "12", "answer marker"),
    ("The answer should be 12.", "12", "answer marker"),
    ("So the answer is approximately 0.333.", "0.333", "answer marker"),
    ("La réponse est environ 3,5.", "3,5", "answer marker"),
    ("Answer $7$", "7", "answer marker"),
    ("Answer: (B)", "B", "answer marker"),
    ("The correct option is (E) $24\\sqrt{2}$.", "E", "answer marker"),
    ("Adding up:\n\n**Answer:** 5", "5", "answer marker"),
    ("**Answer:** Each roommate pays **\\$240** per year.", "\\$240", "answer marker"),
    ("So the answer is **12**.", "12", "answer marker"),
    ("#### 1,234", "1,234", "answer marker"),
    ("Final answer: $x = 7$ or $x = 3$.", "x = 7, x = 3", "answer marker"),
    ("Donc la réponse est $\\frac{3}{4}$.", "\\frac{3}{4}", "answer marker"),
    ("Die Antwort lautet $0{,}75$.", "0{,}75", "answer marker"),
    ("**Respuesta:** -4,5", "-4,5", "answer marker"),
    ("所以答案是 $12$。", "12", "answer marker"),
    ("Таким образом, ответ -14.", "-14", "answer marker"),
    ("الإجابة النهائية: ٣٦", "٣٦", "answer marker"),
    ("इसलिए सही उत्तर **6** है।", "6", "answer marker"),
    ("したがって、答えは **3** です。", "3", "answer marker"),
    (r"\frac{3}{4}", r"\frac{3}{4}", "bare answer"),  # a bare answer is left alone
    ("Putting it together, we get \\[78\\]", "78", "last math span"),
    ("Therefore $y \\le 4$ is the solution.", "y \\le 4", "last math span"),
    ("So $x = -\\frac{2}{5}$ or $x = 3$.", "x = -\\frac{2}{5}, x = 3", "last math span"),
    ("So θ = π/2.", "θ = π/2", "last expression of the final sentence"),
    ("The period is 2π.", "2π", "last expression of the final sentence"),
    ("So the total is 240.", "240", "number of the final sentence"),
    ("Hence $36 is what we are looking for.", "36", "number of the final sentence"),  # a lone $ is currency
    ("So she makes 20 dollars a day, or 140 dollars a week.", "20", "number of the final sentence"),
    ("Plus 9: 78 + 9 = 87.\n\nI think that's it.", "87", "number of the final sentence"),
    ("So the numbers are 18 and 15.", "18, 15", "number of the final sentence"),
    ("The answer is 98 (not 328, which forgets a step).", "98", "answer marker"),
    ("よって、正解は（D）です。", "D", "answer marker"),
    ("<think>\nMaybe \\boxed{70}? No.\n</think>\n\nThe answer is 60.", "60", "answer marker"),
    ("So 6 × 5 = 30 dollars. But let me reconsider whether the", None, None),  # cut off: no guess
    ("I could not finish this one, it was too hard for me.\n\nSorry.", None, None),
    ("", None, None),
    (None, None, None),
])
def test_find_answer(text, answer, rule):
    found, why = find_answer(text)
    assert found == answer
    if rule is not None:
        assert why == rule
    assert why  # a reason even when nothing is found


def test_last_number_can_be_turned_off():
    text = "We try several values of n and find that the smallest one\nthat works is 17 here."
    assert extract_answer(text) == "17"
    assert extract_answer(text, last_number=False) is None
    assert extract_answer("The answer is \\boxed{4}. Later: 5 more.", guesses=False) == "4"
    assert extract_answer("so it is 5", guesses=False) is None


def test_gold_takes_every_box_of_a_worked_solution():
    assert extract_gold(r"Part (a): $\boxed{a^2+b^2\leq 2}$. Part (b): \boxed{3}.") == r"a^2+b^2\leq 2, 3"
    assert extract_gold(r"\boxed{3}, \boxed{7}") == "3, 7"
    assert extract_gold(r"So \boxed{5}. Indeed \boxed{5}.") == "5"  # the same box twice is one answer
    assert extract_gold("42") == "42"


def test_extraction_is_linear_on_hostile_text():
    """Each scan is one pass: a quadratic one would take minutes on these inputs, not a second."""
    for text in ("\\boxed{" * 200_000, "$" * 400_000, "Answer: " * 100_000, "1," * 300_000,
                 "\\boxed{" + "{" * 200_000, "**" * 200_000, "a " * 300_000):
        find_answer(text)  # returns; the adversarial test below times the same through the pool


def test_the_quadratic_box_input_is_answered_within_its_limit():
    """42 kB of unclosed `\\boxed{` took 13 s when extraction rescanned per box, in the parent and
    outside the clock; now it is one pass in a worker, well inside a 1 s limit."""
    start = time.monotonic()
    (v,) = verify_batch(["5"], ["\\boxed{" * 6000], timeout=1.0, workers=1)
    assert v.verdict == "no_answer", v  # finished, not cut off by the limit
    assert time.monotonic() - start < 1.0 + 1 + 2  # the limit, 1 s, and the worker's start


def test_normalize_is_linear_on_long_text():
    start = time.monotonic()
    normalize("\\left(" * 50_000 + "1" + "\\right)" * 50_000)
    normalize("1," * 500_000)
    normalize("5 " + "a" * 1_000_000 + "!")
    normalize("5 " + "ab " * 300_000 + "!")
    assert time.monotonic() - start < 5


def test_normalize_real_world_spellings():
    assert normalize("\\\\frac{1}{2}") == "\\frac{1}{2}"  # JSON-escaped source
    assert normalize("－3") == "-3" and normalize("½") == "\\frac{1}{2}"
    assert normalize("5\u200b") == "5" and normalize("\u200f42\u200e") == "42"  # zero-width, RTL marks
    assert normalize("\\quadx") == "x" and normalize("\\exponentialE") == "e"
    assert normalize("10⁻³") == "10^{-3}" and normalize("1\\,000") == "1000"
    assert normalize("-10\\,\\text{°F}") == "-10" and normalize("30^{\\circ}C") == "30"
    assert normalize("\\mathbf{-\\tfrac{1}{2}}") == "-\\frac{1}{2}"


# ------------------------------------------------------------------------------ equivalence rules

@pytest.mark.parametrize("gold, pred, correct", [
    # rounded answers compare at the precision written; no absolute tolerance
    ("\\frac{1}{3}", "0.333", True), ("\\frac{1}{3}", "0.3333", True), ("\\frac{1}{3}", "0.33", False),
    ("\\frac{2}{3}", "0.665", False), ("\\sqrt{2}", "1.414", True), ("2\\pi", "6.283", True),
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}", False), ("\\frac{1}{2^{100}}", "2^{-100}", True),
    ("2^{108} + 1", "324518553658426726783156020576255", False),
    ("1000000", "1000001", False),
    # ratios and times are not divisions
    ("7:32", "7 : 32", True), ("7:32", "32:7", False), ("12:00", "1:00", False), ("6:15", "6{:}15", True),
    # mixed numbers, decimal comma, thousands
    ("-3.5", "-3\\frac12", True), ("\\frac{7}{3}", "2\\ \\frac{1}{3}", True), ("-\\frac{5}{2}", "-3\\frac12", False),
    ("1.5", "1,5", True), ("2.25", "2,52", False), ("1000", "1\\,000", True), ("86400", "86{,}400", True),
    ("1000000", "1,000,000", True), ("3000000", "3 000 000", True),
    # relations
    ("4", "AB = 4", True), ("1", "f(x) = 1", True), ("5", "x = 2 + 3 = 5", True), ("3.14", "x \\approx 3.14", True),
    ("(5,2),(7,2)", "p=5,q=2;p=7,q=2", True), ("(5,2),(7,2)", "p=5,q=2;p=7,q=3", False),
    ("5", "\\max\\{3, 5\\} = 5", True), ("x=3", "3", True),
    # LaTeX the grammar reads
    ("3", "\\max(2, 3)", True), ("2", "\\min(2, 3)", True), ("55", "\\sum_{k=1}^{10} k", True),
    ("6", "\\prod_{k=1}^{3} k", True), ("\\frac{1}{3}", "\\int_0^1 x^2\\,dx", True),
    ("3+4i", "3+4I", True), ("3+4i", "3-4I", False), ("e^{2}", "\\exponentialE^{2}", True),
    ("\\pm 2", "2, -2", True), ("1 \\pm \\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2", True),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]", True),
    ("3", "\\log_2 8", True), ("\\frac{\\sqrt{3}}{2}", "\\dfrac{\\sqrt{3}}{2}", True), ("42", "52_8", True),
    # sets, tuples, lists
    ("\\{1, 3\\}", "3, 1", True), ("\\{1, 3\\}", "1, 3, 3", False), ("(1, 3)", "(3, 1)", False),
    ("(-3, -9)", "-3, -9", True), ("2, 5", "5 \\text{ or } 2", True), ("2, 5", "2; 5", True),
    ("\\{1, 3\\}", "(1, 3)", False),
    # intervals, inequalities, unions
    ("(0, 1)", "0 < f(x) < 1", True), ("[-2, 7]", "x \\in [-2, 7]", True), ("[-2, 7]", "-2 \\le x \\le 7", True),
    ("(-\\infty, -\\frac{7}{4}) \\cup (-\\frac{3}{2}, \\infty)", "x < -\\frac74 \\text{ or } x > -\\frac32", True),
    ("(-\\infty, 0) \\cup (0, \\infty)", "\\mathbb{R} \\setminus \\{0\\}", True), ("[1, 2)", "(1, 2]", False),
    # units, degrees, percent, currency, choices, text, unicode
    ("-10", "-10\\,\\text{°F}", True), ("30", "30^\\circ", True), ("240", "\\$240", True), ("40", "40\\%", True),
    ("D", "D, since B fails", True), ("\\text{(C)}", "C", True), ("C", "D", False),
    ("\\text{east}", "East", True), ("\\text{east}", "west", False),
    ("\\frac{1}{2}", "½", True), ("-3", "−3", True), ("10^{-3}", "10⁻³", True), ("\\sqrt{2}", "√2", True),
])
def test_equivalence_rules(gold, pred, correct):
    (v,) = verify_batch([gold], [pred], workers=1, extract=False)
    assert v.correct == correct, (gold, pred, v)


def test_options_where_conventions_differ():
    exact = Options(rounding="exact")
    assert not verify_pair("\\frac{1}{3}", "0.333", options=exact, extract=False).correct
    assert verify_pair("\\frac{1}{3}", "0.33", options=Options(min_digits=2), extract=False).correct
    assert not verify_pair("1.5", "1,5", options=Options(decimal_comma="never"), extract=False).correct
    assert verify_pair("1, 2", "2, 1", extract=False).correct
    assert not verify_pair("1, 2", "2, 1", options=Options(ordered=True), extract=False).correct
    for bad in ({"rounding": "loose"}, {"decimal_comma": "yes"}, {"min_digits": 0}):
        with pytest.raises(ValueError):
            Options(**bad)


# ------------------------------------------------------------------------------ real benchmarks

def _check_solutions(rows: list[dict], pred_key: str = "solution", several_boxes: int = 0) -> None:
    verdicts = verify_batch([r["answer"] for r in rows], [r[pred_key] for r in rows], workers=2)
    failures = [(r.get("id"), r["answer"], v.pred_answer, v.verdict, v.reason)
                for r, v in zip(rows, verdicts) if not v.correct]
    # Every problem's solution verifies against its own answer, except where the solution ends in
    # several boxes ("$x = \\boxed{3}$ or $\\boxed{\\frac25}$") and the answer column kept only the last:
    # the response's answer is the list, which the column's half does not equal.
    joined = [f for f in failures if f[4].endswith("boxes joined)") and f[1] in f[2]]
    assert len(joined) == several_boxes and [f for f in failures if f not in joined] == []


def _share_unequal(rows: list[dict]) -> float:
    """Answers of different problems (each against the next one's) that do not verify as equal,
    among pairs whose answers are not the very same text."""
    golds = [r["answer"] for r in rows]
    preds = golds[1:] + golds[:1]
    pairs = [(g, p) for g, p in zip(golds, preds) if normalize(g) != normalize(p)]
    verdicts = verify_batch([g for g, _ in pairs], [p for _, p in pairs], workers=2, extract=False)
    return sum(v.verdict != "correct" for v in verdicts) / len(pairs)


def test_math500_every_solution_verifies_and_different_answers_differ():
    rows = _rows("math500.jsonl")
    _check_solutions(rows)
    # Measured: 497 of 498 neighbouring answers with different text compare unequal; the other is
    # "5" against "x=5", which is equal.
    assert _share_unequal(rows) >= 0.99


def test_gsm8k_every_solution_verifies():
    rows = _rows("gsm8k_test.jsonl")
    _check_solutions(rows)  # `#### N` at the end of each solution
    assert _share_unequal(rows[:300]) >= 0.99  # measured: 297 of 297


@pytest.mark.slow
def test_math_test_every_solution_verifies_and_different_answers_differ():
    rows = _rows("math_test_full.jsonl")
    _check_solutions(rows, several_boxes=8)  # measured: 8 of 5,000 solutions list every root, boxed
    # Measured: 4,956 of 4,958 unequal (or unparseable text such as "June 20"); the two equal are
    # "\\frac{3}{4}" vs "\\frac34" and "7\\%" vs "7" (percent policy "either").
    assert _share_unequal(rows) >= 0.99


def test_synth_corpus_verdicts_agree_with_its_recorded_truth():
    """The synthetic corpus knows whether each boxed answer equals the gold, in many equivalent
    LaTeX forms (points vs solved systems, percentages with and without the sign, …). Measured:
    every row of 1,500 agrees; at 20,000 rows (seed 0), 18,837 of 18,837."""
    from curate.synth import SynthConfig, generate

    rows = generate(SynthConfig(n=1500, seed=3, attempts=False)).traces.to_pylist()
    rows = [r for r in rows if "\\boxed" in r["response"]]
    verdicts = verify_batch([r["gold"] for r in rows], [r["response"] for r in rows], workers=2)
    disagree = []
    for r, v in zip(rows, verdicts):
        meta = json.loads(r["meta"])
        if v.correct != meta["correct"]:
            disagree.append((meta["family"], r["gold"], meta["answer"], meta["correct"], v.verdict, v.reason))
    assert len(rows) > 1000
    assert 1 - len(disagree) / len(rows) >= 0.998, "\n".join(map(repr, disagree))


# ----------------------------------------------------------------------------- verdicts, options

def test_verdict_kinds():
    v = verify_batch(["4", None, "4", "4", "\\frac{1}{"], ["\\boxed{4}", "4", "It is hard to say what it is.\n\nNo idea.",
                                                         "\\boxed{5}", "2"], workers=1)
    assert [x.verdict for x in v] == ["correct", "no_gold", "no_answer", "incorrect", "unparseable"]
    assert all(x.reason for x in v)
    assert v[0].pred_answer == "4"


def test_percent_policy():
    golds, preds = ["50\\%", "50\\%", "50"], ["0.5", "50", "50\\%"]
    for policy, expected in (("either", [True, True, True]), ("fraction", [True, False, False]),
                             ("strip", [False, True, True])):
        verdicts = verify_batch(golds, preds, workers=1, options=Options(percent=policy))
        assert [v.correct for v in verdicts] == expected, policy
    assert verify_pair("50\\%", "0.5").correct
    with pytest.raises(ValueError):
        Options(percent="sometimes")


def test_repeated_pairs_are_judged_once():
    golds = ["\\frac{1}{2}"] * 200 + ["3"] * 200
    preds = ["0.5"] * 200 + ["x = 3"] * 200
    start = time.monotonic()
    verdicts = verify_batch(golds, preds, workers=2)
    assert all(v.correct for v in verdicts)
    assert time.monotonic() - start < 15  # two distinct pairs, however many rows


def test_the_pool_cache_judges_each_pair_once_across_calls():
    golds, preds = ["\\frac{1}{2}", "x^2+1", "3", "\\sqrt{2}"] * 50, ["0.5", "1+x^2", "\\boxed{3}", "1.414"] * 50
    with JudgePool(2, timeout=5.0) as pool:
        judged = []
        run = pool.run
        pool.run = lambda tasks, **kw: (judged.extend(t[1:] for t in tasks if t[0] == "j"), run(tasks, **kw))[1]
        first = verify_batch(golds, preds, pool=pool)
        # 200 rows, two pairs that need sympy; plain numbers and equal text never reach a judge
        assert sorted(judged) == [("\\sqrt{2}", "1.414"), ("x^2+1", "1+x^2")]
        second = verify_batch(["x^2+1", "\\sqrt{2}", "x"], ["x^2+1 ", "1.414", "\\boxed{x+0}"], pool=pool)
        assert judged[2:] == [("x", "x+0")]  # the cache answers the others
        assert all(v.correct for v in first + second)


def test_a_bug_in_the_workers_surfaces_as_an_error():
    with JudgePool(1, timeout=5.0) as pool:
        with pytest.raises(VerifyError, match="unknown task kind"):
            pool.run([("nonsense", "x")])


def test_our_exceptions_are_errors_and_sympy_exceptions_unparseable(monkeypatch):
    from curate.verify import equivalence, numbers
    from curate.verify.worker import run_task

    assert run_task("j", ["\\frac{1}{", "2"], Options())[1] == "unparseable"  # a parse failure
    monkeypatch.setattr(equivalence, "_numbers_close", lambda a, b, tol: numbers.close(None, a, 1, 1, 0, 1))
    status, message = run_task("j", ["\\sqrt{2}", "1.4142"], Options())
    assert status == "error" and "TypeError" in message and "numbers.py" in message
    import sympy

    def sympy_fails(a, b, tol):
        return sympy.Interval(a, b) - 1  # raises inside sympy, on the answer's values
    monkeypatch.setattr(equivalence, "_numbers_close", sympy_fails)
    assert run_task("j", ["\\sqrt{2}", "1.4142"], Options())[1] == "unparseable"


def test_no_answer_text_reaches_eval_sympify_or_parse_expr(monkeypatch):
    """Extraction and judging in this process (as a worker runs them) with every string-evaluating
    entry point of Python, sympy and the grammar made to fail: none is reached."""
    import builtins
    import sys

    import latex2sympy2_extended.latex2sympy2 as l2s
    import sympy
    import sympy.parsing.sympy_parser as sympy_parser

    from curate.verify.worker import run_task

    sympify_module = sys.modules["sympy.core.sympify"]
    reached = []

    def battery():
        options = Options()
        for text in answers:
            for kind, args in (("p", [f"The answer is ${text}$.", True]), ("g", [text])):
                assert run_task(kind, args, options)[0] == "ok"
            answer = normalize(text)
            for gold in ("2", "x^2+1", answer):
                assert run_task("j", [gold, answer], options)[0] == "ok"

    def guard(name, original):
        def guarded(*args, **kwargs):
            if args and isinstance(args[0], str):
                reached.append((name, args[0][:60]))
                raise AssertionError(f"{name} got text {args[0][:60]!r}")
            return original(*args, **kwargs)
        return guarded

    answers = HOSTILE[:5] + HOSTILE[10:] + [
        "__import__('os').system('echo x')", "exec('1')", "1e1000000", "0.5", "1,5", "\\frac{1}{2}", "x^2+1",
        "\\sin x", "\\log_2 8", "\\sum_{k=1}^{10} k", "\\int_0^1 x\\,dx", "\\max(2,3)", "3+4I", "(1, 2]",
        "\\{1,2\\}", "x \\in [-2, 7]", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "50\\%", "7:32", "\\pm 2",
        "f(x) = 2x", "\\text{east}", "1234567890123456789.5", "\\sqrt[3]{8}", "5!", "\\binom{5}{2}",
        "\\gcd(12, 8)", "\\operatorname{lcm}(4, 6)", "\\mathbb{R} \\setminus \\{0\\}", "\\sin 2x", "a_{10} = 3",
        "\\frac{d}{dx}(x^2)", "\\lim_{x \\to 0} x", "\\overline{AB}", "\\angle ABC", "2 \\frac{1}{2} + x"]
    battery()  # once unguarded: sympy's lazy imports build their own code with exec
    for name, module in (("eval", builtins), ("exec", builtins), ("parse_expr", sympy_parser), ("parse_expr", l2s),
                         ("sympify", sympify_module), ("sympify", sympy), ("S", sympy)):
        monkeypatch.setattr(module, name, guard(name, getattr(module, name)))
    battery()
    assert reached == []


# ------------------------------------------------------------------------------------- hostile

HOSTILE = [
    "10^{10^{10^{10}}}",
    "\\boxed{" * 6000,  # 42 kB of unclosed boxes: one pass, not one rescan per box
    "(10^{6})!",
    "100000!",
    "\\binom{10^{9}}{10^{8}}",
    "(x+1)^{1000000000}",
    "\\boxed{" + "{" * 100_000 + "1" + "}" * 100_000 + "}",
    "{" * 900 + "1" + "}" * 900,
    "(" * 900 + "1" + ")" * 900,
    "1" * 1_000_000,
    "x^" * 500_000,
    "lambda: 0",
    "(lambda f: f(f))(lambda f: f(f))",
    "().__class__.__bases__[0].__subclasses__()",
    "__builtins__.__dict__['eval']('1')",
]


@pytest.mark.slow
def test_hostile_answers_end_in_time_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    attacks = HOSTILE + [f"__import__('os').system('touch {marker}')", f"exec(\"open('{marker}','w')\")"]
    timeout = 2.0
    with JudgePool(2, timeout=timeout) as pool:
        pids = set(pool.pids())
        for attack in attacks:
            for gold, pred in ((attack, "5"), ("(x+2)^{1000000000}", attack), (attack, attack + "+1")):
                pool.wait_ready()
                start = time.monotonic()
                (v,) = verify_batch([gold], [pred], pool=pool)
                assert time.monotonic() - start < timeout + 1, (gold[:40], pred[:40])
                assert v.verdict in ("timeout", "unparseable", "no_answer", "incorrect"), (gold[:40], pred[:40], v)
                pids |= set(pool.pids())
        # A batch with the attacks inside still completes, and its ordinary pairs are right.
        golds = ["2", *attacks, "\\frac{1}{2}"]
        preds = ["\\boxed{2}", *["5"] * len(attacks), "0.5"]
        verdicts = verify_batch(golds, preds, pool=pool)
        assert verdicts[0].correct and verdicts[-1].correct
        assert {v.verdict for v in verdicts[1:-1]} <= {"timeout", "unparseable"}
        pids |= set(pool.pids())
    assert not marker.exists()
    assert not [p for p in pids if _alive(p)]


def test_a_pair_that_runs_too_long_is_a_timeout_from_a_thread():
    result = {}

    def work():
        result["v"] = verify_batch(["(x+1)^{1000000000}", "3"], ["(x+2)^{1000000000}", "3.0"], timeout=1.0, workers=1)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    timed_out, fine = result["v"]
    assert timed_out.verdict in ("timeout", "unparseable") and fine.correct


# ------------------------------------------------------------------------------ command, stage

def test_verify_command(tmp_path, capsys):
    src = tmp_path / "answers.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "gold": "\\frac12", "out": "so \\boxed{0.5}"},
        {"id": 2, "gold": "3", "out": "The answer is 4."},
        {"id": 3, "gold": None, "out": "\\boxed{1}"},
    ]) + "\n")
    out = tmp_path / "out.parquet"
    assert main(["verify", str(src), "--gold", "gold", "--pred", "out", "--out", str(out), "--workers", "1"]) == 0
    table = pq.read_table(out)
    assert table.column_names == ["id", "gold", "out", "pred_answer", "verdict", "verdict_reason"]
    assert table["verdict"].to_pylist() == ["correct", "incorrect", "no_gold"]
    assert table["pred_answer"].to_pylist() == ["0.5", "4", "1"]
    printed = capsys.readouterr().out
    assert "correct" in printed and "no_gold" in printed
    numbers = tmp_path / "numbers.jsonl"  # gold answers stored as numbers are read as text
    numbers.write_text(json.dumps({"gold": 7, "out": "#### 7"}) + "\n")
    assert main(["verify", str(numbers), "--gold", "gold", "--pred", "out", "--out", str(out)]) == 0
    assert pq.read_table(out)["verdict"].to_pylist() == ["correct"]


def test_verify_command_bad_input(tmp_path, capsys):
    src = tmp_path / "answers.jsonl"
    src.write_text(json.dumps({"gold": "1", "out": "1"}) + "\n")
    out = tmp_path / "out.parquet"
    assert main(["verify", str(src), "--gold", "answer", "--pred", "out", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'answer'" in err and "gold, out" in err
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    assert main(["verify", str(bad), "--gold", "gold", "--pred", "out", "--out", str(out)]) == 2
    assert main(["verify", str(tmp_path / "missing.jsonl"), "--gold", "g", "--pred", "p", "--out", str(out)]) == 2
    assert not out.exists()


def test_verify_stage_adds_verdicts_and_pass_rate():
    frame = pl.DataFrame({
        "trace_id": ["a", "b", "c", "d", "e", "f"],
        "problem_id": ["p1", "p1", "p1", "p2", "p2", "p3"],
        "gold": ["4", "4", "4", "\\frac{1}{2}", "\\frac{1}{2}", None],
        "thinking": ["", "", "2+2=4 so \\boxed{4}", "", "", ""],
        "response": ["\\boxed{4}", "The answer is $5$.", "", "\\boxed{0.5}", "I really do not know.\n\nSorry.",
                     "\\boxed{1}"],
    })
    stage = stages.get("verify")(stages.get("verify").Config(timeout_s=5, workers=1))
    out = stage.run(frame, StageContext(seed=0, label="02-verify"))
    assert out.columns == ["trace_id", "pred_answer", "verdict", "verdict_reason", "problem_pass_rate"]
    rows = {r["trace_id"]: r for r in out.to_dicts()}
    assert [rows[t]["verdict"] for t in "abcdef"] == ["correct", "incorrect", "correct", "correct", "no_answer",
                                                     "no_gold"]
    assert rows["c"]["pred_answer"] == "4"  # empty response: the boxed answer at the end of thinking
    assert rows["a"]["problem_pass_rate"] == pytest.approx(2 / 3)
    assert rows["d"]["problem_pass_rate"] == pytest.approx(1 / 2)
    assert rows["f"]["problem_pass_rate"] is None


def test_verify_stage_config_is_checked():
    Config = stages.get("verify").Config
    with pytest.raises(ValueError):
        Config(timeout_s=0)
    with pytest.raises(ValueError):
        Config(percent="maybe")
    with pytest.raises(ValueError):
        Config(unknown=1)


def test_verify_then_filter_in_a_recipe(traces_dir, tmp_path):
    from curate import recipe, run

    text = """
name: v
seed: 0
stages:
  - verify: {timeout_s: 5, workers: 1}
  - filter: {where: "verdict = 'correct'", reason: wrong final answer}
"""
    run.run(recipe.parse(text, "v.yaml"), traces_dir, tmp_path / "run")
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    assert {"pred_answer", "verdict", "verdict_reason", "problem_pass_rate"} <= set(traces.columns)
    wrong = traces.filter((pl.col("response") == "\\boxed{5}") & (pl.col("gold") == "4"))
    assert wrong["verdict"].to_list() == ["incorrect"] and wrong["drop_reason"].to_list() == ["wrong final answer"]
    kept = traces.filter(pl.col("drop_reason").is_null())
    assert kept.height > 0 and set(kept["verdict"]) == {"correct"}
