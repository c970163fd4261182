-- Rollback of 0033_recommendations_mood_owner: drops the trigger, then its function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER recommendations_check_mood ON recommendations;

DROP FUNCTION recommendations_check_mood();
