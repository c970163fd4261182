-- Rollback of 0022_moods: drops the partitioned table with every partition
-- (the sequence is owned by it and goes too), then the partition functions.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP TABLE moods;

DROP FUNCTION moods_ensure_partitions(date, integer);

DROP FUNCTION moods_create_partition(date);
