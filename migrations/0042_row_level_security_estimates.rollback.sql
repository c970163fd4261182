-- Rollback of 0042_row_level_security_estimates: 0039's policies again (an OR in
-- tasks and task_dependencies, the write rules FOR ALL).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP POLICY tasks_read ON tasks;
DROP POLICY tasks_create ON tasks;
DROP POLICY tasks_change ON tasks;
DROP POLICY tasks_delete ON tasks;
DROP POLICY project_members_add ON project_members;
DROP POLICY project_members_change ON project_members;
DROP POLICY project_members_remove ON project_members;
DROP POLICY task_dependencies_read ON task_dependencies;
DROP POLICY task_dependencies_add ON task_dependencies;
DROP POLICY task_dependencies_change ON task_dependencies;
DROP POLICY task_dependencies_remove ON task_dependencies;
DROP POLICY task_pending_dependencies_add ON task_pending_dependencies;
DROP POLICY task_pending_dependencies_change ON task_pending_dependencies;
DROP POLICY task_pending_dependencies_remove ON task_pending_dependencies;
DROP POLICY sync_history_start ON sync_history;
DROP POLICY sync_history_change ON sync_history;
DROP POLICY sync_history_remove ON sync_history;

CREATE POLICY tasks_read ON tasks FOR SELECT
    USING ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
           OR project_id = ANY ((SELECT dal_projects('read'))::uuid[]));
CREATE POLICY tasks_write ON tasks FOR ALL
    USING ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
           OR project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK ((project_id IS NULL AND owner_id = (SELECT dal_acting_user()))
                OR project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY project_members_manage ON project_members FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('admin'))::uuid[]));
CREATE POLICY task_dependencies_read ON task_dependencies FOR SELECT
    USING (project_id = ANY ((SELECT dal_projects('read'))::uuid[])
           OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)));
CREATE POLICY task_dependencies_write ON task_dependencies FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[])
           OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[])
                OR (project_id IS NULL AND task_id IN (SELECT id FROM tasks)));
CREATE POLICY task_pending_dependencies_write ON task_pending_dependencies FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
CREATE POLICY sync_history_write ON sync_history FOR ALL
    USING (project_id = ANY ((SELECT dal_projects('write'))::uuid[]))
    WITH CHECK (project_id = ANY ((SELECT dal_projects('write'))::uuid[]));
