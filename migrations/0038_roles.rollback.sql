-- Rollback of 0038_roles: the grants and default privileges go, the objects pass
-- back to the role running the rollback, and the partition functions run as their
-- caller again. The roles themselves stay: they belong to the cluster, and other
-- databases may use them (DROP ROLE is a DBA's decision). CREATE on the schema stays
-- revoked from PUBLIC, as PostgreSQL 15 and later have it anyway.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER FUNCTION moods_create_partition(date) SECURITY INVOKER RESET search_path;
ALTER FUNCTION moods_ensure_partitions(date, integer) SECURITY INVOKER RESET search_path;

DO $roles$
DECLARE
    owner_role    text := coalesce(nullif(current_setting('dal.owner_role', true), ''), 'dal_owner');
    app_role      text := coalesce(nullif(current_setting('dal.app_role', true), ''), 'dal_app');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
    item          record;
BEGIN
    GRANT EXECUTE ON FUNCTION moods_create_partition(date) TO PUBLIC;
    GRANT EXECUTE ON FUNCTION moods_ensure_partitions(date, integer) TO PUBLIC;
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'REVOKE ALL ON TABLES FROM %I, %I', owner_role, app_role, readonly_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'REVOKE ALL ON SEQUENCES FROM %I', owner_role, app_role);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I, %I',
                   app_role, readonly_role);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', app_role);
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', app_role);
    EXECUTE format('REVOKE USAGE ON SCHEMA public FROM %I, %I', app_role, readonly_role);

    FOR item IN
        SELECT c.oid::regclass AS name, c.relkind
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND c.relowner = to_regrole(owner_role)
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND (d.deptype = 'e' OR c.relkind = 'S' AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
                       CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                         WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       item.name, session_user);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
           AND p.proowner = to_regrole(owner_role)
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, session_user);
    END LOOP;
    EXECUTE format('REVOKE CREATE, USAGE ON SCHEMA public FROM %I', owner_role);
END
$roles$;
