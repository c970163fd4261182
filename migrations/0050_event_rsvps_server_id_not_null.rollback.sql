-- Rollback of 0050_event_rsvps_server_id_not_null: the column nullable again,
-- with 0048's CHECK back as it was, NOT VALID (a brief lock, no scan).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-not-null
ALTER TABLE event_rsvps ALTER COLUMN server_id DROP NOT NULL;

ALTER TABLE event_rsvps ADD CONSTRAINT event_rsvps_server_id_set
    CHECK (server_id IS NOT NULL) NOT VALID;
