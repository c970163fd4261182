-- Validate survey_questions_options_valid_choices, which 0030 added NOT VALID.
--
-- Why: until it is validated the CHECK only holds for questions written since
-- 0030, and the planner cannot rely on it. VALIDATE CONSTRAINT scans the table
-- under SHARE UPDATE EXCLUSIVE, so answers and edits go on meanwhile; run in
-- 0030's transaction it would have scanned under that one's ACCESS EXCLUSIVE
-- lock instead.
--
-- Questions written before 0030 may break the rule. Which option to keep is a
-- decision about the survey (answers name options by their text), so nothing
-- is rewritten here: the check below names the questions to fix, and this
-- migration runs once they are fixed.
-- depends: 0030_survey_choice_options

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    broken bigint[];
BEGIN
    SELECT array_agg(id ORDER BY id) INTO broken
      FROM survey_questions
     WHERE kind IN ('single_choice', 'multi_choice')
       AND NOT survey_choice_options_valid(options);
    IF broken IS NOT NULL THEN
        RAISE EXCEPTION 'survey questions % have blank, over-long or repeated options', broken
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'survey_questions_options_valid_choices',
                  TABLE = 'survey_questions',
                  HINT = 'Fix their options (and the answers naming them), then migrate again.';
    END IF;
END;
$$;

ALTER TABLE survey_questions VALIDATE CONSTRAINT survey_questions_options_valid_choices;
