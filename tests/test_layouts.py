"""Reasoning layouts on outputs shaped as real teachers write them."""

from __future__ import annotations

import pytest
from teacher_outputs import (
    DISTILL_CUT,
    DISTILL_OUT,
    PLAIN,
    R1_OUT,
    S1_CUT,
    S1_OUT,
    S1_SPECIAL,
    SKY_CUT,
    SKY_OUT,
)

from curate import layouts
from curate.layouts import split, split_one, split_texts
from curate.text import R1, S1, Delimiters


def t3(part):
    return part.thinking, part.response, part.closed




@pytest.mark.parametrize("text, layout, want", [
    (R1_OUT, "think", ("Okay, so I need to find the remainder", "Since $2^3", True)),
    (DISTILL_OUT, "think_no_open", ("Okay, let's see. The problem says", "Natalia sold $48", True)),
    (DISTILL_OUT, "think", ("Okay, let's see. The problem says", "Natalia sold $48", True)),
    (SKY_OUT, "thought", ("Alright, so I have this problem", "Adding the equations", True)),
    (S1_OUT, "s1", ("Okay, so I need to compute", "Answer: The sum is", True)),
    (S1_SPECIAL, "s1", ("Let me see: 17 is prime.", "Answer: \\boxed{17}", True)),
    (SKY_CUT, "thought", ("Okay, let me try to figure out", "", False)),
    (S1_CUT, "s1", ("Okay, so I need to find all real x", "", False)),
    (DISTILL_CUT, "think_no_open", ("Okay, let's see. We need", "", False)),
    ("<think>\nLet me think about 5 + 5", "think", ("Let me think about 5 + 5", "", False)),
])
def test_each_layout_splits_real_shaped_outputs(text, layout, want):
    part = split(text, layout)
    thinking, response, closed = want
    assert part.thinking.startswith(thinking) and part.response.startswith(response)
    assert part.closed is closed and part.layout == layout
    # nothing of the text is lost but the markers
    for tag in ("<think>", "</think>", "<|begin_of_thought|>", "<|end_of_solution|>"):
        assert tag not in part.thinking and tag not in part.response
    assert "answer\n" not in part.thinking


def test_whole_halves_and_no_marker_left():
    part = split(SKY_OUT, "thought")
    assert part.thinking == ("Alright, so I have this problem: the sum of two numbers is 22 and their difference "
                             "is 4.\n\nx + y = 22, x - y = 4, so x = 13.")
    assert part.response == "Adding the equations, $2x = 26$, so the larger number is $\\boxed{13}$."
    s1 = split(S1_OUT, "s1")
    assert s1.thinking == ("Okay, so I need to compute $\\sum_{k=1}^{10} k^2$.\n"
                           "The formula is n(n+1)(2n+1)/6 = 385.")


def test_text_without_markers():
    # under think_no_open, no tag at all is thinking that never closed (R1-Distill cut off)
    assert split(DISTILL_CUT, "think_no_open").closed is False
    # under think, it is cut-off thinking only when the length limit says so; else it fits no layout
    cut = split(DISTILL_CUT, "think", finish_reason="length")
    assert (cut.thinking, cut.response, cut.closed, cut.layout) == (DISTILL_CUT.strip(), "", False, "think")
    lost = split(PLAIN, "think")
    assert (lost.thinking, lost.response, lost.layout) == ("", PLAIN, "unmatched")  # kept, flagged
    assert split(PLAIN, "none") == layouts.Split("", PLAIN, True, "none")
    assert split("", "s1").layout == "unmatched"


def test_column_keeps_both_columns_as_given():
    part = split("  \\boxed{3}\n", "column", reasoning="nine over three ")
    assert (part.thinking, part.response, part.layout) == ("nine over three ", "  \\boxed{3}\n", "column")


def test_ids_of_already_split_data_do_not_move():
    """What ingest split before layouts existed is split to the same bytes (trace_id hashes them)."""
    assert t3(split("<think>\n6*7=42\n</think>\n\n\\boxed{42}", "think")) == ("6*7=42", "\\boxed{42}", True)
    assert t3(split("6 times 7 is 42</think>\\boxed{42}", "think")) == ("6 times 7 is 42", "\\boxed{42}", True)
    assert t3(split("<think>hmm, 6*7 = 41", "think")) == ("hmm, 6*7 = 41", "", False)
    assert t3(split(" plain ", "think")) == ("", "plain", True)


