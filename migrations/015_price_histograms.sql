-- Price distributions (bid and win prices: percentiles and a histogram) from a rollup: per UTC
-- hour, currency, win_status and enriched (the columns of outcome_rollup_hourly, so it answers
-- the same filters), how many prices fell into each fixed logarithmic bin. Currencies are never
-- mixed: a bin counts prices of one currency.
--
-- Bins: a price p > 0 is in bin k = floor(ln p / ln 1.1), i.e. 1.1^k <= p < 1.1^(k+1); price 0
-- is bin -32768 of its own. Prices are >= 0 and < 1e12 (the table's checks), so k <= 289; a
-- price of 0.000001 is bin -145. Each row also keeps the lowest and highest price it counted.
-- An estimate from a bin is its geometric midpoint 1.1^(k+0.5) moved into [min_price, max_price]:
-- within sqrt(1.1) - 1 = 4.881% of every price in the bin, and exact when the bin holds one
-- distinct price. docs/api.md#price-distributions derives the bound for percentiles.
--
-- Maintained like the other rollups: by helios_store_outcomes in the writing statement itself,
-- and by the statement triggers' function for every other writer (no new trigger). A DELETE or
-- UPDATE by hand takes its rows out of the counts; min_price and max_price stay as they were
-- (they can only be wider than the prices left, which keeps estimates inside the bound).

-- The bin of a price; the same expression everywhere a bin is computed. Prices have no limit on
-- their fractional digits, and one below float8's range would fail the cast (and so the insert):
-- prices under 1e-300 count in the bin of 1e-300 (-7248), the one bin the error bound does not cover.
create function helios_price_bin(price numeric) returns smallint language sql immutable strict parallel safe as $$
    select case when price = 0 then (-32768)::smallint else floor(ln(greatest(price, 1e-300)::float8) / ln(1.1::float8))::smallint end
$$;

create table outcome_rollup_price_hourly (
    bucket      timestamptz not null,
    currency    varchar(3) not null,
    win_status  boolean not null,
    enriched    boolean not null,
    price       text not null check (price in ('bid', 'win')),
    bin         smallint not null,
    outcomes    bigint not null,
    min_price   numeric not null,
    max_price   numeric not null,
    primary key (bucket, currency, win_status, enriched, price, bin)
);

-- The writer of every source, as in migration 008, plus the price bins of the stored rows.
create or replace function helios_store_outcomes(
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
    ), price_hourly as (
        insert into outcome_rollup_price_hourly as r (bucket, currency, win_status, enriched, price, bin, outcomes, min_price, max_price)
        select date_trunc('hour', i."timestamp", 'UTC'), i.currency, i.win_status, i.enriched, p.price, helios_price_bin(p.value),
               count(*), min(p.value), max(p.value)
          from inserted i cross join lateral (values ('bid', i.bid_price), ('win', i.win_price)) p (price, value)
         group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
        on conflict (bucket, currency, win_status, enriched, price, bin) do update
           set outcomes = r.outcomes + excluded.outcomes,
               min_price = least(r.min_price, excluded.min_price),
               max_price = greatest(r.max_price, excluded.max_price)
    )
    select i.bid_id::text from inserted i;
    if found then
        perform pg_notify('auction_outcomes_changed', '');
    end if;
    perform set_config('helios.writer', '', true);
end;
$$;

-- The statement triggers' function, as in migration 008, plus the price bins.
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
        update outcome_rollup_price_hourly r
           set outcomes = r.outcomes - d.outcomes
          from (select date_trunc('hour', o."timestamp", 'UTC') as bucket, o.currency, o.win_status, o.enriched, p.price,
                       helios_price_bin(p.value) as bin, count(*) as outcomes
                  from old_rows o cross join lateral (values ('bid', o.bid_price), ('win', o.win_price)) p (price, value)
                 group by 1, 2, 3, 4, 5, 6) d
         where r.bucket = d.bucket and r.currency = d.currency and r.win_status = d.win_status
           and r.enriched = d.enriched and r.price = d.price and r.bin = d.bin;
        delete from outcome_rollup_hourly where outcomes = 0;
        delete from outcome_rollup_daily_site where outcomes = 0;
        delete from outcome_rollup_price_hourly where outcomes = 0;
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
        insert into outcome_rollup_price_hourly as r
               (bucket, currency, win_status, enriched, price, bin, outcomes, min_price, max_price)
        select date_trunc('hour', n."timestamp", 'UTC'), n.currency, n.win_status, n.enriched, p.price, helios_price_bin(p.value),
               count(*), min(p.value), max(p.value)
          from new_rows n cross join lateral (values ('bid', n.bid_price), ('win', n.win_price)) p (price, value)
         group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
        on conflict (bucket, currency, win_status, enriched, price, bin) do update
           set outcomes = r.outcomes + excluded.outcomes,
               min_price = least(r.min_price, excluded.min_price),
               max_price = greatest(r.max_price, excluded.max_price);
    end if;
    return null;
end;
$$;

-- ROLLUP_RETENTION_DAYS, as in migration 008, now also over the price bins.
create or replace function helios_drop_rollups_before(cutoff timestamptz) returns bigint language plpgsql security definer as $$
declare
    hourly bigint;
    daily bigint;
    prices bigint;
begin
    delete from outcome_rollup_hourly where bucket < date_trunc('hour', cutoff, 'UTC');
    get diagnostics hourly = row_count;
    delete from outcome_rollup_daily_site where day < (cutoff at time zone 'UTC')::date;
    get diagnostics daily = row_count;
    delete from outcome_rollup_price_hourly where bucket < date_trunc('hour', cutoff, 'UTC');
    get diagnostics prices = row_count;
    if hourly + daily + prices > 0 then
        insert into storage_settings (name, value) values ('rollups_available_from', date_trunc('day', cutoff, 'UTC'))
            on conflict (name) do update set value = greatest(storage_settings.value::timestamptz, excluded.value::timestamptz)::text, updated_at = now();
        insert into storage_events (kind, detail) values ('rollups_dropped', jsonb_build_object('before', cutoff, 'rows', hourly + daily + prices));
        perform pg_notify('auction_outcomes_changed', '');
    end if;
    return hourly + daily + prices;
end;
$$;

-- CREATE OR REPLACE resets a function's SET clauses: pin the redefined SECURITY DEFINER functions'
-- search_path again, as migration 008 did (the schema they were created in, pg_temp last).
do $$
declare
    fn text;
begin
    foreach fn in array array[
        'outcome_rollups_apply()', 'helios_drop_rollups_before(timestamptz)',
        'helios_store_outcomes(text[], text[], text[], boolean[], numeric[], numeric[], text[], boolean[], timestamptz[], timestamptz[], jsonb[], jsonb[])'
    ] loop
        execute format('alter function %s set search_path = %I, pg_temp', fn, current_schema());
        execute format('revoke all on function %s from public', fn);
    end loop;
end;
$$;

-- Backfill whatever was stored before this migration, in one pass over the outcomes.
insert into outcome_rollup_price_hourly (bucket, currency, win_status, enriched, price, bin, outcomes, min_price, max_price)
select date_trunc('hour', o."timestamp", 'UTC'), o.currency, o.win_status, o.enriched, p.price, helios_price_bin(p.value),
       count(*), min(p.value), max(p.value)
  from auction_outcomes o cross join lateral (values ('bid', o.bid_price), ('win', o.win_price)) p (price, value)
 group by 1, 2, 3, 4, 5, 6;
