-- event_rsvps.server_id is always set: validate 0048's CHECK, then NOT NULL.
--
-- Why: 0049 filled the column and the trigger fills every new row, but only a
-- validated constraint lets the policies of 0052 rely on it. VALIDATE CONSTRAINT
-- scans under SHARE UPDATE EXCLUSIVE, so writes go on. SET NOT NULL then needs an
-- ACCESS EXCLUSIVE lock, but no scan: PostgreSQL proves the column has no NULL
-- from the validated CHECK, which is dropped after, as NOT NULL says the same.
-- depends: 0049_event_rsvps_server_id_backfill

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '10min';

ALTER TABLE event_rsvps VALIDATE CONSTRAINT event_rsvps_server_id_set;

-- squawk-ignore adding-not-nullable-field
ALTER TABLE event_rsvps ALTER COLUMN server_id SET NOT NULL;

-- squawk-ignore ban-drop-constraint
ALTER TABLE event_rsvps DROP CONSTRAINT event_rsvps_server_id_set;
