-- Search walks providers_search_order_idx in the search order, checking its filters on the
-- way, and only then loads the page's providers. With the columns those filters and the order
-- read (review_count and rating_sum for the mean, name_key for name search) carried in the
-- index, the walk is an index-only scan: a deep page (OFFSET 9,900) or a selective filter no
-- longer fetches a heap row for every provider passed over.
DROP INDEX providers_search_order_idx;
CREATE INDEX providers_search_order_idx ON providers (
    cost_in_pence DESC,
    (CASE WHEN review_count = 0 THEN 0::float8
          ELSE rating_sum::float8 / (review_count * 10)::float8 END) DESC,
    id
) INCLUDE (review_count, rating_sum, name_key);

-- Name search: with the default statistics (100 most common values) a name shared by a few
-- thousand providers is estimated at ~100, and the planner gathers them all through the
-- trigram index and sorts them, instead of walking the search order and stopping after one
-- page. A longer list of common values estimates such names within a few percent.
ALTER TABLE providers ALTER COLUMN name_key SET STATISTICS 1000;
