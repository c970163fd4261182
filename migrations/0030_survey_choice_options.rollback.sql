-- Rollback of 0030_survey_choice_options: drops the CHECK, then its function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Dropping the rule 0030 added is what a rollback of it is for.
-- squawk-ignore ban-drop-constraint
ALTER TABLE survey_questions DROP CONSTRAINT survey_questions_options_valid_choices;

DROP FUNCTION survey_choice_options_valid(jsonb);
