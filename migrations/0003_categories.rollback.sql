-- Rollback of 0003_categories: drops the table with its indexes and trigger.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE categories;
