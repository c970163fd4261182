-- Rollback of 0021_surveys: drops the survey tables (indexes and triggers go
-- with them), then their trigger functions.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE survey_responses;

DROP FUNCTION survey_responses_check_answer();

DROP TABLE survey_questions;

DROP TABLE surveys;

DROP FUNCTION surveys_keep_anonymity();
