-- Recommend at a million providers: check budget and minimum rating inside the postings walk.
--
-- Recommend reads a prefix of each requested skill's postings (providers with the skill, by
-- descending day rate) and checks every candidate. Most of its time went to looking up each
-- candidate's provider row for its rating, which most candidates then failed. Each posting
-- now also carries its provider's review count and rating sum, and the postings index holds
-- them, so the walk keeps only providers meeting the minimum rating while scanning the index,
-- and ranks them (the confidence needs the same two numbers) without visiting providers.
--
-- Like the day rate, these are DERIVED and kept by the database itself: the foreign key
-- (provider_id, cost_in_pence, review_count, rating_sum) -> providers with ON UPDATE CASCADE
-- rewrites a provider's postings in the statement that changes its day rate or records a
-- review, and a posting disagreeing with its provider cannot exist.

ALTER TABLE providers
    ADD CONSTRAINT providers_id_cost_reviews_key UNIQUE (id, cost_in_pence, review_count, rating_sum);

ALTER TABLE provider_skills ADD COLUMN review_count bigint, ADD COLUMN rating_sum bigint;
UPDATE provider_skills s SET review_count = p.review_count, rating_sum = p.rating_sum
    FROM providers p WHERE p.id = s.provider_id;
ALTER TABLE provider_skills
    ALTER COLUMN review_count SET NOT NULL,
    ALTER COLUMN rating_sum SET NOT NULL;

ALTER TABLE provider_skills DROP CONSTRAINT provider_skills_provider_cost_fkey;
ALTER TABLE provider_skills
    ADD CONSTRAINT provider_skills_provider_fkey
    FOREIGN KEY (provider_id, cost_in_pence, review_count, rating_sum)
    REFERENCES providers (id, cost_in_pence, review_count, rating_sum)
    ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE providers DROP CONSTRAINT providers_id_cost_key;

COMMENT ON COLUMN provider_skills.review_count IS
    'Derived: the provider''s review count, kept equal by the foreign key (ON UPDATE CASCADE).';
COMMENT ON COLUMN provider_skills.rating_sum IS
    'Derived: the provider''s rating sum, kept equal by the foreign key (ON UPDATE CASCADE).';

DROP INDEX provider_skills_postings_idx;
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id)
    INCLUDE (review_count, rating_sum);
