-- Projects: a git_url may not carry credentials.
--
-- Why: projects_git_url_format accepts https://user:token@host/repo.git, so a
-- personal access token pasted with the URL was stored in plain text, shown to
-- every member who reads the project and copied into every backup and log of it.
-- The new CHECK refuses any user part in an http(s) URL (a token alone is often
-- sent as the user name) and a password in any other scheme's; ssh's user name
-- (git@github.com:org/repo.git, ssh://git@host/repo) stays allowed, as it is no
-- secret.
--
-- Added NOT VALID: a short ACCESS EXCLUSIVE lock and no scan, and every project
-- written from now on is checked. 0041 validates the existing rows in its own
-- transaction, under a lock that lets reads and writes go on.
-- depends: 0039_row_level_security_tracking_wellbeing

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE projects
    ADD CONSTRAINT projects_git_url_no_credentials
    CHECK (git_url !~* '^https?://[^/]*@' AND git_url !~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/@]*@')
    NOT VALID;
