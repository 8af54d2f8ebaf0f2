-- Least privilege for the consumer: its database role needs INSERT on auction_outcomes, not write
-- access to the rollups its inserts maintain. The rollup trigger function therefore runs with the
-- rights of its owner (the role that runs migrations and owns the tables), not of the inserting
-- role. Its search_path is pinned to the schema the tables were created in, then pg_temp last, so
-- no role can shadow a rollup table with one of its own. See scripts/db-roles.sql.
alter function outcome_rollups_apply() security definer;

do $$
begin
    execute format('alter function outcome_rollups_apply() set search_path = %I, pg_temp', current_schema());
end;
$$;

-- A trigger function cannot be called directly anyway; nobody needs to execute it by name.
revoke all on function outcome_rollups_apply() from public;
