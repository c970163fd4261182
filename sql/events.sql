-- Events of a server and RSVPs to them. Rows map to dal.events.Event / Rsvp.

-- name: insert
-- Create an event.
INSERT INTO events (server_id, creator_id, title, description, starts_at, ends_at,
                    location, capacity)
VALUES (%(server_id)s, %(creator_id)s, %(title)s, %(description)s, %(starts_at)s,
        %(ends_at)s, %(location)s, %(capacity)s)
RETURNING id, server_id, creator_id, title, description, starts_at, ends_at, location,
          capacity, going_count, status, created_at, updated_at;

-- name: get_by_id
-- One event by primary key.
SELECT id, server_id, creator_id, title, description, starts_at, ends_at, location,
       capacity, going_count, status, created_at, updated_at
  FROM events
 WHERE id = %(id)s;

-- name: get_many
-- Several events by primary key, in the order of the ids given (events_pkey, one probe each).
SELECT e.id, e.server_id, e.creator_id, e.title, e.description, e.starts_at, e.ends_at,
       e.location, e.capacity, e.going_count, e.status, e.created_at, e.updated_at
  FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS asked (id, position)
  JOIN events AS e ON e.id = asked.id
 ORDER BY asked.position;

-- name: update
-- Change the given fields; each set_x flag says whether x is given (partial update).
UPDATE events
   SET title       = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
       description = CASE WHEN %(set_description)s THEN %(description)s ELSE description END,
       starts_at   = CASE WHEN %(set_starts_at)s THEN %(starts_at)s ELSE starts_at END,
       ends_at     = CASE WHEN %(set_ends_at)s THEN %(ends_at)s ELSE ends_at END,
       location    = CASE WHEN %(set_location)s THEN %(location)s ELSE location END,
       capacity    = CASE WHEN %(set_capacity)s THEN %(capacity)s ELSE capacity END,
       status      = CASE WHEN %(set_status)s THEN %(status)s ELSE status END
 WHERE id = %(id)s
RETURNING id, server_id, creator_id, title, description, starts_at, ends_at, location,
          capacity, going_count, status, created_at, updated_at;

-- name: delete
-- Delete an event; its RSVPs cascade, surveys about it lose the link.
DELETE FROM events WHERE id = %(id)s;

-- name: upcoming_for_server_first_page
-- A server's scheduled events from now on, soonest first (events_server_id_status_starts_at_idx).
SELECT id, server_id, creator_id, title, description, starts_at, ends_at, location,
       capacity, going_count, status, created_at, updated_at
  FROM events
 WHERE server_id = %(server_id)s AND status = 'scheduled' AND starts_at >= now()
 ORDER BY starts_at, id
 LIMIT %(limit)s;

-- name: upcoming_for_server_after
-- The page after a (starts_at, id) cursor (events_server_id_status_starts_at_idx).
SELECT id, server_id, creator_id, title, description, starts_at, ends_at, location,
       capacity, going_count, status, created_at, updated_at
  FROM events
 WHERE server_id = %(server_id)s AND status = 'scheduled' AND starts_at >= now()
   AND (starts_at, id) > (%(after_starts_at)s, %(after_id)s)
 ORDER BY starts_at, id
 LIMIT %(limit)s;

