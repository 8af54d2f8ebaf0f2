-- Recomputes the rollups of whole UTC days from the outcomes stored for them: the repair for rows
-- written, changed or deleted by another tool where no trigger keeps the rollups exact (Citus runs
-- none on distributed tables, migration 016). On one node the triggers already keep them exact;
-- there this is a check that changes nothing. Plain SQL that Citus distributes as it is, so one
-- function serves every backend.
--
-- The three rollup tables are locked EXCLUSIVE first: the service's writer upserts them in the same
-- statement as its insert, so a writer either committed before (its rows are counted here) or
-- waits until this commits (and adds its rows on top): the figures stay exact under ingest.
-- Refuses days before outcomes_available_from: their rows were dropped by retention on purpose
-- and their rollups are all that is left.
create function helios_rebuild_rollups(from_day date, to_day date) returns bigint language plpgsql security definer as $$
declare
    lower timestamptz := (from_day::timestamp at time zone 'UTC');
    upper timestamptz := ((to_day + 1)::timestamp at time zone 'UTC');
    available_from timestamptz := (select value::timestamptz from storage_settings where name = 'outcomes_available_from');
    written bigint;
    daily bigint;
    prices bigint;
begin
    if to_day < from_day then
        raise exception 'helios_rebuild_rollups: to_day % is before from_day %', to_day, from_day;
    end if;
    if available_from is not null and lower < available_from then
        raise exception 'helios_rebuild_rollups: outcomes before % were dropped by retention; their rollups are kept as they are', available_from;
    end if;
    lock table outcome_rollup_hourly, outcome_rollup_daily_site, outcome_rollup_price_hourly in exclusive mode;
    delete from outcome_rollup_hourly where bucket >= lower and bucket < upper;
    delete from outcome_rollup_daily_site where day >= from_day and day <= to_day;
    delete from outcome_rollup_price_hourly where bucket >= lower and bucket < upper;
    insert into outcome_rollup_hourly (bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
    select date_trunc('hour', "timestamp", 'UTC'), currency, win_status, enriched, count(*), sum(win_price), sum(bid_price)
      from auction_outcomes where "timestamp" >= lower and "timestamp" < upper
     group by 1, 2, 3, 4;
    get diagnostics written = row_count;
    insert into outcome_rollup_daily_site (day, site_domain, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
    select ("timestamp" at time zone 'UTC')::date, site_domain, currency, win_status, enriched, count(*), sum(win_price), sum(bid_price)
      from auction_outcomes where "timestamp" >= lower and "timestamp" < upper
     group by 1, 2, 3, 4, 5;
    get diagnostics daily = row_count;
    insert into outcome_rollup_price_hourly (bucket, currency, win_status, enriched, price, bin, outcomes, min_price, max_price)
    select date_trunc('hour', o."timestamp", 'UTC'), o.currency, o.win_status, o.enriched, p.price, helios_price_bin(p.value),
           count(*), min(p.value), max(p.value)
      from auction_outcomes o cross join lateral (values ('bid', o.bid_price), ('win', o.win_price)) p (price, value)
     where o."timestamp" >= lower and o."timestamp" < upper
     group by 1, 2, 3, 4, 5, 6;
    get diagnostics prices = row_count;
    insert into storage_events (kind, detail)
        values ('rollups_rebuilt', jsonb_build_object('from_day', from_day, 'to_day', to_day, 'rows', written + daily + prices));
    perform pg_notify('auction_outcomes_changed', '');
    return written + daily + prices;
end;
$$;

do $$
begin
    execute format('alter function helios_rebuild_rollups(date, date) set search_path = %I, pg_temp', current_schema());
    revoke all on function helios_rebuild_rollups(date, date) from public;
end;
$$;
