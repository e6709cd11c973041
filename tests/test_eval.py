"""distillery eval: pass@k against the formula, metrics tables, benchmarks, the command end to end."""

from __future__ import annotations

import itertools
import json
from math import comb

import pytest

from train.evaluate import ks_for, metrics, pass_at_k, resolve_bench, split_thinking


def test_pass_at_k_matches_the_formula_and_brute_force():
    for n in range(1, 7):
        for c in range(n + 1):
            for k in range(1, n + 1):
                formula = 1 - comb(n - c, k) / comb(n, k)
                outcomes = [1] * c + [0] * (n - c)
                subsets = list(itertools.combinations(outcomes, k))
                brute = sum(any(s) for s in subsets) / len(subsets)
                assert pass_at_k(n, c, k) == pytest.approx(formula) == pytest.approx(brute)
    assert pass_at_k(4, 0, 4) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    assert ks_for(4) == [1, 2, 4] and ks_for(6) == [1, 2, 4, 6] and ks_for(1) == [1]
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_metrics_overall_and_per_subject_and_level():
    problems = [{"id": "a", "subject": "Algebra", "level": "1"}, {"id": "b", "subject": "Algebra", "level": "2"},
                {"id": "c", "subject": "Geometry", "level": "2"}]
    correct = [[True, True, False, False], [False] * 4, [True, False, False, False]]
    m = metrics(problems, correct, 4)
    assert m["pass@1"] == pytest.approx(3 / 12)
    assert m["pass@k"]["1"] == pytest.approx(3 / 12)
    assert m["pass@k"]["4"] == pytest.approx(2 / 3)
    assert m["pass@k"]["2"] == pytest.approx((pass_at_k(4, 2, 2) + 0 + pass_at_k(4, 1, 2)) / 3)
    algebra = next(r for r in m["per_subject"] if r["subject"] == "Algebra")
    assert (algebra["problems"], algebra["pass@1"]) == (2, pytest.approx(2 / 8))
    assert [r["level"] for r in m["per_level"]] == ["1", "2"]
    ci = m["pass@1_ci"]
    assert ci["lo"] <= m["pass@1"] <= ci["hi"] and 0 <= ci["lo"] < ci["hi"] <= 1 and ci["level"] == 0.95
    assert metrics(problems, correct, 4)["pass@1_ci"] == ci                   # seeded: the same interval
    # more problems, the same rate: a narrower interval
    wide = metrics(problems * 20, correct * 20, 4)["pass@1_ci"]
    assert wide["hi"] - wide["lo"] < ci["hi"] - ci["lo"]


def test_split_thinking():
    assert split_thinking("<think>\nabc\n</think>\n\nThe answer is 4") == ("abc", "The answer is 4")
    assert split_thinking("still thinking") == ("still thinking", "")
    # a student trained on another layout is read by its markers
    assert split_thinking("think\nfour\nanswer\nAnswer: \\boxed{4}") == ("four", "Answer: \\boxed{4}")
    assert split_thinking("<|begin_of_thought|>\n\nfour\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n"
                          "\\boxed{4}\n\n<|end_of_solution|>") == ("four", "\\boxed{4}")


def test_benchmark_names_resolve(tmp_path, monkeypatch):
    from curate.errors import BadInput

    (tmp_path / "math500.jsonl").write_text('{"id": "1", "problem": "p", "answer": "3"}\n')
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(tmp_path))
    name, path = resolve_bench("math500")
    assert name == "math500" and path == tmp_path / "math500.jsonl"
    (tmp_path / "math500.jsonl").unlink()
    with pytest.raises(BadInput, match=r"--bench benchmark 'aime24': no local copy .*DISTILLERY_BENCHMARKS"):
        resolve_bench("aime24")
    (tmp_path / "aime24.jsonl").write_text('{"id": "1", "problem": "p", "answer": "3"}\n')
    assert resolve_bench("aime24")[1] == tmp_path / "aime24.jsonl"
    with pytest.raises(BadInput, match=r"not a file or folder, and not found in .* \(known names: math500"):
        resolve_bench("nonesuch")


@pytest.fixture
def bench_file(tmp_path):
    rows = [{"id": f"p{i}", "problem": f"Add one to {i}.", "answer": str(i + 1), "subject": "Arithmetic",
             "level": str(1 + i % 2)} for i in range(3)]
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.slow
def test_eval_end_to_end_on_the_tiny_model(tiny_model, bench_file, tmp_path, capsys):
    pytest.importorskip("transformers")
    import polars as pl

    from curate import schema, sql
    from curate.cli import main
    from curate.verify import VERDICTS

    out = tmp_path / "eval"
    code = main(["eval", "--model", str(tiny_model), "--bench", str(bench_file), "--n", "2", "--out", str(out),
                 "--max-new-tokens", "24"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert {"pass@1", "pass@k", "per_subject", "per_level"} <= set(summary)
    assert summary["problems"] == 3 and summary["samples"] == 6 and set(summary["pass@k"]) == {"1", "2"}
    ci = summary["pass@1_ci"]
    assert ci["lo"] <= summary["pass@1"] <= ci["hi"]
    assert f"[95% CI {ci['lo']:.3f}, {ci['hi']:.3f}]" in capsys.readouterr().out
    assert summary["per_subject"][0]["subject"] == "Arithmetic"
    samples = pl.read_parquet(out / "samples.parquet")
    assert samples.height == 6 and set(samples["verdict"]) <= set(VERDICTS)

    assert schema.validate(samples.to_arrow(), "samples") == []
    con = sql.connect(out / "samples.parquet")
    assert con.execute("SELECT count(*) FROM traces WHERE source = 'eval:bench'").fetchone()[0] == 6
    # budget forcing: thinking cut at 4 tokens and closed by us
    code = main(["eval", "--model", str(tiny_model), "--bench", str(bench_file), "--n", "1", "--out",
                 str(tmp_path / "forced"), "--max-new-tokens", "16", "--max-thinking", "4", "--limit", "1"])
    assert code == 0
    meta = json.loads(pl.read_parquet(tmp_path / "forced" / "samples.parquet")["meta"][0])
    assert meta["forced_close"] is True


def test_eval_bad_input(tiny_model, bench_file, tmp_path, capsys):
    from curate.cli import main

    cases = [
        (["eval", "--model", str(tmp_path / "missing"), "--bench", str(bench_file), "--out", str(tmp_path / "o")],
         "model path does not exist"),
        (["eval", "--model", str(tiny_model), "--bench", "nonesuch", "--out", str(tmp_path / "o")], "benchmark 'nonesuch': not a file or folder"),
        (["eval", "--model", str(tiny_model), "--bench", str(bench_file), "--out", str(tmp_path / "o"),
          "--backend", "tgi"], "expected hf or vllm"),
    ]
    try:
        import vllm  # noqa: F401
    except ImportError:
        cases.append((["eval", "--model", str(tiny_model), "--bench", str(bench_file), "--out", str(tmp_path / "o"),
                       "--backend", "vllm"], "distillery[vllm]"))
    for argv, needle in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert not (tmp_path / "o").exists()