def test_detect_per_file():
    r1 = [R1_OUT] * 5 + ["<think>\nstill going"]
    assert layouts.detect(r1) == "think"
    distill = [DISTILL_OUT] * 4 + [DISTILL_CUT] * 2
    assert layouts.detect(distill) == "think_no_open"
    # most cut off: the cut rows without markers do not vote
    assert layouts.detect([DISTILL_OUT] * 2 + [DISTILL_CUT] * 5, ["stop"] * 2 + ["length"] * 5) == "think_no_open"
    assert layouts.detect([SKY_OUT, SKY_CUT, SKY_OUT]) == "thought"
    assert layouts.detect([S1_OUT, S1_CUT, S1_SPECIAL]) == "s1"
    assert layouts.detect([PLAIN] * 3) == "none"
    # a line "answer" in prose is no s1 marker on its own; under --layout s1 it splits
    assert layouts.markers_of("Let me write the\nanswer\nbelow: 4") is None
    assert split("Three and one.\nanswer\nAnswer: 4", "s1").thinking == "Three and one."
    # a stray "</think>" in 1 answer of 10 does not make every other row thinking
    assert layouts.detect([PLAIN] * 9 + ["The tag </think> ends reasoning."]) == "none"


def test_split_texts_auto_counts_and_flags():
    texts = [DISTILL_OUT, DISTILL_OUT, DISTILL_CUT, SKY_OUT]
    parts, found = split_texts(texts)
    assert found.layout == "think_no_open" and found.requested == "auto"
    assert [p.layout for p in parts] == ["think_no_open", "think_no_open", "think_no_open", "thought"]
    assert parts[2].thinking == DISTILL_CUT.strip() and parts[2].closed is False
    line = found.describe("r1-distill.jsonl")
    assert line.startswith("layout think_no_open (detected in r1-distill.jsonl): 3 of 4 rows fit it")
    assert "other layouts: thought 1" in line and found.unclosed == 1

    parts, found = split_texts([R1_OUT, R1_OUT, PLAIN], finish_reasons=["stop", "stop", "stop"])
    assert found.layout == "think" and found.unmatched == 1 and parts[2].response == PLAIN
    assert "1 fit no layout: kept whole in response, meta layout = 'unmatched'" in found.describe("x")

    parts, found = split_texts([R1_OUT, S1_OUT], layout="s1")  # asked for: no fallback to other layouts
    assert [p.layout for p in parts] == ["unmatched", "s1"] and "asked for" in found.describe("x")


def test_limo_text_gets_a_hint():
    limo = "Okay, 2x = 10, so x = 5.\n\n**Final Answer**\n\\boxed{5}"
    parts, found = split_texts([limo, limo])
    assert found.layout == "none" and parts[0].thinking == ""
    assert "2 rows have a **Final Answer** section" in found.describe("limo.jsonl")
    parts, _ = split_texts([limo], layout="final_answer")
    assert (parts[0].thinking, parts[0].response) == ("Okay, 2x = 10, so x = 5.", "**Final Answer**\n\\boxed{5}")


def test_split_texts_with_a_reasoning_column():
    parts, found = split_texts(["\\boxed{1}", R1_OUT, PLAIN], reasoning=["one", "", ""])
    assert [p.layout for p in parts] == ["column", "think", "none"]
    assert parts[1].thinking.startswith("Okay, so I need") and parts[2] == layouts.Split("", PLAIN, True, "none")
    assert found.layout == "column"


def test_split_one_and_delimiters():
    assert split_one(DISTILL_CUT).closed is False  # eval: a student whose template opened the thinking
    assert split_one(S1_OUT).layout == "s1" and split_one(SKY_OUT).layout == "thought"
    assert split(R1_OUT, R1).layout == "think" and split(S1_SPECIAL, S1).layout == "s1"
    custom = Delimiters("[REASON]", "[/REASON]")
    assert t3(split("[REASON]a[/REASON]b", custom)) == ("a", "b", True)
    assert t3(split("no tags", custom, finish_reason="length")) == ("no tags", "", False)


def test_stray_tags_and_unknown_layout():
    assert layouts.stray_tags("x <|end_of_thought|>") and not layouts.stray_tags(PLAIN)
    with pytest.raises(ValueError, match="unknown layout 'xml'"):
        split_texts([PLAIN], layout="xml")
