-- The view over a bare trace folder (PREFIX-NNNNN.parquet shards, as `distillery synth` or
-- `distillery ingest` write them): `traces` alone, since a folder has no stages yet.
--
-- In the plain duckdb CLI:
--   duckdb -cmd "SET VARIABLE traces = 'demo/traces'" -cmd ".read sql/folder_views.sql"

-- Every row of every top-level shard; sources whose extra columns differ line up by name.
CREATE OR REPLACE VIEW traces AS
FROM read_parquet(getvariable('traces') || '/*.parquet', union_by_name = true);
