-- The domain mix before and after curation: rows and share per domain, in all traces and in the kept set.
-- needs: domain, dropped_by
SELECT coalesce(domain, '(not classified)') AS domain,
       count(*) AS all_rows,
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct_all,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept_rows,
       round(100.0 * count(*) FILTER (WHERE dropped_by IS NULL)
             / nullif(sum(count(*) FILTER (WHERE dropped_by IS NULL)) OVER (), 0), 1) AS pct_kept
FROM traces
GROUP BY ALL
ORDER BY all_rows DESC, domain;
