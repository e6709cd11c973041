-- What each arm of an ablation trained on, by why the recipe would have dropped it (rows per seed).
-- needs-view: ablation_selections
SELECT s.arm,
       coalesce(t.dropped_by || ': ' || t.drop_reason, '(kept by the recipe)') AS recipe_verdict,
       round(count(*) / count(DISTINCT s.seed), 1) AS rows_per_seed
FROM ablation_selections s JOIN traces t USING (trace_id)
GROUP BY ALL
ORDER BY s.arm, rows_per_seed DESC;
