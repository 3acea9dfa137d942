-- Brings back the GiST index on availability_runs.run (dropped by the previous migration).
--
-- Search and recommend now bind each availability window as its own value, and the store plans
-- every execution for its values (plan_cache_mode = force_custom_plan), so the planner sees
-- how many runs a window admits. For a common window it still probes runs per provider along
-- its ordered walk; for a rare one (next year, say) it starts from the few runs in the window
-- through this index, instead of walking every provider to find none. Recommend also reads up
-- to 500 qualifying runs through it first to tell the two cases apart.
CREATE INDEX IF NOT EXISTS availability_runs_run_idx ON availability_runs USING gist (run);

-- provider_skills (provider_id, cost_in_pence) -> providers (id, cost_in_pence), added by the
-- previous migration, already requires the provider and cascades its deletion: the plain
-- foreign key on provider_id only costs a second lookup per inserted skill row.
ALTER TABLE provider_skills DROP CONSTRAINT IF EXISTS provider_skills_provider_id_fkey;
