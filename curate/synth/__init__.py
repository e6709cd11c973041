"""The embedded synthetic corpus: math problems with known answers, teacher traces with planted
defects, and student attempts. It is what the demo and the benchmarks run on without a network.

    cfg = SynthConfig(n=60_000, seed=0)
    result = write(cfg, "traces/")      # traces/synth-00000.parquet, traces/attempts/synth-00000.parquet
    print(result.summary())

Every row's `meta` (JSON) holds the truth a benchmark scores against: family, difficulty,
defects, correct (the boxed answer equals gold), the answer as written and its LaTeX form, and for
duplicates the problem_id of the original. Same config, same bytes: all randomness comes from
generators seeded by `seed` (numpy for the columnar draws, `random.Random` for the text).

Other profiles: `procedural` (`synth --profile procedural`): digit-by-digit arithmetic a tiny
student learns, for `distillery ablate`; `teachers` (`synth --profile teachers`, `teachers.py`): raw
outputs of six teachers, each in its own reasoning layout, for `distillery ingest`.

Modules: `config` (what is asked for, the result), `corpus` (generate, write), `instances` (the
problem instances and their duplicates), `rows` (teacher rows, attempts, the table), `answers`
(values and their equivalent LaTeX forms), `families` (the problems), `traces` (writing reasoning
and attempts), `defects` (what is planted, and the rates), `golds` (planted wrong gold answers).
"""

from curate.synth.config import Student, SynthConfig, SynthResult
from curate.synth.corpus import generate, write
from curate.synth.defects import DefectRates

__all__ = ["DefectRates", "Student", "SynthConfig", "SynthResult", "generate", "write"]
