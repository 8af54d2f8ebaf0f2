-- Step 2 of 3: validates the boundary check of step 1. VALIDATE CONSTRAINT reads every row but
-- holds only SHARE UPDATE EXCLUSIVE, so the service keeps reading and writing meanwhile.
do $$
begin
    if exists (select from pg_constraint where conname = 'auction_outcomes_legacy_range') then
        alter table auction_outcomes validate constraint auction_outcomes_legacy_range;
    end if;
end;
$$;
