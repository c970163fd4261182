-- Rollback of 0052_row_level_security_rsvps_by_server: 0046's RSVP policies, which
-- probe the RSVP's event.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP POLICY event_rsvps_read ON event_rsvps;
CREATE POLICY event_rsvps_read ON event_rsvps FOR SELECT
    USING (CASE WHEN user_id = (SELECT dal_acting_user()) THEN true
                ELSE EXISTS (SELECT FROM events e WHERE e.id = event_id) END);

DROP POLICY event_rsvps_give ON event_rsvps;
CREATE POLICY event_rsvps_give ON event_rsvps FOR INSERT
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND EXISTS (SELECT FROM events e WHERE e.id = event_id));

DROP POLICY event_rsvps_change ON event_rsvps;
CREATE POLICY event_rsvps_change ON event_rsvps FOR UPDATE
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND EXISTS (SELECT FROM events e WHERE e.id = event_id));
