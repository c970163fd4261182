-- Rollback of 0002_projects: drops the members, then the projects (indexes and trigger go with them).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE project_members;

DROP TABLE projects;
