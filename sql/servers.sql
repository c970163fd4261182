-- Servers (communities) and their members. Rows map to dal.servers.Server / Member.

-- name: insert
-- Create a server; the DAL adds the owner as a member in the same transaction.
INSERT INTO servers (snowflake_id, name, owner_id)
VALUES (%(snowflake_id)s, %(name)s, %(owner_id)s)
RETURNING id, snowflake_id, name, owner_id, created_at, updated_at;

-- name: get_by_id
-- One server by primary key.
SELECT id, snowflake_id, name, owner_id, created_at, updated_at
  FROM servers
 WHERE id = %(id)s;

-- name: lock_by_id
-- One server by primary key, its row locked until commit (serialises ownership changes).
SELECT id, snowflake_id, name, owner_id, created_at, updated_at
  FROM servers
 WHERE id = %(id)s
   FOR UPDATE;

-- name: get_by_snowflake_id
-- One server by its external snowflake id (servers_snowflake_id_key).
SELECT id, snowflake_id, name, owner_id, created_at, updated_at
  FROM servers
 WHERE snowflake_id = %(snowflake_id)s;

-- name: rename
-- Change a server's name.
UPDATE servers SET name = %(name)s WHERE id = %(id)s
RETURNING id, snowflake_id, name, owner_id, created_at, updated_at;

-- name: set_owner
-- Hand a server to another user (the DAL also updates both memberships).
UPDATE servers SET owner_id = %(owner_id)s WHERE id = %(id)s
RETURNING id, snowflake_id, name, owner_id, created_at, updated_at;

-- name: delete
-- Delete a server; members, events and surveys cascade.
DELETE FROM servers WHERE id = %(id)s;

-- name: add_member
-- Add a member, or change a non-owner member's role; no row when the user is the owner.
INSERT INTO server_members (server_id, user_id, role)
VALUES (%(server_id)s, %(user_id)s, %(role)s)
ON CONFLICT ON CONSTRAINT server_members_pkey DO UPDATE SET role = EXCLUDED.role
 WHERE server_members.role <> 'owner'
RETURNING server_id, user_id, role, joined_at;

-- name: change_member_role
-- Change a non-owner member's role; no row when not a member or the owner.
UPDATE server_members SET role = %(role)s
 WHERE server_id = %(server_id)s AND user_id = %(user_id)s AND role <> 'owner'
RETURNING server_id, user_id, role, joined_at;

-- name: set_member_role
-- Set any member's role, the owner's too: only for ownership transfers.
UPDATE server_members SET role = %(role)s
 WHERE server_id = %(server_id)s AND user_id = %(user_id)s
RETURNING server_id, user_id, role, joined_at;

-- name: get_member
-- One membership (server_members_pkey).
SELECT server_id, user_id, role, joined_at
  FROM server_members
 WHERE server_id = %(server_id)s AND user_id = %(user_id)s;

-- name: remove_member
-- Remove a member who is not the owner (the owner leaves by handing the server over).
DELETE FROM server_members
 WHERE server_id = %(server_id)s AND user_id = %(user_id)s AND role <> 'owner';

-- name: list_members_first_page
-- The first page of a server's members in join order (server_members_server_id_joined_at_idx).
SELECT server_id, user_id, role, joined_at
  FROM server_members
 WHERE server_id = %(server_id)s
 ORDER BY joined_at, user_id
 LIMIT %(limit)s;

-- name: list_members_after
-- The members who joined after a (joined_at, user_id) cursor (server_members_server_id_joined_at_idx).
SELECT server_id, user_id, role, joined_at
  FROM server_members
 WHERE server_id = %(server_id)s
   AND (joined_at, user_id) > (%(after_joined_at)s, %(after_user_id)s)
 ORDER BY joined_at, user_id
 LIMIT %(limit)s;

-- name: list_for_user_first_page
-- The first page of the servers a user belongs to, in the order they joined, with their role: the page of memberships read in index order first (server_members_user_id_joined_at_idx), then its servers by key.
WITH page AS (
    SELECT server_id, role, joined_at
      FROM server_members
     WHERE user_id = %(user_id)s
     ORDER BY joined_at, server_id
     LIMIT %(limit)s
)
SELECT s.id, s.snowflake_id, s.name, s.owner_id, s.created_at, s.updated_at, m.role,
       m.joined_at
  FROM page m
  JOIN servers s ON s.id = m.server_id
 ORDER BY m.joined_at, m.server_id;

-- name: list_for_user_after
-- The user's servers joined after a (joined_at, server_id) cursor (as above).
WITH page AS (
    SELECT server_id, role, joined_at
      FROM server_members
     WHERE user_id = %(user_id)s
       AND (joined_at, server_id) > (%(after_joined_at)s, %(after_server_id)s)
     ORDER BY joined_at, server_id
     LIMIT %(limit)s
)
SELECT s.id, s.snowflake_id, s.name, s.owner_id, s.created_at, s.updated_at, m.role,
       m.joined_at
  FROM page m
  JOIN servers s ON s.id = m.server_id
 ORDER BY m.joined_at, m.server_id;
