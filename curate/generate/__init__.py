"""`distillery generate`: a teacher answers every problem n times, into trace shards, resumably.

    OUT/gen-<settings hash>-NNNNN.parquet   trace rows, written atomically as work completes
    OUT/gen-<settings hash>.json            the settings those shards were made with

The settings hash covers the model and every sampling setting (temperature, top-p, max tokens,
seed, system prompt, logprobs, budget forcing), not n, the back-end, the URL or concurrency: the
same command run again reads the shards of its hash and skips every (problem_id, sample_idx)
already written; raising n adds only the missing samples. A shard is renamed into place whole, so
a run killed at any moment (kill -9 included) loses at most the samples not yet flushed, and
never writes one twice.

Rows are in the trace schema (`curate/schema.py`), plus `prompt_tokens`, `completion_tokens`,
`thinking_tokens`, `truncated`, `temperature`, `top_p`, `max_tokens` columns; `finish_reason =
'length'` rows are kept and flagged (`truncated = true`), and counted apart in the summary.
"""

from curate.generate.backend import Forcing, SamplingParams, delimiters
from curate.generate.problems import load_problems
from curate.generate.runner import GenerateResult, Stats, generate
from curate.generate.shards import PREFIX, sample_seed, settings_hash

__all__ = ["generate", "load_problems", "Forcing", "SamplingParams", "Stats", "GenerateResult", "settings_hash",
           "sample_seed", "delimiters", "PREFIX"]
