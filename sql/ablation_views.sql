-- Views over an ablation in a run folder (`distillery ablate --out RUN`: RUN/ablation/), read after
-- views.sql when RUN/ablation/runs.parquet exists. The arm `recipe` is the recipe's own selection.
-- `ablation` is that folder and the file names are curate/ablation_files.py's (a test checks them).

-- One row per arm × seed: macro / micro pass@1, boxed share, steps, rows trained, the config.
CREATE OR REPLACE VIEW ablation_runs AS
FROM read_parquet(getvariable('ablation') || '/runs.parquet');

-- One row per arm × seed × family: problems, correct, pass@1, boxed share.
CREATE OR REPLACE VIEW ablation_results AS
FROM read_parquet(getvariable('ablation') || '/results.parquet');

-- One row per arm × seed × held-out problem: samples, correct, pass@1 (what the intervals resample).
CREATE OR REPLACE VIEW ablation_problems AS
FROM read_parquet(getvariable('ablation') || '/problems.parquet');

-- One row per arm and per gap (recipe − baseline): macro pass@1 or the gap, its 95% interval
-- (paired bootstrap over problems and seeds), and for a gap whether the interval excludes zero.
CREATE OR REPLACE VIEW ablation_intervals AS
FROM read_parquet(getvariable('ablation') || '/intervals.parquet');

-- The rows each arm trained on (rank = order chosen); join `traces` on trace_id for why the recipe
-- would have dropped them.
CREATE OR REPLACE VIEW ablation_selections AS
SELECT arm, seed, rank, trace_id, problem_id, source, problem
FROM read_parquet(getvariable('ablation') || '/selections/*/*.parquet');

-- Every student's graded answers: arm, seed, then eval's sample columns (correct, verdict, …).
CREATE OR REPLACE VIEW ablation_samples AS
SELECT regexp_extract(filename, '/students/([^/]+)/seed-[0-9]+/', 1) AS arm,
       CAST(regexp_extract(filename, '/seed-([0-9]+)/eval/', 1) AS INTEGER) AS seed,
       * EXCLUDE (filename)
FROM read_parquet(getvariable('ablation') || '/students/*/*/eval/samples.parquet', filename = true);
