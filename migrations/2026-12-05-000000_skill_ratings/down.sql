DROP INDEX provider_skills_postings_idx;
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id)
    INCLUDE (review_count, rating_sum);
ALTER TABLE provider_skills DROP COLUMN skill_rating_sum, DROP COLUMN skill_review_count;
DROP TABLE skill_reviews;
DROP TABLE review_skill_ratings;
