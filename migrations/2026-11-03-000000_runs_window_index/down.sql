DROP INDEX IF EXISTS availability_runs_run_idx;
