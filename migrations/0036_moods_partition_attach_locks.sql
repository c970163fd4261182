-- Moods: making a month partition waits at most 2 s for its locks, and ATTACH
-- no longer scans the default partition.
--
-- Why: moods_create_partition ran ATTACH PARTITION with no lock_timeout.
-- ATTACH locks moods_default ACCESS EXCLUSIVE; behind one long reader of
-- moods it waited, and every moods query queued behind its waiting lock: one
-- slow report could stop all mood writes until it ended. Now the function
-- carries its own lock_timeout (2 s), so a blocked call fails fast as a
-- QueryTimeout and the monthly job tries again later; nothing queues behind it.
--
-- ATTACH also scanned the whole of moods_default under that lock, to prove no
-- row belongs to the new month. As PostgreSQL's documentation advises, a CHECK
-- on moods_default excluding the month is added first (once the month's rows
-- have moved out), which ATTACH takes as the proof; it is dropped after the
-- ATTACH, whose partition bound now says the same. moods_default holds only
-- rows no month partition covers, so the CHECK's own scan is short.
-- depends: 0035_surveys_status_transition

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE OR REPLACE FUNCTION moods_create_partition(month date) RETURNS text
    LANGUAGE plpgsql
    SET lock_timeout = '2s' AS
$$
DECLARE
    lower_bound timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp
                               AT TIME ZONE 'UTC';
    part        text := 'moods_' || to_char(date_trunc('month', month), '"y"YYYY"m"MM');
    outside     text := 'moods_default_outside_' || substr(part, 7);
BEGIN
    IF to_regclass(format('%I', part)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE moods INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    -- Rows of this month that landed in the default partition move here first.
    EXECUTE format(
        'WITH moved AS (DELETE FROM moods_default WHERE recorded_at >= %L AND recorded_at < %L '
        'RETURNING *) INSERT INTO %I SELECT * FROM moved',
        lower_bound, upper_bound, part);
    EXECUTE format(
        'CREATE INDEX %I ON %I (user_id, recorded_at, id) INCLUDE (intensity, mood)',
        part || '_user_id_recorded_at_idx', part);
    EXECUTE format(
        'ALTER TABLE moods_default ADD CONSTRAINT %I CHECK (recorded_at < %L OR recorded_at >= %L)',
        outside, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE moods ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   part, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE moods_default DROP CONSTRAINT %I', outside);
    RETURN part;
END;
$$;

COMMENT ON FUNCTION moods_create_partition(date) IS
    'Create the moods partition for the month of the given date (moving its rows out of '
    'moods_default); returns its name, or NULL when it already exists. Waits at most 2 s '
    'for a lock.';
