-- Validate projects_git_url_no_credentials, which 0040 added NOT VALID.
--
-- Why: until it is validated the CHECK only holds for projects written since
-- 0040. VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE, so
-- reads and writes go on meanwhile; run in 0040's transaction it would have
-- scanned under that one's ACCESS EXCLUSIVE lock instead.
--
-- A URL stored with credentials holds a secret that has leaked already: it must
-- be revoked where it was issued, which no migration can do, and rewriting the
-- URL silently would hide that. So nothing is rewritten here: the check below
-- names the projects to fix, and this migration runs once they are fixed.
-- depends: 0040_projects_git_url_no_credentials

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    exposed uuid[];
BEGIN
    SELECT array_agg(id ORDER BY id) INTO exposed
      FROM projects
     WHERE git_url ~* '^https?://[^/]*@' OR git_url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@';
    IF exposed IS NOT NULL THEN
        RAISE EXCEPTION 'projects % store credentials in git_url', exposed
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'projects_git_url_no_credentials',
                  TABLE = 'projects',
                  HINT = 'Revoke those tokens where they were issued, remove them from the '
                         'URLs, then migrate again.';
    END IF;
END;
$$;

ALTER TABLE projects VALIDATE CONSTRAINT projects_git_url_no_credentials;
