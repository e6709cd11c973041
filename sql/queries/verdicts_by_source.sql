-- How the teacher's final answers were judged, per source: rows per verdict and how many were kept.
-- needs: verdict, dropped_by
SELECT source,
       coalesce(verdict, '(not verified)') AS verdict,
       count(*) AS rows,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY source), 1) AS pct_of_source
FROM traces
GROUP BY 1, 2
ORDER BY source, rows DESC, verdict;
