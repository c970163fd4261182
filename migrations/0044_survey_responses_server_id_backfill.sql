-- Fill survey_responses.server_id (0043) for the answers written before it.
--
-- Why a migration of its own, without a transaction: one UPDATE of every answer
-- would hold each row's lock until it committed, so answers being changed would
-- wait for the whole table. Instead the DO block below walks the answers by
-- question id, a range of the primary key at a time, and commits after each
-- range: a row is locked for one short batch, and a run stopped halfway keeps
-- what it did (a rerun starts from the first question with an answer still to
-- fill). The UPDATE fires survey_responses_set_server_id, which sets the value;
-- the answer check no longer fires on it (0043). The session's timeouts are reset
-- at the end, so the migrations run after this one get the runner's own.
-- depends: 0043_survey_responses_server_id
-- transactional: false

SET lock_timeout = '5s';

SET statement_timeout = '30min';

DO $backfill$
DECLARE
    lower_id bigint := (SELECT min(question_id) FROM survey_responses WHERE server_id IS NULL);
    last_id  bigint := (SELECT max(id) FROM survey_questions);
    step     constant bigint := 200;  -- questions per batch: a few thousand answers
BEGIN
    WHILE lower_id <= last_id LOOP
        UPDATE survey_responses r
           SET server_id = s.server_id
          FROM survey_questions q
          JOIN surveys s ON s.id = q.survey_id
         WHERE q.id = r.question_id
           AND r.question_id >= lower_id AND r.question_id < lower_id + step
           AND r.server_id IS NULL;
        COMMIT;
        lower_id := lower_id + step;
    END LOOP;
END
$backfill$;

RESET statement_timeout;

RESET lock_timeout;
