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
--   outcome_rollup_hourly      hash on bucket, outcome_rollup_daily_site hash on day: a batch
--                              mostly touches one hour and one day, so its rollup upserts go to
--                              one shard each; both keys already include the column.
--   dead_letters               hash on "partition" (the Kafka partition): the position key
--                              (topic, partition, offset) includes it; its primary key becomes
--                              (id, "partition").
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
    perform create_distributed_table('outcome_rollup_hourly', 'bucket');
    perform create_distributed_table('outcome_rollup_daily_site', 'day');
    perform create_distributed_table('dead_letters', 'partition');
    perform create_reference_table('consumer_lag');
    perform create_reference_table('storage_settings');
    perform create_reference_table('outcome_partitions');
    perform create_reference_table('storage_events');

    -- create_distributed_table copies a populated table's rows into its shards and leaves the
    -- coordinator's own copy behind; free that disk (an empty table has nothing to free).
    for rel in
        select c.oid::regclass as table_name from pg_class c
         where c.relname in ('auction_outcomes', 'outcome_rollup_hourly', 'outcome_rollup_daily_site', 'dead_letters',
                             'consumer_lag', 'storage_settings', 'outcome_partitions', 'storage_events')
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
    execute format('alter function helios_ensure_outcome_partition(timestamptz) set search_path = %I, pg_temp', current_schema());
end;
$citus$;