-- name: upcoming_for_user_first_page
-- Scheduled events from now on in every server the user belongs to, with their answer.
-- Each server gives at most a page of keys (index-only on
-- events_server_id_status_starts_at_idx), the soonest page of those is kept (a top-N
-- of servers x limit keys: no index orders several servers' events), then the rows.
WITH page AS (
    SELECT k.starts_at, k.id
      FROM server_members m
     CROSS JOIN LATERAL (
           SELECT e.starts_at, e.id
             FROM events e
            WHERE e.server_id = m.server_id AND e.status = 'scheduled'
              AND e.starts_at >= now()
            ORDER BY e.starts_at, e.id
            LIMIT %(limit)s) AS k
     WHERE m.user_id = %(user_id)s
     ORDER BY k.starts_at, k.id
     LIMIT %(limit)s
)
SELECT e.id, e.server_id, e.creator_id, e.title, e.description, e.starts_at, e.ends_at,
       e.location, e.capacity, e.going_count, e.status, e.created_at, e.updated_at,
       r.response
  FROM page p
  JOIN events e ON e.id = p.id
  LEFT JOIN event_rsvps r ON r.event_id = p.id AND r.user_id = %(user_id)s
 ORDER BY p.starts_at, p.id;

-- name: upcoming_for_user_after
-- The page after a (starts_at, id) cursor of a user's upcoming events (as above).
WITH page AS (
    SELECT k.starts_at, k.id
      FROM server_members m
     CROSS JOIN LATERAL (
           SELECT e.starts_at, e.id
             FROM events e
            WHERE e.server_id = m.server_id AND e.status = 'scheduled'
              AND e.starts_at >= now()
              AND (e.starts_at, e.id) > (%(after_starts_at)s, %(after_id)s)
            ORDER BY e.starts_at, e.id
            LIMIT %(limit)s) AS k
     WHERE m.user_id = %(user_id)s
     ORDER BY k.starts_at, k.id
     LIMIT %(limit)s
)
SELECT e.id, e.server_id, e.creator_id, e.title, e.description, e.starts_at, e.ends_at,
       e.location, e.capacity, e.going_count, e.status, e.created_at, e.updated_at,
       r.response
  FROM page p
  JOIN events e ON e.id = p.id
  LEFT JOIN event_rsvps r ON r.event_id = p.id AND r.user_id = %(user_id)s
 ORDER BY p.starts_at, p.id;

-- name: search
-- Full-text search of the events the session may read, best match first (events_search_idx, in dal_search_events: migration 0053).
SELECT e.id, e.server_id, e.creator_id, e.title, e.description, e.starts_at, e.ends_at,
       e.location, e.capacity, e.going_count, e.status, e.created_at, e.updated_at, m.rank
  FROM dal_search_events(websearch_to_tsquery('english', %(query)s), NULL, %(limit)s) AS m
  JOIN events e ON e.id = m.id
 ORDER BY m.rank DESC, e.starts_at, e.id;

-- name: search_in_server
-- Full-text search within one server's events, best match first (events_search_idx, in dal_search_events).
SELECT e.id, e.server_id, e.creator_id, e.title, e.description, e.starts_at, e.ends_at,
       e.location, e.capacity, e.going_count, e.status, e.created_at, e.updated_at, m.rank
  FROM dal_search_events(websearch_to_tsquery('english', %(query)s), %(server_id)s,
                         %(limit)s) AS m
  JOIN events e ON e.id = m.id
 ORDER BY m.rank DESC, e.starts_at, e.id;

-- name: upsert_rsvp
-- Answer (or change the answer to) an event; the trigger keeps going_count within capacity.
INSERT INTO event_rsvps (event_id, user_id, response)
VALUES (%(event_id)s, %(user_id)s, %(response)s)
ON CONFLICT ON CONSTRAINT event_rsvps_pkey
DO UPDATE SET response = EXCLUDED.response, responded_at = now()
RETURNING event_id, user_id, response, responded_at;

-- name: delete_rsvp
-- Withdraw an answer; a "going" frees its seat.
DELETE FROM event_rsvps WHERE event_id = %(event_id)s AND user_id = %(user_id)s;

-- name: list_rsvps_first_page
-- The first page of an event's answers with one response, in answer order (event_rsvps_event_id_response_idx).
SELECT event_id, user_id, response, responded_at
  FROM event_rsvps
 WHERE event_id = %(event_id)s AND response = %(response)s
 ORDER BY responded_at, user_id
 LIMIT %(limit)s;

-- name: list_rsvps_after
-- The page of an event's answers after a (responded_at, user_id) cursor (event_rsvps_event_id_response_idx).
SELECT event_id, user_id, response, responded_at
  FROM event_rsvps
 WHERE event_id = %(event_id)s AND response = %(response)s
   AND (responded_at, user_id) > (%(after_responded_at)s, %(after_user_id)s)
 ORDER BY responded_at, user_id
 LIMIT %(limit)s;

-- name: count_rsvps
-- Number of answers per response for one event (event_rsvps_event_id_response_idx).
SELECT response, count(*) AS n
  FROM event_rsvps
 WHERE event_id = %(event_id)s
 GROUP BY response;
