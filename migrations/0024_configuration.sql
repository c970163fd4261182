-- Configuration: application settings, feature flags, per-user settings.
--
-- Why: area 5 of DESIGN.md. app_config holds global values as jsonb; keys
-- under "user." are also the defaults of per-user settings (user setting
-- "theme" falls back to app_config "user.theme"). feature_flags roll out to
-- a percentage of users: the bucket (0-99) of a user for a flag is computed
-- by the DAL from sha256(flag name, user id), so it is stable, and raising
-- the percentage only ever adds users.
-- depends: 0023_recommendations

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE app_config (
    key             text        NOT NULL,
    value           jsonb       NOT NULL,
    description     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT app_config_pkey PRIMARY KEY (key),
    CONSTRAINT app_config_key_format CHECK (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'
                                            AND char_length(key) <= 200),
    CONSTRAINT app_config_description_length CHECK (char_length(description) <= 1000)
);

CREATE TRIGGER app_config_set_updated_at
    BEFORE UPDATE ON app_config
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE feature_flags (
    name               text        NOT NULL,
    enabled            boolean     NOT NULL DEFAULT false,
    rollout_percentage smallint    NOT NULL DEFAULT 100,
    description        text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feature_flags_pkey PRIMARY KEY (name),
    CONSTRAINT feature_flags_name_format CHECK (name ~ '^[a-z][a-z0-9_.-]{0,99}$'),
    CONSTRAINT feature_flags_rollout_percentage_range
        CHECK (rollout_percentage BETWEEN 0 AND 100),
    CONSTRAINT feature_flags_description_length CHECK (char_length(description) <= 1000)
);

CREATE TRIGGER feature_flags_set_updated_at
    BEFORE UPDATE ON feature_flags
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_settings (
    -- CASCADE: settings are the person's own.
    user_id         uuid        NOT NULL,
    key             text        NOT NULL,
    value           jsonb       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_settings_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT user_settings_key_format CHECK (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'
                                               AND char_length(key) <= 200),
    CONSTRAINT user_settings_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TRIGGER user_settings_set_updated_at
    BEFORE UPDATE ON user_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
