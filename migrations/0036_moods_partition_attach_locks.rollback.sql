-- Rollback of 0036_moods_partition_attach_locks: the function as 0022 made it
-- (no lock_timeout of its own, no CHECK before ATTACH).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE OR REPLACE FUNCTION moods_create_partition(month date) RETURNS text
    LANGUAGE plpgsql AS
$$
DECLARE
    lower_bound timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp
                               AT TIME ZONE 'UTC';
    part        text := 'moods_' || to_char(date_trunc('month', month), '"y"YYYY"m"MM');
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
    EXECUTE format('ALTER TABLE moods ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   part, lower_bound, upper_bound);
    RETURN part;
END;
$$;

COMMENT ON FUNCTION moods_create_partition(date) IS
    'Create the moods partition for the month of the given date (moving its rows out of '
    'moods_default); returns its name, or NULL when it already exists.';
