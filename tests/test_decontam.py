"""decontam: a MATH-500 problem pasted with small edits is caught, unrelated problems are not;
benchmarks by name, by path and by folder; per-benchmark counts in the manifest; bad input."""

import json

import polars as pl
import pytest

from conftest import BENCHMARKS, needs_real_benchmarks, run_cli, trace_rows, trace_table
from curate import recipe, run, schema, store
from curate.decontam import decontaminate, load_benchmark
from curate.errors import BadInput

# The checks on the real benchmark files; every other test builds its own (`bench_folder`).
needs_benchmarks = needs_real_benchmarks


@pytest.fixture
def real_benchmarks(monkeypatch):
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(BENCHMARKS))

UNRELATED = [
    "A farmer has 17 sheep and buys 5 more at the market; how many sheep does the farmer own now?",
    "Compute the determinant of the 2 by 2 matrix with rows (3, 1) and (4, 2).",
]


def math500_problem(k: int = 42, folder=BENCHMARKS) -> tuple[str, str]:
    row = json.loads((folder / "math500.jsonl").read_text().splitlines()[k])
    return row["id"], row["problem"]


def edited(problem: str) -> str:
    """Pasted into a trace set with small edits: a preamble, a changed word, different spacing."""
    words = problem.split()
    words[len(words) // 2] = words[len(words) // 2].upper() + "!"
    return "Please solve the following.\n\n" + "  ".join(words) + "\nThink step by step."


@needs_benchmarks
def test_finds_edited_math500_problem_and_ignores_unrelated(real_benchmarks):
    bid, problem = math500_problem()
    frame = pl.DataFrame({"problem": [UNRELATED[0], edited(problem), UNRELATED[1]]})
    res = decontaminate(frame, bench=["math500", "aime24", "gsm8k"])
    assert res.columns["contaminated_with"].to_list() == [None, [f"math500:{bid}"], None]
    assert res.columns["drop_reason"].to_list() == [None, "contaminated: overlaps benchmark math500", None]
    assert res.stats["contaminated_rows"] == {"math500": 1, "aime24": 0, "gsm8k": 0}


def test_benchmark_by_path_and_short_problems(tmp_path):
    bench = tmp_path / "heldout.jsonl"
    bench.write_text(json.dumps({"id": "h1", "problem": "Evaluate the integral of x squared from 0 to 3 quickly."})
                     + "\n" + json.dumps({"id": "h2", "problem": "Factor x^2 - 1."}) + "\n")
    frame = pl.DataFrame({"problem": ["First, evaluate the integral of x squared from 0 to 3 quickly please",
                                      "Now factor x^2 - 1. completely", "Factor x^2 + 1.", None]})
    res = decontaminate(frame, bench=[str(bench)])
    assert res.columns["contaminated_with"].to_list() == [["heldout:h1"], ["heldout:h2"], None, None]


def test_fuzzy_minhash_matching(tmp_path):
    bench = tmp_path / "b.parquet"
    text = ("a circle of radius seven is inscribed in a square what is the area of the square minus the "
            "area of the circle give the answer in terms of pi")
    store.write_parquet(pl.DataFrame({"id": ["c1", "c2"], "problem": [text, ""]}).to_arrow(), bench)
    # A comma every 7 words breaks every 8-gram (punctuation counts there) but no MinHash shingle
    # (dedup normalisation drops prose punctuation).
    words = text.split()
    for k in range(5, len(words), 7):
        words[k] += ","
    frame = pl.DataFrame({"problem": [" ".join(words), ""]})
    assert decontaminate(frame, bench=[str(bench)]).columns["contaminated_with"].to_list() == [None, None]
    res = decontaminate(frame, bench=[str(bench)], fuzzy=0.8)
    assert res.columns["contaminated_with"].to_list() == [["b:c1"], None]


def test_named_benchmark_from_configured_folder(tmp_path, monkeypatch):
    (tmp_path / "math500.jsonl").write_text(json.dumps({"id": "m1", "problem": "one two three four five six seven eight"}) + "\n")
    monkeypatch.setenv("DISTILLERY_BENCHMARKS", str(tmp_path))
    assert load_benchmark("math500").ids == ["m1"]
    # Offline (the tests' hub): one line saying where it looked and how to fill the cache.
    with pytest.raises(BadInput, match=r"benchmark 'aime24': no local copy \(\$DISTILLERY_BENCHMARKS .*; cache .*\); "
                                       r"the Hugging Face hub is out of reach \(offline\); run `distillery benchmarks pull aime24`"):
        load_benchmark("aime24")
    with pytest.raises(BadInput, match="benchmark 'aime24'"):
        load_benchmark("aime24", folder=tmp_path / "nowhere")


def test_decontam_stage_counts_in_manifest(tmp_path, bench_folder):
    bid, problem = math500_problem(1, bench_folder)
    rows = trace_rows() + [dict(trace_rows()[0], problem=edited(problem))]
    folder = tmp_path / "traces"
    store.save_traces(schema.conform(schema.with_ids(pl.DataFrame(rows).to_arrow()), "t"), folder, prefix="t")
    text = "name: t\nstages:\n  - decontam: {bench: [math500, aime24]}\n"
    run.run(recipe.parse(text, "t.yaml"), folder, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    stage = next(s for s in manifest["stages"] if s["stage"] == "01-decontam")
    assert stage["stats"]["contaminated_rows"] == {"math500": 1, "aime24": 0}
    assert stage["drops_by_reason"] == {"contaminated: overlaps benchmark math500": 1}
    traces = pl.read_parquet(tmp_path / "run" / "traces.parquet")
    hit = traces.filter(pl.col("dropped_by") == "01-decontam")
    assert hit["contaminated_with"].to_list() == [[f"math500:{bid}"]]


def test_decontam_command(tmp_path, capsys, bench_folder):
    _, problem = math500_problem(2, bench_folder)
    src = tmp_path / "in.parquet"
    store.write_parquet(pl.DataFrame({"problem": [UNRELATED[0], edited(problem)]}).to_arrow(), src)
    code, out, err = run_cli(["decontam", src, "--bench", "math500,aime24",
                              "--out", tmp_path / "o.parquet"], capsys)
    assert code == 0, err
    assert "1 contaminated (math500 1, aime24 0)" in out
    written = pl.read_parquet(tmp_path / "o.parquet")
    assert written["drop_reason"].null_count() == 1 and written["contaminated_ngram"].null_count() == 1
    code, out, err = run_cli(["decontam", src, "--bench", "math500", "--boilerplate", "0",
                              "--boilerplate-from", "input", "--out", tmp_path / "p.parquet"], capsys)
    assert code == 0 and "1 contaminated" in out, err


@pytest.mark.parametrize("args,message", [
    (["--bench", "nosuch"], "benchmark 'nosuch': not a file"),
    (["--bench", "math500", "--on", "question"], "no column 'question' to decontaminate on"),
    (["--bench", "math500", "--fuzzy", "2"], "fuzzy must be in (0, 1]"),
    (["--bench", "math500", "--boilerplate", "1"], "--boilerplate 1 would ignore every n-gram"),
])
def test_decontam_command_bad_input(tmp_path, capsys, args, message):
    src = tmp_path / "in.parquet"
    store.write_parquet(trace_table(), src)
    code, _, err = run_cli(["decontam", src, "--out", tmp_path / "o.parquet", *args], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err and not (tmp_path / "o.parquet").exists()


def test_missing_benchmark_skips_only_when_asked(tmp_path, capsys):
    import polars as pl
    import pytest

    from curate.decontam import decontaminate
    from curate.errors import BadInput

    frame = pl.DataFrame({"problem": ["What is 2 + 2?", "Name a prime."]})
    with pytest.raises(BadInput, match="benchmark 'nosuch'"):
        decontaminate(frame, bench=["nosuch"], bench_dir=tmp_path)
    res = decontaminate(frame, bench=["nosuch"], bench_dir=tmp_path, missing="skip")
    assert res.stats["skipped_benchmarks"] == ["nosuch"]
    assert res.columns["drop_reason"].null_count() == 2
    # A library prints nothing: the skip comes back to the caller, who says it.
    assert len(res.warnings) == 1 and res.warnings[0].startswith("decontam skips") and "nosuch" in res.warnings[0]
    assert capsys.readouterr().err == ""


@needs_benchmarks
def test_boilerplate_ngrams_do_not_count_and_the_match_is_shown(real_benchmarks):
    # MATH-train-style problems that share only AIME's boilerplate with the benchmarks.
    boiler = [
        "A fair coin is tossed 6 times. The probability of no two consecutive heads is m/n in lowest terms, "
        "where $m$ and $n$ are relatively prime positive integers. Find $m+n$.",
        "Two dice are rolled. The chance that their sum is prime is m/n in lowest terms, where $m$ and $n$ are "
        "relatively prime positive integers. What is $m+n$?",
    ]
    bid, problem = math500_problem()
    frame = pl.DataFrame({"problem": [*boiler, edited(problem)]})
    res = decontaminate(frame, bench=["math500", "aime24", "aime25", "amc23", "gsm8k"])
    assert res.columns["drop_reason"].to_list()[:2] == [None, None]
    assert res.stats["boilerplate"] == 3 and res.stats["boilerplate_ngrams"] > 10
    ngram = res.columns["contaminated_ngram"][2]
    assert len(ngram.split()) == 8 and ngram in " ".join(edited(problem).lower().split())
    # Every n-gram counting again (boilerplate: None) drops them, showing what matched.
    strict = decontaminate(frame, bench=["math500", "aime24", "aime25", "amc23", "gsm8k"], boilerplate=None)
    assert strict.columns["drop_reason"].null_count() == 0
    assert "relatively prime positive" in strict.columns["contaminated_ngram"][0]


def test_boilerplate_counted_over_extra_corpora(tmp_path):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"id": "b1", "problem": "What is the slope of the line passing through "
                                                        "$(1, 2)$ and $(3, 8)$?"}) + "\n")
    common = tmp_path / "pool.jsonl"
    common.write_text("".join(json.dumps({"problem": f"What is the slope of the line passing through "
                                                     f"$({i}, 1)$ and $(0, {i})$?"}) + "\n" for i in range(2, 5)))
    frame = pl.DataFrame({"problem": ["What is the slope of the line passing through $(5, 5)$ and $(9, 0)$?"]})
    assert decontaminate(frame, bench=[str(bench)]).columns["drop_reason"][0] is not None
    res = decontaminate(frame, bench=[str(bench)], boilerplate_from=[str(common)])
    assert res.columns["drop_reason"][0] is None and res.stats["boilerplate_ngrams"] >= 2


def test_boilerplate_counted_over_the_input_problems(tmp_path):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"id": "b1", "problem": "What is the slope of the line passing through "
                                                        "$(1, 2)$ and $(3, 8)$?"}) + "\n")
    fresh = [f"What is the slope of the line passing through $({i}, 5)$ and $(9, {i})$?" for i in range(3)]
    copy = "Please solve: what is the slope of the line passing through $(1, 2)$ and $(3, 8)$?"
    frame = pl.DataFrame({"problem": [*fresh, copy]})
    res = decontaminate(frame, bench=[str(bench)])  # boilerplate_from: [input] by default
    # The shared wording is in 4 distinct problems: boilerplate. The pasted copy still matches on
    # the n-grams with its numbers.
    assert res.columns["drop_reason"].to_list()[:3] == [None, None, None]
    assert res.columns["drop_reason"][3] is not None and "(1, 2)$" in res.columns["contaminated_ngram"][3]
    strict = decontaminate(frame, bench=[str(bench)], boilerplate_from=[])
    assert strict.columns["drop_reason"].null_count() == 0
