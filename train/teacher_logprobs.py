"""A teacher's top-k log-probabilities by teacher forcing, for soft-label distillation.

For every token of the assistant turn (as the chat template renders and masks it, end-of-turn
included) the teacher's k most likely ids and their log-probabilities at that position, given
everything before it: the `topk_ids` / `topk_logprobs` columns of the trace schema. A later
`distillery score` command can reuse `score_messages` as it is.
"""

from __future__ import annotations

import pyarrow as pa

from curate.errors import require


def score_messages(model, tokenizer, conversations: list[list[dict]], k: int = 8) -> tuple[list, list]:
    """(topk_ids, topk_logprobs) per conversation: one list of k per assistant token."""
    torch = require("torch", "train", "teacher top-k")
    ids_out, lp_out = [], []
    model.eval()
    for messages in conversations:
        enc = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                            return_assistant_tokens_mask=True)
        ids, mask = enc["input_ids"], enc["assistant_masks"]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        pos = [i for i, m in enumerate(mask) if m and i > 0]
        # token at position p is predicted by the logits at p - 1
        top = logp[[p - 1 for p in pos]].topk(k, dim=-1)
        ids_out.append(top.indices.to(torch.int32).tolist())
        lp_out.append(top.values.to(torch.float16).float().tolist())
    return ids_out, lp_out


def add_topk(table: pa.Table, teacher: str, k: int = 8, tokenizer=None) -> pa.Table:
    """`table` (with `messages`) plus the teacher's topk_ids / topk_logprobs columns."""
    transformers = require("transformers", "train", "teacher top-k")
    from train.data import prepare_tokenizer

    model = transformers.AutoModelForCausalLM.from_pretrained(teacher)
    tok = tokenizer or transformers.AutoTokenizer.from_pretrained(teacher)
    prepare_tokenizer(tok, name=teacher)
    convs = [[{"role": m["role"], "content": m["content"]} for m in row] for row in table.column("messages").to_pylist()]
    ids, lps = score_messages(model, tok, convs, k)
    table = table.append_column("topk_ids", pa.array(ids, pa.list_(pa.list_(pa.int32()))))
    lp_arr = pa.array(lps, pa.list_(pa.list_(pa.float32()))).cast(pa.list_(pa.list_(pa.float16())))
    return table.append_column("topk_logprobs", lp_arr)
