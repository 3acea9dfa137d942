-- Recommend at a million providers: walk skill "postings" in day-rate order.
--
-- Recommend ranks by matched skills, then day rate (descending), then confidence. The first
-- page is found by walking, for the requested skills, the providers that have them in
-- descending day-rate order and stopping once the page is full, instead of counting matches
-- for every provider with one of the skills (~15% of all providers for two common skills).
-- For that, each skill row carries its provider's day rate, indexed as
-- (skill_key, cost_in_pence DESC, provider_id).
--
-- provider_skills.cost_in_pence is DERIVED (it depends on provider_id alone). The database
-- keeps it right by itself: a foreign key to providers (id, cost_in_pence) with
-- ON UPDATE CASCADE, so a changed day rate reaches every skill row in the same statement, and
-- a skill row with another rate than its provider's cannot exist.

ALTER TABLE providers
    ADD CONSTRAINT providers_id_cost_key UNIQUE (id, cost_in_pence);

ALTER TABLE provider_skills ADD COLUMN cost_in_pence bigint;
UPDATE provider_skills s SET cost_in_pence = p.cost_in_pence
    FROM providers p WHERE p.id = s.provider_id;
ALTER TABLE provider_skills ALTER COLUMN cost_in_pence SET NOT NULL;
ALTER TABLE provider_skills
    ADD CONSTRAINT provider_skills_provider_cost_fkey
    FOREIGN KEY (provider_id, cost_in_pence) REFERENCES providers (id, cost_in_pence)
    ON UPDATE CASCADE ON DELETE CASCADE;

COMMENT ON COLUMN provider_skills.cost_in_pence IS
    'Derived: the provider''s day rate, kept equal by the foreign key (ON UPDATE CASCADE).';

-- Replaces provider_skills_key_idx (skill_key, provider_id): the same lookups, in rate order.
DROP INDEX provider_skills_key_idx;
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id);

-- Recommend and search probe runs per candidate provider (the primary key). A GiST index on
-- the run alone invited plans that gather every provider available in a wide window (most
-- of them) before anything else; it goes.
DROP INDEX availability_runs_run_idx;
