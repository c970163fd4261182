-- Rollback of 0021_surveys: drops the survey tables (indexes and triggers go
-- with them), then their trigger functions.

DROP TABLE survey_responses;

DROP FUNCTION survey_responses_check_answer();

DROP TABLE survey_questions;

DROP TABLE surveys;

DROP FUNCTION surveys_keep_anonymity();
