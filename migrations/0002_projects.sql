-- Projects and their members: the shared container for tasks.
--
-- Why: tasks can belong to a project (a git repository a team works on), and a
-- project is shared through project_members, one row per (project, user) with
-- a role (what the person is) and an access level (what they may do). The
-- owner is also a member (role 'owner', access 'admin'), so "a user's
-- projects" is one index lookup on project_members.
--
-- Deleting a user who still owns a project is refused (RESTRICT): a shared
-- project, with other people's tasks in it, must be handed over or deleted on
-- purpose, never disappear as a side effect. Memberships go with either side.
-- depends: 0001_users

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE projects (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id    uuid        NOT NULL,
    name        text        NOT NULL,
    git_url     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    CONSTRAINT projects_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT projects_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT projects_name_not_blank CHECK (name ~ '[^[:space:]]'),
    -- https://host/path, ssh://[user@]host/path, git://host/path, or scp-like user@host:path.
    CONSTRAINT projects_git_url_format CHECK (
        char_length(git_url) <= 2048
        AND git_url ~ '^((https?|ssh|git)://[^[:space:]/]+/[^[:space:]]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^[:space:]]+)$'
    )
);

COMMENT ON TABLE projects IS 'A body of work (usually one git repository) that tasks can belong to.';

-- The owner foreign key, and "projects I own" listings.
CREATE INDEX projects_owner_id_created_at_idx ON projects (owner_id, created_at, id);

CREATE TRIGGER projects_set_updated_at
    BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE project_members (
    project_id    uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    role          text        NOT NULL DEFAULT 'member',
    access_level  text        NOT NULL DEFAULT 'read',
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- One row per (project, user): the primary key also rejects duplicates.
    CONSTRAINT project_members_pkey PRIMARY KEY (project_id, user_id),
    CONSTRAINT project_members_project_id_fkey
        FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT project_members_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT project_members_role_valid
        CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    CONSTRAINT project_members_access_level_valid
        CHECK (access_level IN ('read', 'write', 'admin')),
    CONSTRAINT project_members_owner_has_admin_access
        CHECK (role <> 'owner' OR access_level = 'admin')
);

COMMENT ON COLUMN project_members.role IS 'What the person is in the project: owner/admin/member/viewer.';
COMMENT ON COLUMN project_members.access_level IS 'What the person may do: read/write/admin.';

-- Exactly one owner per project: the DAL never makes a second one, and this
-- index makes sure no other writer (or race) can.
CREATE UNIQUE INDEX project_members_one_owner_key
    ON project_members (project_id) WHERE role = 'owner';

-- "A user's projects" (and the user foreign key); INCLUDE saves the heap visit.
CREATE INDEX project_members_user_id_idx
    ON project_members (user_id) INCLUDE (project_id, role, access_level);
