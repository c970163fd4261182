-- survey_responses.server_id is always set: validate 0043's CHECK, then NOT NULL.
--
-- Why: 0044 filled the column and the trigger fills every new row, but only a
-- validated constraint lets the planner and the policies of 0046 rely on it.
-- VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE, so writes go on. SET
-- NOT NULL then needs an ACCESS EXCLUSIVE lock, but no scan: PostgreSQL proves
-- the column has no NULL from the validated CHECK, which is dropped after, as
-- NOT NULL says the same.
-- depends: 0044_survey_responses_server_id_backfill

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '10min';

ALTER TABLE survey_responses VALIDATE CONSTRAINT survey_responses_server_id_set;

-- squawk-ignore adding-not-nullable-field
ALTER TABLE survey_responses ALTER COLUMN server_id SET NOT NULL;

-- squawk-ignore ban-drop-constraint
ALTER TABLE survey_responses DROP CONSTRAINT survey_responses_server_id_set;
