-- bench/content.sh: how :rows messages spread evenly over the :months months
-- before now fall into monthly partitions. One line per month:
--   partition month_start next_month_start chunk_from chunk_to first_row row_count
-- (first_row: the global number of the chunk's first message, which picks
-- its fan so that every fan gets the same share.)
SET TIME ZONE 'UTC';
WITH span AS (
  SELECT now() - make_interval(months => :months) AS lo, now() AS hi
), month AS (
  SELECT m AS start, m + interval '1 month' AS next, greatest(m, lo) AS c_lo, least(m + interval '1 month', hi) AS c_hi,
         lo, hi
    FROM span, generate_series(date_trunc('month', lo), hi, interval '1 month') AS m
), cut AS (
  SELECT *, floor(:rows * extract(epoch FROM c_lo - lo) / extract(epoch FROM hi - lo))::bigint AS first_row,
            floor(:rows * extract(epoch FROM c_hi - lo) / extract(epoch FROM hi - lo))::bigint AS end_row
    FROM month
)
SELECT 'messages_' || to_char(start, 'YYYYMM'),
       to_char(start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), to_char(next, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(c_lo, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), to_char(c_hi, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       first_row, end_row - first_row
  FROM cut ORDER BY start;
