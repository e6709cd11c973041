-- Views over one curation run folder (RUN/traces.parquet, RUN/selected.parquet, RUN/manifest.json).
--
-- Point them at a run with one line, then read this file. In the plain duckdb CLI:
--   duckdb -cmd "SET VARIABLE run = 'demo/runs/demo'" -cmd ".read sql/views.sql"
-- The views read the variable each time they run: `SET VARIABLE run = 'runs/other';` switches runs.
-- `distillery sql RUN` and `curate.sql.connect(RUN)` do the same. For a bare trace folder, see
-- folder_views.sql.

-- Every input row with every stage's columns; dropped_by / drop_reason are null on kept rows.
CREATE OR REPLACE VIEW traces AS
FROM read_parquet(getvariable('run') || '/traces.parquet');

-- The rows no stage dropped.
CREATE OR REPLACE VIEW kept AS
FROM traces WHERE dropped_by IS NULL;

-- The rows some stage dropped: which stage, and why.
CREATE OR REPLACE VIEW dropped AS
SELECT dropped_by AS stage, drop_reason AS reason, * EXCLUDE (dropped_by, drop_reason)
FROM traces WHERE dropped_by IS NOT NULL;

-- The training set as written: `messages` first, then the trace columns.
CREATE OR REPLACE VIEW selected AS
FROM read_parquet(getvariable('run') || '/selected.parquet');

-- One row per stage, as the manifest recorded it (labels NN-name sort in run order). `seconds` is
-- what computing the stage took, also when this run read it from the cache (`cached`,
-- `cached_seconds`: the read); `warnings`: what the stage found nothing to work on.
CREATE OR REPLACE VIEW stages AS
SELECT s.* FROM (
    SELECT unnest(from_json(stages, '[{"stage": "VARCHAR", "rows_in": "BIGINT", "rows_out": "BIGINT",
        "dropped": "BIGINT", "drops_by_reason": "MAP(VARCHAR, BIGINT)", "seconds": "DOUBLE",
        "cached": "BOOLEAN", "cached_seconds": "DOUBLE", "warnings": "VARCHAR[]", "stats": "JSON"}]')) AS s
    FROM read_json(getvariable('run') || '/manifest.json', columns = {stages: 'JSON'})
);

-- Rows in, rows out and drops by reason per stage, counted from traces.parquet itself (so it can
-- be checked against the manifest): a stage sees the rows that every earlier stage kept.
CREATE OR REPLACE VIEW funnel AS
WITH drops AS (
    SELECT dropped_by AS stage, drop_reason AS reason, count(*) AS n
    FROM traces WHERE dropped_by IS NOT NULL GROUP BY ALL
), per_stage AS (
    SELECT s.stage,
           coalesce(sum(d.n), 0)::BIGINT AS dropped,
           coalesce(map_from_entries(list((d.reason, d.n) ORDER BY d.n DESC, d.reason)
                                     FILTER (WHERE d.reason IS NOT NULL)), MAP {}) AS drops_by_reason
    FROM stages s LEFT JOIN drops d USING (stage)
    GROUP BY s.stage
), total AS (SELECT count(*) AS n FROM traces)
SELECT stage, rows_in, rows_in - dropped AS rows_out, dropped, drops_by_reason
FROM (
    SELECT stage, dropped, drops_by_reason,
           (SELECT n FROM total) - coalesce(sum(dropped) OVER (ORDER BY stage
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::BIGINT AS rows_in
    FROM per_stage
)
ORDER BY stage;

-- One row per problem: its samples, how many survived, its pass rate (from the verify stage when
-- the run has one: problem_pass_rate, else the share of graded samples whose verdict is 'correct').
CREATE OR REPLACE VIEW problems AS
WITH t AS (
    -- A run without a verify stage lacks these columns: an empty typed-as-null stub supplies them.
    FROM traces UNION ALL BY NAME
    SELECT NULL AS verdict, NULL AS problem_pass_rate WHERE false
)
SELECT problem_id,
       min(source) AS source,
       min(problem) AS problem,
       min(gold) AS gold,
       count(*) AS samples,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept_samples,
       coalesce(max(problem_pass_rate),
                avg(CASE WHEN verdict IS NOT NULL AND verdict <> 'no_gold' THEN (verdict = 'correct')::INT END))
           AS pass_rate,
       bool_or(dropped_by IS NULL) AS kept,
       list(DISTINCT dropped_by ORDER BY dropped_by) FILTER (WHERE dropped_by IS NOT NULL) AS dropped_by
FROM t
GROUP BY problem_id;
