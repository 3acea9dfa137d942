-- Ratings per skill: a review may rate the provider's skills one by one, and recommend ranks
-- by how the skills a job needs were rated.
--
--   review_skill_ratings  the facts: each review's per-skill ratings, as written.
--   skill_reviews         DERIVED: per (provider, skill key) the count and the sum (tenths) of
--                         those ratings, bumped in the review's transaction like
--                         providers.review_count/rating_sum. Keyed by the skill's key, not by a
--                         provider_skills row: a PUT rewrites the skill rows, and a skill removed
--                         and later added back shows its ratings again.
--   provider_skills.skill_review_count, provider_skills.skill_rating_sum
--                         DERIVED: the skill_reviews figures of the row's own skill, copied onto
--                         the posting (0 when never rated) so that recommend's walk ranks by the
--                         matched skills' pooled rating without a lookup per candidate. Written
--                         with the figures in the same transactions: the review's (which locks
--                         the provider row first) and the replace's (which reads skill_reviews
--                         under the same lock when it writes the new skill rows).

CREATE TABLE review_skill_ratings (
    review_id uuid     NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    -- The order the review lists them in (the provider's skill order when it was written).
    position  smallint NOT NULL
        CONSTRAINT review_skill_ratings_position_range CHECK (position BETWEEN 0 AND 49),
    -- In the provider's spelling when the review was written.
    skill     text     NOT NULL
        CONSTRAINT review_skill_ratings_skill_length CHECK (char_length(skill) BETWEEN 1 AND 100),
    skill_key text     NOT NULL
        CONSTRAINT review_skill_ratings_skill_key_not_empty CHECK (skill_key <> ''),
    -- Tenths, as reviews.rating.
    rating    smallint NOT NULL
        CONSTRAINT review_skill_ratings_rating_range CHECK (rating BETWEEN 0 AND 50),
    PRIMARY KEY (review_id, position),
    CONSTRAINT review_skill_ratings_one_per_key UNIQUE (review_id, skill_key)
);

CREATE TABLE skill_reviews (
    provider_id  uuid   NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    skill_key    text   NOT NULL
        CONSTRAINT skill_reviews_skill_key_not_empty CHECK (skill_key <> ''),
    review_count bigint NOT NULL
        CONSTRAINT skill_reviews_review_count_positive CHECK (review_count >= 1),
    rating_sum   bigint NOT NULL
        CONSTRAINT skill_reviews_rating_sum_range CHECK (rating_sum BETWEEN 0 AND 50 * review_count),
    PRIMARY KEY (provider_id, skill_key)
);

COMMENT ON TABLE skill_reviews IS
    'Derived: per provider and skill key, count and sum (tenths) of review_skill_ratings, kept '
    'in the review''s transaction.';

-- Constant defaults: no table rewrite (PostgreSQL >= 11).
ALTER TABLE provider_skills
    ADD COLUMN skill_review_count bigint NOT NULL DEFAULT 0
        CONSTRAINT provider_skills_skill_review_count_not_negative CHECK (skill_review_count >= 0),
    ADD COLUMN skill_rating_sum bigint NOT NULL DEFAULT 0
        CONSTRAINT provider_skills_skill_rating_sum_range
            CHECK (skill_rating_sum BETWEEN 0 AND 50 * skill_review_count);

COMMENT ON COLUMN provider_skills.skill_review_count IS
    'Derived: skill_reviews.review_count of this provider and skill_key (0 when none), written '
    'with it.';
COMMENT ON COLUMN provider_skills.skill_rating_sum IS
    'Derived: skill_reviews.rating_sum of this provider and skill_key (0 when none), written '
    'with it.';

-- The walk reads the per-skill figures with the postings: still an index-only scan.
DROP INDEX provider_skills_postings_idx;
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id)
    INCLUDE (review_count, rating_sum, skill_review_count, skill_rating_sum);
