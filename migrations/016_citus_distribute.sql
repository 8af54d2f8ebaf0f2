-- On a Citus coordinator (the citus extension created in this database, its workers added), the
-- schema of 001-011 becomes distributed; on plain PostgreSQL and PGlite this file does nothing.
-- It is a migration rather than a step of its own in the runner so it runs once, in order, is
-- checksummed like every other, and a later migration knows what shape it builds on.
--
-- Distribution (measured and argued in docs/scaling-out.md):
--   auction_outcomes           hash on bid_id: the idempotency key, so the per-partition
--                              unique (bid_id) that makes ingest exactly once stays exactly what it
--                              is on one node, and rows spread evenly whatever the users' skew.
--                              Each partition's primary key becomes (id, bid_id): a unique key of a
--                              distributed table must include the distribution column; id stays
--                              unique through its one sequence, and lookups by id still use it.
--   outcome_rollup_hourly, outcome_rollup_daily_site
--                              reference tables (a copy on every node): small (rows per hour or
--                              per day and site, not per outcome), read by every aggregate
--                              endpoint. Measured against hashing them on their time
--                              (bench/citus.ts, 32 shards): stats/ 0.6 ms against 109 ms, with
--                              no lower ingest rate.
--   dead_letters               hash on "partition" (the Kafka partition): the position key
--                              (topic, partition, offset) includes it; its primary key becomes
--                              (id, "partition").
--   dead_letter_replays        reference table: a few rows per replayed letter, read next to the
--                              letters. A reference table may not point at a distributed one, so
--                              its foreign key to dead_letters (id) is dropped here (letters are
--                              never deleted; the replay writes only ids it read from them).
--   outcome_rollup_price_hourly, import_progress
--                              reference tables, as the other rollups and the bookkeeping.
--   consumer_lag, storage_settings, outcome_partitions, storage_events
--                              reference tables: small, written rarely, read next to anything.
--   schema_migrations          stays a local table of the coordinator: only migrate reads it.
--
-- Citus runs no triggers on distributed tables, so the statement triggers of 003/006/008/011 are
-- dropped here; the service's writer (helios_store_outcomes) already maintains the rollups and
-- notifies in its own statement, and helios_rebuild_rollups (migration 017) redoes a period's
-- rollups for rows another tool changed. See docs/scaling-out.md for what an operator does then.
do $citus$
declare
    rel record;
    trg text;
