ALTER TABLE provider_skills
    ADD CONSTRAINT provider_skills_provider_id_fkey
    FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE;
DROP INDEX IF EXISTS availability_runs_run_idx;
