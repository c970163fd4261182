-- A session that acts for no one learns nothing of a survey through its helpers.
--
-- Why: dal_lock_question_survey and survey_responses_set_server_id (0046) run as the
-- owner and let a caller with no acting user through, meant for the owner role and
-- superusers (the seeder, maintenance). But the application role with no acting user
-- came through too: it could lock any survey and learn whether it takes answers, and
-- an answer it tried reached the answer check, which tells a survey's window and
-- options, before its policy refused it. Now "no acting user" passes only for a
-- session whose login role reads every row anyway (dal_session_reads_every_row,
-- 0053), as in the event search; the application role must act for a member.
--
-- Replacing functions takes no lock on a table.
-- depends: 0053_event_search_under_row_level_security

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
       AND CASE WHEN dal_acting_user() IS NULL THEN dal_session_reads_every_row()
                ELSE s.server_id = ANY (dal_servers('member')) END
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
    -- (In parentheses: PL/pgSQL ends an IF condition at its first THEN.)
    IF (CASE WHEN dal_acting_user() IS NULL THEN NOT dal_session_reads_every_row()
             ELSE NOT NEW.server_id = ANY (dal_servers('member')) END) THEN
        RAISE EXCEPTION 'only the members of a survey''s server answer it'
            USING ERRCODE = 'insufficient_privilege',
                  TABLE = 'survey_responses';
    END IF;
    RETURN NEW;
END;
$$;
