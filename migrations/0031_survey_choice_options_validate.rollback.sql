-- Rollback of 0031_survey_choice_options_validate: nothing to undo. A validated
-- CHECK cannot be made NOT VALID again, and needs not be: it holds for every
-- row. Rolling back 0030 drops it.

SET LOCAL lock_timeout = '5s';
