-- Teachers side by side over the problems every teacher answered: accuracy, pass@k, thinking length, truncation, loops, unboxed answers, problems only it solved.
-- needs: verdict, looping
-- The problems: those every teacher has a graded sample of (verify stage). accuracy and pass_at_k
-- are over the graded samples (pass@k with k = the teacher's graded samples of the problem: solved
-- by any of them); the rates and lengths over all of its samples of those problems (truncated rows
-- are dropped before grading); loop_rate over the rows the budget stage saw. Lengths are words and
-- punctuation marks (`\w+|[^\w\s]`): tokenizer-free, the same measure for every teacher (a subword
-- tokenizer counts more); input_words / output_words are what `distillery report --prices` prices.
WITH every AS (
    SELECT teacher, problem_id, verdict, verdict = 'correct' AS ok, finish_reason, response, looping,
           len(regexp_extract_all(coalesce(thinking, ''), '\w+|[^\w\s]')) AS think_words,
           len(regexp_extract_all(coalesce(problem, ''), '\w+|[^\w\s]')) AS in_words,
           len(regexp_extract_all(coalesce(thinking, '') || ' ' || coalesce(response, ''), '\w+|[^\w\s]')) AS out_words
    FROM traces
    WHERE teacher IS NOT NULL
),
graded AS (SELECT * FROM every WHERE verdict IS NOT NULL),
common AS (   -- problems every teacher has a graded sample of
    SELECT problem_id FROM graded GROUP BY problem_id
    HAVING count(DISTINCT teacher) = (SELECT count(DISTINCT teacher) FROM graded)
),
rows AS (SELECT * FROM every WHERE problem_id IN (SELECT problem_id FROM common)),
per_problem AS (
    SELECT teacher, problem_id, bool_or(ok) AS solved FROM rows WHERE verdict IS NOT NULL GROUP BY teacher, problem_id
),
solo AS (
    SELECT problem_id, any_value(teacher) AS teacher FROM per_problem WHERE solved
    GROUP BY problem_id HAVING count(*) = 1
)
SELECT r.teacher,
       count(DISTINCT r.problem_id) AS problems,
       count(*) AS samples,
       count(r.verdict) AS graded,
       round(avg(r.ok::INT), 3) AS accuracy,
       round((SELECT avg(solved::INT) FROM per_problem p WHERE p.teacher = r.teacher), 3) AS pass_at_k,
       round(avg(r.think_words), 1) AS thinking_words_mean,
       quantile_disc(r.think_words, 0.5) AS thinking_words_p50,
       quantile_disc(r.think_words, 0.95) AS thinking_words_p95,
       round(avg((r.finish_reason = 'length')::INT), 3) AS truncation_rate,
       round(avg(r.looping::INT), 3) AS loop_rate,
       round(avg((strpos(coalesce(r.response, ''), '\boxed{') = 0)::INT), 3) AS unboxed_rate,
       (SELECT count(*) FROM solo o WHERE o.teacher = r.teacher) AS only_it_solved,
       sum(r.in_words)::BIGINT AS input_words,
       sum(r.out_words)::BIGINT AS output_words
FROM rows r
GROUP BY r.teacher
ORDER BY accuracy DESC, r.teacher;
