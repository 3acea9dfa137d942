-- Reverses up.sql.
DROP TABLE IF EXISTS idempotency_keys;
ALTER TABLE providers DROP COLUMN IF EXISTS version;
