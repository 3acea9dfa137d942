ALTER TABLE providers ALTER COLUMN name_key SET STATISTICS -1;
DROP INDEX providers_search_order_idx;
CREATE INDEX providers_search_order_idx ON providers (
    cost_in_pence DESC,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    id
);
