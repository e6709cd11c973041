"""`distillery train kd`: soft-label distillation from the teacher's stored top-k, on SFTTrainer.

    loss = α · CE(labels) + (1 − α) · T² · KL(teacher ‖ student)

over the assistant tokens. The teacher's distribution at each assistant token is its top-k
(`topk_ids`, `topk_logprobs`: one list per assistant token, in order, end-of-turn included) plus one
bucket for the tail mass 1 − Σ top-k. The student's distribution is reduced to the same k + 1
outcomes: its probabilities of the k ids, and the rest of its mass as the tail bucket. With a
temperature T, both sides' k + 1 probabilities are raised to 1/T and renormalised (for the student
this equals a softmax of logits / T restricted to the same buckets only when the tail is a single
token; treating the tail as one pseudo-token is the standard top-k approximation).

Teacher and student must share a tokenizer (the ids index the same vocabulary).
"""

from __future__ import annotations

from curate.errors import BadInput, require
from train.config import KDSection

trl = require("trl", "train", "distillery train kd")
torch = require("torch", "train", "distillery train kd")

EPS = 1e-9


def check_same_tokenizer(student_tok, teacher_tok, student: str, teacher: str) -> None:
    if student_tok.get_vocab() != teacher_tok.get_vocab():
        raise BadInput(f"teacher {teacher} and student {student} do not share a tokenizer "
                       f"(vocabularies differ: {len(teacher_tok)} vs {len(student_tok)} tokens); "
                       f"soft-label distillation needs the same token ids")


def check_ids_in_vocab(topk_ids: list, vocab_size: int, source: str) -> None:
    for r, row in enumerate(topk_ids):
        for tok in row or []:
            if tok and max(tok) >= vocab_size:
                raise BadInput(f"{source}: row {r}: teacher token id {max(tok)} is outside the student's vocabulary "
                               f"({vocab_size}): teacher and student do not share a tokenizer")


def _log_k_plus_tail(logp_k: torch.Tensor) -> torch.Tensor:
    """[..., k] log-probabilities → [..., k + 1] with the tail bucket log(1 − Σ p)."""
    mass = logp_k.exp().sum(-1, keepdim=True).clamp(max=1.0 - 1e-6)
    return torch.cat([logp_k, torch.log1p(-mass)], dim=-1)


def _temper(logp: torch.Tensor, temperature: float) -> torch.Tensor:
    return torch.log_softmax(logp / temperature, dim=-1) if temperature != 1.0 else logp


def kd_loss(logits: torch.Tensor, labels: torch.Tensor, teacher_ids: torch.Tensor, teacher_logprobs: torch.Tensor,
            teacher_mask: torch.Tensor, alpha: float, temperature: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, ce, kl). logits [B, L, V]; labels [B, L] (-100: no loss); teacher_* [B, L, K] at the
    position of the token they predict; teacher_mask [B, L] (and [B, L, K] ids < 0 are padding)."""
    logits = logits[:, :-1].float()
    labels = labels[:, 1:]
    t_ids = teacher_ids[:, 1:]
    t_lp = teacher_logprobs[:, 1:].float()
    t_mask = teacher_mask[:, 1:]
    logp = torch.log_softmax(logits, dim=-1)
    valid = labels != -100
    ce = -(logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * valid).sum() / valid.sum().clamp(min=1)
    pad_k = t_ids < 0
    s_k = logp.gather(-1, t_ids.clamp(min=0))                      # student log p of the teacher's ids
    s_k = s_k.masked_fill(pad_k, -1e4)
    t_k = t_lp.masked_fill(pad_k, -1e4)
    s = _temper(_log_k_plus_tail(s_k), temperature)
    t = _temper(_log_k_plus_tail(t_k), temperature)
    kl_tok = (t.exp() * (t - s)).sum(-1)
    kl = (kl_tok * t_mask).sum() / t_mask.sum().clamp(min=1)
    loss = alpha * ce + (1 - alpha) * temperature ** 2 * kl
    return loss, ce.detach(), kl.detach()


class KDCollator:
    """Pads input_ids (right), builds labels from assistant_masks, places the teacher's top-k at
    the positions of the assistant tokens they describe."""

    def __init__(self, pad_token_id: int, ids_column: str = "topk_ids", logprobs_column: str = "topk_logprobs"):
        self.pad = pad_token_id if pad_token_id is not None else 0
        self.ids_column, self.lp_column = ids_column, logprobs_column

    def __call__(self, examples: list[dict]) -> dict:
        length = max(len(e["input_ids"]) for e in examples)
        k = max((len(t) for e in examples for t in (e[self.ids_column] or []) if t), default=1)
        b = len(examples)
        input_ids = torch.full((b, length), self.pad, dtype=torch.long)
        attention = torch.zeros((b, length), dtype=torch.long)
        labels = torch.full((b, length), -100, dtype=torch.long)
        t_ids = torch.full((b, length, k), -1, dtype=torch.long)
        t_lp = torch.full((b, length, k), -1e4, dtype=torch.float32)
        t_mask = torch.zeros((b, length), dtype=torch.float32)
        for r, e in enumerate(examples):
            ids, mask = e["input_ids"], e["assistant_masks"]
            n = len(ids)
            input_ids[r, :n] = torch.tensor(ids)
            attention[r, :n] = 1
            pos = [i for i, m in enumerate(mask) if m]
            labels[r, pos] = torch.tensor(ids)[pos]
            topk_ids, topk_lp = e[self.ids_column], e[self.lp_column]
            if topk_ids is None or len(topk_ids) != len(pos) or len(topk_lp) != len(pos):
                got = None if topk_ids is None else len(topk_ids)
                raise BadInput(f"row with {len(pos)} assistant tokens has {got} teacher top-k lists: the teacher's "
                               f"tokenization differs from the student's (do they share a tokenizer?)")
            for p, ti, tl in zip(pos, topk_ids, topk_lp):
                t_ids[r, p, :len(ti)] = torch.tensor(ti, dtype=torch.long)
                t_lp[r, p, :len(tl)] = torch.tensor([float(x) for x in tl])
                t_mask[r, p] = 1.0
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels,
                "teacher_ids": t_ids, "teacher_logprobs": t_lp, "teacher_mask": t_mask}


class KDTrainer(trl.SFTTrainer):
    """SFTTrainer whose loss mixes hard-label CE with KL to the teacher's stored top-k."""

    def __init__(self, *args, kd: KDSection | None = None, **kwargs):
        self.kd = kd or KDSection()
        super().__init__(*args, **kwargs)
        self._kd_logs: dict[str, list[float]] = {"ce": [], "kl": []}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        t_ids, t_lp, t_mask = inputs.pop("teacher_ids"), inputs.pop("teacher_logprobs"), inputs.pop("teacher_mask")
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], use_cache=False)
        loss, ce, kl = kd_loss(outputs.logits, labels, t_ids, t_lp, t_mask, self.kd.alpha, self.kd.temperature)
        self._kd_logs["ce"].append(float(ce))
        self._kd_logs["kl"].append(float(kl))
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict, *args, **kwargs) -> None:
        for key, values in self._kd_logs.items():
            if values:
                logs[f"kd_{key}"] = sum(values) / len(values)
                values.clear()
        super().log(logs, *args, **kwargs)
