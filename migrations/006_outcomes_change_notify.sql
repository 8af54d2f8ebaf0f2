-- The API keeps aggregate answers (stats, daily stats, counts) in memory until auction_outcomes
-- changes; it learns of a change through this notification, which PostgreSQL delivers at commit
-- (and never for a rolled-back transaction). Statements that changed no row, such as an insert
-- whose rows were all duplicates, stay silent. See src/db/change-feed.ts.
create function auction_outcomes_notify_change() returns trigger language plpgsql as $$
begin
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

create trigger auction_outcomes_notify_insert
    after insert on auction_outcomes referencing new table as new_rows
    for each statement execute function auction_outcomes_notify_change();
create trigger auction_outcomes_notify_update
    after update on auction_outcomes referencing new table as new_rows
    for each statement execute function auction_outcomes_notify_change();
create trigger auction_outcomes_notify_delete
    after delete on auction_outcomes referencing old table as old_rows
    for each statement execute function auction_outcomes_notify_change();
create trigger auction_outcomes_notify_truncate
    after truncate on auction_outcomes
    for each statement execute function auction_outcomes_notify_change();
