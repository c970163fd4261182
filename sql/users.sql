-- Users: identity shared by every product area. Rows map to dal.users.User.

-- name: insert
-- Create a user; the database fills id, timestamps and defaults.
INSERT INTO users (email, username, password_hash, display_name, preferences,
                   github_id, gitlab_id)
VALUES (%(email)s, %(username)s, %(password_hash)s, %(display_name)s, %(preferences)s,
        %(github_id)s, %(gitlab_id)s)
RETURNING id, email, username, password_hash, display_name, preferences, status,
          github_id, gitlab_id, last_login_at, created_at, updated_at;

-- name: get_by_id
-- One user by primary key.
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE id = %(id)s;

-- name: get_many
-- Several users by primary key, in the order of the ids given (users_pkey, one probe each).
SELECT u.id, u.email, u.username, u.password_hash, u.display_name, u.preferences, u.status,
       u.github_id, u.gitlab_id, u.last_login_at, u.created_at, u.updated_at
  FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS asked (id, position)
  JOIN users AS u ON u.id = asked.id
 ORDER BY asked.position;

-- name: get_by_email
-- One user by email, case-insensitively (users_email_lower_key).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE lower(email) = lower(%(email)s);

-- name: get_by_username
-- One user by username, case-insensitively (users_username_lower_key).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE lower(username) = lower(%(username)s);

-- name: get_by_github_id
-- One user by the id of their GitHub account, for sign-in through GitHub (users_github_id_key).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE github_id = %(github_id)s;

-- name: get_by_gitlab_id
-- One user by the id of their GitLab account, for sign-in through GitLab (users_gitlab_id_key).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE gitlab_id = %(gitlab_id)s;

-- name: get_by_login
-- One active user by email or username, for sign-in (either unique index).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE (lower(email) = lower(%(login)s) OR lower(username) = lower(%(login)s))
   AND status = 'active';

-- name: update
-- Change the given fields; a NULL flag-pair keeps the column (partial update).
UPDATE users
   SET email        = CASE WHEN %(set_email)s THEN %(email)s ELSE email END,
       username     = CASE WHEN %(set_username)s THEN %(username)s ELSE username END,
       display_name = CASE WHEN %(set_display_name)s THEN %(display_name)s ELSE display_name END,
       preferences  = CASE WHEN %(set_preferences)s THEN %(preferences)s ELSE preferences END,
       status       = CASE WHEN %(set_status)s THEN %(status)s ELSE status END,
       github_id    = CASE WHEN %(set_github_id)s THEN %(github_id)s ELSE github_id END,
       gitlab_id    = CASE WHEN %(set_gitlab_id)s THEN %(gitlab_id)s ELSE gitlab_id END
 WHERE id = %(id)s
RETURNING id, email, username, password_hash, display_name, preferences, status,
          github_id, gitlab_id, last_login_at, created_at, updated_at;

-- name: set_password_hash
-- Replace a user's password hash (after set_password or a rehash on login).
UPDATE users SET password_hash = %(password_hash)s WHERE id = %(id)s;

-- name: touch_last_login
-- Stamp a successful sign-in.
UPDATE users SET last_login_at = now() WHERE id = %(id)s
RETURNING last_login_at;

-- name: soft_delete
-- Mark a user deleted; their rows stay until a hard delete.
UPDATE users SET status = 'deleted' WHERE id = %(id)s AND status <> 'deleted';

-- name: hard_delete
-- Remove a user; foreign keys decide what happens to their rows.
DELETE FROM users WHERE id = %(id)s;

-- name: list_first_page
-- The first page of users in (created_at, id) order (users_created_at_id_idx).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE status = ANY(%(statuses)s)
 ORDER BY created_at, id
 LIMIT %(limit)s;

-- name: list_page_after
-- The page of users after a (created_at, id) cursor (users_created_at_id_idx).
SELECT id, email, username, password_hash, display_name, preferences, status,
       github_id, gitlab_id, last_login_at, created_at, updated_at
  FROM users
 WHERE (created_at, id) > (%(after_created_at)s, %(after_id)s)
   AND status = ANY(%(statuses)s)
 ORDER BY created_at, id
 LIMIT %(limit)s;

-- name: count_all
-- Number of users (for the health report).
SELECT count(*) FROM users;
