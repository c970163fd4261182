-- Recommendations: the mood a recommendation answers must exist and be its user's own.
--
-- Why: 0023 keeps the mood reference (mood_id, mood_recorded_at) without a
-- foreign key, because moods is partitioned (see 0023), and only
-- dal.recommendations.create checked it. Any other writer (an UPDATE, a
-- script, an import) could point a recommendation at a mood that does not
-- exist or belongs to someone else, and show one person's mood entry next to
-- another person's recommendation. The trigger recommendations_check_mood
-- checks it for every writer, on INSERT and on an UPDATE that changes the
-- user or the mood reference. It reports a foreign key violation naming
-- recommendations_mood_belongs_to_user, so callers get the same error as for
-- a real foreign key (dal: ReferenceMissing with that name).
--
-- Like the DAL check it replaces, the reference is checked when written and
-- not later: deleting a mood, or moving it between partitions, is never
-- blocked (the mood is read, not locked), and a recommendation whose mood was
-- removed shows without it. An UPDATE that leaves the reference as it was
-- does not check it again, so such a recommendation can still be dismissed.
-- Existing rows were all written through the DAL's check; none is re-read.
-- depends: 0032_survey_answers_lock_question

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION recommendations_check_mood() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NEW.mood_id IS NULL OR NEW.mood_recorded_at IS NULL THEN
        RETURN NEW;  -- no reference; half of one is recommendations_mood_ref_complete's to refuse
    END IF;
    IF TG_OP = 'UPDATE'
       AND (NEW.user_id, NEW.mood_id, NEW.mood_recorded_at)
           IS NOT DISTINCT FROM (OLD.user_id, OLD.mood_id, OLD.mood_recorded_at) THEN
        RETURN NEW;
    END IF;
    -- The full key of moods, so the lookup reads one partition's primary key.
    PERFORM 1
       FROM moods
      WHERE id = NEW.mood_id AND recorded_at = NEW.mood_recorded_at
        AND user_id = NEW.user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % has no mood % recorded at %',
                NEW.user_id, NEW.mood_id, NEW.mood_recorded_at
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'recommendations_mood_belongs_to_user',
                  TABLE = 'recommendations',
                  COLUMN = 'mood_id';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION recommendations_check_mood() IS
    'BEFORE trigger on recommendations: the mood referenced is one of the same user''s.';

CREATE TRIGGER recommendations_check_mood
    BEFORE INSERT OR UPDATE OF user_id, mood_id, mood_recorded_at ON recommendations
    FOR EACH ROW EXECUTE FUNCTION recommendations_check_mood();
