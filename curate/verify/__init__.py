"""Answer verification: is a response's final answer equal to the reference?

    from curate.verify import verify_batch, verify_pair
    verify_pair("\\frac{1}{2}", "The answer is $0.5$.")   # Verdict(verdict='correct', …)

Pipeline (`batch`): `extract` (find the final answer, and the rule that found it) → `normalize`
(canonical text) in `pool` worker processes; then, in the caller, equal text, `numbers` (plain
numbers without sympy) and the pool's cache of judged pairs; then, in the workers again, `parse`
(the answer's structure; expressions by `latex`: plain arithmetic ourselves, the rest with
latex2sympy2_extended, never eval) → `equivalence` (cheapest test first). Each pair's extraction
and judging run under one hard time limit. `files.verify_file` is the `distillery verify` command.
"""

from curate.verify.batch import VERDICTS, Verdict, verify_batch, verify_pair
from curate.verify.extract import extract_answer, extract_gold, find_answer
from curate.verify.normalize import normalize
from curate.verify.options import PERCENT_POLICIES, Options

__all__ = ["VERDICTS", "PERCENT_POLICIES", "Options", "Verdict", "extract_answer", "extract_gold", "find_answer",
           "normalize", "verify_batch", "verify_pair", "verify_file"]


def verify_file(*args, **kwargs):
    """See `curate.verify.files.verify_file` (imported on use: it reads Parquet)."""
    from curate.verify.files import verify_file as run

    return run(*args, **kwargs)
