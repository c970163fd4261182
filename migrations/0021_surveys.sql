-- Surveys: questions asked to a server's members, optionally about one event.
--
-- Why: area 3 of DESIGN.md. A survey has a window [opens_at, closes_at) and is
-- answered only while published and inside it; each question has a kind
-- (single_choice, multi_choice, rating, text) whose options are checked by a
-- plain CHECK; each person answers a question at most once.
--
-- Rules that need other rows live in the database, in trigger
-- survey_responses_check_answer: an answer must fit its question's kind and
-- options (survey_responses_answer_matches_kind) and arrive inside the
-- survey's open window (survey_responses_within_window). A trigger, not only
-- the DAL, so no writer can bypass them; the errors name those rules the way
-- a CHECK would, so the DAL reports them as InvalidData with that name.
--
-- Anonymity: responses keep user_id even for anonymous surveys (it enforces
-- one answer per person), but no named query returns who answered an
-- anonymous survey, and a survey can never be switched from anonymous back to
-- named (surveys_anonymity_irreversible), which would expose past answers.
-- depends: 0020_community

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE surveys (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    -- CASCADE: a survey belongs to its server.
    server_id       bigint      NOT NULL,
    -- Optional; SET NULL (event_id only) keeps the survey when its event is deleted.
    event_id        bigint,
    -- SET NULL: the survey outlives its author's account.
    creator_id      uuid,
    title           text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    anonymous       boolean     NOT NULL DEFAULT false,
    status          text        NOT NULL DEFAULT 'draft',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT surveys_pkey PRIMARY KEY (id),
    CONSTRAINT surveys_title_length
        CHECK (char_length(title) BETWEEN 1 AND 200 AND btrim(title) <> ''),
    CONSTRAINT surveys_description_length CHECK (char_length(description) <= 10000),
    CONSTRAINT surveys_opens_before_closes CHECK (opens_at < closes_at),
    CONSTRAINT surveys_status_valid CHECK (status IN ('draft', 'published', 'cancelled')),
    CONSTRAINT surveys_server_id_fkey FOREIGN KEY (server_id)
        REFERENCES servers (id) ON DELETE CASCADE,
    -- Composite: the event must belong to the survey's own server.
    CONSTRAINT surveys_event_id_fkey FOREIGN KEY (event_id, server_id)
        REFERENCES events (id, server_id) ON DELETE SET NULL (event_id),
    CONSTRAINT surveys_creator_id_fkey FOREIGN KEY (creator_id)
        REFERENCES users (id) ON DELETE SET NULL
);

-- A server's surveys, newest window first.
CREATE INDEX surveys_server_id_opens_at_idx ON surveys (server_id, opens_at DESC, id DESC);
-- The referencing side of the event FK (ON DELETE SET NULL must find them).
CREATE INDEX surveys_event_id_idx ON surveys (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX surveys_creator_id_idx ON surveys (creator_id) WHERE creator_id IS NOT NULL;

CREATE TRIGGER surveys_set_updated_at
    BEFORE UPDATE ON surveys
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE FUNCTION surveys_keep_anonymity() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF OLD.anonymous AND NOT NEW.anonymous THEN
        RAISE EXCEPTION 'survey % is anonymous and cannot be made named', OLD.id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'surveys_anonymity_irreversible',
                  TABLE = 'surveys';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION surveys_keep_anonymity() IS
    'BEFORE UPDATE trigger on surveys: an anonymous survey stays anonymous.';

CREATE TRIGGER surveys_keep_anonymity
    BEFORE UPDATE OF anonymous ON surveys
    FOR EACH ROW EXECUTE FUNCTION surveys_keep_anonymity();

CREATE TABLE survey_questions (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    -- CASCADE: questions are part of their survey.
    survey_id       bigint      NOT NULL,
    position        integer     NOT NULL,
    kind            text        NOT NULL,
    prompt          text        NOT NULL,
    options         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT survey_questions_pkey PRIMARY KEY (id),
    CONSTRAINT survey_questions_survey_id_position_key UNIQUE (survey_id, position),
    CONSTRAINT survey_questions_position_positive CHECK (position > 0),
    CONSTRAINT survey_questions_kind_valid
        CHECK (kind IN ('single_choice', 'multi_choice', 'rating', 'text')),
    CONSTRAINT survey_questions_prompt_length
        CHECK (char_length(prompt) BETWEEN 1 AND 1000 AND btrim(prompt) <> ''),
    -- Choices: an array of 2..50 distinct-enough strings; rating: {"min": int, "max": int}
    -- with 0 <= min < max <= 100; text: an empty object.
    CONSTRAINT survey_questions_options_match_kind CHECK (
        CASE kind
        WHEN 'single_choice' THEN
            jsonb_typeof(options) = 'array'
            AND jsonb_array_length(options) BETWEEN 2 AND 50
            AND NOT jsonb_path_exists(options, '$[*] ? (@.type() != "string")')
        WHEN 'multi_choice' THEN
            jsonb_typeof(options) = 'array'
            AND jsonb_array_length(options) BETWEEN 2 AND 50
            AND NOT jsonb_path_exists(options, '$[*] ? (@.type() != "string")')
        WHEN 'rating' THEN
            jsonb_typeof(options) = 'object'
            AND jsonb_path_exists(options, '$ ? (@.min.type() == "number" && @.max.type() == "number"
                                               && @.min >= 0 && @.min < @.max && @.max <= 100
                                               && @.min.floor() == @.min && @.max.floor() == @.max)')
            AND options - 'min' - 'max' = '{}'::jsonb
        ELSE options = '{}'::jsonb
        END
    ),
    CONSTRAINT survey_questions_survey_id_fkey FOREIGN KEY (survey_id)
        REFERENCES surveys (id) ON DELETE CASCADE
);

CREATE TABLE survey_responses (
    -- CASCADE: an answer is part of its question (and so of its survey).
    question_id     bigint      NOT NULL,
    -- CASCADE: a person's answers go with their account.
    user_id         uuid        NOT NULL,
    answer          jsonb       NOT NULL,
    answered_at     timestamptz NOT NULL DEFAULT now(),
    -- One answer per person per question; also the index that aggregates a question.
    CONSTRAINT survey_responses_pkey PRIMARY KEY (question_id, user_id),
    CONSTRAINT survey_responses_question_id_fkey FOREIGN KEY (question_id)
        REFERENCES survey_questions (id) ON DELETE CASCADE,
    CONSTRAINT survey_responses_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- A person's answers (and the user side of the FK).
CREATE INDEX survey_responses_user_id_idx ON survey_responses (user_id);

CREATE FUNCTION survey_responses_check_answer() RETURNS trigger
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

COMMENT ON FUNCTION survey_responses_check_answer() IS
    'BEFORE trigger on survey_responses: the answer fits its question and the survey is open.';

CREATE TRIGGER survey_responses_check_answer
    BEFORE INSERT OR UPDATE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_check_answer();
