-- Teachers side by side over the problems every teacher answered: accuracy, pass@k, thinking length, truncation, loops, unboxed answers, problems only it solved.
-- needs: verdict, looping
-- Graded rows: those the verify stage saw (a row dropped earlier, e.g. as a duplicate, has no verdict).
-- Lengths are words and punctuation marks (`\w+|[^\w\s]`): tokenizer-free, the same measure for
-- every teacher; a subword tokenizer gives more. pass_at_k is pass@k with k = the teacher's samples
-- of the problem (solved by any of them). loop_rate is over the rows the budget stage saw.
WITH graded AS (
    SELECT teacher, problem_id, verdict = 'correct' AS ok, finish_reason, response, looping,
           len(regexp_extract_all(coalesce(thinking, ''), '\w+|[^\w\s]')) AS think_words,
           len(regexp_extract_all(coalesce(problem, ''), '\w+|[^\w\s]')) AS in_words,
           len(regexp_extract_all(coalesce(thinking, '') || ' ' || coalesce(response, ''), '\w+|[^\w\s]')) AS out_words
    FROM traces
    WHERE verdict IS NOT NULL AND teacher IS NOT NULL
),
common AS (   -- problems every teacher has a graded sample of
    SELECT problem_id FROM graded GROUP BY problem_id
    HAVING count(DISTINCT teacher) = (SELECT count(DISTINCT teacher) FROM graded)
),
rows AS (SELECT * FROM graded WHERE problem_id IN (SELECT problem_id FROM common)),
per_problem AS (
    SELECT teacher, problem_id, bool_or(ok) AS solved FROM rows GROUP BY teacher, problem_id
),
only AS (
    SELECT problem_id, any_value(teacher) AS teacher FROM per_problem WHERE solved
    GROUP BY problem_id HAVING count(*) = 1
)
SELECT r.teacher,
       count(DISTINCT r.problem_id) AS problems,
       count(*) AS samples,
       round(avg(r.ok::INT), 3) AS accuracy,
       round((SELECT avg(solved::INT) FROM per_problem p WHERE p.teacher = r.teacher), 3) AS pass_at_k,
       round(avg(r.think_words), 1) AS thinking_words_mean,
       quantile_disc(r.think_words, 0.5) AS thinking_words_p50,
       quantile_disc(r.think_words, 0.95) AS thinking_words_p95,
       round(avg((r.finish_reason = 'length')::INT), 3) AS truncation_rate,
       round(avg(r.looping::INT), 3) AS loop_rate,
       round(avg((strpos(coalesce(r.response, ''), '\boxed{') = 0)::INT), 3) AS unboxed_rate,
       (SELECT count(*) FROM only o WHERE o.teacher = r.teacher) AS only_it_solved,
       sum(r.in_words) AS input_words,
       sum(r.out_words) AS output_words
FROM rows r
GROUP BY r.teacher
ORDER BY accuracy DESC, r.teacher;
