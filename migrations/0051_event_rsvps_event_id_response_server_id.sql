-- An event's RSVPs by response, with the server row-level security judges them by.
--
-- Why: listing and counting an event's answers are index-only scans of
-- event_rsvps_event_id_response_idx. The RSVP policy (0052) reads server_id,
-- which that index lacks, so each answer would cost a heap fetch. The index is
-- rebuilt with server_id under INCLUDE (its key and order unchanged) and keeps
-- its name, as 0047 did for others.
--
-- Built CONCURRENTLY beside the old one (writes go on), outside a transaction,
-- hence a migration of its own: drop a leftover INVALID build of a failed run,
-- build, drop the old index, give the new one its name (SHARE UPDATE EXCLUSIVE:
-- no reads or writes wait). No client names the index (squawk's renaming-object
-- is ignored for that reason).
-- depends: 0050_event_rsvps_server_id_not_null
-- transactional: false

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

DO $$ BEGIN PERFORM pg_temp.resume_swap('event_rsvps_event_id_response_server_id_idx', 'event_rsvps_event_id_response_idx'); END $$;

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_server_id_idx;

CREATE INDEX CONCURRENTLY IF NOT EXISTS event_rsvps_event_id_response_server_id_idx
    ON event_rsvps (event_id, response, responded_at, user_id) INCLUDE (server_id);

DROP INDEX CONCURRENTLY IF EXISTS event_rsvps_event_id_response_idx;

-- squawk-ignore renaming-object
ALTER INDEX event_rsvps_event_id_response_server_id_idx RENAME TO event_rsvps_event_id_response_idx;

RESET statement_timeout;

RESET lock_timeout;
