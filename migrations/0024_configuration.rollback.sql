-- Rollback of 0024_configuration: drops the three configuration tables.

DROP TABLE user_settings;

DROP TABLE feature_flags;

DROP TABLE app_config;
