DROP INDEX provider_skills_newest_idx;
DROP INDEX provider_skills_reviews_desc_idx;
DROP INDEX provider_skills_rating_desc_idx;
DROP INDEX provider_skills_cost_asc_idx;
DROP INDEX providers_newest_idx;
DROP INDEX providers_reviews_desc_idx;
DROP INDEX providers_rating_desc_idx;
DROP INDEX providers_cost_asc_idx;
ALTER TABLE provider_skills DROP COLUMN created_at;
