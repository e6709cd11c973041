"""budget: token counts with a tiny local tokenizer, bounds, loop and language flags."""

import polars as pl
import pytest

from curate import tokens
from curate.errors import BadInput
from curate.stages import StageContext, get


def tiny_tokenizer(folder):
    """A WordLevel fast tokenizer over whitespace-split words: one token per word, [UNK] otherwise."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1}
    for w in "a b c d e f g h one two three four five six".split():
        vocab[w] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    fast.save_pretrained(folder)
    return str(folder)


def frame(rows):
    base = {"problem": "a b", "thinking": "a b c", "response": "d", "finish_reason": "stop", "meta": "{}"}
    data = [dict(base, trace_id=f"t{i}", **r) for i, r in enumerate(rows)]
    return pl.DataFrame(data)


def run_budget(tmp_path, rows, **cfg):
    cls = get("budget")
    cfg.setdefault("tokenizer", tiny_tokenizer(tmp_path / "tok"))
    ctx = StageContext(seed=0)
    return cls(cls.Config(**cfg)).run(frame(rows), ctx), ctx


def test_counts_and_bounds(tmp_path):
    rows = [{"thinking": "a b c d e f g h"},  # 8 tokens: in budget
            {"thinking": "a b"},  # 2: under the minimum
            {"thinking": " ".join(["one"] * 30)},  # 30: over the maximum
            {"thinking": "a b c d e", "response": " ".join(["two"] * 20)}]  # total too long
    out, ctx = run_budget(tmp_path, rows, thinking_tokens=[3, 20], max_total_tokens=28, template_tokens=0,
                          drop=["over_budget"])
    assert out["thinking_tokens"].to_list() == [8, 2, 30, 5]
    assert out["response_tokens"].to_list() == [1, 1, 1, 20]
    assert out["total_tokens"].to_list() == [11, 5, 33, 27]
    assert out["in_budget"].to_list() == [True, False, False, True]
    assert out["drop_reason"].to_list() == [None, "thinking under 3 tokens", "thinking over 20 tokens", None]
    out, _ = run_budget(tmp_path, rows[3:], max_total_tokens=26, template_tokens=0)
    assert out["drop_reason"].to_list() == ["over 26 total tokens"]
    assert ctx.stats["thinking_tokens"]["max"] == 30


def test_flags(tmp_path):
    loop = "\n".join(["Let me compute this again carefully."] * 8)
    rows = [{},
            {"finish_reason": "length", "response": ""},
            {"thinking": "intro line here\n" + loop},
            {"thinking": "we add the numbers 这是一个中文句子 then stop"}]
    out, ctx = run_budget(tmp_path, rows)
    assert out["truncated"].to_list() == [False, True, False, False]
    assert out["unclosed_thinking"].to_list() == [False, True, False, False]
    assert out["looping"].to_list() == [False, False, True, False]
    assert out["max_line_repeats"][2] == 8 and out["loop_score"][2] > 0.5
    assert out["mixed_language"].to_list() == [False, False, False, True]
    assert out["drop_reason"].to_list() == [None, "truncated (finish_reason = length)", "repetition loop",
                                            "mixed-language text"]
    assert ctx.stats["flags"]["looping"] == 1
    out, _ = run_budget(tmp_path, rows, drop=[])
    assert out["drop_reason"].null_count() == 4


def test_loop_stats_and_script_ratio():
    assert tokens.loop_stats("") == (0.0, 0)
    ratio, run = tokens.loop_stats("a b c d e f g h i j k l m n o p")
    assert ratio == 0.0 and run == 1
    assert tokens.loop_stats("para one is here\n\npara one is here\n\npara one is here")[1] == 3
    assert tokens.script_ratio("plain english") == 0.0
    assert 0 < tokens.script_ratio("english text 中文") < 0.5


def test_tokenizer_not_found_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BadInput, match=r"tokenizer 'no-such-org/no-such-tokenizer' not found") as exc:
        tokens.load_tokenizer("no-such-org/no-such-tokenizer")
    assert "\n" not in str(exc.value)
    with pytest.raises(BadInput, match="not found"):
        tokens.load_tokenizer(str(tmp_path / "missing"))
    with pytest.raises(BadInput, match="unknown built-in"):
        tokens.load_tokenizer("builtin:nope")


def test_builtin_tokenizer_counts_without_truncation():
    tok = tokens.load_tokenizer("builtin:minilm")
    assert tokens.count_tokens(tok, ["word " * 1000, None]) == [1000, 0]


def test_bad_bounds_rejected():
    cls = get("budget")
    with pytest.raises(ValueError, match="min <= max"):
        cls.Config(thinking_tokens=[10, 5])


def test_a_quoted_foreign_phrase_is_not_mixed_language(tmp_path):
    english = "We compare the two sums term by term and find that they agree in every case. " * 10
    rows = [{"thinking": english + 'The problem text says «сумма двух чисел», the sum of two numbers.'},
            {"thinking": english + 'As the saying goes, "тише едешь — дальше будешь", so check again.'},
            {"thinking": english + "Hmm, сумма двух чисел равна десяти, значит ответ верный."},  # a switch
            {"thinking": english + "让我再检查一下。"}]
    out, ctx = run_budget(tmp_path, rows, drop=["mixed_language"])
    assert out["mixed_language"].to_list() == [False, False, True, True]
    assert out["script_ratio"][0] == 0.0
    counted, _ = run_budget(tmp_path, rows, drop=["mixed_language"], count_quoted=True)
    assert counted["mixed_language"].to_list() == [True, True, True, True]
    assert ctx.warnings == []  # finish_reason present


def test_no_finish_reason_is_announced(tmp_path):
    out, ctx = run_budget(tmp_path, [{"finish_reason": None}, {"finish_reason": None}])
    assert len(ctx.warnings) == 1 and "finish_reason is null in every row" in ctx.warnings[0]


def test_quantiles_from_additive_histograms_equal_polars_nearest():
    """budget's stats come from token-count histograms, which blocks add up key by key (the Ray
    engine never gathers the column): the quantiles must be Polars' `quantile(q, "nearest")`."""
    import numpy as np

    from curate.budget import quantiles

    rng = np.random.default_rng(7)
    for _ in range(500):
        values = pl.Series(rng.integers(0, int(rng.integers(1, 400)), int(rng.integers(1, 300))))
        halves = [values[: len(values) // 2], values[len(values) // 2:]]
        merged: dict = {}
        for half in halves:  # two blocks' histograms, added as merge_stats adds them
            for v, c in zip(*np.unique(half.to_numpy(), return_counts=True)):
                merged[int(v)] = merged.get(int(v), 0) + int(c)
        want = {"min": values.min(), "p50": values.quantile(0.5, "nearest"), "p90": values.quantile(0.9, "nearest"),
                "max": values.max()}
        assert quantiles(merged) == {k: int(v) for k, v in want.items()}
    assert quantiles({}) == {}
