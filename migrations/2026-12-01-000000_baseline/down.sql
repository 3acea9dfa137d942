-- Reverses up.sql. The extensions stay: other schemas in the database may use them, and
-- CREATE EXTENSION IF NOT EXISTS makes a later up.sql indifferent to their presence.
DROP TABLE IF EXISTS reviews;
DROP TABLE IF EXISTS availability_runs;
DROP TABLE IF EXISTS availability;
DROP FUNCTION IF EXISTS availability_no_overlap();
DROP TABLE IF EXISTS provider_skills;
DROP TABLE IF EXISTS providers;
