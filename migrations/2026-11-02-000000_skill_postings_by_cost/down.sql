CREATE INDEX availability_runs_run_idx ON availability_runs USING gist (run);
CREATE INDEX provider_skills_key_idx ON provider_skills (skill_key, provider_id);
DROP INDEX provider_skills_postings_idx;
ALTER TABLE provider_skills DROP CONSTRAINT provider_skills_provider_cost_fkey;
ALTER TABLE provider_skills DROP COLUMN cost_in_pence;
ALTER TABLE providers DROP CONSTRAINT providers_id_cost_key;
