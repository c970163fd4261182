-- Survey answers: the answer trigger locks the question it checks the answer against.
--
-- Why: dal.surveys.update_question changes a question's kind, options or
-- prompt as long as nobody has answered it. survey_responses_check_answer
-- (0021) reads the question without a lock, so an answer written while an
-- edit commits would be checked against the old options and then stored
-- next to the new ones (options ["tea", "coffee"] edited to ["tea", "water"],
-- and a "coffee" answer kept). Now the trigger takes FOR KEY SHARE on the
-- question row, the lock its foreign key check takes a moment later anyway:
-- answers never wait for each other, but an answer waits for an edit that
-- holds the question FOR UPDATE and is then checked against the edited
-- question. The other way round, the edit waits for answers in flight and
-- then sees them (see update_question).
--
-- Only that locking clause changes; the function is otherwise 0021's.
-- depends: 0031_survey_choice_options_validate

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE OR REPLACE FUNCTION survey_responses_check_answer() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    q_kind      text;
    q_options   jsonb;
    s_status    text;
    s_opens     timestamptz;
    s_closes    timestamptz;
    fits        boolean;
BEGIN
    SELECT q.kind, q.options, s.status, s.opens_at, s.closes_at
      INTO q_kind, q_options, s_status, s_opens, s_closes
      FROM survey_questions q
      JOIN surveys s ON s.id = q.survey_id
     WHERE q.id = NEW.question_id
       FOR SHARE OF s       -- the window cannot change under an answer being written,
       FOR KEY SHARE OF q;  -- nor the question (dal.surveys.update_question)
    IF NOT FOUND THEN
        RETURN NEW;  -- survey_responses_question_id_fkey reports the missing question
    END IF;
    IF s_status <> 'published' OR statement_timestamp() < s_opens
       OR statement_timestamp() >= s_closes THEN
        RAISE EXCEPTION 'the survey is not open for answers (status %, window % to %)',
                s_status, s_opens, s_closes
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'survey_responses_within_window',
                  TABLE = 'survey_responses';
    END IF;
    fits := CASE q_kind
        WHEN 'single_choice' THEN
            jsonb_typeof(NEW.answer) = 'string' AND q_options @> jsonb_build_array(NEW.answer)
        WHEN 'multi_choice' THEN
            jsonb_typeof(NEW.answer) = 'array'
            AND jsonb_array_length(NEW.answer) >= 1
            AND NOT jsonb_path_exists(NEW.answer, '$[*] ? (@.type() != "string")')
            AND q_options @> NEW.answer
            AND (SELECT count(DISTINCT a) FROM jsonb_array_elements(NEW.answer) a)
                = jsonb_array_length(NEW.answer)
        WHEN 'rating' THEN
            jsonb_typeof(NEW.answer) = 'number'
            AND (NEW.answer #>> '{}')::numeric = floor((NEW.answer #>> '{}')::numeric)
            AND (NEW.answer #>> '{}')::numeric
                BETWEEN (q_options ->> 'min')::numeric AND (q_options ->> 'max')::numeric
        ELSE
            jsonb_typeof(NEW.answer) = 'string'
            AND char_length(NEW.answer #>> '{}') BETWEEN 1 AND 5000
            AND btrim(NEW.answer #>> '{}') <> ''
        END;
    IF NOT fits THEN
        RAISE EXCEPTION 'answer % does not fit a % question', NEW.answer, q_kind
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'survey_responses_answer_matches_kind',
                  TABLE = 'survey_responses',
                  COLUMN = 'answer';
    END IF;
    RETURN NEW;
END;
$$;
