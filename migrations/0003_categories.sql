-- Categories: a user's own labels for tasks.
--
-- Why: each user files tasks under categories they name and colour. Names are
-- unique per user regardless of case (a unique index on (owner_id, lower(name)),
-- no extension needed). The extra unique key on (id, owner_id) is the target of
-- the tasks composite foreign key that keeps a task's category owned by the
-- task's owner: the database, not the application, guarantees it.
-- depends: 0002_projects

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE categories (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    owner_id    uuid        NOT NULL,
    name        text        NOT NULL,
    colour      text        NOT NULL DEFAULT '#808080',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_pkey PRIMARY KEY (id),
    CONSTRAINT categories_id_owner_id_key UNIQUE (id, owner_id),
    CONSTRAINT categories_owner_id_fkey
        FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT categories_name_not_blank CHECK (name ~ '[^[:space:]]'),
    CONSTRAINT categories_colour_format CHECK (colour ~ '^#[0-9A-Fa-f]{6}$')
);

COMMENT ON COLUMN categories.colour IS 'Display colour as #rrggbb.';

-- Case-insensitive uniqueness per user; also serves the owner foreign key and
-- "my categories" listings in name order.
CREATE UNIQUE INDEX categories_owner_id_name_lower_key ON categories (owner_id, lower(name));

CREATE TRIGGER categories_set_updated_at
    BEFORE UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
