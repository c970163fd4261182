-- Rollback of 0049_event_rsvps_server_id_backfill: nothing to undo. The values
-- filled in are right whatever runs next, and 0048's rollback drops the column.
-- transactional: false

SELECT 1;
