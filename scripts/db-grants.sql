-- The table grants of the least-privilege roles (scripts/db-roles.sql). Run as helios_migrator,
-- the owner of the tables, after every `migrate`; every statement is idempotent:
--     psql -U helios_migrator -d helios_analytics -v ON_ERROR_STOP=1 -f scripts/db-grants.sql
-- A migration that adds a table the consumer writes adds its grant here.

-- The API reads everything it serves (tables created before db-roles.sql included), /readyz reads
-- schema_migrations, and it writes nothing.
grant select on all tables in schema public to helios_api;

-- The consumer inserts outcomes, sets bad messages aside in dead_letters and upserts its measured
-- lag. ON CONFLICT needs SELECT on the columns of the unique key it checks (and RETURNING on what it
-- returns): those columns only. No UPDATE or DELETE on outcomes, nothing on the rollups (the
-- SECURITY DEFINER trigger of migration 004 maintains them) or on schema_migrations.
grant insert on auction_outcomes, dead_letters to helios_consumer;
grant select (bid_id) on auction_outcomes to helios_consumer;
grant select (topic, "partition", "offset") on dead_letters to helios_consumer;
-- consumer_lag is the consumer's own report; its upsert reads excluded.* (SELECT on those columns).
grant select, insert, update on consumer_lag to helios_consumer;
