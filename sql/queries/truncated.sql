-- Cut-off and broken traces per source and teacher (length limit, thinking never closed, no thinking, no final answer), and who dropped them.
-- needs: dropped_by
-- `unclosed` is the format stage's unclosed_thinking rule (meta thinking_closed/closed = false, a
-- delimiter left in the text, or thinking with nothing after it that nothing says was closed), so it
-- agrees with ingest's count of unclosed thinking blocks and with fmt_unclosed_thinking.
WITH t AS (
    SELECT source, teacher, dropped_by,
           coalesce(finish_reason = 'length', false) AS length_limit,
           coalesce(json_extract_string(meta, '$.thinking_closed'), json_extract_string(meta, '$.closed')) AS said,
           regexp_full_match(coalesce(thinking, ''), '\s*') AS no_thinking,
           regexp_full_match(coalesce(response, ''), '\s*') AS no_answer,
           regexp_matches(coalesce(thinking, '') || chr(10) || coalesce(response, ''),
                          '</?think>|<\|(begin|end)_of_(thought|solution)\|>')
               AS stray
    FROM traces
), flagged AS (
    SELECT *, coalesce(said = 'false', false) OR stray
              OR (no_answer AND NOT no_thinking AND coalesce(said, '') <> 'true') AS unclosed
    FROM t
)
SELECT source, teacher,
       count(*) AS rows,
       count(*) FILTER (WHERE length_limit OR unclosed) AS truncated,
       round(100.0 * count(*) FILTER (WHERE length_limit OR unclosed) / count(*), 1) AS pct_truncated,
       count(*) FILTER (WHERE length_limit) AS length_limit,
       count(*) FILTER (WHERE unclosed) AS unclosed_thinking,
       count(*) FILTER (WHERE no_thinking) AS empty_thinking,
       count(*) FILTER (WHERE no_answer) AS no_final_answer,
       count(*) FILTER (WHERE (length_limit OR unclosed) AND dropped_by IS NULL) AS truncated_kept,
       count(*) FILTER (WHERE (length_limit OR unclosed OR no_thinking OR no_answer) AND dropped_by IS NULL)
           AS broken_kept,
       list(DISTINCT dropped_by ORDER BY dropped_by)
           FILTER (WHERE (length_limit OR unclosed OR no_thinking OR no_answer) AND dropped_by IS NOT NULL)
           AS dropped_by
FROM flagged
GROUP BY ALL
ORDER BY truncated DESC, source, teacher;
