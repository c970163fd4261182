-- Rollback of 0053_event_search_under_row_level_security: the search functions go
-- (the DAL of before searches events directly).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DROP FUNCTION dal_search_events(tsquery, bigint, integer);
DROP FUNCTION dal_search_servers(bigint);
DROP FUNCTION dal_session_reads_every_row();
