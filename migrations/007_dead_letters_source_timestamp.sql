-- The source's own time of a dead-lettered message (a Kafka record's timestamp), so a replay maps
-- it exactly as its first delivery did: a message without timestamp or auction_timestamp takes
-- this as its auction time. Null for letters stored before this migration and for sources
-- without one.
alter table dead_letters add column source_timestamp timestamptz;
