-- Where an import from the original service's table (`bun run start import-original`) stands, per
-- source: the highest original id whose batch is committed here. A killed import resumes after it
-- (keyset over the original's id); re-running a finished one reads only rows added since. It is
-- written after each batch's transaction, like a Kafka offset after its batch: a crash in between
-- re-reads that batch, whose outcomes are then counted as duplicates and whose dead letters are
-- already recorded (their position is unique), so the result is the same set of rows.
--
-- `source` is host:port/database of the original's database, never its user or password; the
-- counts add up over every run of one source, for people reading the table. A plain table with a
-- primary key: nothing here needs a trigger, a sequence or a partition.
create table import_progress (
    source         text not null,
    source_table   text not null,
    last_id        bigint not null,
    rows_read      bigint not null default 0,
    stored         bigint not null default 0,
    duplicates     bigint not null default 0,
    dead_lettered  bigint not null default 0,
    started_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    primary key (source, source_table)
);
