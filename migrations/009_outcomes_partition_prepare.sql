-- Converting a populated auction_outcomes without copying it (step 1 of 3). The table becomes
-- one partition holding everything before a boundary B, attached without scanning its rows:
-- that needs a validated CHECK ("timestamp" < B). This step adds the check NOT VALID (a moment
-- under lock; rows written from now on must satisfy it), step 2 validates it while reads and
-- writes go on, step 3 switches (a moment under lock). Each step is its own transaction.
--
-- B is the end of the partition after the current one, so writers have at least one whole
-- interval before their rows would cross it; a table already holding later rows (clocks set
-- ahead) takes the end of the partition of its latest row instead. An empty table needs none of
-- this: step 3 replaces it.
do $$
declare
    unit text := helios_partition_interval();
    latest timestamptz;
    boundary timestamptz;
begin
    if not exists (select from auction_outcomes limit 1) then
        return;
    end if;
    select max("timestamp") into latest from auction_outcomes;
    boundary := greatest(
        (select upper from helios_partition_bounds(now() + case unit when 'week' then interval '7 days' else ('1 ' || unit)::interval end, unit)),
        (select upper from helios_partition_bounds(latest, unit)));
    insert into storage_settings (name, value) values ('legacy_boundary', boundary);
    execute format('alter table auction_outcomes add constraint auction_outcomes_legacy_range check ("timestamp" < %L) not valid', boundary);
end;
$$;
