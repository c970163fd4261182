-- Rollback of 0048_event_rsvps_server_id: RSVPs without their server, the going
-- count on every UPDATE again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TRIGGER event_rsvps_count_going ON event_rsvps;
CREATE TRIGGER event_rsvps_count_going
    AFTER INSERT OR UPDATE OR DELETE ON event_rsvps
    FOR EACH ROW EXECUTE FUNCTION event_rsvps_count_going();

DROP TRIGGER event_rsvps_assign_server_id ON event_rsvps;
DROP FUNCTION event_rsvps_set_server_id();
-- squawk-ignore ban-drop-column
ALTER TABLE event_rsvps DROP COLUMN server_id;
