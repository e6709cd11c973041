"""Answer verification: is a response's final answer equal to the reference?

    from curate.verify import verify_batch, verify_pair
    verify_pair("\\frac{1}{2}", "The answer is $0.5$.")   # Verdict(verdict='correct', …)

Pipeline: `extract` (find the final answer) → `normalize` (canonical text) → `parse` (LaTeX to
sympy without eval) → `equivalence` (cheapest test first), the last two in `pool` worker
processes under a hard time limit. `files.verify_file` is the `distillery verify` command.
"""

from curate.verify.batch import VERDICTS, Verdict, verify_batch, verify_pair
from curate.verify.extract import extract_answer, extract_gold
from curate.verify.normalize import normalize
from curate.verify.options import PERCENT_POLICIES, Options

__all__ = ["VERDICTS", "PERCENT_POLICIES", "Options", "Verdict", "extract_answer", "extract_gold",
           "normalize", "verify_batch", "verify_pair", "verify_file"]


def verify_file(*args, **kwargs):
    """See `curate.verify.files.verify_file` (imported on use: it reads Parquet)."""
    from curate.verify.files import verify_file as run

    return run(*args, **kwargs)
