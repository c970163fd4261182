-- Row-level security for the community area: a server's rows are its members'.
--
-- Why: servers, their members, events, RSVPs and surveys were the last rows any
-- caller could read and change, whoever they acted for. Now, for the acting user
-- the DAL sets per transaction (see 0039 and dal/acting.py):
--   a server, its members, events, surveys and questions: its members see them;
--   events, surveys and their questions: moderators (and admins, and the owner)
--     create, change and delete them, as themselves (creator_id);
--   members: admins add members and change roles; a member may leave; the owner's
--     membership is touched only by the owner (handing the server over); only the
--     owner deletes the server or gives it to someone else;
--   RSVPs and survey answers: only members give them, each their own; a member
--     sees their own, and an event's RSVPs are seen by its server's members;
--   the answers of others (results, anonymous or not) are read by the server's
--     moderators only, who see every answer of their server's surveys.
--
-- A user's servers are read by dal_servers(level), SECURITY DEFINER like 0039's
-- dal_projects (a policy on server_members reading server_members would recurse),
-- as one array per statement (an InitPlan). An answer carries its server (0043);
-- an RSVP does not, and its policy probes its event by events_pkey, per RSVP of
-- someone else. A survey's policy is written as a semi-join on the array's elements
-- (IN (SELECT unnest(...))) rather than = ANY: the planner estimates = ANY of an
-- unknown array as few rows, multiplied by the query's own server_id equality, and
-- then read a server's surveys by a sequential scan and a sort instead of
-- surveys_server_id_opens_at_idx in order.
--
-- The triggers that keep counts and check answers read and lock rows of other
-- tables (an answer locks its survey, an RSVP its event), so they run as the owner;
-- withdrawing an answer locks its survey through dal_lock_question_survey for the
-- same reason: a member may not lock a survey row (FOR SHARE asks for the UPDATE
-- policy).
--
-- Enabling row-level security and creating policies take a short ACCESS
-- EXCLUSIVE lock per table and scan nothing.
-- depends: 0045_survey_responses_server_id_not_null

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION dal_servers(level text) RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT coalesce(array_agg(DISTINCT id), '{}')
      FROM (SELECT s.id
              FROM servers s
             WHERE s.owner_id = dal_acting_user()
            UNION ALL
            SELECT m.server_id
              FROM server_members m
             WHERE m.user_id = dal_acting_user()
               AND CASE level
                       WHEN 'member' THEN true
                       WHEN 'moderator' THEN m.role IN ('moderator', 'admin', 'owner')
                       WHEN 'admin' THEN m.role IN ('admin', 'owner')
                       ELSE m.role = 'owner'
                   END) AS mine
$$;

COMMENT ON FUNCTION dal_servers(text) IS
    'The servers the acting user may act on at this level (member, moderator, admin or '
    'owner): owned ones, and memberships whose role reaches it. It tells a caller only its own.';

CREATE FUNCTION dal_lock_question_survey(question bigint) RETURNS boolean
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

COMMENT ON FUNCTION dal_lock_question_survey(bigint) IS
    'Lock the survey of a question (of one of the acting user''s servers, when one acts) '
    'against changes '
    '(FOR SHARE, as an answer being written does) and say whether it takes answers now; '
    'NULL when there is no such question to see.';

-- Answers are refused to a non-member before the answer check, which runs as the
-- owner, says anything of the survey (its window, its options) or locks it.
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

-- An event never changes server: its RSVPs, and surveys about it, are that server's.
CREATE TRIGGER events_keep_server BEFORE UPDATE OF server_id ON events
    FOR EACH ROW WHEN (OLD.server_id IS DISTINCT FROM NEW.server_id)
    EXECUTE FUNCTION keep_column_fixed('server_id', 'events_server_id_fixed');

