-- Surveys, their questions and answers. Rows map to dal.surveys.Survey / Question / Response.

-- name: insert
-- Create a survey (draft until published).
INSERT INTO surveys (server_id, event_id, creator_id, title, description, opens_at,
                     closes_at, anonymous)
VALUES (%(server_id)s, %(event_id)s, %(creator_id)s, %(title)s, %(description)s,
        %(opens_at)s, %(closes_at)s, %(anonymous)s)
RETURNING id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
          anonymous, status, created_at, updated_at;

-- name: get_by_id
-- One survey by primary key.
SELECT id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
       anonymous, status, created_at, updated_at
  FROM surveys
 WHERE id = %(id)s;

-- name: set_status
-- Publish or cancel a survey (the trigger surveys_keep_status_moves refuses other moves).
-- Allowed: draft to published or cancelled, published to cancelled, any status to itself;
-- any other move raises naming surveys_status_transition.
UPDATE surveys SET status = %(status)s
 WHERE id = %(id)s
RETURNING id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
          anonymous, status, created_at, updated_at;

-- name: update
-- Change a survey's title and/or description (each set_x flag says if x is given); not if cancelled.
UPDATE surveys
   SET title       = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
       description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END
 WHERE id = %(id)s AND status <> 'cancelled'
RETURNING id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
          anonymous, status, created_at, updated_at;

-- name: set_window
-- Move a survey's answer window.
UPDATE surveys SET opens_at = %(opens_at)s, closes_at = %(closes_at)s WHERE id = %(id)s
RETURNING id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
          anonymous, status, created_at, updated_at;

-- name: delete
-- Delete a survey with its questions and answers.
DELETE FROM surveys WHERE id = %(id)s;

-- name: results_access
-- Whether a survey is anonymous, and whether the acting user may read its results.
-- Its server's moderators may, and so may a session acting for nobody (which sees rows
-- only as the owner or the read-only role); no row when there is no such survey to see.
SELECT anonymous,
       dal_acting_user() IS NULL OR server_id = ANY (dal_servers('moderator')) AS allowed
  FROM surveys
 WHERE id = %(id)s;

-- name: list_for_server
-- A server's surveys, latest window first (surveys_server_id_opens_at_idx).
SELECT id, server_id, event_id, creator_id, title, description, opens_at, closes_at,
       anonymous, status, created_at, updated_at
  FROM surveys
 WHERE server_id = %(server_id)s
 ORDER BY opens_at DESC, id DESC
 LIMIT %(limit)s;

-- name: insert_question
-- Add a question; options are checked against the kind (survey_questions_options_match_kind).
INSERT INTO survey_questions (survey_id, position, kind, prompt, options)
VALUES (%(survey_id)s, %(position)s, %(kind)s, %(prompt)s, %(options)s)
RETURNING id, survey_id, position, kind, prompt, options;

-- name: get_question
-- One question by primary key.
SELECT id, survey_id, position, kind, prompt, options
  FROM survey_questions
 WHERE id = %(id)s;

-- name: lock_question
-- One question, locked for an edit: waits for answers to it still being written (their FK lock).
SELECT id, survey_id, position, kind, prompt, options
  FROM survey_questions
 WHERE id = %(id)s
   FOR UPDATE;

-- name: update_question
-- Change the given fields (set_x flags) of a question nobody has answered; no row otherwise.
UPDATE survey_questions q
   SET position = CASE WHEN %(set_position)s THEN %(position)s ELSE q.position END,
       kind     = CASE WHEN %(set_kind)s THEN %(kind)s ELSE q.kind END,
       prompt   = CASE WHEN %(set_prompt)s THEN %(prompt)s ELSE q.prompt END,
       options  = CASE WHEN %(set_options)s THEN %(options)s ELSE q.options END
 WHERE q.id = %(id)s
   AND NOT EXISTS (SELECT FROM survey_responses r WHERE r.question_id = q.id)
RETURNING q.id, q.survey_id, q.position, q.kind, q.prompt, q.options;

-- name: list_questions
-- A survey's questions in order (survey_questions_survey_id_position_key).
SELECT id, survey_id, position, kind, prompt, options
  FROM survey_questions
 WHERE survey_id = %(survey_id)s
 ORDER BY position;

-- name: delete_question
-- Remove a question with its answers.
DELETE FROM survey_questions WHERE id = %(id)s;

-- name: insert_response
-- Answer a question; the trigger checks the answer against the kind and the survey window.
INSERT INTO survey_responses (question_id, user_id, answer)
VALUES (%(question_id)s, %(user_id)s, %(answer)s)
RETURNING question_id, user_id, answer, answered_at;

-- name: update_response
-- Change one's answer; the trigger checks it against the kind and the survey window again.
UPDATE survey_responses
   SET answer = %(answer)s, answered_at = now()
 WHERE question_id = %(question_id)s AND user_id = %(user_id)s
RETURNING question_id, user_id, answer, answered_at;

-- name: delete_response
-- Withdraw one's answer while the survey is open: (open, deleted), no row for no such question.
-- The survey row is locked as the answer trigger locks it, so the window cannot move
-- meanwhile (by dal_lock_question_survey, as the owner: a member may not lock a survey).
WITH target AS (
    SELECT q.id, dal_lock_question_survey(q.id) AS open
      FROM survey_questions q
     WHERE q.id = %(question_id)s
), deleted AS (
    DELETE FROM survey_responses r
     USING target t
     WHERE t.open AND r.question_id = t.id AND r.user_id = %(user_id)s
    RETURNING r.question_id
)
SELECT t.open, (SELECT count(*) FROM deleted) AS deleted
  FROM target t;

-- name: list_named_responses
-- Who answered what, for a survey that is NOT anonymous (survey_responses_pkey per question).
SELECT r.question_id, r.user_id, r.answer, r.answered_at
  FROM surveys s
  JOIN survey_questions q ON q.survey_id = s.id
  JOIN survey_responses r ON r.question_id = q.id
 WHERE s.id = %(survey_id)s AND NOT s.anonymous
 ORDER BY q.position, r.answered_at, r.user_id;

-- name: question_totals
-- Per question: number of answers and, for ratings, the average (no respondent ids).
SELECT q.id AS question_id, q.position, q.kind, q.prompt,
       count(r.question_id) AS answers,
       avg((r.answer #>> '{}')::numeric) FILTER (WHERE q.kind = 'rating') AS average_rating
  FROM survey_questions q
  LEFT JOIN survey_responses r ON r.question_id = q.id
 WHERE q.survey_id = %(survey_id)s
 GROUP BY q.id
 ORDER BY q.position;

-- name: option_counts
-- Per choice question and option (in option order): how many answers picked it.
SELECT q.id AS question_id, o.option, count(r.question_id) AS votes
  FROM survey_questions q
 CROSS JOIN LATERAL jsonb_array_elements_text(q.options) WITH ORDINALITY AS o (option, ord)
  LEFT JOIN survey_responses r ON r.question_id = q.id AND r.answer @> to_jsonb(o.option)
 WHERE q.survey_id = %(survey_id)s AND q.kind IN ('single_choice', 'multi_choice')
 GROUP BY q.id, o.ord, o.option
 ORDER BY q.id, o.ord;
