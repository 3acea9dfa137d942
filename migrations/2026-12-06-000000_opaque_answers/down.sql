-- Reverses up.sql: each answer kept in the HTTP layer's format, version 1, is split back into
-- its status, header names and values, and body.
ALTER TABLE idempotency_keys
    ADD COLUMN status smallint
        CONSTRAINT idempotency_keys_status_2xx CHECK (status BETWEEN 200 AND 299),
    ADD COLUMN header_names text[],
    ADD COLUMN header_values text[],
    ADD COLUMN body bytea;

CREATE FUNCTION idempotency_answer_parts(
    answer bytea,
    OUT status smallint,
    OUT header_names text[],
    OUT header_values text[],
    OUT body bytea)
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    pos integer := 5;  -- 0-based offset of the first header
    len integer;
BEGIN
    IF get_byte(answer, 0) <> 1 THEN
        RAISE EXCEPTION 'an idempotency answer in format % cannot be split', get_byte(answer, 0);
    END IF;
    status := get_byte(answer, 1) * 256 + get_byte(answer, 2);
    header_names := '{}';
    header_values := '{}';
    FOR i IN 1 .. get_byte(answer, 3) * 256 + get_byte(answer, 4) LOOP
        len := get_byte(answer, pos) * 256 + get_byte(answer, pos + 1);
        header_names := header_names || convert_from(substring(answer FROM pos + 3 FOR len), 'UTF8');
        pos := pos + 2 + len;
        len := get_byte(answer, pos) * 256 + get_byte(answer, pos + 1);
        header_values := header_values || convert_from(substring(answer FROM pos + 3 FOR len), 'UTF8');
        pos := pos + 2 + len;
    END LOOP;
    body := substring(answer FROM pos + 1);
END
$$;

UPDATE idempotency_keys AS k
SET (status, header_names, header_values, body) =
    (SELECT p.status, p.header_names, p.header_values, p.body
     FROM idempotency_answer_parts(k.answer) AS p)
WHERE k.answer IS NOT NULL;

DROP FUNCTION idempotency_answer_parts(bytea);

ALTER TABLE idempotency_keys
    DROP COLUMN answer,
    ADD CONSTRAINT idempotency_keys_answer_whole CHECK (
        (status IS NULL) = (body IS NULL)
        AND (status IS NULL) = (header_names IS NULL)
        AND (status IS NULL) = (header_values IS NULL));
