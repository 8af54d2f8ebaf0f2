-- The consumer's last measured lag per partition, written by its periodic lag report, so the
-- API role (which has no Kafka client) can show ingest health. One row per partition, upserted.
create table consumer_lag (
    group_id          text not null,
    topic             text not null,
    "partition"       integer not null,
    -- The next offset the group will read; null while the group has never committed here.
    committed_offset  bigint,
    high_watermark    bigint not null,
    lag               bigint not null check (lag >= 0),
    updated_at        timestamptz not null default now(),
    primary key (group_id, topic, "partition")
);
