-- RSVPs judged by their own server: the policies of 0046 without a probe of events.
--
-- Why: 0046's RSVP policies asked whether the acting user sees the RSVP's event,
-- which the planner answered by reading every event of the user's servers. Now
-- that an RSVP carries its server (0048-0050) and the attendee index holds it
-- (0051), the rule is the same as for the server's other rows: the acting user's
-- own RSVPs, and those of the servers they are a member of; each member answers
-- only for themselves, in a server they belong to. Who may do what is unchanged.
--
-- Replacing a policy takes a short ACCESS EXCLUSIVE lock on event_rsvps and scans
-- nothing.
-- depends: 0051_event_rsvps_event_id_response_server_id

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP POLICY event_rsvps_read ON event_rsvps;
CREATE POLICY event_rsvps_read ON event_rsvps FOR SELECT
    USING (CASE WHEN user_id = (SELECT dal_acting_user()) THEN true
                ELSE server_id = ANY ((SELECT dal_servers('member'))::bigint[]) END);

DROP POLICY event_rsvps_give ON event_rsvps;
CREATE POLICY event_rsvps_give ON event_rsvps FOR INSERT
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND server_id = ANY ((SELECT dal_servers('member'))::bigint[]));

DROP POLICY event_rsvps_change ON event_rsvps;
CREATE POLICY event_rsvps_change ON event_rsvps FOR UPDATE
    USING (user_id = (SELECT dal_acting_user()))
    WITH CHECK (user_id = (SELECT dal_acting_user())
                AND server_id = ANY ((SELECT dal_servers('member'))::bigint[]));
