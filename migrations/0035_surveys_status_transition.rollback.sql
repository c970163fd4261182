-- Rollback of 0035_surveys_status_transition: drops the trigger, then its function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER surveys_keep_status_moves ON surveys;

DROP FUNCTION surveys_keep_status_moves();
