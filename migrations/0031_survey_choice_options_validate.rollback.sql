-- Rollback of 0031_survey_choice_options_validate: the CHECK back as 0030 left
-- it, NOT VALID. A validated CHECK cannot be marked NOT VALID again in place,
-- so it is dropped and added back NOT VALID in one ALTER: a brief lock and no
-- scan, since a NOT VALID constraint checks only rows written from now on. The
-- rule itself holds throughout; what returns is 0030's state, so rolling back
-- 0031 then 0030 leaves the schema exactly as it was before either.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-constraint
ALTER TABLE survey_questions DROP CONSTRAINT survey_questions_options_valid_choices,
    ADD CONSTRAINT survey_questions_options_valid_choices
    CHECK (kind NOT IN ('single_choice', 'multi_choice') OR survey_choice_options_valid(options))
    NOT VALID;