-- Only the owner gives a server away (an admin may rename it). A session with no
-- acting user reaches the row only as the owner role (migrations, maintenance).
CREATE FUNCTION servers_keep_owner() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF dal_acting_user() IS DISTINCT FROM OLD.owner_id AND dal_acting_user() IS NOT NULL THEN
        RAISE EXCEPTION 'only the owner of server % hands it over', OLD.id
            USING ERRCODE = 'insufficient_privilege',
                  TABLE = 'servers',
                  COLUMN = 'owner_id';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION servers_keep_owner() IS
    'BEFORE UPDATE trigger on servers: only the acting owner changes owner_id.';

CREATE TRIGGER servers_keep_owner BEFORE UPDATE OF owner_id ON servers
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION servers_keep_owner();

ALTER FUNCTION event_rsvps_count_going() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION survey_responses_check_answer() SECURITY DEFINER SET search_path = public, pg_temp;

-- servers: the owner sees it from the start (INSERT ... RETURNING reads the new row
-- before any membership exists).
ALTER TABLE servers ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY servers_read ON servers FOR SELECT
    USING (CASE WHEN owner_id = (SELECT dal_acting_user()) THEN true
                ELSE id = ANY ((SELECT dal_servers('member'))::bigint[]) END);
CREATE POLICY servers_create ON servers FOR INSERT
    WITH CHECK (owner_id = (SELECT dal_acting_user()));
CREATE POLICY servers_change ON servers FOR UPDATE
    USING (id = ANY ((SELECT dal_servers('admin'))::bigint[]))
    WITH CHECK (id = ANY ((SELECT dal_servers('admin'))::bigint[]));
CREATE POLICY servers_delete ON servers FOR DELETE
    USING (id = ANY ((SELECT dal_servers('owner'))::bigint[]));

-- server_members
ALTER TABLE server_members ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY server_members_read ON server_members FOR SELECT
    USING (server_id = ANY ((SELECT dal_servers('member'))::bigint[]));
CREATE POLICY server_members_add ON server_members FOR INSERT
    WITH CHECK (CASE WHEN role = 'owner' THEN server_id = ANY ((SELECT dal_servers('owner'))::bigint[])
                     ELSE server_id = ANY ((SELECT dal_servers('admin'))::bigint[]) END);
CREATE POLICY server_members_change ON server_members FOR UPDATE
    USING (CASE WHEN role = 'owner' THEN server_id = ANY ((SELECT dal_servers('owner'))::bigint[])
                ELSE server_id = ANY ((SELECT dal_servers('admin'))::bigint[]) END)
    WITH CHECK (CASE WHEN role = 'owner' THEN server_id = ANY ((SELECT dal_servers('owner'))::bigint[])
                     ELSE server_id = ANY ((SELECT dal_servers('admin'))::bigint[]) END);
CREATE POLICY server_members_remove ON server_members FOR DELETE
    USING (CASE WHEN role = 'owner' THEN false
                WHEN user_id = (SELECT dal_acting_user()) THEN true
                ELSE server_id = ANY ((SELECT dal_servers('admin'))::bigint[]) END);

-- events and surveys: members read, moderators write, as themselves.
ALTER TABLE events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY events_read ON events FOR SELECT
    USING (server_id = ANY ((SELECT dal_servers('member'))::bigint[]));
CREATE POLICY events_create ON events FOR INSERT
    WITH CHECK (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])
                AND creator_id = (SELECT dal_acting_user()));
CREATE POLICY events_change ON events FOR UPDATE
    USING (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]))
    WITH CHECK (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]));
CREATE POLICY events_delete ON events FOR DELETE
    USING (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]));

ALTER TABLE surveys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY surveys_read ON surveys FOR SELECT
    USING (server_id IN (SELECT unnest(dal_servers('member'))));
CREATE POLICY surveys_create ON surveys FOR INSERT
    WITH CHECK (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])
                AND creator_id = (SELECT dal_acting_user()));
CREATE POLICY surveys_change ON surveys FOR UPDATE
    USING (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]))
    WITH CHECK (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]));
