-- A seeded random sample of traces: SET VARIABLE n (default 5) and seed (default 0) to change it.
WITH t AS (
    -- A bare trace folder has no drop columns: an empty stub supplies them as nulls.
    FROM traces UNION ALL BY NAME SELECT NULL AS dropped_by, NULL AS drop_reason WHERE false
)
SELECT trace_id, source, problem, thinking, response, dropped_by, drop_reason
FROM t
ORDER BY hash(trace_id || coalesce(getvariable('seed'), 0)::VARCHAR), trace_id
LIMIT coalesce(getvariable('n'), 5);
