-- An idempotency record keeps its answer as one opaque byte string, which the driving adapter
-- writes and alone reads: the store no longer knows what an answer is made of (for the HTTP
-- layer: a status, a few headers, a body) nor which answers are worth keeping (the HTTP layer
-- keeps its 2xx). A row without an answer is a pending claim, as before.
--
-- The answers kept before are converted to the HTTP layer's format, version 1
-- (crates/http/src/replay.rs): the byte 1; the status, 2 bytes big-endian; the number of
-- headers, 2 bytes; each header's name then value, each as 2 bytes of length and its UTF-8
-- bytes; then the body, to the end.
ALTER TABLE idempotency_keys ADD COLUMN answer bytea;

UPDATE idempotency_keys SET answer =
    '\x01'::bytea
    || int2send(status)
    || int2send(cardinality(header_names)::smallint)
    || coalesce(
        (SELECT string_agg(
                    int2send(octet_length(name)::smallint) || convert_to(name, 'UTF8')
                    || int2send(octet_length(value)::smallint) || convert_to(value, 'UTF8'),
                    ''::bytea ORDER BY position)
         FROM unnest(header_names, header_values) WITH ORDINALITY AS h(name, value, position)),
        ''::bytea)
    || body
WHERE status IS NOT NULL;

ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_answer_whole,
    DROP CONSTRAINT idempotency_keys_status_2xx,
    DROP COLUMN status,
    DROP COLUMN header_names,
    DROP COLUMN header_values,
    DROP COLUMN body;
