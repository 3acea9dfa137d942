-- Search orders (issue 19): besides the v1.0 order (cost descending), cost ascending, the
-- confidence-weighted rating descending, the review count descending, and newest first, each
-- served by walking an index in the order's own key, so that a page costs the same at any
-- depth when it starts after a cursor (keyset paging).
--
-- The confidence-weighted rating is written, in every index and query, exactly as the domain's
-- ReviewStats::confidence computes it: (rating_sum + 125) / (10 * (review_count + 5)) as one
-- IEEE double division. The domain compares the fractions exactly (cross-multiplied integers);
-- the double order equals it because division rounds monotonically and two different
-- fractions with these denominators differ by at least 1 / (100 * (c1 + 5) * (c2 + 5)), far
-- more than a double's rounding near 5 while each count stays below about 3 million reviews
-- of one provider (the same bound the mean's order relies on, see the baseline).
--
-- Every order ends with the id, so it is total; the keyset condition of a cursor page is one
-- branch per key column ("equal on the columns before, after on this one"), each a bounded
-- range of one of these indexes (crates/postgres-adapter/src/queries.rs).

-- The newest order's key on each posting: a copy of the provider's creation time, which never
-- changes, written with the skill rows (a replace rewrites them with the same time).
ALTER TABLE provider_skills ADD COLUMN created_at timestamptz;
UPDATE provider_skills s SET created_at = p.created_at FROM providers p WHERE p.id = s.provider_id;
ALTER TABLE provider_skills ALTER COLUMN created_at SET NOT NULL;

COMMENT ON COLUMN provider_skills.created_at IS
    'Derived: the provider''s created_at (which never changes), written with the skill row.';

-- Searches without skills walk the providers. Each index carries what the filters read
-- (day rate, review figures, name_key), so the walk is index-only.
CREATE INDEX providers_cost_asc_idx ON providers (
    cost_in_pence,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    id
) INCLUDE (review_count, rating_sum, name_key);

CREATE INDEX providers_rating_desc_idx ON providers (
    ((rating_sum + 125)::float8 / ((review_count + 5) * 10)::float8) DESC,
    review_count DESC,
    id
) INCLUDE (cost_in_pence, rating_sum, name_key);

CREATE INDEX providers_reviews_desc_idx ON providers (
    review_count DESC,
    ((rating_sum + 125)::float8 / ((review_count + 5) * 10)::float8) DESC,
    id
) INCLUDE (cost_in_pence, rating_sum, name_key);

CREATE INDEX providers_newest_idx ON providers (created_at DESC, id DESC)
    INCLUDE (cost_in_pence, review_count, rating_sum, name_key);

-- Searches with skills walk each skill's postings in the order (cost descending is
-- provider_skills_postings_idx, recommend's walk too).
CREATE INDEX provider_skills_cost_asc_idx ON provider_skills (
    skill_key,
    cost_in_pence,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    provider_id
) INCLUDE (review_count, rating_sum);

CREATE INDEX provider_skills_rating_desc_idx ON provider_skills (
    skill_key,
    ((rating_sum + 125)::float8 / ((review_count + 5) * 10)::float8) DESC,
    review_count DESC,
    provider_id
) INCLUDE (cost_in_pence, rating_sum);

CREATE INDEX provider_skills_reviews_desc_idx ON provider_skills (
    skill_key,
    review_count DESC,
    ((rating_sum + 125)::float8 / ((review_count + 5) * 10)::float8) DESC,
    provider_id
) INCLUDE (cost_in_pence, rating_sum);

CREATE INDEX provider_skills_newest_idx ON provider_skills (
    skill_key, created_at DESC, provider_id DESC
) INCLUDE (cost_in_pence, review_count, rating_sum);
