"""The report shows the student trained on a run: its loss curve and its evaluation."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")


from conftest import run_cli  # noqa: E402


@pytest.mark.slow
def test_report_shows_loss_curve_and_eval(traces_dir, tiny_model, tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(["curate", "demo", "--input", traces_dir, "--out", run], capsys)[0] == 0
    html = run_cli(["report", run, "--out", tmp_path / "before.html"], capsys)
    assert html[0] == 0 and 'id="student"' not in (tmp_path / "before.html").read_text()

    student = run / "student"
    code, _, err = run_cli(["train", "sft", "--data", run, "--model", tiny_model, "--out", student,
                            "--config", "tiny", "--set", "num_train_epochs=2"], capsys)
    assert code == 0, err
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({"id": str(i), "problem": f"Add one to {i}.", "answer": str(i + 1)}) + "\n"
                             for i in range(2)))
    code, _, err = run_cli(["eval", "--model", student, "--bench", bench, "--n", "1", "--max-new-tokens", "8",
                            "--out", student / "eval"], capsys)
    assert code == 0, err
    assert run_cli(["report", run, "--out", tmp_path / "after.html"], capsys)[0] == 0
    page = (tmp_path / "after.html").read_text()
    assert 'id="student"' in page and 'data-chart="loss"' in page
    assert "Evaluation on bench: 2 problems × 1 samples" in page and "pass@1" in page
