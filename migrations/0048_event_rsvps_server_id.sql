-- RSVPs carry the server of their event, so row-level security can judge an RSVP
-- by its own row, as 0043 did for survey answers.
--
-- Why: an event's RSVPs are seen by its server's members (0046). An RSVP names
-- only its event, so the policy reached the server through events, and the
-- planner answered it by reading every event of the acting user's servers (about
-- 190 buffers to list or count one event's answers at the `large` profile, and
-- growing with the servers' events). With server_id on the row the rule is one
-- comparison with an array the statement computes once. It is a copy, kept right
-- by the database:
--   * event_rsvps_set_server_id sets it on every INSERT and UPDATE, from the
--     event (as the owner: the writer may not read every event);
--   * an event never changes server (events_keep_server, 0046), so the copy
--     cannot go stale.
-- The column starts NULL for existing rows: 0049 fills them in batches, 0050
-- validates the CHECK below and makes the column NOT NULL. Adding a nullable
-- column without a default and a NOT VALID CHECK is a catalog change: no scan.
--
-- The going-count trigger now fires on an UPDATE only when the response or the
-- event changes: the backfill's UPDATE of server_id alone must not count seats
-- again, nor be refused for an event that is no longer scheduled.
-- depends: 0047_row_level_security_covering_indexes

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE event_rsvps ADD COLUMN server_id bigint;

ALTER TABLE event_rsvps ADD CONSTRAINT event_rsvps_server_id_set
    CHECK (server_id IS NOT NULL) NOT VALID;

COMMENT ON COLUMN event_rsvps.server_id IS
    'The server of the RSVP''s event, copied by trigger event_rsvps_assign_server_id '
    'for row-level security.';

CREATE FUNCTION event_rsvps_set_server_id() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    SELECT e.server_id INTO NEW.server_id FROM events e WHERE e.id = NEW.event_id;
    IF NOT FOUND THEN
        -- What the foreign key would say, had NOT NULL on server_id not come first.
        RAISE EXCEPTION 'event % does not exist', NEW.event_id
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'event_rsvps_event_id_fkey',
                  TABLE = 'event_rsvps',
                  COLUMN = 'event_id';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION event_rsvps_set_server_id() IS
    'BEFORE INSERT OR UPDATE trigger on event_rsvps: server_id from the event.';

CREATE TRIGGER event_rsvps_assign_server_id BEFORE INSERT OR UPDATE ON event_rsvps
    FOR EACH ROW EXECUTE FUNCTION event_rsvps_set_server_id();

DROP TRIGGER event_rsvps_count_going ON event_rsvps;
CREATE TRIGGER event_rsvps_count_going
    AFTER INSERT OR DELETE OR UPDATE OF event_id, response ON event_rsvps
    FOR EACH ROW EXECUTE FUNCTION event_rsvps_count_going();
