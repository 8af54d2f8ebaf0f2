-- Storage with a life cycle: auction_outcomes becomes a table partitioned by range on "timestamp"
-- (migrations 009-011 convert it). This file holds what the conversion and the service need:
-- the fixed settings, the catalogue of partitions, the functions that create and drop them,
-- and one writer function that stores outcomes and maintains the rollups in the same statement.
-- Everything that changes tables runs with the owner's rights (SECURITY DEFINER), so the
-- consumer's least-privilege role can create a partition for late data without owning a table.

-- Settings fixed when the table is first partitioned (the partition interval), and facts the
-- API reads (from when individual outcomes and rollups are kept).
create table storage_settings (
    name        text primary key,
    value       text not null,
    updated_at  timestamptz not null default now()
);

-- PARTITION_INTERVAL reaches this file through the migrate role's session setting
-- helios.partition_interval (unset: a day); it is recorded once and never changed here.
do $$
declare
    wanted text := coalesce(nullif(current_setting('helios.partition_interval', true), ''), 'day');
begin
    if wanted not in ('hour', 'day', 'week', 'month') then
        raise exception 'PARTITION_INTERVAL=% is not valid: expected hour, day, week or month', wanted;
    end if;
    insert into storage_settings (name, value) values ('partition_interval', wanted);
end;
$$;

-- One row per partition of auction_outcomes this service made (lower is null for a partition
-- reaching back to MINVALUE: the table converted from before partitioning).
create table outcome_partitions (
    name        text primary key,
    lower       timestamptz,
    upper       timestamptz not null,
    created_at  timestamptz not null default now()
);

-- What maintenance did, for operators and metrics: partitions created, dropped, rows moved.
create table storage_events (
    id          bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    kind        text not null,
    partition_name text,
    detail      jsonb not null default '{}'::jsonb
);
create index storage_events_at_idx on storage_events (at);

create function helios_partition_interval() returns text language sql stable as $$
    select value from storage_settings where name = 'partition_interval'
$$;

-- The partition holding an instant: its bounds in UTC and its name. Weeks are ISO weeks (from
-- Monday), months calendar months, both in UTC.
create function helios_partition_bounds(at timestamptz, unit text, out lower timestamptz, out upper timestamptz, out name text)
language plpgsql immutable as $$
begin
    lower := date_trunc(unit, at, 'UTC');
    upper := ((lower at time zone 'UTC') + case unit when 'week' then interval '7 days' else ('1 ' || unit)::interval end) at time zone 'UTC';
    name := 'auction_outcomes_' || to_char(lower at time zone 'UTC',
        case unit when 'hour' then 'YYYYMMDD"h"HH24' when 'day' then 'YYYYMMDD' when 'week' then 'IYYY"w"IW' else 'YYYYMM' end);
end;
$$;

-- Makes sure the partition for `at` exists: its name, whether this call created it, and how many
-- rows it moved in. Safe when writers race: an advisory lock per partition, then a second look.
-- The partition is built beside the table and attached (SHARE UPDATE EXCLUSIVE on the table, so
-- reads and inserts go on) rather than created with PARTITION OF (ACCESS EXCLUSIVE). Rows another
-- tool wrote for this period while it had no partition wait in the default partition; they move
-- into the new one in the same transaction. Callers set lock_timeout: the attach briefly locks
-- the default partition.
create function helios_ensure_outcome_partition(at timestamptz, out name text, out created boolean, out moved bigint)
language plpgsql security definer as $$
declare
    b record;
