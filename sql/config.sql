-- Application config, feature flags and per-user settings. Rows map to dal.config_store types.

-- name: get
-- One config entry by key.
SELECT key, value, description, created_at, updated_at FROM app_config WHERE key = %(key)s;

-- name: upsert
-- Set a config value, and its description when set_description (None clears it).
INSERT INTO app_config (key, value, description)
VALUES (%(key)s, %(value)s, %(description)s)
ON CONFLICT ON CONSTRAINT app_config_pkey
DO UPDATE SET value = EXCLUDED.value,
              description = CASE WHEN %(set_description)s THEN EXCLUDED.description
                                 ELSE app_config.description END
RETURNING key, value, description, created_at, updated_at;

-- name: delete
-- Remove a config entry.
DELETE FROM app_config WHERE key = %(key)s;

-- name: list_all
-- Every config entry by key (app_config_pkey).
SELECT key, value, description, created_at, updated_at FROM app_config ORDER BY key;

-- name: get_flag
-- One feature flag by name.
SELECT name, enabled, rollout_percentage, description, created_at, updated_at
  FROM feature_flags
 WHERE name = %(name)s;

-- name: upsert_flag
-- Create or change a feature flag; its description when set_description (None clears it).
INSERT INTO feature_flags (name, enabled, rollout_percentage, description)
VALUES (%(name)s, %(enabled)s, %(rollout_percentage)s, %(description)s)
ON CONFLICT ON CONSTRAINT feature_flags_pkey
DO UPDATE SET enabled = EXCLUDED.enabled,
              rollout_percentage = EXCLUDED.rollout_percentage,
              description = CASE WHEN %(set_description)s THEN EXCLUDED.description
                                 ELSE feature_flags.description END
RETURNING name, enabled, rollout_percentage, description, created_at, updated_at;

-- name: delete_flag
-- Remove a feature flag.
DELETE FROM feature_flags WHERE name = %(name)s;

-- name: get_user_setting
-- A user's own value for a setting, else the app_config default "user.<key>".
SELECT coalesce(s.value, c.value) AS value, s.value IS NULL AS is_default
  FROM (SELECT %(key)s::text AS key) AS k
  LEFT JOIN user_settings s ON s.user_id = %(user_id)s AND s.key = k.key
  LEFT JOIN app_config c ON c.key = 'user.' || k.key
 WHERE s.value IS NOT NULL OR c.value IS NOT NULL;

-- name: upsert_user_setting
-- Set a user's value for a setting.
INSERT INTO user_settings (user_id, key, value)
VALUES (%(user_id)s, %(key)s, %(value)s)
ON CONFLICT ON CONSTRAINT user_settings_pkey DO UPDATE SET value = EXCLUDED.value
RETURNING key, value, false AS is_default;

-- name: delete_user_setting
-- Remove a user's value (the default applies again).
DELETE FROM user_settings WHERE user_id = %(user_id)s AND key = %(key)s;

-- name: list_user_settings
-- A user's settings: their own values, plus every "user.*" default they have not overridden.
SELECT s.key, s.value, false AS is_default
  FROM user_settings s
 WHERE s.user_id = %(user_id)s
UNION ALL
SELECT substr(c.key, 6), c.value, true
  FROM app_config c
 WHERE starts_with(c.key, 'user.')
   AND NOT EXISTS (SELECT 1 FROM user_settings s
                    WHERE s.user_id = %(user_id)s AND s.key = substr(c.key, 6))
 ORDER BY 1;
