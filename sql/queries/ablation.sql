-- Each arm of an ablation: macro pass@1 mean and sd over seeds, its 95% interval, the gap to the
-- recipe with its interval and whether it excludes zero, boxed share, what it trained on.
-- needs-view: ablation_runs, ablation_intervals
WITH arms AS (
SELECT arm,
       count(*) AS seeds,
       round(avg(macro_pass_at_1), 3) AS macro_mean,
       round(stddev_samp(macro_pass_at_1), 3) AS macro_sd,
       round(avg(micro_pass_at_1), 3) AS micro_mean,
       round(avg(boxed_share), 3) AS boxed_share,
       min(steps) AS steps,
       round(avg(rows_trained)) AS rows_trained,
       round(avg(rows_over_max_length)) AS rows_over_max_length
FROM ablation_runs
GROUP BY arm)
SELECT arms.*,
       round(a.ci_lo, 3) AS macro_ci_lo,
       round(a.ci_hi, 3) AS macro_ci_hi,
       round(g.mean, 3) AS gap,
       round(g.ci_lo, 3) AS gap_ci_lo,
       round(g.ci_hi, 3) AS gap_ci_hi,
       g.excludes_zero AS gap_excludes_zero
FROM arms
LEFT JOIN ablation_intervals a ON a.kind = 'arm' AND a.name = arms.arm
LEFT JOIN ablation_intervals g ON g.kind = 'gap' AND g.name = 'recipe - ' || arms.arm
ORDER BY arms.arm = 'recipe' DESC, macro_mean DESC;
