-- The PostgreSQL store of the Service Provider API.
--
-- Normal form. Every table is in third normal form over the facts a client gives: a provider
-- (providers), its skills in order (provider_skills), its availability ranges (availability),
-- and reviews (reviews). A few columns and one table are DERIVED on purpose; each is written by
-- the same transaction as the facts it derives from, so it can never disagree with them:
--
--   providers.name_key, provider_skills.skill_key
--       The domain's case folding (provider_domain::fold_case, i.e. Rust's str::to_lowercase),
--       computed in Rust. PostgreSQL's lower() folds differently (collation-dependent; e.g. 'İ'),
--       and name search and skill matching must agree with the in-memory store byte for byte.
--   providers.review_count, providers.rating_sum
--       The count and the sum (in tenths) of the provider's reviews, bumped by
--       `UPDATE providers SET review_count = review_count + 1, rating_sum = rating_sum + $r`
--       in the transaction that inserts the review: exact under concurrency (the row lock
--       serialises writers), and search/recommend read mean and confidence off the provider
--       row without aggregating reviews.
--   availability_runs
--       The availability merged into unbroken runs of days (touching ranges joined):
--       provider_domain::Availability::runs(), written with the availability. Recommend's rule
--       "a run of at least N consecutive available days inside a window" then becomes one
--       indexed lookup per candidate: upper(run * window) - lower(run * window) >= N.
--
-- Dates. A range is inclusive at both ends in the API; PostgreSQL canonicalises a daterange to
-- [from, to + 1). 9999-12-31 is the last day the API accepts, so an upper bound may be
-- 10000-01-01 (PostgreSQL dates go far beyond that).

-- Both extensions are "trusted" (PostgreSQL >= 13): any role allowed to create objects in the
-- database may install them.
CREATE EXTENSION IF NOT EXISTS btree_gist; -- uuid "=" inside a GiST exclusion constraint
CREATE EXTENSION IF NOT EXISTS pg_trgm;    -- substring (LIKE '%...%') search on names

CREATE TABLE providers (
    id            uuid        PRIMARY KEY,
    owner_id      uuid        NOT NULL,
    name          text        NOT NULL
        CONSTRAINT providers_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    name_key      text        NOT NULL
        CONSTRAINT providers_name_key_not_empty CHECK (name_key <> ''),
    cost_in_pence bigint      NOT NULL
        CONSTRAINT providers_cost_range CHECK (cost_in_pence BETWEEN 0 AND 100000000000),
    review_count  bigint      NOT NULL DEFAULT 0
        CONSTRAINT providers_review_count_not_negative CHECK (review_count >= 0),
    -- Tenths: a 4.5 adds 45. Every rating is 0..=50 tenths, hence the upper bound.
    rating_sum    bigint      NOT NULL DEFAULT 0
        CONSTRAINT providers_rating_sum_range CHECK (rating_sum BETWEEN 0 AND 50 * review_count),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON COLUMN providers.name_key IS
    'Derived: provider_domain::ProviderName::search_key() of name, computed in Rust.';
COMMENT ON COLUMN providers.rating_sum IS
    'Derived: sum of reviews.rating (tenths) of this provider, kept in the review''s transaction.';

-- Search lists providers by cost descending, then mean rating descending, then id. This index
-- holds exactly that order, so a search walks it and stops after one page (plus the offset),
-- checking the other filters on the way. The mean is the very expression search orders by
-- (and the domain's ReviewStats::mean divides the same two integers in IEEE double precision).
-- It also serves cost ranges (cost_gt, cost_lt, recommend's budget) as its leading column.
CREATE INDEX providers_search_order_idx ON providers (
    cost_in_pence DESC,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    id
);

-- Name search: name_key LIKE '%needle%' with a trigram index (needles of 3+ characters).
CREATE INDEX providers_name_key_trgm_idx ON providers USING gin (name_key gin_trgm_ops);

CREATE TABLE provider_skills (
    provider_id uuid     NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    -- The order the client gave, from 0; a provider lists at most 50 skills.
    position    smallint NOT NULL
        CONSTRAINT provider_skills_position_range CHECK (position BETWEEN 0 AND 49),
    -- As the client spelled it (trimmed).
    skill       text     NOT NULL
        CONSTRAINT provider_skills_skill_length CHECK (char_length(skill) BETWEEN 1 AND 100),
    skill_key   text     NOT NULL
        CONSTRAINT provider_skills_skill_key_not_empty CHECK (skill_key <> ''),
    PRIMARY KEY (provider_id, position),
    -- Case-insensitive duplicates are dropped before storing; the database refuses them too.
    -- Its index also answers "does provider p have one of these skills".
    CONSTRAINT provider_skills_one_per_key UNIQUE (provider_id, skill_key)
);

COMMENT ON COLUMN provider_skills.skill_key IS
    'Derived: provider_domain::Skill::key() of skill, computed in Rust.';

-- Which providers have this skill: recommend starts from here (skill_key = ANY($keys)).
CREATE INDEX provider_skills_key_idx ON provider_skills (skill_key, provider_id);

CREATE TABLE availability (
    provider_id uuid      NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    period      daterange NOT NULL
        CONSTRAINT availability_period_bounded CHECK (
            NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)
            AND lower(period) >= DATE '1900-01-01' AND upper(period) <= DATE '10000-01-01'),
    -- B-tree: loads a page's ranges (provider_id = ANY($ids)) already sorted by start.
    PRIMARY KEY (provider_id, period),
    -- Ranges of one provider may touch but never share a day. Its GiST index (btree_gist for
    -- the uuid) also answers "which ranges of provider p overlap this window".
    CONSTRAINT availability_no_overlap EXCLUDE USING gist (provider_id WITH =, period WITH &&)
);

CREATE TABLE availability_runs (
    provider_id uuid      NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    run         daterange NOT NULL
        CONSTRAINT availability_runs_run_bounded CHECK (
            NOT isempty(run) AND NOT lower_inf(run) AND NOT upper_inf(run)),
    -- Search ("a day inside every window") and recommend (rule 3) probe the runs of one
    -- candidate by provider_id.
    PRIMARY KEY (provider_id, run)
);

COMMENT ON TABLE availability_runs IS
    'Derived: provider_domain::Availability::runs() of the provider''s availability (touching '
    'ranges joined), rewritten in the same transaction as the availability.';

-- Window-first plans: "who is available at all in this (rare) window".
CREATE INDEX availability_runs_run_idx ON availability_runs USING gist (run);

CREATE TABLE reviews (
    id          uuid        PRIMARY KEY,
    provider_id uuid        NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL,
    -- Tenths: 0..=50 is 0.0..=5.0 in steps of 0.1, held exactly.
    rating      smallint    NOT NULL
        CONSTRAINT reviews_rating_range CHECK (rating BETWEEN 0 AND 50),
    comment     text
        CONSTRAINT reviews_comment_length CHECK (char_length(comment) <= 2000),
    created_at  timestamptz NOT NULL,
    CONSTRAINT reviews_one_per_user UNIQUE (provider_id, user_id)
);

-- A provider's reviews, newest first (ties: id descending), paged.
CREATE INDEX reviews_newest_first_idx ON reviews (provider_id, created_at DESC, id DESC);
