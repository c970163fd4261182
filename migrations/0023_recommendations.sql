-- Recommendations made to a person, and their feedback on them.
--
-- Why: area 4 of DESIGN.md. A recommendation may answer one mood entry; it
-- is shown while not expired and not dismissed, best relevance first; the
-- person rates it 1-5 at most once.
--
-- The mood reference is (mood_id, mood_recorded_at) WITHOUT a foreign key:
-- moods is partitioned, and a FK into it would (a) fire its ON DELETE action
-- when moods_create_partition moves rows out of moods_default, and (b) block
-- dropping or detaching an old month for retention. The pair must be both set
-- or both NULL (recommendations_mood_ref_complete); the DAL checks at creation
-- that the mood exists and belongs to the same person, and a recommendation
-- whose mood was later removed simply shows without it.
--
-- Feedback references (recommendation_id, user_id) so only the person the
-- recommendation was made for can rate it.
-- depends: 0022_moods

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE recommendations (
    id               bigint           GENERATED ALWAYS AS IDENTITY,
    -- CASCADE: recommendations are personal and go with the account.
    user_id          uuid             NOT NULL,
    mood_id          bigint,
    mood_recorded_at timestamptz,
    kind             text             NOT NULL,
    content          text             NOT NULL,
    relevance_score  double precision NOT NULL,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    -- NULL: never expires.
    expires_at       timestamptz,
    dismissed        boolean          NOT NULL DEFAULT false,
    dismissed_at     timestamptz,
    CONSTRAINT recommendations_pkey PRIMARY KEY (id),
    -- Target of feedback's composite FK; kind is INCLUDEd so ratings by kind look
    -- each rated recommendation up index-only.
    CONSTRAINT recommendations_id_user_id_key UNIQUE (id, user_id) INCLUDE (kind),
    CONSTRAINT recommendations_kind_valid CHECK (kind IN (
        'activity', 'article', 'breathing', 'meditation', 'music', 'social', 'professional')),
    CONSTRAINT recommendations_content_length
        CHECK (char_length(content) BETWEEN 1 AND 2000 AND btrim(content) <> ''),
    CONSTRAINT recommendations_relevance_score_range
        CHECK (relevance_score >= 0 AND relevance_score <= 1),
    CONSTRAINT recommendations_expires_after_created CHECK (expires_at > created_at),
    CONSTRAINT recommendations_mood_ref_complete
        CHECK ((mood_id IS NULL) = (mood_recorded_at IS NULL)),
    CONSTRAINT recommendations_dismissed_at_matches
        CHECK (dismissed = (dismissed_at IS NOT NULL)),
    CONSTRAINT recommendations_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- A person's active recommendations, best first: dismissed rows are left out
-- of the index (they are never listed again); expiry is filtered while
-- walking it in relevance order.
CREATE INDEX recommendations_user_id_relevance_idx
    ON recommendations (user_id, relevance_score DESC, id)
    INCLUDE (expires_at)
    WHERE NOT dismissed;
-- Every recommendation of a person (the user side of the FK, history).
CREATE INDEX recommendations_user_id_created_at_idx ON recommendations (user_id, created_at);

CREATE TABLE feedback (
    id                bigint      GENERATED ALWAYS AS IDENTITY,
    user_id           uuid        NOT NULL,
    recommendation_id bigint      NOT NULL,
    rating            smallint    NOT NULL,
    comment           text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_pkey PRIMARY KEY (id),
    CONSTRAINT feedback_user_id_recommendation_id_key UNIQUE (user_id, recommendation_id),
    CONSTRAINT feedback_rating_range CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT feedback_comment_length CHECK (char_length(comment) BETWEEN 1 AND 2000),
    -- CASCADE: feedback is about one recommendation (made for this same user)
    -- and goes with it.
    CONSTRAINT feedback_recommendation_id_fkey FOREIGN KEY (recommendation_id, user_id)
        REFERENCES recommendations (id, user_id) ON DELETE CASCADE
);

-- Ratings over a period, by kind: index-only over the period's feedback, each
-- joined index-only to its recommendation's kind (recommendations_id_user_id_key).
CREATE INDEX feedback_created_at_idx
    ON feedback (created_at) INCLUDE (recommendation_id, user_id, rating);
-- The recommendation side of the FK.
CREATE INDEX feedback_recommendation_id_idx ON feedback (recommendation_id);
