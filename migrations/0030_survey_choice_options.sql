-- Survey choice options: each one a non-blank string of bounded length, no two alike.
--
-- Why: survey_questions_options_match_kind (0021) only checks that a choice
-- question has 2 to 50 string options, so ["a", "a"], ["", "b"] and
-- ["Yes", "Yes "] all pass. An answer is matched to an option by its text, so
-- dal.surveys.results() reported such options under one key with their votes
-- merged, or showed an option nobody can read. The rule is an IMMUTABLE SQL
-- function, survey_choice_options_valid(jsonb), so the CHECK stays one line
-- and the rule can be called on its own: every option is a string that is not
-- blank after btrim, at most 200 characters long, and the options are
-- distinct after btrim. How many options there are, and that they are
-- strings, stays the rule of survey_questions_options_match_kind; PostgreSQL
-- checks a table's CHECKs in name order, and the new name sorts after that
-- one, so options of the wrong shape are still reported under its name.
--
-- The CHECK is added NOT VALID: a short ACCESS EXCLUSIVE lock and no scan, and
-- every question written from now on is checked. 0031 validates the existing
-- rows in its own transaction, under a lock that lets reads and writes go on.
-- depends: 0026_tasks_parent_scope

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION survey_choice_options_valid(options jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$
    SELECT CASE WHEN jsonb_typeof(options) <> 'array' THEN false ELSE (
        SELECT coalesce(bool_and(jsonb_typeof(o.value) = 'string'
                                 AND btrim(o.value #>> '{}') <> ''
                                 AND char_length(o.value #>> '{}') <= 200), true)
               AND count(DISTINCT btrim(o.value #>> '{}')) = count(*)
          FROM jsonb_array_elements(options) AS o (value)
    ) END
$$;

COMMENT ON FUNCTION survey_choice_options_valid(jsonb) IS
    'True when options is an array of non-blank strings of at most 200 characters, '
    'distinct after btrim (the CHECK survey_questions_options_valid_choices).';

ALTER TABLE survey_questions
    ADD CONSTRAINT survey_questions_options_valid_choices
    CHECK (kind NOT IN ('single_choice', 'multi_choice') OR survey_choice_options_valid(options))
    NOT VALID;
