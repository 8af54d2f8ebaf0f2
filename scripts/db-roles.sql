-- Least-privilege database roles for Helios Analytics: run once per database as an administrator
-- (a superuser, or a role with CREATEROLE that owns the database), connected to the service's
-- database, before the first `migrate`:
--     psql -d helios_analytics -v ON_ERROR_STOP=1 -f scripts/db-roles.sql
-- then give each role a password (\password helios_migrator, \password helios_api, ...), and after
-- every `migrate` run scripts/db-grants.sql as helios_migrator. Safe to run again.
--
--   helios_migrator  owns the schema and every table, function and trigger: runs `migrate` only
--   helios_api       the api role: SELECT on every table, nothing else
--   helios_consumer  the consumer role: INSERT on the tables ingest writes (scripts/db-grants.sql);
--                    the rollups its inserts maintain are written by a SECURITY DEFINER trigger
--                    (migrations/004), so it holds no right on them
do $$
begin
    if not exists (select from pg_roles where rolname = 'helios_migrator') then create role helios_migrator login; end if;
    if not exists (select from pg_roles where rolname = 'helios_api') then create role helios_api login; end if;
    if not exists (select from pg_roles where rolname = 'helios_consumer') then create role helios_consumer login; end if;
    -- Only the three roles connect; nobody makes temporary tables (a temp table could shadow a real one).
    execute format('revoke connect, temporary on database %I from public', current_database());
    execute format('grant connect on database %I to helios_migrator, helios_api, helios_consumer', current_database());
end;
$$;

-- The migrator owns the schema the tables live in; nobody else may create anything there.
alter schema public owner to helios_migrator;
revoke create on schema public from public;
grant usage on schema public to helios_api, helios_consumer;

-- Every table the migrator creates from now on is readable by the API without another grant.
alter default privileges for role helios_migrator in schema public grant select on tables to helios_api;
