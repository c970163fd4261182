-- Moods: what people feel, when; range-partitioned by month on recorded_at.
--
-- Why: area 4 of DESIGN.md. Moods are the largest, append-mostly table and
-- are read by (user, period): monthly partitions keep each index small, let a
-- one-month query touch one partition (pruning), and let old months be
-- detached or dropped wholesale for retention.
--
-- Partitions: moods_yYYYYmMM covers [first of month, first of next month) in
-- UTC. moods_ensure_partitions(from_month, months_ahead) creates missing
-- months (the DAL calls it from dal.moods.ensure_partitions; run it from a
-- monthly job). moods_default catches any row no month partition covers, so
-- no insert ever fails for want of a partition; creating a month whose rows
-- already sit in the default moves them into the new partition in the same
-- transaction (ATTACH would otherwise fail on the default's rows).
--
-- Keys: the primary key must include the partition key, so it is
-- (id, recorded_at). Each partition gets an explicitly named index
-- moods_<partition>_user_id_recorded_at_idx, attached to the parent index
-- moods_user_id_recorded_at_idx.
-- depends: 0021_surveys

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE SEQUENCE moods_id_seq AS bigint;

CREATE TABLE moods (
    -- A plain sequence rather than an identity: rows moved between partitions
    -- keep their id, and it behaves the same on PostgreSQL 15 and 18.
    id              bigint      NOT NULL DEFAULT nextval('moods_id_seq'),
    -- CASCADE: moods are the person's own record and go with their account.
    user_id         uuid        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    mood            text        NOT NULL,
    intensity       smallint    NOT NULL,
    notes           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT moods_pkey PRIMARY KEY (id, recorded_at),
    CONSTRAINT moods_mood_valid CHECK (mood IN (
        'joyful', 'content', 'calm', 'neutral', 'tired', 'anxious', 'stressed',
        'sad', 'angry', 'lonely')),
    CONSTRAINT moods_intensity_range CHECK (intensity BETWEEN 1 AND 10),
    CONSTRAINT moods_notes_length CHECK (char_length(notes) BETWEEN 1 AND 2000),
    CONSTRAINT moods_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
) PARTITION BY RANGE (recorded_at);

ALTER SEQUENCE moods_id_seq OWNED BY moods.id;

COMMENT ON TABLE moods IS
    'Mood entries, partitioned by month of recorded_at (UTC); see moods_ensure_partitions().';

CREATE TABLE moods_default PARTITION OF moods DEFAULT;

-- The index every partition carries: a user's moods in time order (history
-- pages, daily averages). INCLUDE lets averages run as index-only scans.
CREATE INDEX moods_default_user_id_recorded_at_idx
    ON moods_default (user_id, recorded_at, id) INCLUDE (intensity, mood);
CREATE INDEX moods_user_id_recorded_at_idx
    ON moods (user_id, recorded_at, id) INCLUDE (intensity, mood);

CREATE FUNCTION moods_create_partition(month date) RETURNS text
    LANGUAGE plpgsql AS
$$
DECLARE
    lower_bound timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp
                               AT TIME ZONE 'UTC';
    part        text := 'moods_' || to_char(date_trunc('month', month), '"y"YYYY"m"MM');
BEGIN
    IF to_regclass(format('%I', part)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE moods INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    -- Rows of this month that landed in the default partition move here first.
    EXECUTE format(
        'WITH moved AS (DELETE FROM moods_default WHERE recorded_at >= %L AND recorded_at < %L '
        'RETURNING *) INSERT INTO %I SELECT * FROM moved',
        lower_bound, upper_bound, part);
    EXECUTE format(
        'CREATE INDEX %I ON %I (user_id, recorded_at, id) INCLUDE (intensity, mood)',
        part || '_user_id_recorded_at_idx', part);
    EXECUTE format('ALTER TABLE moods ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   part, lower_bound, upper_bound);
    RETURN part;
END;
$$;

COMMENT ON FUNCTION moods_create_partition(date) IS
    'Create the moods partition for the month of the given date (moving its rows out of '
    'moods_default); returns its name, or NULL when it already exists.';

CREATE FUNCTION moods_ensure_partitions(from_month date, months_ahead integer)
    RETURNS SETOF text
    LANGUAGE plpgsql AS
$$
DECLARE
    created text;
BEGIN
    IF months_ahead < 0 OR months_ahead > 120 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 120, not %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- One partition maker at a time: two concurrent calls would race on CREATE TABLE.
    PERFORM pg_advisory_xact_lock(hashtext('moods_ensure_partitions'));
    FOR i IN 0 .. months_ahead LOOP
        created := moods_create_partition((from_month + make_interval(months => i))::date);
        IF created IS NOT NULL THEN
            RETURN NEXT created;
        END IF;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION moods_ensure_partitions(date, integer) IS
    'Create the monthly moods partitions from from_month through months_ahead months later; '
    'returns the names created.';

-- Last month through three months ahead, so the table works from day one.
DO $$
BEGIN
    PERFORM moods_ensure_partitions(
        (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month')::date, 4);
END;
$$;
