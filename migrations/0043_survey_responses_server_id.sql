-- Survey answers carry the server they belong to, so row-level security can judge
-- an answer by its own row.
--
-- Why: the community area goes under row-level security (0046), where a server's
-- moderators read every answer of its surveys. An answer names only its question;
-- a policy reaching its server through the question and the survey probes two
-- primary keys per answer, which made a survey's results read five times the
-- buffers. With server_id on the row the rule is one comparison with an array the
-- statement computes once. It is a copy, so it is kept right by the database:
--   * survey_responses_set_server_id sets it on every INSERT and UPDATE, from the
--     question's survey (as the owner: the writer may not read every survey); its
--     trigger is named to fire before the answer check (triggers fire by name), so
--     0046 can refuse a non-member there before anything about the survey is told;
--   * a survey never changes server, nor a question survey (keep_column_fixed),
--     so the copy cannot go stale.
-- The column starts NULL for existing rows: 0044 fills them in batches, 0045
-- validates the CHECK below and makes the column NOT NULL. Adding a nullable
-- column without a default and a NOT VALID CHECK is a catalog change: no scan.
--
-- The answer check now fires only when the answer or its question changes: the
-- backfill's UPDATE of server_id alone must not re-judge answers against a window
-- that has closed since.
-- depends: 0042_row_level_security_estimates

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE survey_responses ADD COLUMN server_id bigint;

ALTER TABLE survey_responses ADD CONSTRAINT survey_responses_server_id_set
    CHECK (server_id IS NOT NULL) NOT VALID;

COMMENT ON COLUMN survey_responses.server_id IS
    'The server of the answer''s survey, copied by trigger survey_responses_assign_server_id '
    'for row-level security.';

CREATE FUNCTION survey_responses_set_server_id() RETURNS trigger
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
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION survey_responses_set_server_id() IS
    'BEFORE INSERT OR UPDATE trigger on survey_responses: server_id from the question''s survey.';

CREATE TRIGGER survey_responses_assign_server_id BEFORE INSERT OR UPDATE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_set_server_id();

DROP TRIGGER survey_responses_check_answer ON survey_responses;
CREATE TRIGGER survey_responses_check_answer
    BEFORE INSERT OR UPDATE OF answer, question_id ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_check_answer();

CREATE FUNCTION keep_column_fixed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION '%.% does not change once set', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'check_violation',
              CONSTRAINT = TG_ARGV[1],
              TABLE = TG_TABLE_NAME,
              COLUMN = TG_ARGV[0];
END;
$$;

COMMENT ON FUNCTION keep_column_fixed() IS
    'BEFORE UPDATE trigger refusing a change of the column TG_ARGV[0], naming the rule TG_ARGV[1]; '
    'its WHEN clause says when the column changes.';

CREATE TRIGGER surveys_keep_server BEFORE UPDATE OF server_id ON surveys
    FOR EACH ROW WHEN (OLD.server_id IS DISTINCT FROM NEW.server_id)
    EXECUTE FUNCTION keep_column_fixed('server_id', 'surveys_server_id_fixed');

CREATE TRIGGER survey_questions_keep_survey BEFORE UPDATE OF survey_id ON survey_questions
    FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id)
    EXECUTE FUNCTION keep_column_fixed('survey_id', 'survey_questions_survey_id_fixed');
