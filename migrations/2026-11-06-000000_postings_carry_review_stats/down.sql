DROP INDEX provider_skills_postings_idx;
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id);
ALTER TABLE providers ADD CONSTRAINT providers_id_cost_key UNIQUE (id, cost_in_pence);
ALTER TABLE provider_skills DROP CONSTRAINT provider_skills_provider_fkey;
ALTER TABLE provider_skills
    ADD CONSTRAINT provider_skills_provider_cost_fkey
    FOREIGN KEY (provider_id, cost_in_pence) REFERENCES providers (id, cost_in_pence)
    ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE provider_skills DROP COLUMN review_count, DROP COLUMN rating_sum;
ALTER TABLE providers DROP CONSTRAINT providers_id_cost_reviews_key;
