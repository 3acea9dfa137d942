-- Moderation of reviews: each review's status and why it waits, its latest decision and appeal,
-- its flags, the provider's reply, and the history of everything that happened to it.
--
-- Only published reviews count in a provider's figures (providers.review_count/rating_sum,
-- skill_reviews, the postings' copies). The store changes a review's status and those figures
-- in one transaction, the provider's row locked first (as a review's insert does), so the
-- derived figures stay exact: they are the sums over the provider's published reviews.
--
-- Every review that existed before is published (the status' default): it counted, and still
-- does. Constant defaults rewrite no rows (PostgreSQL >= 11).

ALTER TABLE reviews
    ADD COLUMN status text NOT NULL DEFAULT 'published'
        CONSTRAINT reviews_status_known CHECK (status IN ('published', 'pending', 'hidden')),
    -- Why it waits, by the contract's names (provider_domain::Reason::as_str).
    ADD COLUMN reasons text[] NOT NULL DEFAULT '{}',
    -- Rises by one with every change: an operation applies its change only at the revision it
    -- read (UPDATE ... WHERE revision = $read), so two moderators deciding at once land one
    -- after the other.
    ADD COLUMN revision bigint NOT NULL DEFAULT 1
        CONSTRAINT reviews_revision_positive CHECK (revision >= 1),
    -- When it entered the moderation queue; NULL while it is not in it.
    ADD COLUMN queued_at timestamptz,
    -- The latest decision: an automated hold ('hold', rule = the reason's name, no moderator),
    -- or a moderator's ('publish' or 'hide', with the moderator, the policy rule applied, the
    -- statement of reasons and whether the author appealed it). NULL: published at once.
    ADD COLUMN decision_action text
        CONSTRAINT reviews_decision_action_known
            CHECK (decision_action IN ('hold', 'publish', 'hide')),
    ADD COLUMN decision_by uuid,
    ADD COLUMN decision_rule text,
    ADD COLUMN decision_statement text,
    ADD COLUMN decision_at timestamptz,
    ADD COLUMN decision_appealed boolean,
    -- The author's latest appeal: the moderator whose decision it contests, its status, time
    -- and explanation.
    ADD COLUMN appeal_against uuid,
    ADD COLUMN appeal_status text
        CONSTRAINT reviews_appeal_status_known CHECK (appeal_status IN ('open', 'decided')),
    ADD COLUMN appeal_at timestamptz,
    ADD COLUMN appeal_explanation text,
    ADD CONSTRAINT reviews_decision_whole CHECK (
        CASE decision_action
            WHEN 'hold' THEN decision_rule IS NOT NULL AND decision_at IS NOT NULL
                AND decision_by IS NULL AND decision_statement IS NULL
                AND decision_appealed IS NULL
            ELSE (decision_action IS NULL) = (decision_rule IS NULL)
                AND (decision_action IS NULL) = (decision_by IS NULL)
                AND (decision_action IS NULL) = (decision_statement IS NULL)
                AND (decision_action IS NULL) = (decision_at IS NULL)
                AND (decision_action IS NULL) = (decision_appealed IS NULL)
        END),
    ADD CONSTRAINT reviews_appeal_whole CHECK (
        (appeal_status IS NULL) = (appeal_against IS NULL)
        AND (appeal_status IS NULL) = (appeal_at IS NULL));

-- A provider's reviews newest first, as its review list pages them: published ones only, so
-- the walk of a page skips no pending or hidden review. Partial: the list's statement writes
-- the predicate as the same literal, so even a generic plan uses it.
DROP INDEX reviews_newest_first_idx;
CREATE INDEX reviews_newest_first_idx ON reviews (provider_id, created_at DESC, id DESC)
    WHERE status = 'published';

-- The moderation queue in its order (longest waiting first, then id): a page is a walk of
-- this index, and its size a count of it. It holds the waiting reviews alone, so it stays as
-- small as the queue however many reviews there are.
CREATE INDEX reviews_queue_idx ON reviews (queued_at, id) WHERE queued_at IS NOT NULL;

-- Flags users raised. Open until a decision on the review resolves them (upheld when it hides
-- the review, rejected when it publishes it); a review's open flags are its moderation's flags
-- (one per flagger). They go with the review when it is withdrawn or its provider deleted.
CREATE TABLE review_flags (
    id          uuid        PRIMARY KEY,
    review_id   uuid        NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    flagger     uuid        NOT NULL,
    reason      text        NOT NULL
        CONSTRAINT review_flags_reason_known
            CHECK (reason IN ('spam', 'offensive', 'fake', 'personal_data', 'illegal', 'other')),
    explanation text
        CONSTRAINT review_flags_explanation_length CHECK (char_length(explanation) BETWEEN 1 AND 1000),
    status      text        NOT NULL
        CONSTRAINT review_flags_status_known CHECK (status IN ('open', 'upheld', 'rejected')),
    created_at  timestamptz NOT NULL
);

-- One open flag per user and review; its index also reads a review's open flags.
CREATE UNIQUE INDEX review_flags_one_open_per_flagger ON review_flags (review_id, flagger)
    WHERE status = 'open';
-- Resolving a review's flags, and removing them with it.
CREATE INDEX review_flags_review_idx ON review_flags (review_id);

-- The provider's reply to a review: at most one, screened like a comment and decided by
-- moderators. created_at is kept when the reply is replaced.
CREATE TABLE review_replies (
    review_id  uuid        PRIMARY KEY REFERENCES reviews (id) ON DELETE CASCADE,
    text       text        NOT NULL
        CONSTRAINT review_replies_text_length CHECK (char_length(text) BETWEEN 1 AND 2000),
    status     text        NOT NULL
        CONSTRAINT review_replies_status_known CHECK (status IN ('published', 'pending', 'hidden')),
    reasons    text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The history of each review: one row per event, oldest first by id. Append-only: the API
-- only ever inserts here, never updates or deletes (the trigger below refuses both), so the
-- statement of reasons and its trail survive as written. No foreign key to reviews on
-- purpose: the history outlives a withdrawn review (and a deleted provider). No event holds
-- the text of a review, a reply, a flag's explanation or an appeal (see the domain's
-- events), so withdrawing a review leaves none of its text behind.
CREATE TABLE review_events (
    id          bigserial   PRIMARY KEY,
    review_id   uuid        NOT NULL,
    provider_id uuid        NOT NULL,
    at          timestamptz NOT NULL,
    -- Who did it; NULL for an automated hold.
    by          uuid,
    event       text        NOT NULL
        CONSTRAINT review_events_event_known CHECK (event IN ('submitted', 'held', 'flagged',
            'decided', 'appealed', 'edited', 'withdrawn', 'replied')),
    -- provider_ports::moderation::event_detail_json: the contract's shape, shared with HTTP.
    detail      jsonb       NOT NULL
);

-- A review's history, in order.
CREATE INDEX review_events_review_idx ON review_events (review_id, id);

CREATE FUNCTION review_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'restrict_violation',
        MESSAGE = format('review_events is append-only: %s refused', TG_OP),
        HINT = 'The history of a review is never rewritten.';
END
$$;

CREATE TRIGGER review_events_append_only
    BEFORE UPDATE OR DELETE ON review_events
    FOR EACH ROW EXECUTE FUNCTION review_events_append_only();
