-- A user's task categories. Rows map to dal.categories.Category.

-- name: insert
-- Create a category for a user.
INSERT INTO categories (owner_id, name, colour)
VALUES (%(owner_id)s, %(name)s, %(colour)s)
RETURNING id, owner_id, name, colour, created_at, updated_at;

-- name: get_by_id
-- One category by primary key.
SELECT id, owner_id, name, colour, created_at, updated_at
  FROM categories
 WHERE id = %(id)s;

-- name: update
-- Change the given fields of a category (partial update: set_<col> flags).
UPDATE categories
   SET name   = CASE WHEN %(set_name)s THEN %(name)s ELSE name END,
       colour = CASE WHEN %(set_colour)s THEN %(colour)s ELSE colour END
 WHERE id = %(id)s
RETURNING id, owner_id, name, colour, created_at, updated_at;

-- name: delete
-- Remove a category; its tasks keep existing with category_id set to NULL.
DELETE FROM categories WHERE id = %(id)s;

-- name: list_for_user_with_counts_first_page
-- The first page of a user's categories by name, each with its number of tasks (categories_owner_id_name_lower_key, tasks_category_id_idx).
SELECT c.id, c.owner_id, c.name, c.colour, c.created_at, c.updated_at,
       (SELECT count(*) FROM tasks AS t WHERE t.category_id = c.id) AS task_count
  FROM categories AS c
 WHERE c.owner_id = %(owner_id)s
 ORDER BY lower(c.name)
 LIMIT %(limit)s;

-- name: list_for_user_with_counts_after
-- The page of a user's categories after a name cursor (names are unique per owner in any case).
SELECT c.id, c.owner_id, c.name, c.colour, c.created_at, c.updated_at,
       (SELECT count(*) FROM tasks AS t WHERE t.category_id = c.id) AS task_count
  FROM categories AS c
 WHERE c.owner_id = %(owner_id)s AND lower(c.name) > lower(%(after_name)s)
 ORDER BY lower(c.name)
 LIMIT %(limit)s;
