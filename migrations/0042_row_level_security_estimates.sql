-- Row-level security: policies the planner estimates well, one per command.
--
-- Why: under 0039's policies the plan checks run as the application found two
-- regressions. A user's overdue tasks were read by a bitmap scan and a sort
-- instead of tasks_owner_id_due_at_open_idx in order, and counts by status
-- sorted the user's tasks. The tasks policy was an OR whose first branch,
-- owner_id = (SELECT dal_acting_user()), the planner estimated as an equality
-- with an unknown value, and multiplied by the query's own owner_id equality:
-- it expected 25 rows of 1,012, so stopping early at a LIMIT looked worthless.
-- The same rule written as CASE WHEN project_id IS NULL THEN ... ELSE ... END is
-- estimated as one condition of unknown selectivity (a half), and the ordered
-- index scans come back. It reads the same: a personal task is its owner's, a
-- project's task its members' by access level.
--
-- The write policies were FOR ALL, which covers SELECT too: every read carried
-- both the read and the write rule, twice the InitPlans. They become one policy
-- per command (INSERT, UPDATE, DELETE), the same rules.
--
-- Policies are catalog changes: a short ACCESS EXCLUSIVE lock per table, no scan.
-- depends: 0041_projects_git_url_no_credentials_validate

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- tasks
DROP POLICY tasks_read ON tasks;
DROP POLICY tasks_write ON tasks;
CREATE POLICY tasks_read ON tasks FOR SELECT
    USING (CASE WHEN project_id IS NULL THEN owner_id = (SELECT dal_acting_user())
                ELSE project_id = ANY ((SELECT dal_projects('read'))::uuid[]) END);
CREATE POLICY tasks_create ON tasks FOR INSERT
    WITH CHECK (CASE WHEN project_id IS NULL THEN owner_id = (SELECT dal_acting_user())
                     ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);
CREATE POLICY tasks_change ON tasks FOR UPDATE
    USING (CASE WHEN project_id IS NULL THEN owner_id = (SELECT dal_acting_user())
                ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END)
    WITH CHECK (CASE WHEN project_id IS NULL THEN owner_id = (SELECT dal_acting_user())
                     ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);
CREATE POLICY tasks_delete ON tasks FOR DELETE
    USING (CASE WHEN project_id IS NULL THEN owner_id = (SELECT dal_acting_user())
                ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);

-- project_members
DROP POLICY project_members_manage ON project_members;
CREATE POLICY project_members_add ON project_members FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]));
CREATE POLICY project_members_change ON project_members FOR UPDATE
    USING (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]));
CREATE POLICY project_members_remove ON project_members FOR DELETE
    USING (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]));

-- task_dependencies: an edge between personal tasks is its task's owner's (a probe
-- of that one task by its key, which tasks' own policy lets through or not).
DROP POLICY task_dependencies_read ON task_dependencies;
DROP POLICY task_dependencies_write ON task_dependencies;
CREATE POLICY task_dependencies_read ON task_dependencies FOR SELECT
    USING (CASE WHEN project_id IS NULL THEN EXISTS (SELECT FROM tasks t WHERE t.id = task_id)
                ELSE project_id = ANY ((SELECT dal_projects('read'))::uuid[]) END);
CREATE POLICY task_dependencies_add ON task_dependencies FOR INSERT
    WITH CHECK (CASE WHEN project_id IS NULL THEN EXISTS (SELECT FROM tasks t WHERE t.id = task_id)
                     ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);
CREATE POLICY task_dependencies_change ON task_dependencies FOR UPDATE
    USING (CASE WHEN project_id IS NULL THEN EXISTS (SELECT FROM tasks t WHERE t.id = task_id)
                ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END)
    WITH CHECK (CASE WHEN project_id IS NULL THEN EXISTS (SELECT FROM tasks t WHERE t.id = task_id)
                     ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);
CREATE POLICY task_dependencies_remove ON task_dependencies FOR DELETE
    USING (CASE WHEN project_id IS NULL THEN EXISTS (SELECT FROM tasks t WHERE t.id = task_id)
                ELSE project_id = ANY ((SELECT dal_projects('write'))::uuid[]) END);

-- task_pending_dependencies and sync_history
DROP POLICY task_pending_dependencies_write ON task_pending_dependencies;
CREATE POLICY task_pending_dependencies_add ON task_pending_dependencies FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY task_pending_dependencies_change ON task_pending_dependencies FOR UPDATE
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY task_pending_dependencies_remove ON task_pending_dependencies FOR DELETE
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));

DROP POLICY sync_history_write ON sync_history;
CREATE POLICY sync_history_start ON sync_history FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY sync_history_change ON sync_history FOR UPDATE
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY sync_history_remove ON sync_history FOR DELETE
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
