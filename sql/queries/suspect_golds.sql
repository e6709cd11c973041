-- Problems whose samples confidently agree on an answer the gold contradicts (gold_audit stage), largest majority first.
-- needs: gold_suspect
SELECT problem_id,
       any_value(problem) AS problem,
       -- with action replace the gold column holds the majority; the gold it had is in meta
       any_value(coalesce(json_extract_string(meta, '$.gold_audit.replaced_gold'), gold)) AS gold,
       any_value(majority_answer) AS majority_answer,
       round(any_value(majority_share), 2) AS majority_share,
       any_value(audit_answers) AS answers,
       count(*) AS samples,
       bool_or(json_extract_string(meta, '$.gold_audit.replaced_gold') IS NOT NULL) AS replaced,
       count(*) FILTER (WHERE dropped_by IS NULL) AS kept
FROM traces
WHERE gold_suspect
GROUP BY problem_id
ORDER BY majority_share DESC, answers DESC, problem_id;
