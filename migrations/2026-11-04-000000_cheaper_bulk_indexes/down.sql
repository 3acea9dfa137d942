DROP TRIGGER IF EXISTS availability_no_overlap ON availability;
DROP FUNCTION IF EXISTS availability_no_overlap();
ALTER TABLE availability
    ADD CONSTRAINT availability_no_overlap EXCLUDE USING gist (provider_id WITH =, period WITH &&);
DROP INDEX IF EXISTS availability_runs_run_idx;
CREATE INDEX availability_runs_run_idx ON availability_runs USING gist (run);
