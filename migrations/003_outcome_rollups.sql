-- Rollups of auction_outcomes, maintained by statement-level triggers in the inserting
-- transaction itself. Transition tables hold only rows actually written, so a duplicate
-- skipped by ON CONFLICT DO NOTHING never counts, whatever source wrote the batch.
-- Stats, daily stats and list counts read thousands of rollup rows instead of millions.

-- Per UTC hour: answers every filter but user_id, site_domain and prices.
create table outcome_rollup_hourly (
    bucket         timestamptz not null,
    currency       varchar(3) not null,
    win_status     boolean not null,
    enriched       boolean not null,
    outcomes       bigint not null,
    win_price_sum  numeric not null,
    bid_price_sum  numeric not null,
    primary key (bucket, currency, win_status, enriched)
);

-- Per UTC day and site: answers site_domain filters (2,000 sites × 90 days stays small per site).
create table outcome_rollup_daily_site (
    day            date not null,
    site_domain    varchar(255) collate "C",
    currency       varchar(3) not null,
    win_status     boolean not null,
    enriched       boolean not null,
    outcomes       bigint not null,
    win_price_sum  numeric not null,
    bid_price_sum  numeric not null,
    constraint outcome_rollup_daily_site_key
        unique nulls not distinct (site_domain, day, currency, win_status, enriched)
);

-- Rows are added in key order so concurrent writers lock rollup rows in the same order
-- and cannot deadlock each other.
create function outcome_rollups_apply() returns trigger language plpgsql as $$
begin
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

create trigger auction_outcomes_rollups_insert
    after insert on auction_outcomes referencing new table as new_rows
    for each statement execute function outcome_rollups_apply();
create trigger auction_outcomes_rollups_update
    after update on auction_outcomes referencing old table as old_rows new table as new_rows
    for each statement execute function outcome_rollups_apply();
create trigger auction_outcomes_rollups_delete
    after delete on auction_outcomes referencing old table as old_rows
    for each statement execute function outcome_rollups_apply();

-- Backfill whatever was stored before this migration.
insert into outcome_rollup_hourly (bucket, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
select date_trunc('hour', "timestamp", 'UTC'), currency, win_status, enriched, count(*), sum(win_price), sum(bid_price)
  from auction_outcomes group by 1, 2, 3, 4;
insert into outcome_rollup_daily_site (day, site_domain, currency, win_status, enriched, outcomes, win_price_sum, bid_price_sum)
select ("timestamp" at time zone 'UTC')::date, site_domain, currency, win_status, enriched, count(*), sum(win_price), sum(bid_price)
  from auction_outcomes group by 1, 2, 3, 4, 5;
