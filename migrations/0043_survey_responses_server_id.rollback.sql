-- Rollback of 0043_survey_responses_server_id: the copied column, its trigger and
-- the fixed-column triggers go; the answer check fires on every update again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER survey_questions_keep_survey ON survey_questions;
DROP TRIGGER surveys_keep_server ON surveys;
DROP FUNCTION keep_column_fixed();

DROP TRIGGER survey_responses_check_answer ON survey_responses;
CREATE TRIGGER survey_responses_check_answer BEFORE INSERT OR UPDATE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_check_answer();

DROP TRIGGER survey_responses_assign_server_id ON survey_responses;
DROP FUNCTION survey_responses_set_server_id();

-- squawk-ignore ban-drop-column
ALTER TABLE survey_responses DROP COLUMN server_id;
