-- Community: servers, their members, events and RSVPs.
--
-- Why: area 3 of DESIGN.md. A server mirrors an external community (its
-- snowflake id is a bigint, unique); members carry a role; events belong to a
-- server and people answer them going/maybe/declined.
--
-- Capacity: events.going_count is kept by a trigger on event_rsvps and bounded
-- by the CHECK events_capacity_not_exceeded. The trigger's UPDATE of the event
-- row takes that row's lock, so concurrent "going" answers for one event queue
-- behind each other and each sees the count the previous one committed: the
-- CHECK can never be passed by a race, whichever code path writes RSVPs.
-- Other answers lock the row the same way (FOR NO KEY UPDATE), so none slips
-- past a concurrent cancellation of the event. A cheaper COUNT(*) in the
-- application would need the same row lock and could be bypassed by any other
-- writer; the counter also makes "seats left" free.
--
-- Ids are bigint identities: events and RSVPs are the big tables here, and
-- 8-byte keys keep their indexes small. Every constraint and index is named:
-- the DAL maps violations to typed errors by these names.
-- depends: 0001_users

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE servers (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    snowflake_id    bigint      NOT NULL,
    name            text        NOT NULL,
    -- RESTRICT: deleting a user who still owns a server must be a decision
    -- (transfer ownership or delete the server), never a silent cascade.
    owner_id        uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT servers_pkey PRIMARY KEY (id),
    CONSTRAINT servers_snowflake_id_key UNIQUE (snowflake_id),
    CONSTRAINT servers_snowflake_id_positive CHECK (snowflake_id > 0),
    CONSTRAINT servers_name_length
        CHECK (char_length(name) BETWEEN 1 AND 100 AND btrim(name) <> ''),
    CONSTRAINT servers_owner_id_fkey FOREIGN KEY (owner_id)
        REFERENCES users (id) ON DELETE RESTRICT
);

COMMENT ON TABLE servers IS 'A community (e.g. a chat server) identified externally by a snowflake id.';

CREATE INDEX servers_owner_id_idx ON servers (owner_id);

