-- Full-text search of events that keeps its index under row-level security.
--
-- Why: @@ is not leakproof, so under a policy PostgreSQL may not evaluate it
-- inside an index scan: the match must wait until the policy has passed the row.
-- events.search therefore stopped using events_search_idx and read every event
-- of the acting user's servers, matching them one by one (3,300 buffers for a
-- user of 17 servers at the `large` profile, growing with those servers' events).
-- The search now runs in dal_search_events, SECURITY DEFINER: as the owner, whose
-- policy lets every row through, the match is an ordinary condition and the
-- GIN index finds the candidates; the function itself keeps to the servers the
-- caller may read, which dal_search_servers says:
--   * acting for a user: the servers that user is a member of (dal_servers);
--   * acting for no one: every server for a session whose role reads every row
--     anyway (dal_session_reads_every_row: a superuser, BYPASSRLS, or a role with
--     the owner's or the read-only role's privileges, whose policies let every row
--     through), none for any other (the application role sees nothing until it
--     acts for someone, as elsewhere). The role judged is the one the session's
--     policies apply to: SET ROLE's, else the login role; SECURITY DEFINER changes
--     neither, and an unprivileged session can only SET ROLE to roles it holds.
-- The search is one of two statements: every server (GIN alone), or a list of
-- servers (where the planner may add the server index to the GIN one). It
-- returns event ids and ranks only; the DAL reads the events themselves through
-- events_pkey under the caller's own policies.
--
-- Creating functions takes no lock on a table.
-- depends: 0052_row_level_security_rsvps_by_server

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $roles$
DECLARE
    owner_role    text := coalesce(nullif(current_setting('dal.owner_role', true), ''), 'dal_owner');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
BEGIN
    -- The role names are the configured ones, written into the function's text.
    EXECUTE format($create$
CREATE FUNCTION dal_session_reads_every_row() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = public, pg_temp
    AS $$
    -- The role the session's policies apply to: the one SET ROLE chose, else the
    -- login role (SECURITY DEFINER changes neither); its privileges, as policies
    -- judge them, come with inheritance (USAGE), not with bare membership.
    WITH caller AS (
        SELECT coalesce(nullif(current_setting('role'), 'none'), session_user) AS name
    )
    SELECT coalesce((SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r, caller c
                      WHERE r.rolname = c.name), false)
           OR (SELECT pg_has_role(c.name, %L, 'USAGE') OR pg_has_role(c.name, %L, 'USAGE')
                 FROM caller c)
$$
$create$, owner_role, readonly_role);
END
$roles$;

COMMENT ON FUNCTION dal_session_reads_every_row() IS
    'Whether the session''s role (set by SET ROLE, else its login role) reads every row '
    'whatever the policies: a superuser, BYPASSRLS, or a role with the owner''s or the '
    'read-only role''s privileges. It decides what a session acting for no one may do '
    'through the SECURITY DEFINER helpers.';

CREATE FUNCTION dal_search_servers(server bigint) RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT CASE
           WHEN dal_acting_user() IS NOT NULL THEN
               CASE WHEN server IS NULL THEN dal_servers('member')
                    WHEN server = ANY (dal_servers('member')) THEN ARRAY[server]
                    ELSE '{}' END
           WHEN dal_session_reads_every_row() THEN
               CASE WHEN server IS NULL THEN NULL ELSE ARRAY[server] END
           ELSE '{}'
           END
$$;

REVOKE EXECUTE ON FUNCTION dal_search_servers(bigint) FROM PUBLIC;

COMMENT ON FUNCTION dal_search_servers(bigint) IS
    'The servers (all of them, or just the one given) whose events the session may search, '
    'NULL for every server: see migration 0053.';

CREATE FUNCTION dal_search_events(query tsquery, server bigint, max_rows integer)
    RETURNS TABLE (id bigint, rank real)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    ROWS 20
    AS $fn$
DECLARE
    servers     bigint[] := dal_search_servers(server);
    -- The DAL asks for a page (at most 500 rows); a direct caller gets no more.
    rows_wanted integer := least(greatest(coalesce(max_rows, 20), 0), 500);
BEGIN
    -- EXECUTE plans each statement for the values given (which servers, which words),
    -- as a query sent by the DAL is planned; a cached generic plan could not tell one
    -- server from many, nor a rare word from a common one.
    IF servers IS NULL THEN
        RETURN QUERY EXECUTE $q$
            SELECT e.id, ts_rank(e.search, $1)
              FROM events e
             WHERE e.search @@ $1
             ORDER BY 2 DESC, e.starts_at, e.id
             LIMIT $2
        $q$ USING query, rows_wanted;
    ELSE
        RETURN QUERY EXECUTE $q$
            SELECT e.id, ts_rank(e.search, $1)
              FROM events e
             WHERE e.search @@ $1 AND e.server_id = ANY ($2)
             ORDER BY 2 DESC, e.starts_at, e.id
             LIMIT $3
        $q$ USING query, servers, rows_wanted;
    END IF;
END
$fn$;

COMMENT ON FUNCTION dal_search_events(tsquery, bigint, integer) IS
    'Events matching a query in the servers the session may search (all of them, or the '
    'one given), best match first: ids and ranks, found through events_search_idx.';

DO $grants$
DECLARE
    app_role      text := coalesce(nullif(current_setting('dal.app_role', true), ''), 'dal_app');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
BEGIN
    REVOKE EXECUTE ON FUNCTION dal_search_events(tsquery, bigint, integer) FROM PUBLIC;
    EXECUTE format('GRANT EXECUTE ON FUNCTION dal_search_events(tsquery, bigint, integer) TO %I, %I',
                   app_role, readonly_role);
END
$grants$;
