-- How many rows each stage took in, kept and dropped, and why (counted from traces.parquet).
-- needs: dropped_by
SELECT stage, rows_in, rows_out, dropped,
       round(100.0 * dropped / nullif(rows_in, 0), 1) AS pct_dropped,
       drops_by_reason
FROM funnel
ORDER BY stage;