CREATE TRIGGER servers_set_updated_at
    BEFORE UPDATE ON servers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE server_members (
    -- CASCADE both ways: a membership means nothing without its server or user.
    server_id       bigint      NOT NULL,
    user_id         uuid        NOT NULL,
    role            text        NOT NULL DEFAULT 'member',
    joined_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT server_members_pkey PRIMARY KEY (server_id, user_id),
    CONSTRAINT server_members_role_valid
        CHECK (role IN ('owner', 'admin', 'moderator', 'member')),
    CONSTRAINT server_members_server_id_fkey FOREIGN KEY (server_id)
        REFERENCES servers (id) ON DELETE CASCADE,
    CONSTRAINT server_members_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- A user's servers (and the user side of the FK: deleting a user cascades through it).
CREATE INDEX server_members_user_id_idx ON server_members (user_id, server_id);

-- Exactly one owner member per server. dal.servers.transfer_ownership also locks
-- the server row so concurrent transfers queue; this index holds for any writer.
CREATE UNIQUE INDEX server_members_one_owner_key
    ON server_members (server_id) WHERE role = 'owner';

CREATE TABLE events (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    -- CASCADE: an event is part of its server and goes with it.
    server_id       bigint      NOT NULL,
    -- SET NULL: the event outlives the account of whoever created it.
    creator_id      uuid,
    title           text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    location        text,
    capacity        integer,
    going_count     integer     NOT NULL DEFAULT 0,
    status          text        NOT NULL DEFAULT 'scheduled',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED,
    CONSTRAINT events_pkey PRIMARY KEY (id),
    -- Target of surveys' composite FK: a survey's event must be in the survey's server.
    CONSTRAINT events_id_server_id_key UNIQUE (id, server_id),
    CONSTRAINT events_title_length
        CHECK (char_length(title) BETWEEN 1 AND 200 AND btrim(title) <> ''),
    CONSTRAINT events_description_length CHECK (char_length(description) <= 10000),
    CONSTRAINT events_location_length CHECK (char_length(location) BETWEEN 1 AND 500),
    CONSTRAINT events_starts_before_ends CHECK (starts_at < ends_at),
    -- NULL capacity means unlimited.
    CONSTRAINT events_capacity_positive CHECK (capacity > 0),
    CONSTRAINT events_capacity_not_exceeded
        CHECK (going_count >= 0 AND (capacity IS NULL OR going_count <= capacity)),
    CONSTRAINT events_status_valid CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    CONSTRAINT events_server_id_fkey FOREIGN KEY (server_id)
        REFERENCES servers (id) ON DELETE CASCADE,
    CONSTRAINT events_creator_id_fkey FOREIGN KEY (creator_id)
        REFERENCES users (id) ON DELETE SET NULL
);

COMMENT ON COLUMN events.going_count IS
    'Number of "going" RSVPs, kept by trigger event_rsvps_count_going; bounded by capacity.';
COMMENT ON COLUMN events.search IS
    'Full-text document: title (weight A) and description (weight B), English configuration.';

-- A server's scheduled events in time order (keyset on starts_at, id): status
-- is a key column, so the upcoming lists read only scheduled rows, in order,
-- and a user's upcoming events take each server's next keys index-only. Not
-- partial, because it is also the index on server_id that the ON DELETE
-- CASCADE from servers and search within one server need.
CREATE INDEX events_server_id_status_starts_at_idx
    ON events (server_id, status, starts_at, id);
CREATE INDEX events_search_idx ON events USING gin (search);
CREATE INDEX events_creator_id_idx ON events (creator_id);

CREATE TRIGGER events_set_updated_at
    BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE event_rsvps (
    -- CASCADE both ways: an answer means nothing without its event or person.
    event_id        bigint      NOT NULL,
    user_id         uuid        NOT NULL,
    response        text        NOT NULL,
    responded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_rsvps_pkey PRIMARY KEY (event_id, user_id),
    CONSTRAINT event_rsvps_response_valid CHECK (response IN ('going', 'maybe', 'declined')),
    CONSTRAINT event_rsvps_event_id_fkey FOREIGN KEY (event_id)
        REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT event_rsvps_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- Who is going / maybe to an event (attendee lists in answer order, with user_id
-- as the tie-break so the list needs no sort; per-response counts index-only).
CREATE INDEX event_rsvps_event_id_response_idx
    ON event_rsvps (event_id, response, responded_at, user_id);
-- A user's answers (and the user side of the FK).
CREATE INDEX event_rsvps_user_id_idx ON event_rsvps (user_id, event_id);

CREATE FUNCTION event_rsvps_count_going() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    event_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.response = 'going'
       AND NOT (TG_OP = 'UPDATE' AND NEW.response = 'going' AND NEW.event_id = OLD.event_id) THEN
        UPDATE events SET going_count = going_count - 1 WHERE id = OLD.event_id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.response = 'going'
       AND NOT (TG_OP = 'UPDATE' AND OLD.response = 'going' AND OLD.event_id = NEW.event_id) THEN
        -- Locks the event row until commit: concurrent "going" answers queue here,
        -- and events_capacity_not_exceeded rejects the one that would overflow.
        UPDATE events SET going_count = going_count + 1 WHERE id = NEW.event_id
        RETURNING status INTO event_status;
    ELSE
        -- The same row lock as the going path: a cancellation in progress makes
        -- this answer wait and then see 'cancelled' (a plain read would see the
        -- old status and let the answer in). One lock mode for every answer also
        -- means a transaction answering twice never upgrades share to update.
        SELECT status INTO event_status FROM events WHERE id = NEW.event_id
           FOR NO KEY UPDATE;
    END IF;
    IF event_status IS DISTINCT FROM 'scheduled' THEN
        RAISE EXCEPTION 'event % is not scheduled (it is %): answers are closed',
                NEW.event_id, coalesce(event_status, 'missing')
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'event_rsvps_event_scheduled',
                  TABLE = 'event_rsvps';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION event_rsvps_count_going() IS
    'AFTER trigger on event_rsvps: keeps events.going_count and refuses answers to unscheduled events.';

CREATE TRIGGER event_rsvps_count_going
    AFTER INSERT OR UPDATE OR DELETE ON event_rsvps
    FOR EACH ROW EXECUTE FUNCTION event_rsvps_count_going();
