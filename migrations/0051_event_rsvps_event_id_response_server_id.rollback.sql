-- Rollback of 0051_event_rsvps_event_id_response_server_id: the index as 0020
-- made it, rebuilt CONCURRENTLY beside the current one, which then goes.

-- CONCURRENTLY takes only locks that let reads and writes go on, but its waits for
-- older transactions count against lock_timeout: a minute, not the seconds that
-- DDL blocking writes gets.
SET lock_timeout = '1min';

SET statement_timeout = '30min';

-- A run stopped between dropping an old index (or leaving it INVALID) and renaming
-- its replacement resumes here: the valid replacement takes the name first, so no
-- step below drops the only valid index. (A function of this session only.)
CREATE FUNCTION pg_temp.resume_swap(replacement text, name text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(replacement) AND indisvalid)
       AND NOT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass(name) AND indisvalid)
    THEN
        -- Dropping an invalid index locks its table: briefly, or not at all.
        PERFORM set_config('lock_timeout', '5s', true);
        EXECUTE format('DROP INDEX IF EXISTS %I', name);
        EXECUTE format('ALTER INDEX %I RENAME TO %I', replacement, name);
    END IF;
END
$$;

DO $$ BEGIN PERFORM pg_temp.resume_swap('event_rsvps_event_id_response_old_idx', 'event_rsvps_event_id_response_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_old_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS event_rsvps_event_id_response_old_idx
    ON event_rsvps (event_id, response, responded_at, user_id);

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_idx;

-- squawk-ignore renaming-object
ALTER INDEX event_rsvps_event_id_response_old_idx RENAME TO event_rsvps_event_id_response_idx;

RESET statement_timeout;

RESET lock_timeout;
