-- Rollback of 0040_projects_git_url_no_credentials: the CHECK goes.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-constraint
ALTER TABLE projects DROP CONSTRAINT projects_git_url_no_credentials;
