-- Rollback of 0041_projects_git_url_no_credentials_validate: the CHECK back as
-- 0040 left it, NOT VALID. A validated CHECK cannot be marked NOT VALID again in
-- place, so it is dropped and added back NOT VALID in one ALTER: a brief lock and
-- no scan.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-constraint
ALTER TABLE projects DROP CONSTRAINT projects_git_url_no_credentials,
    ADD CONSTRAINT projects_git_url_no_credentials
    CHECK (git_url !~* '^https?://[^/]*@' AND git_url !~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@')
    NOT VALID;
