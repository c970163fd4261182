-- Rollback of 0002_projects: drops the members, then the projects (indexes and trigger go with them).

DROP TABLE project_members;

DROP TABLE projects;
