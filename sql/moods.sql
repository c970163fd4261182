-- Moods (partitioned by month of recorded_at). Rows map to dal.moods.Mood.

-- name: insert
-- Record a mood; the row lands in its month's partition (or moods_default).
INSERT INTO moods (user_id, recorded_at, mood, intensity, notes)
VALUES (%(user_id)s, coalesce(%(recorded_at)s, now()), %(mood)s, %(intensity)s, %(notes)s)
RETURNING id, user_id, recorded_at, mood, intensity, notes, created_at;

-- name: get
-- One of a user's moods by its key (id, recorded_at): prunes to one partition.
SELECT id, user_id, recorded_at, mood, intensity, notes, created_at
  FROM moods
 WHERE id = %(id)s AND recorded_at = %(recorded_at)s AND user_id = %(user_id)s;

-- name: update
-- Change the given fields (set_x flags) of one of a user's moods, by its key (id, recorded_at).
UPDATE moods
   SET mood      = CASE WHEN %(set_mood)s THEN %(mood)s ELSE mood END,
       intensity = CASE WHEN %(set_intensity)s THEN %(intensity)s ELSE intensity END,
       notes     = CASE WHEN %(set_notes)s THEN %(notes)s ELSE notes END
 WHERE id = %(id)s AND recorded_at = %(recorded_at)s AND user_id = %(user_id)s
RETURNING id, user_id, recorded_at, mood, intensity, notes, created_at;

-- name: delete
-- Delete one of a user's moods by its key (id, recorded_at).
DELETE FROM moods
 WHERE id = %(id)s AND recorded_at = %(recorded_at)s AND user_id = %(user_id)s;

-- name: list_first_page
-- A user's moods in [since, until), newest first (moods_<month>_user_id_recorded_at_idx).
SELECT id, user_id, recorded_at, mood, intensity, notes, created_at
  FROM moods
 WHERE user_id = %(user_id)s
   AND recorded_at >= %(since)s AND recorded_at < %(until)s
 ORDER BY recorded_at DESC, id DESC
 LIMIT %(limit)s;

-- name: list_page_after
-- The page of a user's moods in [since, until) after a (recorded_at, id) cursor.
SELECT id, user_id, recorded_at, mood, intensity, notes, created_at
  FROM moods
 WHERE user_id = %(user_id)s
   AND recorded_at >= %(since)s AND recorded_at < %(until)s
   AND (recorded_at, id) < (%(before_recorded_at)s, %(before_id)s)
 ORDER BY recorded_at DESC, id DESC
 LIMIT %(limit)s;

-- name: daily_averages
-- Per local day in [since, until): entries and average intensity (index-only per partition).
SELECT (recorded_at AT TIME ZONE %(time_zone)s)::date AS day,
       count(*) AS entries,
       round(avg(intensity), 2) AS average_intensity
  FROM moods
 WHERE user_id = %(user_id)s
   AND recorded_at >= %(since)s AND recorded_at < %(until)s
 GROUP BY day
 ORDER BY day;

-- name: ensure_partitions
-- Create the monthly partitions from from_month through months_ahead later; names created.
SELECT moods_ensure_partitions(%(from_month)s::date, %(months_ahead)s::integer);

-- name: current_month
-- The first day of the current month in UTC (the default start of ensure_partitions).
SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date;

-- name: list_partitions
-- The partitions of moods with their bounds, in order (from the catalog).
SELECT c.relname AS name,
       pg_get_expr(c.relpartbound, c.oid) AS bounds,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS index_count
  FROM pg_inherits h
  JOIN pg_class c ON c.oid = h.inhrelid
 WHERE h.inhparent = 'moods'::regclass
 ORDER BY c.relname;
