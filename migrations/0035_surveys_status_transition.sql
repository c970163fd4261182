-- Surveys: a cancelled survey stays cancelled, a published one never becomes a draft.
--
-- Why: the rule was a WHERE clause of one statement (surveys.set_status in
-- sql/surveys.sql), so any other UPDATE, a DBA's or a later query's, could
-- reopen a cancelled survey or send a published one back to draft, where its
-- questions could change under the answers already given. It compares the old
-- row with the new one, which a CHECK cannot see, so it is a trigger, as
-- events' is (0034); it raises the way a CHECK would, naming
-- surveys_status_transition, so the DAL reports InvalidData with that name.
--
-- Allowed: draft to published or cancelled, published to cancelled, and any
-- status to itself. The trigger fires only when status changes. The seeder,
-- which reopens surveys for the length of one COPY of past answers, disables
-- it for that COPY as it does the updated_at trigger.
-- depends: 0034_events_status_transition

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION surveys_keep_status_moves() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NOT (OLD.status = 'draft' OR NEW.status = 'cancelled') THEN
        RAISE EXCEPTION 'survey % is %: it cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'surveys_status_transition',
                  TABLE = 'surveys',
                  COLUMN = 'status';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION surveys_keep_status_moves() IS
    'BEFORE UPDATE trigger on surveys: draft to published or cancelled, published to cancelled.';

CREATE TRIGGER surveys_keep_status_moves
    BEFORE UPDATE OF status ON surveys
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION surveys_keep_status_moves();
