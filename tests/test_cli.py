"""The command line: help, version, validate, curate, and one-line errors with exit status 2."""

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import run_cli, trace_table
from curate import store


def one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "curate.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for cmd in ("synth", "ingest", "validate", "curate"):
        assert cmd in out.stdout
    assert "Traceback" not in out.stderr


def test_version(capsys):
    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.startswith("distillery 0.")


def test_validate_reports_rows_columns(traces_dir, capsys):
    code, out, _ = run_cli(["validate", traces_dir], capsys)
    assert code == 0
    assert "12 rows in 1 file(s)" in out and "problem_id" in out and "teacher: hand-teacher=12" in out
    # the cut-off row and the row with a stray <think> are content problems: listed, never "no problems"
    assert "2 row(s) with thinking never closed" in out and "1 of them without finish_reason = 'length'" in out
    assert "schema valid; 1 content problem(s) above" in out and "no problems found" not in out
    code, out, _ = run_cli(["validate", "--strict", traces_dir], capsys)
    assert code == 2


def test_validate_reports_problems_with_status_2(tmp_path, capsys):
    t = trace_table().drop_columns(["thinking"])
    store.write_parquet(t, tmp_path / "bad.parquet")
    code, out, _ = run_cli(["validate", tmp_path / "bad.parquet"], capsys)
    assert code == 2
    assert "missing required column thinking" in out


def test_curate_end_to_end(traces_dir, tmp_path, capsys):
    code, out, err = run_cli(["curate", "demo", "--input", traces_dir, "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    assert "selected" in out and (tmp_path / "run" / "selected.parquet").is_file()
    assert "01-exact_dedup" in err  # the progress line per stage


# ----------------------------------------------------------------------------- bad input

def _curate(capsys, input_path, out, recipe="demo", *extra):
    return run_cli(["curate", recipe, "--input", input_path, "--out", out, *extra], capsys)


def test_missing_path(tmp_path, capsys):
    line = one_line_error(*_curate(capsys, tmp_path / "nope", tmp_path / "run")[::2])
    assert "nope: no such file or folder" in line
    assert not (tmp_path / "run").exists()


def test_empty_file(tmp_path, capsys):
    (tmp_path / "t.parquet").write_bytes(b"")
    line = one_line_error(*_curate(capsys, tmp_path / "t.parquet", tmp_path / "run")[::2])
    assert "t.parquet: file is empty" in line
    assert not (tmp_path / "run").exists()


def test_not_parquet(tmp_path, capsys):
    (tmp_path / "t.parquet").write_text("question,answer\n1,2\n")
    line = one_line_error(*_curate(capsys, tmp_path / "t.parquet", tmp_path / "run")[::2])
    assert "t.parquet: not a Parquet file" in line


def test_missing_required_column(tmp_path, capsys):
    store.write_parquet(trace_table().drop_columns(["response"]), tmp_path / "t.parquet")
    line = one_line_error(*_curate(capsys, tmp_path / "t.parquet", tmp_path / "run")[::2])
    assert "missing required column response (columns present: trace_id, problem_id" in line
    assert not (tmp_path / "run").exists()


def test_wrong_column_type(tmp_path, capsys):
    t = trace_table()
    t = t.set_column(t.schema.get_field_index("problem"), "problem", pa.array(range(t.num_rows)))
    store.write_parquet(t, tmp_path / "t.parquet")
    line = one_line_error(*_curate(capsys, tmp_path / "t.parquet", tmp_path / "run")[::2])
    assert "column problem: has type int64, expected string" in line


def test_jsonl_broken_line_named(tmp_path):
    from curate.errors import BadInput

    p = tmp_path / "x.jsonl"
    p.write_text('{"problem": "a"}\n{"problem": "b"}\n{"problem": oops}\n')
    with pytest.raises(BadInput, match=r"x.jsonl: line 3: not valid JSON"):
        store.read_table(p)


def _recipe(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, expected", [
    ("name: r\nstages:\n  - format: {\n", r"r.yaml line 4: YAML does not parse"),
    ("name: r\nstages:\n  - format: {}\n  - dedupe: {}\n",
     r"r.yaml line 4: unknown stage 'dedupe' \(known stages: .*exact_dedup.*filter"),
    ("name: r\nstages:\n  - exact_dedup:\n      keep: first\n      kep: last\n",
     r"r.yaml line 5: stage 'exact_dedup' has no key 'kep' \(its keys: on_missing, on, keep, max_per_problem\)"),
    ("name: r\nstages:\n  - exact_dedup: {keep: newest}\n",
     r"r.yaml line 3: stage 'exact_dedup', key 'keep': Input should be 'first', 'last', 'longest' or 'shortest'"),
    ("name: r\nstagez: []\n", r"r.yaml line 2: unknown recipe key 'stagez'"),
])
def test_bad_recipes(tmp_path, traces_dir, capsys, text, expected):
    import re

    code, _, err = _curate(capsys, traces_dir, tmp_path / "run", _recipe(tmp_path, text))
    line = one_line_error(code, err)
    assert re.search(expected, line), line
    assert not (tmp_path / "run").exists()


def test_unknown_builtin_recipe(tmp_path, traces_dir, capsys):
    line = one_line_error(*_curate(capsys, traces_dir, tmp_path / "run", "s2k")[::2])
    assert "s2k: no such recipe file, and no built-in recipe of that name (built-in: demo" in line


def test_other_recipes_run_folder(tmp_path, traces_dir, capsys):
    assert _curate(capsys, traces_dir, tmp_path / "run")[0] == 0
    before = (tmp_path / "run" / "traces.parquet").read_bytes()
    other = _recipe(tmp_path, "name: mine\nstages:\n  - format: {}\n")
    line = one_line_error(*_curate(capsys, traces_dir, tmp_path / "run", other)[::2])
    assert "holds a run of recipe 'demo', not 'mine'" in line
    assert (tmp_path / "run" / "traces.parquet").read_bytes() == before
    assert _curate(capsys, traces_dir, tmp_path / "run", other, "--overwrite")[0] == 0


def test_debug_shows_traceback(tmp_path, capsys):
    from curate.cli import main
    from curate.errors import BadInput

    with pytest.raises(BadInput):
        main(["--debug", "validate", str(tmp_path / "nope")])


def test_make_setup_is_idempotent():
    """After setup ran once (make test depends on it), `make setup` has nothing left to do."""
    import shutil

    root = Path(__file__).resolve().parents[1]
    if shutil.which("make") is None or not (root / ".venv" / ".installed").exists():
        pytest.skip("not set up through make")
    out = subprocess.run(["make", "-q", "setup"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, "make setup would reinstall: " + out.stdout + out.stderr


def test_builtin_recipe_name_wins_over_a_folder_of_that_name(tmp_path, traces_dir, capsys, monkeypatch):
    """`make demo` writes ./demo/, and `distillery curate demo` must still mean the built-in recipe."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    code, _, err = _curate(capsys, traces_dir, tmp_path / "demo" / "run")
    assert code == 0, err
    (tmp_path / "mine").mkdir()
    line = one_line_error(*_curate(capsys, traces_dir, tmp_path / "run2", "mine/")[::2])
    assert "a recipe must be a YAML file" in line
