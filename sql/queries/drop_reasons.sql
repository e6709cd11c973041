-- Why rows were dropped: every stage's reasons, largest first, with their share of all input rows.
-- needs: dropped_by
SELECT stage, reason,
       count(*) AS rows,
       count(DISTINCT problem_id) AS problems,
       round(100.0 * count(*) / (SELECT count(*) FROM traces), 1) AS pct_of_input
FROM dropped
GROUP BY ALL
ORDER BY rows DESC, stage, reason;
