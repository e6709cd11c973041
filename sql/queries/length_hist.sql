-- How long the thinking is before and after curation: rows per length bucket (characters, powers of two).
-- needs: dropped_by
WITH buckets AS (
    -- bucket e holds lengths in [2^e, 2^(e+1)); empty thinking gets bucket -1
    SELECT CASE WHEN length(thinking) = 0 THEN -1 ELSE floor(log2(length(thinking)))::INT END AS e,
           dropped_by IS NULL AS kept
    FROM traces
), span AS (
    -- every bucket from the shortest to the longest, so empty ones show as zeros
    SELECT unnest(range(min(e), max(e) + 1)) AS e FROM buckets
)
SELECT CASE WHEN span.e < 0 THEN 0 ELSE (2 ** span.e)::BIGINT END AS chars_from,
       CASE WHEN span.e < 0 THEN 1 ELSE (2 ** (span.e + 1))::BIGINT END AS chars_to,
       count(buckets.e) AS all_rows,
       count(buckets.e) FILTER (WHERE buckets.kept) AS kept_rows
FROM span LEFT JOIN buckets ON buckets.e = span.e
GROUP BY span.e
ORDER BY span.e;
