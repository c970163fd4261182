-- Rollback of 0044_survey_responses_server_id_backfill: nothing to undo. The values
-- filled in are right whatever runs next, and 0043's rollback drops the column.
-- transactional: false

SELECT 1;
