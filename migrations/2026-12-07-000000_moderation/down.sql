-- Reverses up.sql. The history, flags and replies go; so do pending and hidden reviews, which
-- the schema before moderation cannot tell from published ones (they would start to count).
DROP TABLE review_events;
DROP FUNCTION review_events_append_only();
DROP TABLE review_replies;
DROP TABLE review_flags;
DROP INDEX reviews_queue_idx;
DELETE FROM reviews WHERE status <> 'published';
DROP INDEX reviews_newest_first_idx;
CREATE INDEX reviews_newest_first_idx ON reviews (provider_id, created_at DESC, id DESC);
ALTER TABLE reviews
    DROP CONSTRAINT reviews_appeal_whole,
    DROP CONSTRAINT reviews_decision_whole,
    DROP COLUMN appeal_explanation,
    DROP COLUMN appeal_at,
    DROP COLUMN appeal_status,
    DROP COLUMN appeal_against,
    DROP COLUMN decision_appealed,
    DROP COLUMN decision_at,
    DROP COLUMN decision_statement,
    DROP COLUMN decision_rule,
    DROP COLUMN decision_by,
    DROP COLUMN decision_action,
    DROP COLUMN queued_at,
    DROP COLUMN revision,
    DROP COLUMN reasons,
    DROP COLUMN status;
