-- Two GiST indexes cost most of a bulk load at a million providers (GiST has no sorted build
-- for these types in PostgreSQL 15, so it inserts entry by entry): building the exclusion
-- constraint on availability took 111 s, the index on availability_runs.run 34 s.
--
-- 1. availability_runs.run: an SP-GiST index (a quad tree over ranges) answers the same
--    `run && window` lookups and builds in about half the time.
DROP INDEX IF EXISTS availability_runs_run_idx;
CREATE INDEX availability_runs_run_idx ON availability_runs USING spgist (run);

-- 2. "Ranges of one provider never share a day" is kept by a constraint trigger instead of the
--    exclusion constraint. For every inserted or updated range it locks the provider's row
--    (so two transactions writing one provider's availability queue one after the other and
--    each sees the other's committed ranges) and looks for an overlapping range of that
--    provider through the primary key (provider_id, period): a few entries. It raises the
--    same error as the exclusion constraint did (SQLSTATE 23P01, constraint
--    availability_no_overlap), so clients see no difference.
--
--    A bulk load into empty tables (provider-api seed) disables it while copying and checks
--    the rule once over all rows, in one ordered pass: ranges sorted by start overlap
--    somewhere exactly when two consecutive ones do.
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

ALTER TABLE availability DROP CONSTRAINT availability_no_overlap;

CREATE CONSTRAINT TRIGGER availability_no_overlap
    AFTER INSERT OR UPDATE ON availability
    FOR EACH ROW EXECUTE FUNCTION availability_no_overlap();
