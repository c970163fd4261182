-- Row-level security for task tracking and wellbeing: each user sees their own rows,
-- and a project's rows by membership and access level.
--
-- Why: a project's access_level was stored but never enforced, and tasks.get,
-- update and delete took no acting user: a user outside a project, or a member
-- with read access, could create tasks in it. Now the database decides, for the
-- acting user the DAL sets per transaction (set_config('dal.user_id', ..., true),
-- see dal/acting.py):
--   categories, moods, recommendations, feedback, user_settings: the user's own;
--   tasks without a project: their owner's;
--   a project and its tasks, members, dependencies and sync runs: members see them
--   (read), members with write access create and change tasks, dependencies and
--   sync runs, admins (the owner is one) change the project and its members.
-- A session that set no acting user sees none of these rows.
--
-- FORCE makes the rules bind the tables' owner too; the owner role gets a policy of
-- its own seeing every row (migrations, the seeder, maintenance), and the read-only
-- role one reading every row (reports). Both role names come from the settings
-- dal.owner_role and dal.readonly_role, as in 0038.
--
-- The acting user is read through dal_acting_user() in a scalar subquery, and a
-- user's projects through dal_projects(level), which returns them as one array: each
-- is evaluated once per statement (an InitPlan), not once per row, and the columns
-- compared (owner_id, user_id, project_id) are the leading columns of indexes.
-- dal_projects is SECURITY DEFINER: policies on projects and project_members read
-- those tables, which through the caller's rights would recurse into their own
-- policies. The triggers that check rows of other tables run as the owner too, so
-- an invariant holds whatever the acting user may see.
--
-- Mood partitions lose the application's and the reader's grants: a partition read
-- directly would skip the policies of moods. Enabling row-level security takes a
-- short ACCESS EXCLUSIVE lock on each table and scans nothing.
-- depends: 0038_roles

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION dal_acting_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('dal.user_id', true), '')::uuid $$;

COMMENT ON FUNCTION dal_acting_user() IS
    'The acting user of the transaction (dal.user_id), or NULL: after a transaction that '
    'set it, current_setting returns an empty string rather than NULL.';

CREATE FUNCTION dal_projects(level text) RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT coalesce(array_agg(DISTINCT id), '{}')
      FROM (SELECT p.id
              FROM projects p
             WHERE p.owner_id = dal_acting_user()
            UNION ALL
            SELECT m.project_id
              FROM project_members m
             WHERE m.user_id = dal_acting_user()
               AND (level = 'read'
                    OR m.access_level = 'admin'
                    OR (level = 'write' AND m.access_level = 'write'))) AS mine
$$;

COMMENT ON FUNCTION dal_projects(text) IS
    'The projects the acting user may act on at this level (read, write or admin): owned '
    'ones, and memberships whose access_level reaches it. It tells a caller only its own.';

CREATE FUNCTION dal_keep_partition_private(part regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole::text
          FROM pg_class c, aclexplode(c.relacl) AS a
         WHERE c.oid = part AND a.grantee NOT IN (0, c.relowner)
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %I', part, grantee);
    END LOOP;
END;
$$;

COMMENT ON FUNCTION dal_keep_partition_private(regclass) IS
    'Revoke every grant on a partition but its owner''s: other roles reach its rows only '
    'through the parent, whose row-level security a direct read would skip.';

REVOKE EXECUTE ON FUNCTION dal_keep_partition_private(regclass) FROM PUBLIC;

-- 0036's function, SECURITY DEFINER as 0038 made it, now keeping each new partition
-- private (its default privileges would grant it to the application).
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
    PERFORM dal_keep_partition_private(format('%I', part)::regclass);
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

-- Rows of one user.
ALTER TABLE categories ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY categories_own ON categories
    USING (owner_id = (SELECT dal_acting_user()))
    WITH CHECK (owner_id = (SELECT dal_acting_user()));

ALTER TABLE moods ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY moods_own ON moods
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user()));

ALTER TABLE recommendations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY recommendations_own ON recommendations
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user()));

ALTER TABLE feedback ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY feedback_own ON feedback
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user()));

ALTER TABLE user_settings ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY user_settings_own ON user_settings
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user()));

-- Projects: members read, admins change; anyone may create a project of their own.
ALTER TABLE projects ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY projects_read ON projects FOR SELECT
    USING (owner_id = (SELECT dal_acting_user()) OR id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY projects_create ON projects FOR INSERT
    WITH CHECK (owner_id = (SELECT dal_acting_user()));
CREATE POLICY projects_change ON projects FOR UPDATE
    USING (id = ANY ((SELECT dal_projects('admin'))::uuid[]))
    WITH CHECK (id = ANY ((SELECT dal_projects('admin'))::uuid[]));
CREATE POLICY projects_delete ON projects FOR DELETE
    USING (id = ANY ((SELECT dal_projects('admin'))::uuid[]));

ALTER TABLE project_members ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY project_members_read ON project_members FOR SELECT
    USING (project_id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY project_members_manage ON project_members FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]));

-- Tasks: a personal one is its owner's; a project's, its members' by access level.
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tasks_read ON tasks FOR SELECT
    USING ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
           OR project_id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY tasks_write ON tasks FOR ALL
    USING ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
           OR project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
                OR project_id = ANY ((SELECT dal_projects('write'))::uuid[]));

-- A dependency between personal tasks has no project: it is its task's owner's.
ALTER TABLE task_dependencies ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY task_dependencies_read ON task_dependencies FOR SELECT
    USING (project_id = ANY ((SELECT dal_projects('read'))::uuid[])
           OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)));
CREATE POLICY task_dependencies_write ON task_dependencies FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[])
           OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[])
                OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)));

ALTER TABLE task_pending_dependencies ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY task_pending_dependencies_read ON task_pending_dependencies FOR SELECT
    USING (project_id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY task_pending_dependencies_write ON task_pending_dependencies FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));

ALTER TABLE sync_history ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY sync_history_read ON sync_history FOR SELECT
    USING (project_id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY sync_history_write ON sync_history FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));

-- Checks of other tables' rows see them all, whoever acts.
ALTER FUNCTION recommendations_check_mood() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION task_dependencies_set_project_id()
    SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION tasks_check_children_scope() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION tasks_check_parent_scope() SECURITY DEFINER SET search_path = public, pg_temp;

-- The owner and the reader see every row; the roles are named by the settings.
DO $policies$
DECLARE
    owner_role    text := coalesce(nullif(current_setting('dal.owner_role', true), ''), 'dal_owner');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
    tab           text;
    part          record;
BEGIN
    FOREACH tab IN ARRAY ARRAY['categories', 'moods', 'recommendations', 'feedback',
                               'user_settings', 'projects', 'project_members', 'tasks',
                               'task_dependencies', 'task_pending_dependencies',
                               'sync_history'] LOOP
        EXECUTE format('CREATE POLICY %I ON %I TO %I USING (true) WITH CHECK (true)',
                       tab || '_owner_all', tab, owner_role);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT TO %I USING (true)',
                       tab || '_readonly_all', tab, readonly_role);
    END LOOP;
    FOR part IN
        SELECT c.oid::regclass AS name
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'moods'::regclass
    LOOP
        PERFORM dal_keep_partition_private(part.name);
    END LOOP;
END
$policies$;
