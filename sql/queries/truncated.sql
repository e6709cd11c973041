-- How many traces hit the length limit (finish_reason = 'length') per source and teacher, and who dropped them.
-- needs: dropped_by
SELECT source, teacher,
       count(*) AS rows,
       count(*) FILTER (WHERE finish_reason = 'length') AS truncated,
       round(100.0 * count(*) FILTER (WHERE finish_reason = 'length') / count(*), 1) AS pct_truncated,
       count(*) FILTER (WHERE finish_reason = 'length' AND dropped_by IS NULL) AS truncated_kept,
       list(DISTINCT dropped_by ORDER BY dropped_by)
           FILTER (WHERE finish_reason = 'length' AND dropped_by IS NOT NULL) AS dropped_by
FROM traces
GROUP BY ALL
ORDER BY truncated DESC, source, teacher;
