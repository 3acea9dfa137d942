-- Safe writes: a version per provider (its strong ETag) and the idempotency records of
-- creates and reviews.

-- The version of a provider's representation: 1 when created, raised by one in the very
-- statement that changes it (a replace's UPDATE of the provider row, a review's UPDATE of the
-- review figures), so it moves under the provider's row lock with the change itself. A
-- conditional write (If-Match) reads it FOR UPDATE, compares, then writes in the same
-- transaction: of concurrent writers holding the same version exactly one passes. It is read
-- with the provider in the same statement (GET needs no second round trip). Adding a column
-- with a constant default rewrites no rows (PostgreSQL >= 11).
ALTER TABLE providers ADD COLUMN version bigint NOT NULL DEFAULT 1
    CONSTRAINT providers_version_positive CHECK (version >= 1);

-- One row per (caller, Idempotency-Key): the request's fingerprint (SHA-256 of its route and
-- canonical body), the claim's holder and time, and once it succeeded its answer (status, the
-- headers that matter, body). A row without an answer is a pending claim. Expiry and reclaim
-- (see crates/ports/src/idempotency.rs): a row is dead once expires_at has passed (24 hours
-- after its answer was kept); a pending row claimed more than 60 seconds ago may be taken
-- over by the next request with its key (its process died or gave up).
CREATE TABLE idempotency_keys (
    caller_id     uuid        NOT NULL,
    key           text        NOT NULL
        CONSTRAINT idempotency_keys_key_length CHECK (octet_length(key) BETWEEN 1 AND 255),
    fingerprint   bytea       NOT NULL
        CONSTRAINT idempotency_keys_fingerprint_length CHECK (octet_length(fingerprint) = 32),
    token         uuid        NOT NULL,
    claimed_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    status        smallint
        CONSTRAINT idempotency_keys_status_2xx CHECK (status BETWEEN 200 AND 299),
    header_names  text[],
    header_values text[],
    body          bytea,
    PRIMARY KEY (caller_id, key),
    -- An answer is whole or absent.
    CONSTRAINT idempotency_keys_answer_whole CHECK (
        (status IS NULL) = (body IS NULL)
        AND (status IS NULL) = (header_names IS NULL)
        AND (status IS NULL) = (header_values IS NULL))
);

-- Expired rows are deleted in small batches by each claim (at most 16, oldest first, skipping
-- rows another transaction holds), through this index: never a full scan, no periodic task to
-- run or to forget, and since a claim adds at most one row while removing up to 16, the table
-- holds little more than the live rows of the last 24 hours.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
