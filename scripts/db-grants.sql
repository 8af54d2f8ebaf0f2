-- The table grants of the least-privilege roles (scripts/db-roles.sql). Run as helios_migrator,
-- the owner of the tables, after every `migrate`; every statement is idempotent:
--     psql -U helios_migrator -d helios_analytics -v ON_ERROR_STOP=1 -f scripts/db-grants.sql
-- A migration that adds a table the consumer writes adds its grant here.

-- The API reads everything it serves (tables created before db-roles.sql included), /readyz reads
-- schema_migrations, and it writes nothing.
grant select on all tables in schema public to helios_api;

-- The consumer stores outcomes through helios_store_outcomes (below), sets bad messages aside in
-- dead_letters and upserts its measured lag. ON CONFLICT needs SELECT on the columns of the unique
-- key it checks (and RETURNING on what it returns): those columns only. No UPDATE or DELETE on
-- outcomes, nothing on the rollups (the SECURITY DEFINER writer and trigger maintain them) or on
-- schema_migrations.
grant insert on auction_outcomes, dead_letters to helios_consumer;
grant select (bid_id) on auction_outcomes to helios_consumer;
grant select (topic, "partition", "offset") on dead_letters to helios_consumer;
-- Storage (migration 008): the writer function stores outcomes and their rollups, the others make
-- and drop partitions; all run with the migrator's rights. The consumer reads the storage
-- catalogue for its maintenance passes.
grant execute on function
    helios_store_outcomes(text[], text[], text[], boolean[], numeric[], numeric[], text[], boolean[], timestamptz[], timestamptz[], jsonb[], jsonb[]),
    helios_ensure_outcome_partition(timestamptz), helios_drop_outcome_partition(text, timestamptz),
    helios_drop_rollups_before(timestamptz), helios_default_partition_periods()
    to helios_consumer;
grant select on storage_settings, outcome_partitions, storage_events to helios_consumer;
-- consumer_lag is the consumer's own report; its upsert reads excluded.* (SELECT on those columns).
grant select, insert, update on consumer_lag to helios_consumer;
-- The backfill roles (import-original, ingest-file) run as the consumer's role: they write through
-- the same ingest step, and import-original keeps its position in import_progress (migration 012).
grant select, insert, update on import_progress to helios_consumer;
