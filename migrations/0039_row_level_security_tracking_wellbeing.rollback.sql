-- Rollback of 0039_row_level_security_tracking_wellbeing: the policies and the
-- helper functions go, row-level security is off again, the checking triggers run
-- as their caller, and the mood partitions are granted as 0038 left them.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $policies$
DECLARE
    app_role      text := coalesce(nullif(current_setting('dal.app_role', true), ''), 'dal_app');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
    item          record;
BEGIN
    FOR item IN
        SELECT p.policyname, p.tablename
          FROM pg_policies p
         WHERE p.schemaname = 'public'
           AND p.tablename IN ('categories', 'moods', 'recommendations', 'feedback',
                               'user_settings', 'projects', 'project_members', 'tasks',
                               'task_dependencies', 'task_pending_dependencies',
                               'sync_history')
    LOOP
        EXECUTE format('DROP POLICY %I ON %I', item.policyname, item.tablename);
    END LOOP;
    FOR item IN
        SELECT c.oid::regclass AS name
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'moods'::regclass
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %I', item.name, app_role);
        EXECUTE format('GRANT SELECT ON %s TO %I', item.name, readonly_role);
    END LOOP;
END
$policies$;

ALTER TABLE categories NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE moods NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE recommendations NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE feedback NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE user_settings NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE projects NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE project_members NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE task_dependencies NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE task_pending_dependencies NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE sync_history NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;

ALTER FUNCTION recommendations_check_mood() SECURITY INVOKER RESET search_path;
ALTER FUNCTION task_dependencies_set_project_id() SECURITY INVOKER RESET search_path;
ALTER FUNCTION tasks_check_children_scope() SECURITY INVOKER RESET search_path;
ALTER FUNCTION tasks_check_parent_scope() SECURITY INVOKER RESET search_path;

-- The function as 0036 wrote it, with 0038's SECURITY DEFINER and search_path.
CREATE OR REPLACE FUNCTION moods_create_partition(month date) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET lock_timeout = '2s'
    SET search_path = public, pg_temp AS
$$
DECLARE
    lower_bound timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp
                               AT TIME ZONE 'UTC';
    part        text := 'moods_' || to_char(date_trunc('month', month), '"y"YYYY"m"MM');
    outside     text := 'moods_default_outside_' || substr(part, 7);
BEGIN
    IF to_regclass(format('%I', part)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE moods INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    -- Rows of this month that landed in the default partition move here first.
    EXECUTE format(
        'WITH moved AS (DELETE FROM moods_default WHERE recorded_at >= %L AND recorded_at < %L '
        'RETURNING *) INSERT INTO %I SELECT * FROM moved',
        lower_bound, upper_bound, part);
    EXECUTE format(
        'CREATE INDEX %I ON %I (user_id, recorded_at, id) INCLUDE (intensity, mood)',
        part || '_user_id_recorded_at_idx', part);
    EXECUTE format(
        'ALTER TABLE moods_default ADD CONSTRAINT %I CHECK (recorded_at < %L OR recorded_at >= %L)',
        outside, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE moods ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   part, lower_bound, upper_bound);
    EXECUTE format('ALTER TABLE moods_default DROP CONSTRAINT %I', outside);
    RETURN part;
END;
$$;

DROP FUNCTION dal_keep_partition_private(regclass);
DROP FUNCTION dal_projects(text);
DROP FUNCTION dal_acting_user();