begin
    created := false;
    moved := 0;
    if at < '0001-01-01T00:00:00Z' or at >= '10000-01-01T00:00:00Z' then
        name := 'auction_outcomes_default';  -- outside the years 1-9999: kept in the default partition
        return;
    end if;
    select * into b from helios_partition_bounds(at, helios_partition_interval());
    name := b.name;
    -- The partition holding `at`: its own, or a wider one (the table converted from before
    -- partitioning covers everything up to its boundary).
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
    execute format('create table %I (like auction_outcomes including defaults including constraints including storage)', b.name);
    execute format('alter table %I add constraint %I primary key (id), add constraint %I unique (bid_id), add constraint %I check ("timestamp" >= %L and "timestamp" < %L)',
        b.name, b.name || '_pkey', b.name || '_bid_id_key', b.name || '_range', b.lower, b.upper);
    execute format('with moved as (delete from auction_outcomes_default where "timestamp" >= $1 and "timestamp" < $2 returning *) insert into %I select * from moved', b.name)
        using b.lower, b.upper;
    get diagnostics moved = row_count;
    execute format('alter table auction_outcomes attach partition %I for values from (%L) to (%L)', b.name, b.lower, b.upper);
    execute format('alter table %I drop constraint %I', b.name, b.name || '_range');
    insert into outcome_partitions (name, lower, upper) values (b.name, b.lower, b.upper);
    insert into storage_events (kind, partition_name, detail)
        values ('created', b.name, jsonb_build_object('lower', b.lower, 'upper', b.upper, 'moved_from_default', moved));
    created := true;
end;
$$;

-- Drops one partition whose every outcome is older than `cutoff`: the whole table at once, its
-- disk freed immediately. The rollups keep their figures (DROP fires no trigger). Returns false
-- when there is no such partition. Callers set lock_timeout: DROP takes ACCESS EXCLUSIVE on the
-- table for the moment it needs.
create function helios_drop_outcome_partition(partition_name text, cutoff timestamptz) returns boolean language plpgsql security definer as $$
declare
    p record;
    estimate real;
begin
    select * into p from outcome_partitions where name = partition_name and upper <= cutoff;
    if not found then
        return false;
    end if;
    select reltuples into estimate from pg_class where oid = to_regclass(quote_ident(p.name));
    execute format('drop table if exists %I', p.name);
    delete from outcome_partitions where name = p.name;
    insert into storage_settings (name, value) values ('outcomes_available_from', p.upper)
        on conflict (name) do update set value = greatest(storage_settings.value::timestamptz, excluded.value::timestamptz)::text, updated_at = now();
    insert into storage_events (kind, partition_name, detail)
        values ('dropped', p.name, jsonb_build_object('lower', p.lower, 'upper', p.upper, 'rows_estimate', estimate));
    perform pg_notify('auction_outcomes_changed', '');
    return true;
end;
$$;

-- The periods (their earliest instant each) with rows waiting in the default partition: rows
-- another tool wrote while their period had no partition. Read with the owner's rights, so the
-- consumer's maintenance pass needs no right to read outcomes.
create function helios_default_partition_periods() returns setof timestamptz language plpgsql stable security definer as $$
begin
    -- plpgsql: the default partition is made by migration 011, after this function.
    return query
    select min("timestamp") from auction_outcomes_default
    where "timestamp" >= '0001-01-01T00:00:00Z' and "timestamp" < '10000-01-01T00:00:00Z'
    group by date_trunc(helios_partition_interval(), "timestamp", 'UTC')
    order by 1;
end;
$$;

-- The ids each partition holds (from its primary key: two index probes a partition), so a lookup
-- by id can name the period to read instead of probing every partition. Ids grow with the time a
-- row is stored, not its auction time, so a partition that took late rows spans more ids.
create function helios_partition_id_ranges() returns table (lower timestamptz, upper timestamptz, min_id bigint, max_id bigint)
language plpgsql stable as $$
declare
    p record;
begin
    for p in select o.name, o.lower, o.upper from outcome_partitions o
             union all select 'auction_outcomes_default', null, null loop
        return query execute format('select $1, $2, min(id), max(id) from %I', p.name) using p.lower, p.upper;
    end loop;
end;
$$;

-- Rollup rows older than `cutoff` (ROLLUP_RETENTION_DAYS): small tables, so a plain delete.
create function helios_drop_rollups_before(cutoff timestamptz) returns bigint language plpgsql security definer as $$
declare
    hourly bigint;
    daily bigint;
