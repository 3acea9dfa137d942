-- The change feed: one row per change a write made, inserted in that write's transaction (a
-- transactional outbox), read by the events API and by the read model of each API process.
--
-- Order without a single writer: an event's sequence is its transaction's id (xid8) times
-- 1,024 plus its place among that transaction's events. Transaction ids are handed out in
-- start order, not commit order, so a reader never reads past the oldest transaction still
-- running (the snapshot's xmin): every transaction below it has ended, so no event can later
-- appear below a sequence already read. Sequences therefore increase in the order readers
-- see them, with gaps. No wal_level change and no replication slot: it works on any
-- PostgreSQL >= 13, managed ones included.
CREATE TABLE change_events (
    sequence    bigint      PRIMARY KEY
        CONSTRAINT change_events_sequence_positive CHECK (sequence > 0),
    at          timestamptz NOT NULL,
    type        text        NOT NULL
        CONSTRAINT change_events_type_known CHECK (type IN ('provider.created',
            'provider.replaced', 'provider.deleted', 'review.created', 'review.edited',
            'review.withdrawn', 'review.status_changed', 'review.reply_changed')),
    provider_id uuid        NOT NULL,
    review_id   uuid,
    CONSTRAINT change_events_review_when_review CHECK ((review_id IS NULL) = (type LIKE 'provider.%'))
);

-- The retention purge finds the newest event older than the window along this index.
CREATE INDEX change_events_at_idx ON change_events (at);

-- The feed's one row of bookkeeping. Everything at or below `purged_through` has been deleted
-- by the retention purge: a reader asking for events after an older sequence would miss some,
-- and is told so (410). Bulk loads (`provider-api seed`) write rows but no events.
CREATE TABLE change_events_horizon (
    only_row       boolean PRIMARY KEY DEFAULT true
        CONSTRAINT change_events_horizon_one_row CHECK (only_row),
    purged_through bigint  NOT NULL DEFAULT 0
);
INSERT INTO change_events_horizon DEFAULT VALUES;
