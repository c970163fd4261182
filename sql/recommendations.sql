-- Recommendations and feedback on them. Rows map to dal.recommendations.Recommendation / Feedback.

-- name: insert
-- Create a recommendation, optionally answering a mood (the trigger checks it is the user's own).
INSERT INTO recommendations (user_id, mood_id, mood_recorded_at, kind, content,
                             relevance_score, expires_at)
VALUES (%(user_id)s, %(mood_id)s, %(mood_recorded_at)s, %(kind)s, %(content)s,
        %(relevance_score)s, %(expires_at)s)
RETURNING id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
          created_at, expires_at, dismissed, dismissed_at;

-- name: get_by_id
-- One recommendation by primary key.
SELECT id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
       created_at, expires_at, dismissed, dismissed_at
  FROM recommendations
 WHERE id = %(id)s;

-- name: list_active
-- A user's live recommendations, most relevant first (recommendations_user_id_relevance_idx).
SELECT id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
       created_at, expires_at, dismissed, dismissed_at
  FROM recommendations
 WHERE user_id = %(user_id)s AND NOT dismissed
   AND (expires_at IS NULL OR expires_at > now())
 ORDER BY relevance_score DESC, id
 LIMIT %(limit)s;

-- name: update
-- Change the given fields (set_x flags) of a recommendation (recommendations_pkey).
UPDATE recommendations
   SET kind            = CASE WHEN %(set_kind)s THEN %(kind)s ELSE kind END,
       content         = CASE WHEN %(set_content)s THEN %(content)s ELSE content END,
       relevance_score = CASE WHEN %(set_relevance_score)s THEN %(relevance_score)s
                              ELSE relevance_score END,
       expires_at      = CASE WHEN %(set_expires_at)s THEN %(expires_at)s ELSE expires_at END
 WHERE id = %(id)s
RETURNING id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
          created_at, expires_at, dismissed, dismissed_at;

-- name: history_first_page
-- A user's recommendations newest first, dismissed and expired ones too (recommendations_user_id_created_at_idx).
SELECT id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
       created_at, expires_at, dismissed, dismissed_at
  FROM recommendations
 WHERE user_id = %(user_id)s
 ORDER BY created_at DESC, id DESC
 LIMIT %(limit)s;

-- name: history_page_after
-- The page of a user's recommendations after a (created_at, id) cursor (recommendations_user_id_created_at_idx).
SELECT id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
       created_at, expires_at, dismissed, dismissed_at
  FROM recommendations
 WHERE user_id = %(user_id)s
   AND (created_at, id) < (%(before_created_at)s, %(before_id)s)
 ORDER BY created_at DESC, id DESC
 LIMIT %(limit)s;

-- name: dismiss
-- Dismiss one of a user's recommendations (idempotent: keeps the first dismissal time).
UPDATE recommendations
   SET dismissed = true, dismissed_at = coalesce(dismissed_at, now())
 WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id, user_id, mood_id, mood_recorded_at, kind, content, relevance_score,
          created_at, expires_at, dismissed, dismissed_at;

-- name: delete
-- Delete a recommendation with its feedback.
DELETE FROM recommendations WHERE id = %(id)s;

-- name: insert_feedback
-- A user's rating of a recommendation made for them (once: feedback_user_id_recommendation_id_key).
INSERT INTO feedback (user_id, recommendation_id, rating, comment)
VALUES (%(user_id)s, %(recommendation_id)s, %(rating)s, %(comment)s)
RETURNING id, user_id, recommendation_id, rating, comment, created_at;

-- name: update_feedback
-- Change the given fields (set_x flags) of a user's feedback on one recommendation.
UPDATE feedback
   SET rating  = CASE WHEN %(set_rating)s THEN %(rating)s ELSE rating END,
       comment = CASE WHEN %(set_comment)s THEN %(comment)s ELSE comment END
 WHERE user_id = %(user_id)s AND recommendation_id = %(recommendation_id)s
RETURNING id, user_id, recommendation_id, rating, comment, created_at;

-- name: delete_feedback
-- Withdraw a user's feedback on one recommendation (feedback_user_id_recommendation_id_key).
DELETE FROM feedback
 WHERE user_id = %(user_id)s AND recommendation_id = %(recommendation_id)s;

-- name: get_feedback
-- A user's feedback on one recommendation (feedback_user_id_recommendation_id_key).
SELECT id, user_id, recommendation_id, rating, comment, created_at
  FROM feedback
 WHERE user_id = %(user_id)s AND recommendation_id = %(recommendation_id)s;

-- name: rating_by_kind_since
-- Average rating and count per kind of the feedback given since a time (feedback_created_at_idx).
-- Each rating looks its kind up by key (index-only on recommendations_id_user_id_key): the
-- cost follows the period's feedback, never the whole history of recommendations.
SELECT k.kind, count(*) AS ratings, round(avg(k.rating), 2) AS average_rating
  FROM (SELECT f.rating,
               (SELECT r.kind
                  FROM recommendations r
                 WHERE r.id = f.recommendation_id AND r.user_id = f.user_id) AS kind
          FROM feedback f
         WHERE f.created_at >= %(since)s) AS k
 GROUP BY k.kind
 ORDER BY k.kind;
