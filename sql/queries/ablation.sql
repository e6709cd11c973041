-- Each arm of an ablation: macro pass@1 mean and sd over seeds, boxed share, what it trained on.
-- needs-view: ablation_runs
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
GROUP BY arm
ORDER BY arm = 'recipe' DESC, macro_mean DESC;
