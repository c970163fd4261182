-- Rollback of 0034_events_status_transition: drops the trigger, then its function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER events_keep_status_final ON events;

DROP FUNCTION events_keep_status_final();
