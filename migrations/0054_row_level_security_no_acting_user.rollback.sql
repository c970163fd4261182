-- Rollback of 0054_row_level_security_no_acting_user: 0046's bodies, which let any
-- session with no acting user through.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE OR REPLACE FUNCTION dal_lock_question_survey(question bigint) RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT s.status = 'published' AND statement_timestamp() >= s.opens_at
           AND statement_timestamp() < s.closes_at
      FROM survey_questions q
      JOIN surveys s ON s.id = q.survey_id
     WHERE q.id = question
       AND (dal_acting_user() IS NULL OR s.server_id = ANY (dal_servers('member')))
       FOR SHARE OF s
$$;

CREATE OR REPLACE FUNCTION survey_responses_set_server_id() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
BEGIN
    SELECT s.server_id INTO NEW.server_id
      FROM survey_questions q
      JOIN surveys s ON s.id = q.survey_id
     WHERE q.id = NEW.question_id;
    IF NOT FOUND THEN
        -- What the foreign key would say, had NOT NULL on server_id not come first.
        RAISE EXCEPTION 'survey question % does not exist', NEW.question_id
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'survey_responses_question_id_fkey',
                  TABLE = 'survey_responses',
                  COLUMN = 'question_id';
    END IF;
    IF dal_acting_user() IS NOT NULL AND NOT NEW.server_id = ANY (dal_servers('member')) THEN
        RAISE EXCEPTION 'only the members of a survey''s server answer it'
            USING ERRCODE = 'insufficient_privilege',
                  TABLE = 'survey_responses';
    END IF;
    RETURN NEW;
END;
$$;
