"""distillery train kd: the loss against a hand computation, KL falling, tokenizer mismatch refused."""

from __future__ import annotations

import json
import math
import shutil

import pytest

pytest.importorskip("trl")

from conftest import short_rows, tiny_folder, write_messages  # noqa: E402
from curate.cli import main  # noqa: E402


def test_kd_loss_matches_a_hand_computed_case():
    import torch

    from train.kd import kd_loss

    # one sequence of 2 tokens, vocabulary of 4; the loss sits on the token at position 1
    logits = torch.tensor([[[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 0.0, 0.0]]])
    labels = torch.tensor([[-100, 1]])
    t_ids = torch.tensor([[[-1, -1], [1, 2]]])
    t_lp = torch.tensor([[[0.0, 0.0], [math.log(0.6), math.log(0.3)]]])
    t_mask = torch.tensor([[0.0, 1.0]])
    for alpha, temp in ((0.5, 1.0), (0.2, 2.0)):
        loss, ce, kl = kd_loss(logits, labels, t_ids, t_lp, t_mask, alpha, temp)
        z = [1.0, 2.0, 0.5, -1.0]
        s = [math.exp(v) / sum(math.exp(w) for w in z) for v in z]
        hand_ce = -math.log(s[1])
        student = [s[1], s[2], 1 - s[1] - s[2]]          # ids 1, 2, tail bucket
        teacher = [0.6, 0.3, 0.1]
        st = [p ** (1 / temp) for p in student]
        tt = [p ** (1 / temp) for p in teacher]
        st = [p / sum(st) for p in st]
        tt = [p / sum(tt) for p in tt]
        hand_kl = sum(q * math.log(q / p) for q, p in zip(tt, st))
        assert ce.item() == pytest.approx(hand_ce, rel=1e-5)
        assert kl.item() == pytest.approx(hand_kl, rel=1e-4)
        assert loss.item() == pytest.approx(alpha * hand_ce + (1 - alpha) * temp ** 2 * hand_kl, rel=1e-4)


def test_kd_loss_is_zero_when_student_matches_teacher():
    import torch

    from train.kd import kd_loss

    logits = torch.randn(1, 5, 7)
    logp = torch.log_softmax(logits, -1)
    top = logp.topk(3, -1)
    t_ids = torch.roll(top.indices, 1, dims=1)        # teacher entries sit at the token they predict
    t_lp = torch.roll(top.values, 1, dims=1)
    labels = torch.tensor([[-100, 1, 2, 3, 4]])
    _, _, kl = kd_loss(logits, labels, t_ids, t_lp, torch.tensor([[0.0, 1, 1, 1, 1]]), 0.0, 1.0)
    assert kl.item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.slow
def test_kd_on_tiny_student_brings_kl_to_teacher_down(tiny_model, tmp_path_factory, tmp_path, capsys):
    """End to end as a user runs it: `distillery score` puts the teacher's top-k on the traces, the
    rows get their `messages` from the one builder a run's export uses, `distillery train kd` distils."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from conftest import trace_table
    from curate import store
    from curate.messages import conversations

    teacher = tiny_folder(tmp_path_factory, "teacher", seed=7, init_scale=10.0)   # peaked, same tokenizer
    rows = [{"source": "kd", "problem": f"Add one to {i % 8}.", "gold": str(i % 8 + 1),
             "thinking": f"{i % 8} + 1 = {i % 8 + 1}.", "response": f"\\boxed{{{i % 8 + 1}}}", "teacher": "t",
             "sample_idx": i // 8, "finish_reason": "stop", "meta": "{}"} for i in range(16)]
    store.save_traces(trace_table(rows), tmp_path / "traces", prefix="kd")
    code = main(["score", str(tmp_path / "traces"), "--model", str(teacher), "--out", str(tmp_path / "scored"),
                 "--k", "4"])
    assert code == 0, capsys.readouterr().err
    table = store.load_traces(tmp_path / "scored")
    assert table.num_rows == 16 and table.schema.field("topk_logprobs").type == pa.list_(pa.list_(pa.float16()))
    table = table.append_column("messages", pa.array(conversations(table)))
    pq.write_table(table, tmp_path / "kd.parquet")
    out = tmp_path / "kd-student"
    code = main(["train", "kd", "--data", str(tmp_path / "kd.parquet"), "--model", str(tiny_model), "--out", str(out),
                 "--teacher", str(teacher), "--config", "tiny", "--set", "kd.alpha=0.0", "--set", "kd.temperature=1.0",
                 "--set", "num_train_epochs=12", "--set", "learning_rate=1e-2", "--set", "per_device_batch_size=8"])
    assert code == 0, capsys.readouterr().err
    kls = [json.loads(x)["kd_kl"] for x in (out / "train_log.jsonl").read_text().splitlines() if "kd_kl" in x]
    assert len(kls) >= 20 and sum(kls[-3:]) < 0.5 * sum(kls[:3]), kls
    assert (out / "loss.png").is_file()


def test_kd_refuses_a_teacher_with_another_tokenizer(tiny_model, tmp_path, capsys):
    import pyarrow as pa
    from transformers import AutoTokenizer

    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    tok = AutoTokenizer.from_pretrained(other)
    tok.add_tokens(["<extra_token>"])
    tok.save_pretrained(other)
    rows = short_rows(2)
    data = write_messages(tmp_path / "d.parquet", rows,
                          topk_ids=pa.array([[[0]]] * 2, pa.list_(pa.list_(pa.int32()))),
                          topk_logprobs=pa.array([[[0.0]]] * 2, pa.list_(pa.list_(pa.float32()))))
    code = main(["train", "kd", "--data", str(data), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                 "--teacher", str(other), "--config", "tiny"])
    err = capsys.readouterr().err
    assert code == 2 and "do not share a tokenizer" in err and len(err.strip().splitlines()) == 1
    # ids beyond the student's vocabulary say the same without --teacher
    data = write_messages(tmp_path / "e.parquet", rows,
                          topk_ids=pa.array([[[10 ** 6]]] * 2, pa.list_(pa.list_(pa.int32()))),
                          topk_logprobs=pa.array([[[0.0]]] * 2, pa.list_(pa.list_(pa.float32()))))
    code = main(["train", "kd", "--data", str(data), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                 "--config", "tiny"])
    assert code == 2 and "do not share a tokenizer" in capsys.readouterr().err
    # no top-k columns at all
    data = write_messages(tmp_path / "f.parquet", rows)
    code = main(["train", "kd", "--data", str(data), "--model", str(tiny_model), "--out", str(tmp_path / "o"),
                 "--config", "tiny"])
    assert code == 2 and "no 'topk_ids' column" in capsys.readouterr().err
