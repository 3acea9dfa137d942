-- The PostgreSQL store of the Service Provider API: the whole schema, table by table.
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
--   provider_skills.cost_in_pence, provider_skills.review_count, provider_skills.rating_sum
--       Copies of the provider's day rate and review figures on each of its skill rows (its
--       "postings"), kept equal by a foreign key with ON UPDATE CASCADE: see provider_skills.
--   availability_runs
--       The availability merged into unbroken runs of days (touching ranges joined):
--       provider_domain::Availability::runs(), written with the availability. Recommend's rule
--       "a run of at least N consecutive available days inside a window" then becomes one
--       indexed lookup per candidate: upper(run * window) - lower(run * window) >= N.
--
-- Dates. A range is inclusive at both ends in the API; PostgreSQL canonicalises a daterange to
-- [from, to + 1). 9999-12-31 is the last day the API accepts, so an upper bound may be
-- 10000-01-01 (PostgreSQL dates go far beyond that).
--
-- Bulk loads. `provider-api seed` into empty tables sets aside every secondary index, unique
-- constraint, foreign key and the availability overlap trigger, copies the rows, then rebuilds
-- them from their definitions in the catalog (crates/postgres-adapter/src/bulk.rs): whatever is
-- declared here is what it rebuilds.

-- Both extensions are "trusted" (PostgreSQL >= 13): any role allowed to create objects in the
-- database may install them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;    -- substring (LIKE '%...%') search on names
-- GiST operator classes for plain types (uuid, bigint). No index or constraint below uses it
-- (availability's overlap rule is a trigger, see there); it is installed so that this schema
-- stays the one the store has always run on. Dropping it is a schema change of its own.
CREATE EXTENSION IF NOT EXISTS btree_gist;

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
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- What the postings' foreign key references (see provider_skills): the id alone is already
    -- unique, this makes the provider's day rate and review figures referenceable with it.
    CONSTRAINT providers_id_cost_reviews_key UNIQUE (id, cost_in_pence, review_count, rating_sum)
);

COMMENT ON COLUMN providers.name_key IS
    'Derived: provider_domain::ProviderName::search_key() of name, computed in Rust.';
COMMENT ON COLUMN providers.rating_sum IS
    'Derived: sum of reviews.rating (tenths) of this provider, kept in the review''s transaction.';

-- Name search: with the default statistics (100 most common values) a name shared by a few
-- thousand providers is estimated at ~100, and the planner gathers them all through the
-- trigram index and sorts them, instead of walking the search order and stopping after one
-- page. A longer list of common values estimates such names within a few percent.
ALTER TABLE providers ALTER COLUMN name_key SET STATISTICS 1000;

-- Search lists providers by cost descending, then mean rating descending, then id. This index
-- holds exactly that order, so a search walks it and stops after one page (plus the offset),
-- checking the other filters on the way, and only then loads the page's providers. The mean is
-- the very expression search orders by (and the domain's ReviewStats::mean divides the same two
-- integers in IEEE double precision). With the columns the filters read carried in the index
-- (review_count and rating_sum for the mean, name_key for name search) the walk is an
-- index-only scan: a deep page (OFFSET 9,900) or a selective filter fetches no heap row for
-- the providers passed over. The leading column also serves cost ranges (cost_gt, cost_lt).
CREATE INDEX providers_search_order_idx ON providers (
    cost_in_pence DESC,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    id
) INCLUDE (review_count, rating_sum, name_key);

-- Name search: name_key LIKE '%needle%' with a trigram index (needles of 3+ characters).
CREATE INDEX providers_name_key_trgm_idx ON providers USING gin (name_key gin_trgm_ops);