begin
    delete from outcome_rollup_hourly where bucket < date_trunc('hour', cutoff, 'UTC');
    get diagnostics hourly = row_count;
    delete from outcome_rollup_daily_site where day < (cutoff at time zone 'UTC')::date;
    get diagnostics daily = row_count;
    if hourly + daily > 0 then
        insert into storage_settings (name, value) values ('rollups_available_from', date_trunc('day', cutoff, 'UTC'))
            on conflict (name) do update set value = greatest(storage_settings.value::timestamptz, excluded.value::timestamptz)::text, updated_at = now();
        insert into storage_events (kind, detail) values ('rollups_dropped', jsonb_build_object('before', cutoff, 'rows', hourly + daily));
        perform pg_notify('auction_outcomes_changed', '');
    end if;
    return hourly + daily;
end;
$$;

-- The writer of every source (src/ingest/batch-writer.ts): stores the outcomes, skipping any
-- whose bid_id the partition already holds, and adds exactly the stored rows to the rollups in
-- the same statement, so redeliveries and replays never count twice. It marks its transaction
-- (helios.writer) so the rollup and notify triggers, which keep hand-written changes exact,
-- leave its rows alone. Rollup rows are upserted in key order: concurrent writers lock them in
-- the same order and cannot deadlock. Returns the bid_ids stored.
create function helios_store_outcomes(
    bid_ids text[], user_ids text[], site_domains text[], win_statuses boolean[], win_prices numeric[], bid_prices numeric[],
    currencies text[], enricheds boolean[], timestamps timestamptz[], auction_timestamps timestamptz[], interests jsonb[], raws jsonb[]
) returns setof text language plpgsql security definer as $$
begin
    perform set_config('helios.writer', 'on', true);
    return query
    with inserted as (
        insert into auction_outcomes (
            bid_id, user_id, site_domain, win_status, win_price, bid_price, currency, enriched,
            "timestamp", auction_timestamp, user_interests, raw_data)
        select * from unnest(bid_ids, user_ids, site_domains, win_statuses, win_prices, bid_prices,
                             currencies, enricheds, timestamps, auction_timestamps, interests, raws)
        on conflict do nothing
        returning auction_outcomes.bid_id, auction_outcomes."timestamp", auction_outcomes.site_domain, auction_outcomes.currency,
                  auction_outcomes.win_status, auction_outcomes.enriched, auction_outcomes.win_price, auction_outcomes.bid_price
    ), hourly as (
        insert into outcome_rollup_hourly as r (bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
        select date_trunc('hour', i."timestamp", 'UTC'), i.currency, i.win_status, i.enriched, count(*), sum(i.win_price), sum(i.bid_price)
          from inserted i group by 1, 2, 3, 4 order by 1, 2, 3, 4
        on conflict (bucket, currency, win_status, enriched) do update
           set outcomes = r.outcomes + excluded.outcomes,
               win_price_sum = r.win_price_sum + excluded.win_price_sum,
               bid_price_sum = r.bid_price_sum + excluded.bid_price_sum
    ), daily_site as (
        insert into outcome_rollup_daily_site as r (day, site_domain, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
        select (i."timestamp" at time zone 'UTC')::date, i.site_domain, i.currency, i.win_status, i.enriched, count(*), sum(i.win_price), sum(i.bid_price)
          from inserted i group by 1, 2, 3, 4, 5 order by 2, 1, 3, 4, 5
        on conflict on constraint outcome_rollup_daily_site_key do update
           set outcomes = r.outcomes + excluded.outcomes,
               win_price_sum = r.win_price_sum + excluded.win_price_sum,
               bid_price_sum = r.bid_price_sum + excluded.bid_price_sum
    )
    select i.bid_id::text from inserted i;
    if found then
        perform pg_notify('auction_outcomes_changed', '');
    end if;
    perform set_config('helios.writer', '', true);
end;
$$;

-- The triggers stay for every other writer (psql, an ETL job's INSERT or COPY, an UPDATE or
-- DELETE by hand): they skip the statements of helios_store_outcomes, which did the work itself.
create or replace function outcome_rollups_apply() returns trigger language plpgsql security definer as $$
begin
    if current_setting('helios.writer', true) = 'on' then
        return null;
    end if;
    if tg_op in ('DELETE', 'UPDATE') then
        update outcome_rollup_hourly r
           set outcomes = r.outcomes - d.outcomes,
               win_price_sum = r.win_price_sum - d.win_price_sum,
               bid_price_sum = r.bid_price_sum - d.bid_price_sum
          from (select date_trunc('hour', "timestamp", 'UTC') as bucket, currency, win_status, enriched,
                       count(*) as outcomes, sum(win_price) as win_price_sum, sum(bid_price) as bid_price_sum
                  from old_rows group by 1, 2, 3, 4) d
         where r.bucket = d.bucket and r.currency = d.currency
           and r.win_status = d.win_status and r.enriched = d.enriched;
        update outcome_rollup_daily_site r
           set outcomes = r.outcomes - d.outcomes,
               win_price_sum = r.win_price_sum - d.win_price_sum,
               bid_price_sum = r.bid_price_sum - d.bid_price_sum
          from (select ("timestamp" at time zone 'UTC')::date as day, site_domain, currency, win_status, enriched,
                       count(*) as outcomes, sum(win_price) as win_price_sum, sum(bid_price) as bid_price_sum
                  from old_rows group by 1, 2, 3, 4, 5) d
         where r.day = d.day and r.site_domain is not distinct from d.site_domain and r.currency = d.currency
           and r.win_status = d.win_status and r.enriched = d.enriched;
        delete from outcome_rollup_hourly where outcomes = 0;
        delete from outcome_rollup_daily_site where outcomes = 0;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into outcome_rollup_hourly as r
               (bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
        select date_trunc('hour', "timestamp", 'UTC'), currency, win_status, enriched,
               count(*), sum(win_price), sum(bid_price)
          from new_rows group by 1, 2, 3, 4 order by 1, 2, 3, 4
        on conflict (bucket, currency, win_status, enriched) do update
           set outcomes = r.outcomes + excluded.outcomes,
               win_price_sum = r.win_price_sum + excluded.win_price_sum,
               bid_price_sum = r.bid_price_sum + excluded.bid_price_sum;
        insert into outcome_rollup_daily_site as r
               (day, site_domain, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
        select ("timestamp" at time zone 'UTC')::date, site_domain, currency, win_status, enriched,
               count(*), sum(win_price), sum(bid_price)
          from new_rows group by 1, 2, 3, 4, 5 order by 2, 1, 3, 4, 5
        on conflict on constraint outcome_rollup_daily_site_key do update
           set outcomes = r.outcomes + excluded.outcomes,
               win_price_sum = r.win_price_sum + excluded.win_price_sum,
               bid_price_sum = r.bid_price_sum + excluded.bid_price_sum;
    end if;
    return null;
end;
$$;

create or replace function auction_outcomes_notify_change() returns trigger language plpgsql as $$
begin
    if current_setting('helios.writer', true) = 'on' then
        return null;
    end if;
    -- Each branch names only the transition table its trigger has.
    if tg_op = 'TRUNCATE' then
        perform pg_notify('auction_outcomes_changed', '');
    elsif tg_op = 'DELETE' then
        if exists (select from old_rows) then
            perform pg_notify('auction_outcomes_changed', '');
        end if;
    elsif exists (select from new_rows) then
        perform pg_notify('auction_outcomes_changed', '');
    end if;
    return null;
end;
$$;

-- Pinned search paths and owner's rights, as migration 004 does for the rollup trigger; nobody
-- but the roles granted in scripts/db-grants.sql may call them.
do $$
declare
    fn text;
begin
    -- outcome_rollups_apply: CREATE OR REPLACE above reset what migration 004 had set on it.
    foreach fn in array array[
        'outcome_rollups_apply()', 'helios_ensure_outcome_partition(timestamptz)', 'helios_drop_outcome_partition(text, timestamptz)',
        'helios_drop_rollups_before(timestamptz)', 'helios_default_partition_periods()',
        'helios_store_outcomes(text[], text[], text[], boolean[], numeric[], numeric[], text[], boolean[], timestamptz[], timestamptz[], jsonb[], jsonb[])'
    ] loop
        execute format('alter function %s set search_path = %I, pg_temp', fn, current_schema());
        execute format('revoke all on function %s from public', fn);
    end loop;
end;
$$;
