-- Projects and their members. Rows map to dal.projects.Project and dal.projects.Member.

-- name: insert
-- Create a project; the database fills id and timestamps.
INSERT INTO projects (owner_id, name, git_url)
VALUES (%(owner_id)s, %(name)s, %(git_url)s)
RETURNING id, owner_id, name, git_url, created_at, updated_at;

-- name: get_by_id
-- One project by primary key.
SELECT id, owner_id, name, git_url, created_at, updated_at
  FROM projects
 WHERE id = %(id)s;

-- name: get_many
-- Several projects by primary key, in the order of the ids given (projects_pkey, one probe each).
SELECT p.id, p.owner_id, p.name, p.git_url, p.created_at, p.updated_at
  FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS asked (id, position)
  JOIN projects AS p ON p.id = asked.id
 ORDER BY asked.position;

-- name: update
-- Change the given fields of a project (partial update: set_<col> flags).
UPDATE projects
   SET name    = CASE WHEN %(set_name)s THEN %(name)s ELSE name END,
       git_url = CASE WHEN %(set_git_url)s THEN %(git_url)s ELSE git_url END
 WHERE id = %(id)s
RETURNING id, owner_id, name, git_url, created_at, updated_at;

-- name: delete
-- Remove a project; its members, tasks and sync history go with it.
DELETE FROM projects WHERE id = %(id)s;

-- name: list_for_user_first_page
-- The first page of the projects a user is a member of, in the order they joined: the page of memberships read in index order first (project_members_user_id_created_at_idx), then its projects by key.
WITH page AS (
    SELECT project_id, role, access_level, created_at
      FROM project_members
     WHERE user_id = %(user_id)s
     ORDER BY created_at, project_id
     LIMIT %(limit)s
)
SELECT p.id, p.owner_id, p.name, p.git_url, p.created_at, p.updated_at,
       m.role, m.access_level, m.created_at AS joined_at
  FROM page AS m
  JOIN projects AS p ON p.id = m.project_id
 ORDER BY m.created_at, m.project_id;

-- name: list_for_user_after
-- The user's projects joined after a (joined_at, project_id) cursor (as above).
WITH page AS (
    SELECT project_id, role, access_level, created_at
      FROM project_members
     WHERE user_id = %(user_id)s
       AND (created_at, project_id) > (%(after_joined_at)s, %(after_project_id)s)
     ORDER BY created_at, project_id
     LIMIT %(limit)s
)
SELECT p.id, p.owner_id, p.name, p.git_url, p.created_at, p.updated_at,
       m.role, m.access_level, m.created_at AS joined_at
  FROM page AS m
  JOIN projects AS p ON p.id = m.project_id
 ORDER BY m.created_at, m.project_id;

-- name: add_member
-- Add a user to a project with a role and an access level.
INSERT INTO project_members (project_id, user_id, role, access_level)
VALUES (%(project_id)s, %(user_id)s, %(role)s, %(access_level)s)
RETURNING project_id, user_id, role, access_level, created_at;

-- name: get_member
-- One membership by its primary key.
SELECT project_id, user_id, role, access_level, created_at
  FROM project_members
 WHERE project_id = %(project_id)s AND user_id = %(user_id)s;

-- name: set_member_role
-- Change a non-owner member's role and access level; no row when not a member or the owner.
UPDATE project_members
   SET role = %(role)s, access_level = %(access_level)s
 WHERE project_id = %(project_id)s AND user_id = %(user_id)s AND role <> 'owner'
RETURNING project_id, user_id, role, access_level, created_at;

-- name: remove_member
-- Remove a (non-owner) member from a project.
DELETE FROM project_members
 WHERE project_id = %(project_id)s AND user_id = %(user_id)s AND role <> 'owner';

-- name: list_members_first_page
-- The first page of a project's members in the order they joined (project_members_project_id_created_at_idx).
SELECT project_id, user_id, role, access_level, created_at
  FROM project_members
 WHERE project_id = %(project_id)s
 ORDER BY created_at, user_id
 LIMIT %(limit)s;

-- name: list_members_after
-- The project's members who joined after a (created_at, user_id) cursor (project_members_project_id_created_at_idx).
SELECT project_id, user_id, role, access_level, created_at
  FROM project_members
 WHERE project_id = %(project_id)s
   AND (created_at, user_id) > (%(after_created_at)s, %(after_user_id)s)
 ORDER BY created_at, user_id
 LIMIT %(limit)s;