CREATE POLICY surveys_delete ON surveys FOR DELETE
    USING (server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]));

-- survey_questions: those of a survey one sees (a probe of surveys_pkey, under the
-- surveys policy); moderators write them.
ALTER TABLE survey_questions ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY survey_questions_read ON survey_questions FOR SELECT
    USING (EXISTS (SELECT FROM surveys s WHERE s.id = survey_id));
CREATE POLICY survey_questions_add ON survey_questions FOR INSERT
    WITH CHECK (EXISTS (SELECT FROM surveys s WHERE s.id = survey_id
                          AND s.server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])));
CREATE POLICY survey_questions_change ON survey_questions FOR UPDATE
    USING (EXISTS (SELECT FROM surveys s WHERE s.id = survey_id
                     AND s.server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])))
    WITH CHECK (EXISTS (SELECT FROM surveys s WHERE s.id = survey_id
                          AND s.server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])));
CREATE POLICY survey_questions_remove ON survey_questions FOR DELETE
    USING (EXISTS (SELECT FROM surveys s WHERE s.id = survey_id
                     AND s.server_id = ANY ((SELECT dal_servers('moderator'))::bigint[])));

-- event_rsvps: one's own, and those of an event one sees; each member answers for
-- themselves.
ALTER TABLE event_rsvps ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY event_rsvps_read ON event_rsvps FOR SELECT
    USING (CASE WHEN user_id = (SELECT dal_acting_user()) THEN true
                ELSE EXISTS (SELECT FROM events e WHERE e.id = event_id) END);
CREATE POLICY event_rsvps_give ON event_rsvps FOR INSERT
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND EXISTS (SELECT FROM events e WHERE e.id = event_id));
CREATE POLICY event_rsvps_change ON event_rsvps FOR UPDATE
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND EXISTS (SELECT FROM events e WHERE e.id = event_id));
CREATE POLICY event_rsvps_withdraw ON event_rsvps FOR DELETE
    USING (user_id = (SELECT dal_acting_user()));

-- survey_responses: one's own; the server's moderators read them all.
ALTER TABLE survey_responses ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY survey_responses_read ON survey_responses FOR SELECT
    USING (CASE WHEN user_id = (SELECT dal_acting_user()) THEN true
                ELSE server_id = ANY ((SELECT dal_servers('moderator'))::bigint[]) END);
CREATE POLICY survey_responses_give ON survey_responses FOR INSERT
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND server_id = ANY ((SELECT dal_servers('member'))::bigint[]));
CREATE POLICY survey_responses_change ON survey_responses FOR UPDATE
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND server_id = ANY ((SELECT dal_servers('member'))::bigint[]));
CREATE POLICY survey_responses_withdraw ON survey_responses FOR DELETE
    USING (user_id = (SELECT dal_acting_user()));

-- The owner and the reader see every row, as in 0039; only the application locks a
-- survey through dal_lock_question_survey.
DO $policies$
DECLARE
    owner_role    text := coalesce(nullif(current_setting('dal.owner_role', true), ''), 'dal_owner');
    app_role      text := coalesce(nullif(current_setting('dal.app_role', true), ''), 'dal_app');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
    tab           text;
BEGIN
    FOREACH tab IN ARRAY ARRAY['servers', 'server_members', 'events', 'event_rsvps',
                               'surveys', 'survey_questions', 'survey_responses'] LOOP
        EXECUTE format('CREATE POLICY %I ON %I TO %I USING (true) WITH CHECK (true)',
                       tab || '_owner_all', tab, owner_role);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO %I USING (true)',
                       tab || '_readonly_all', tab, readonly_role);
    END LOOP;
    REVOKE EXECUTE ON FUNCTION dal_lock_question_survey(bigint) FROM PUBLIC;
    EXECUTE format('GRANT EXECUTE ON FUNCTION dal_lock_question_survey(bigint) TO %I', app_role);
END
$policies$;
