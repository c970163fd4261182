-- Fill event_rsvps.server_id (0048) for the RSVPs written before it.
--
-- Why a migration of its own, without a transaction: one UPDATE of every RSVP
-- would hold each row's lock until it committed, so answers being changed would
-- wait for the whole table. Instead the DO block below walks the RSVPs by event
-- id, a range of the primary key at a time, and commits after each range: a row
-- is locked for one short batch, and a run stopped halfway keeps what it did (a
-- rerun starts from the first event with an RSVP still to fill). The UPDATE fires
-- event_rsvps_set_server_id, which sets the value; the going count no longer
-- fires on it (0048). The session's timeouts are reset at the end, so the
-- migrations run after this one get the runner's own.
-- depends: 0048_event_rsvps_server_id
-- transactional: false

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DO $backfill$
DECLARE
    lower_id bigint := (SELECT min(event_id) FROM event_rsvps WHERE server_id IS NULL);
    last_id  bigint := (SELECT max(id) FROM events);
    step     constant bigint := 100;  -- events per batch: a few thousand RSVPs
BEGIN
    WHILE lower_id <= last_id LOOP
        UPDATE event_rsvps r
           SET server_id = e.server_id
          FROM events e
         WHERE e.id = r.event_id
           AND r.event_id >= lower_id AND r.event_id < lower_id + step
           AND r.server_id IS NULL;
        COMMIT;
        lower_id := lower_id + step;
    END LOOP;
END
$backfill$;

RESET statement_timeout;

RESET lock_timeout;
