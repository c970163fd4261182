-- Rollback of 0003_categories: drops the table with its indexes and trigger.

DROP TABLE categories;
