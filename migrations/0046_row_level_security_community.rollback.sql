-- Rollback of 0046_row_level_security_community: the community tables' policies
-- and helpers go, row-level security is off on them again, and the checking
-- triggers run as their caller.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $policies$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT p.policyname, p.tablename
          FROM pg_policies p
         WHERE p.schemaname = 'public'
           AND p.tablename IN ('servers', 'server_members', 'events', 'event_rsvps',
                               'surveys', 'survey_questions', 'survey_responses')
    LOOP
        EXECUTE format('DROP POLICY %I ON %I', item.policyname, item.tablename);
    END LOOP;
END
$policies$;

ALTER TABLE servers NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE server_members NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE events NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE event_rsvps NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE surveys NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE survey_questions NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE survey_responses NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;

ALTER FUNCTION event_rsvps_count_going() SECURITY INVOKER RESET search_path;
ALTER FUNCTION survey_responses_check_answer() SECURITY INVOKER RESET search_path;

DROP TRIGGER events_keep_server ON events;
DROP TRIGGER servers_keep_owner ON servers;

-- 0043's server_id trigger, which refused no one.
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
    RETURN NEW;
END;
$$;
DROP FUNCTION servers_keep_owner();
DROP FUNCTION dal_lock_question_survey(bigint);
DROP FUNCTION dal_servers(text);
