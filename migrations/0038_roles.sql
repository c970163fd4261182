-- Three roles: the schema's owner, the application, and a read-only reader.
--
-- Why: migrations and the application ran as one database user holding every
-- right, so a bug or an injected statement in a service could DROP, ALTER or
-- TRUNCATE any table. Now:
--   owner     owns every table, sequence and function of the schema; `dal migrate`
--             takes this role before each migration, so later objects are its too;
--   app       what DATABASE_URL connects as: SELECT, INSERT, UPDATE, DELETE on the
--             tables, sequences and functions it needs; no DDL, no TRUNCATE;
--   readonly  SELECT only, for reports and people.
-- The names are the settings dal.owner_role, dal.app_role and dal.readonly_role
-- that `dal migrate` passes on its connection (DATABASE_OWNER_ROLE and the like),
-- else dal_owner, dal_app and dal_readonly.
--
-- Roles belong to the whole cluster, not to this database: each is created only
-- when missing (which needs CREATEROLE; without it a DBA creates them first), gets
-- LOGIN but no password (a DBA sets one where the server asks for it), and is never
-- dropped by the rollback, since other databases of the cluster may use it.
--
-- Default privileges for the owner give every table, sequence and function it
-- creates later (a migration's, or a moods partition made at run time) the same
-- grants. The two moods partition functions run DDL for the application, so they
-- become SECURITY DEFINER, with a fixed search_path so that no caller's objects are
-- found first.
--
-- Changing an owner locks its table ACCESS EXCLUSIVE for a moment, without a
-- scan: lock_timeout makes a blocked migration fail rather than queue every query.
-- depends: 0037_task_pending_dependencies

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $roles$
DECLARE
    owner_role    text := coalesce(nullif(current_setting('dal.owner_role', true), ''), 'dal_owner');
    app_role      text := coalesce(nullif(current_setting('dal.app_role', true), ''), 'dal_app');
    readonly_role text := coalesce(nullif(current_setting('dal.readonly_role', true), ''),
                                   'dal_readonly');
    role_name     text;
    item          record;
BEGIN
    FOREACH role_name IN ARRAY ARRAY[owner_role, app_role, readonly_role] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = role_name);
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN', role_name);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile, by a migration of another database
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'role % does not exist, and % may not create roles',
                    role_name, session_user
                    USING HINT = 'Create the roles dal migrate names first, or migrate as a '
                                 'role with CREATEROLE.';
        END;
    END LOOP;

    -- Every object of the schema passes to the owner. Sequences owned by a column
    -- follow their table; objects of an extension stay the extension's.
    FOR item IN
        SELECT c.oid::regclass AS name, c.relkind
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND (d.deptype = 'e' OR c.relkind = 'S' AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I',
                       CASE item.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                         WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       item.name, owner_role);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
          FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                              AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, owner_role);
    END LOOP;

    -- Only the owner creates objects here (before PostgreSQL 15 every role could).
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA public TO %I', owner_role);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', app_role, readonly_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I',
                   app_role);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', readonly_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, app_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner_role, app_role);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT SELECT ON TABLES TO %I', owner_role, readonly_role);

    -- The migration bookkeeping is the owner's to write; the others only read it.
    FOR item IN
        SELECT c.oid::regclass AS name
          FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace
           AND c.relname IN ('_yoyo_migration', '_yoyo_log', '_yoyo_version', 'yoyo_lock',
                             'dal_migration_checksums')
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %s FROM %I', item.name, app_role);
    END LOOP;

    -- Functions are executable by PUBLIC unless revoked: the partition makers, which
    -- now run as the owner, only by the application.
    REVOKE EXECUTE ON FUNCTION moods_create_partition(date) FROM PUBLIC;
    REVOKE EXECUTE ON FUNCTION moods_ensure_partitions(date, integer) FROM PUBLIC;
    EXECUTE format('GRANT EXECUTE ON FUNCTION moods_create_partition(date) TO %I', app_role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION moods_ensure_partitions(date, integer) TO %I',
                   app_role);
END
$roles$;

ALTER FUNCTION moods_create_partition(date) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION moods_ensure_partitions(date, integer)
    SECURITY DEFINER SET search_path = public, pg_temp;
