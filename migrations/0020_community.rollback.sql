-- Rollback of 0020_community: drops the community tables (their indexes and
-- triggers go with them), then the trigger function.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE event_rsvps;

DROP FUNCTION event_rsvps_count_going();

DROP TABLE events;

DROP TABLE server_members;

DROP TABLE servers;
