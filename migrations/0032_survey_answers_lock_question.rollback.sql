-- Rollback of 0032_survey_answers_lock_question: the answer trigger's function as
-- 0021 wrote it (the question is read without a lock).

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
       FOR SHARE OF s;  -- the window cannot change under an answer being written
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
