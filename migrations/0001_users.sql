-- Users: the one identity table every product area shares.
--
-- Why: tasks, servers, moods and settings all belong to a user, so this table
-- comes first. Email and username are unique regardless of case (unique
-- indexes on lower(), so no extension is needed); external account ids are
-- unique only when present (partial unique indexes). updated_at is kept by a
-- trigger so no writer can forget it. Every constraint is named: the DAL maps
-- violations to typed errors by these names.
-- depends:

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION set_updated_at() IS
    'BEFORE UPDATE trigger: stamps updated_at so application code cannot forget it.';

CREATE TABLE users (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    email           text        NOT NULL,
    username        text        NOT NULL,
    password_hash   text,
    display_name    text,
    preferences     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status          text        NOT NULL DEFAULT 'active',
    github_id       bigint,
    gitlab_id       bigint,
    last_login_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_format
        CHECK (char_length(email) <= 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT users_username_format
        CHECK (username ~ '^[A-Za-z0-9_.-]{3,40}$'),
    -- The hash is an encoded KDF string (salt and parameters inside), never a bare digest.
    CONSTRAINT users_password_hash_format
        CHECK (password_hash ~ '^\$argon2id\$'),
    CONSTRAINT users_display_name_length
        CHECK (char_length(display_name) BETWEEN 1 AND 100),
    CONSTRAINT users_preferences_is_object
        CHECK (jsonb_typeof(preferences) = 'object'),
    CONSTRAINT users_status_valid
        CHECK (status IN ('active', 'suspended', 'deleted')),
    CONSTRAINT users_github_id_positive CHECK (github_id > 0),
    CONSTRAINT users_gitlab_id_positive CHECK (gitlab_id > 0)
);

COMMENT ON TABLE users IS 'People who sign in; shared by every product area.';
COMMENT ON COLUMN users.password_hash IS
    'argon2id encoded hash (salt and cost inside); NULL for accounts that only use OAuth.';

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_github_id_key ON users (github_id) WHERE github_id IS NOT NULL;
CREATE UNIQUE INDEX users_gitlab_id_key ON users (gitlab_id) WHERE gitlab_id IS NOT NULL;
-- Keyset pagination of the user list walks (created_at, id).
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
