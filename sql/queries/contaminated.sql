-- Which benchmark items the traces overlap: rows and problems per item, how many were kept, an example.
-- needs: contaminated_with, dropped_by
WITH hits AS (
    -- contaminated_with is a list of benchmark ids or text holding them: read the ids out of either.
    SELECT unnest(regexp_extract_all(contaminated_with::VARCHAR, '[^\[\],\s''"]+')) AS benchmark_item,
           problem_id, problem, dropped_by
    FROM traces
    WHERE contaminated_with IS NOT NULL
)
SELECT benchmark_item,
       count(*) AS rows,
       count(DISTINCT problem_id) AS problems,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept,
       min(left(problem, 160)) AS example
FROM hits
GROUP BY benchmark_item
ORDER BY rows DESC, benchmark_item;
