-- The largest duplicate clusters first: their rows and problems, how many were kept, example problems.
-- needs: dup_cluster, dropped_by
SELECT dup_cluster,
       count(DISTINCT problem_id) AS problems,
       count(*) AS rows,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept,
       list(DISTINCT left(problem, 160) ORDER BY left(problem, 160))[1:3] AS examples
FROM traces
WHERE dup_cluster IS NOT NULL
GROUP BY dup_cluster
ORDER BY problems DESC, rows DESC, dup_cluster;
