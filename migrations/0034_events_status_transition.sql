-- Events: cancelled and completed are final statuses.
--
-- Why: any UPDATE could set a cancelled or completed event back to
-- scheduled (dal.events.update(status="scheduled") did): the event came back
-- into upcoming lists and took answers again, with the RSVPs and going_count
-- it had when it was cancelled, though the people going had been told it was
-- off. The rule compares the old row with the new one, which a CHECK cannot
-- see, so it is a trigger, events_keep_status_final; it raises the way a
-- CHECK would, naming events_status_transition, so the DAL reports
-- InvalidData with that name.
--
-- Allowed: scheduled to cancelled or completed, and any status to itself.
-- The trigger fires only when status changes, so the partial update that
-- rewrites every column costs nothing more.
-- depends: 0033_recommendations_mood_owner

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION events_keep_status_final() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF OLD.status <> 'scheduled' THEN
        RAISE EXCEPTION 'event % is %: its status is final', OLD.id, OLD.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'events_status_transition',
                  TABLE = 'events',
                  COLUMN = 'status';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION events_keep_status_final() IS
    'BEFORE UPDATE trigger on events: only a scheduled event changes status.';

CREATE TRIGGER events_keep_status_final
    BEFORE UPDATE OF status ON events
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION events_keep_status_final();