-- A provider's skills, and recommend's postings: one row per (provider, skill).
--
-- Recommend ranks by matched skills, then day rate (descending), then confidence, and keeps
-- only providers within budget and meeting a minimum rating. It finds its page by walking,
-- for each requested skill, the providers that have it in descending day-rate order
-- (provider_skills_postings_idx) and stopping once the page is provably complete, instead of
-- counting matches for every provider with one of the skills. For that walk to check budget
-- and rating and rank without visiting a provider row, each skill row carries a copy of its
-- provider's day rate, review count and rating sum, and the index holds them.
--
-- The copies are kept by the database itself: the foreign key to providers (id, cost_in_pence,
-- review_count, rating_sum) has ON UPDATE CASCADE, so the statement that changes a day rate or
-- records a review rewrites the provider's skill rows too, and a skill row disagreeing with its
-- provider cannot exist. It also requires the provider and cascades its deletion, so there is
-- no separate foreign key on provider_id alone (it would cost a second lookup per row).
CREATE TABLE provider_skills (
    provider_id   uuid     NOT NULL,
    -- The order the client gave, from 0; a provider lists at most 50 skills.
    position      smallint NOT NULL
        CONSTRAINT provider_skills_position_range CHECK (position BETWEEN 0 AND 49),
    -- As the client spelled it (trimmed).
    skill         text     NOT NULL
        CONSTRAINT provider_skills_skill_length CHECK (char_length(skill) BETWEEN 1 AND 100),
    skill_key     text     NOT NULL
        CONSTRAINT provider_skills_skill_key_not_empty CHECK (skill_key <> ''),
    cost_in_pence bigint   NOT NULL,
    review_count  bigint   NOT NULL,
    rating_sum    bigint   NOT NULL,
    PRIMARY KEY (provider_id, position),
    -- Case-insensitive duplicates are dropped before storing; the database refuses them too.
    -- Its index also answers "which of these skills does provider p have" (search's skill
    -- filter, recommend's count of matched skills).
    CONSTRAINT provider_skills_one_per_key UNIQUE (provider_id, skill_key),
    CONSTRAINT provider_skills_provider_fkey
        FOREIGN KEY (provider_id, cost_in_pence, review_count, rating_sum)
        REFERENCES providers (id, cost_in_pence, review_count, rating_sum)
        ON UPDATE CASCADE ON DELETE CASCADE
);

COMMENT ON COLUMN provider_skills.skill_key IS
    'Derived: provider_domain::Skill::key() of skill, computed in Rust.';
COMMENT ON COLUMN provider_skills.cost_in_pence IS
    'Derived: the provider''s day rate, kept equal by the foreign key (ON UPDATE CASCADE).';
COMMENT ON COLUMN provider_skills.review_count IS
    'Derived: the provider''s review count, kept equal by the foreign key (ON UPDATE CASCADE).';
COMMENT ON COLUMN provider_skills.rating_sum IS
    'Derived: the provider''s rating sum, kept equal by the foreign key (ON UPDATE CASCADE).';

-- Each skill's postings in recommend's order (day rate descending), carrying what its walk
-- checks and ranks by: the walk is an index-only scan.
CREATE INDEX provider_skills_postings_idx
    ON provider_skills (skill_key, cost_in_pence DESC, provider_id)
    INCLUDE (review_count, rating_sum);

CREATE TABLE availability (
    provider_id uuid      NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    period      daterange NOT NULL
        CONSTRAINT availability_period_bounded CHECK (
            NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)
            AND lower(period) >= DATE '1900-01-01' AND upper(period) <= DATE '10000-01-01'),
    -- B-tree: loads a page's ranges (provider_id = ANY($ids)) already sorted by start, and
    -- finds the ranges of one provider for the overlap trigger below.
    PRIMARY KEY (provider_id, period)
);

-- "Ranges of one provider may touch but never share a day", kept by a constraint trigger
-- rather than an exclusion constraint: the exclusion constraint's GiST index has no sorted
-- build for these types (PostgreSQL 15 inserts entry by entry), and building it cost most of a
-- bulk load at a million providers. For every inserted or updated range the trigger locks the
-- provider's row (so two transactions writing one provider's availability queue one after the
-- other and each sees the other's committed ranges) and looks for an overlapping range of that
-- provider through the primary key: a few entries. It raises what an exclusion constraint
-- would (SQLSTATE 23P01, constraint availability_no_overlap), which the store maps to invalid
-- data. A bulk load into empty tables disables it while copying and checks the rule once over
-- all rows, in one ordered pass: ranges sorted by start overlap somewhere exactly when two
-- consecutive ones do.
CREATE FUNCTION availability_no_overlap() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM providers WHERE id = NEW.provider_id FOR NO KEY UPDATE;
    IF EXISTS (
        SELECT 1 FROM availability a
        WHERE a.provider_id = NEW.provider_id AND a.period && NEW.period AND a.ctid <> NEW.ctid
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'exclusion_violation',
            CONSTRAINT = 'availability_no_overlap',
            MESSAGE = 'conflicting key value violates exclusion constraint "availability_no_overlap"',
            DETAIL = format('Range %s of provider %s overlaps another of its ranges.',
                            NEW.period, NEW.provider_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER availability_no_overlap
    AFTER INSERT OR UPDATE ON availability
    FOR EACH ROW EXECUTE FUNCTION availability_no_overlap();

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

-- Window-first plans: "who is available at all in this (rare) window". Search and recommend
-- bind each window as its own value and plan each execution for its values, so the planner
-- sees how many runs a window admits: for a common one it probes runs per provider along its
-- ordered walk; for a rare one (next year, say) it starts here. Recommend also counts up to 500
-- qualifying runs through it to tell the two cases apart. SP-GiST (a quad tree over ranges)
-- answers these `run && window` lookups and builds in about half the time of GiST.
CREATE INDEX availability_runs_run_idx ON availability_runs USING spgist (run);

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
