-- Rollback of 0024_configuration: drops the three configuration tables.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE user_settings;

DROP TABLE feature_flags;

DROP TABLE app_config;
