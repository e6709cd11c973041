"""Student training and evaluation: `distillery train sft | kd`, `distillery eval`, `distillery tiny-model`,
`distillery ablate`.

    sft.py      TRL SFTTrainer on a run's `messages` (assistant-only loss, end-of-turn trained,
                bfd packing, max_length from the config or the data, over-length rows reported)
    kd.py       soft-label distillation: α·CE + (1−α)·T²·KL over the teacher's top-k + tail
    evaluate.py n samples per problem, verified with curate.verify; pass@1, unbiased pass@k
    data.py     loading, chat-template checks, tokenization and length accounting
    config.py   typed configs (configs/*.yaml) and `--set` overrides
    card.py     model card, loss.png, train_log.jsonl, train_summary.json
    tiny.py     a tiny random-weight Qwen2 student with a local tokenizer (tests, demo; `procedural`
                profile: the 0.54M student of the ablation)
    launch.py   what `accelerate launch` runs on every process: `sft.train` with the CLI's arguments
    ablate.py   the recipe's k against baseline k of one pool: students per arm and seed, graded
                (each student a subprocess calling `sft.train` then `evaluate.evaluate`)
    baselines.py          the baseline selectors (random, longest, diverse, unfiltered-top, …)
    ablation_table.py     mean ± sd over seeds, per family, paired gaps; the plot (curate.charts);
                          its files' layout is curate.ablation_files, which the report reads

The teacher's top-k for kd comes from `distillery score` (curate.generate.score). train imports
curate's libraries, store and runner, never its stages or CLI.

Heavy dependencies (torch, transformers, trl, peft, datasets) are imported inside functions.
"""