begin
    if not exists (select from pg_extension where extname = 'citus') then
        return;
    end if;
    -- One connection per worker for everything below: DDL and copies that follow each other in
    -- one transaction must not be split over parallel connections (Citus refuses that mix).
    set local citus.multi_shard_modify_mode to 'sequential';

    foreach trg in array array['auction_outcomes_touch_updated_at', 'auction_outcomes_rollups_insert', 'auction_outcomes_rollups_update',
        'auction_outcomes_rollups_delete', 'auction_outcomes_notify_insert', 'auction_outcomes_notify_update',
        'auction_outcomes_notify_delete', 'auction_outcomes_notify_truncate'] loop
        execute format('drop trigger if exists %I on auction_outcomes', trg);
    end loop;

    -- The replays' key points at dead_letters (id), which stops being unique on its own below.
    alter table dead_letter_replays drop constraint if exists dead_letter_replays_dead_letter_id_fkey;

    -- Primary keys that must include the distribution column: every partition of the outcomes
    -- (the default one, a converted legacy one, those made so far) and the dead letters.
    for rel in
        select c.relname as table_name, k.conname as key_name, 'id, bid_id' as columns
          from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'
         where i.inhparent = 'auction_outcomes'::regclass
        union all
        select 'dead_letters', conname, 'id, "partition"' from pg_constraint where conrelid = 'dead_letters'::regclass and contype = 'p'
    loop
        execute format('alter table %I drop constraint %I, add constraint %I primary key (%s)', rel.table_name, rel.key_name, rel.key_name, rel.columns);
    end loop;

    perform create_distributed_table('auction_outcomes', 'bid_id');
    perform create_reference_table('outcome_rollup_hourly');
    perform create_reference_table('outcome_rollup_daily_site');
    perform create_reference_table('outcome_rollup_price_hourly');
    perform create_distributed_table('dead_letters', 'partition');
    perform create_reference_table('consumer_lag');
    perform create_reference_table('storage_settings');
    perform create_reference_table('outcome_partitions');
    perform create_reference_table('storage_events');
    perform create_reference_table('import_progress');
    perform create_reference_table('dead_letter_replays');

    -- create_distributed_table copies a populated table's rows into its shards and leaves the
    -- coordinator's own copy behind; free that disk (an empty table has nothing to free).
    for rel in
        select c.oid::regclass as table_name from pg_class c
         where c.relname in ('auction_outcomes', 'outcome_rollup_hourly', 'outcome_rollup_daily_site', 'outcome_rollup_price_hourly',
                             'dead_letters', 'consumer_lag', 'storage_settings', 'outcome_partitions', 'storage_events', 'import_progress', 'dead_letter_replays')
           and c.relnamespace = current_schema()::regnamespace
    loop
        perform truncate_local_data_after_distributing_table(rel.table_name);
    end loop;

    -- Partitions from now on: built beside the table, distributed co-located with it, the default
    -- partition's rows for the period moved in, then attached, as on one node (migration 008).
    execute $ddl$
    create or replace function helios_ensure_outcome_partition(at timestamptz, out name text, out created boolean, out moved bigint)
    language plpgsql security definer as $fn$
    declare
        b record;
    begin
        created := false;
        moved := 0;
        if at < '0001-01-01T00:00:00Z' or at >= '10000-01-01T00:00:00Z' then
            name := 'auction_outcomes_default';
            return;
        end if;
        select * into b from helios_partition_bounds(at, helios_partition_interval());
        select p.name into name from outcome_partitions p where (p.lower is null or p.lower <= at) and p.upper > at;
        if found then
            return;
        end if;
        perform pg_advisory_xact_lock(727274002, hashtext(b.name));
        select p.name into name from outcome_partitions p where (p.lower is null or p.lower <= at) and p.upper > at;
        if found then
            return;
        end if;
        name := b.name;
        perform set_config('citus.multi_shard_modify_mode', 'sequential', true);
        execute format('create table %I (like auction_outcomes including defaults including constraints including storage)', b.name);
        execute format('alter table %I add constraint %I primary key (id, bid_id), add constraint %I unique (bid_id)',
            b.name, b.name || '_pkey', b.name || '_bid_id_key');
        perform create_distributed_table(b.name, 'bid_id', colocate_with => 'auction_outcomes');
        execute format('insert into %I select * from auction_outcomes_default where "timestamp" >= $1 and "timestamp" < $2', b.name)
            using b.lower, b.upper;
        get diagnostics moved = row_count;
        if moved > 0 then
            delete from auction_outcomes_default where "timestamp" >= b.lower and "timestamp" < b.upper;
        end if;
        execute format('alter table auction_outcomes attach partition %I for values from (%L) to (%L)', b.name, b.lower, b.upper);
        insert into outcome_partitions (name, lower, upper) values (b.name, b.lower, b.upper);
        insert into storage_events (kind, partition_name, detail)
            values ('created', b.name, jsonb_build_object('lower', b.lower, 'upper', b.upper, 'moved_from_default', moved));
        created := true;
    end;
    $fn$
    $ddl$;
    -- The interval read once, on the coordinator: inside the GROUP BY, helios_partition_interval()
    -- would be pushed down to the workers' shards and read a reference table from there, which
    -- Citus refuses (a distributed query nested in a shard query).
    execute $ddl$
    create or replace function helios_default_partition_periods() returns setof timestamptz language plpgsql stable security definer as $fn$
    declare
        unit text := helios_partition_interval();
    begin
        return query
        select min("timestamp") from auction_outcomes_default
        where "timestamp" >= '0001-01-01T00:00:00Z' and "timestamp" < '10000-01-01T00:00:00Z'
        group by date_trunc(unit, "timestamp", 'UTC')
        order by 1;
    end;
    $fn$
    $ddl$;
    -- Citus takes only IMMUTABLE functions in an ON CONFLICT DO UPDATE SET of a distributed or
    -- reference table; the later of two bounds (and now()) are computed first, the rest as in 008.
    execute $ddl$
    create or replace function helios_drop_outcome_partition(partition_name text, cutoff timestamptz) returns boolean language plpgsql security definer as $fn$
    declare
        p record;
        estimate real;
        available_from timestamptz;
    begin
        select * into p from outcome_partitions where name = partition_name and upper <= cutoff;
        if not found then
            return false;
        end if;
        select reltuples into estimate from pg_class where oid = to_regclass(quote_ident(p.name));
        execute format('drop table if exists %I', p.name);
        delete from outcome_partitions where name = p.name;
        available_from := greatest(p.upper, (select value::timestamptz from storage_settings where name = 'outcomes_available_from'));
        insert into storage_settings (name, value, updated_at) values ('outcomes_available_from', available_from, now())
            on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at;
        insert into storage_events (kind, partition_name, detail)
            values ('dropped', p.name, jsonb_build_object('lower', p.lower, 'upper', p.upper, 'rows_estimate', estimate));
        perform pg_notify('auction_outcomes_changed', '');
        return true;
    end;
    $fn$
    $ddl$;
    execute $ddl$
    create or replace function helios_drop_rollups_before(cutoff timestamptz) returns bigint language plpgsql security definer as $fn$
    declare
        hourly bigint;
        daily bigint;
        available_from timestamptz;
    begin
        delete from outcome_rollup_hourly where bucket < date_trunc('hour', cutoff, 'UTC');
        get diagnostics hourly = row_count;
        delete from outcome_rollup_daily_site where day < (cutoff at time zone 'UTC')::date;
        get diagnostics daily = row_count;
        if hourly + daily > 0 then
            available_from := greatest(date_trunc('day', cutoff, 'UTC'), (select value::timestamptz from storage_settings where name = 'rollups_available_from'));
            insert into storage_settings (name, value, updated_at) values ('rollups_available_from', available_from, now())
                on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at;
            insert into storage_events (kind, detail) values ('rollups_dropped', jsonb_build_object('before', cutoff, 'rows', hourly + daily));
            perform pg_notify('auction_outcomes_changed', '');
        end if;
        return hourly + daily;
    end;
    $fn$
    $ddl$;
    execute format('alter function helios_ensure_outcome_partition(timestamptz) set search_path = %I, pg_temp', current_schema());
    execute format('alter function helios_drop_outcome_partition(text, timestamptz) set search_path = %I, pg_temp', current_schema());
    execute format('alter function helios_drop_rollups_before(timestamptz) set search_path = %I, pg_temp', current_schema());
    execute format('alter function helios_default_partition_periods() set search_path = %I, pg_temp', current_schema());
end;
$citus$;
