"""psycopg errors become typed DalErrors naming the constraint, column or cause."""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
import pytest

from dal.config import Settings
from dal.db import open_pool
from dal.errors import (
    Conflict,
    ConnectionLost,
    DalError,
    InvalidData,
    QueryTimeout,
    ReferenceMissing,
    StillReferenced,
    Unavailable,
    translate,
    translating,
)
from dal.query_files import main_verb


@pytest.fixture
def scratch(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    conn.execute(
        """CREATE TABLE parent (id int CONSTRAINT parent_pkey PRIMARY KEY);
           CREATE TABLE child (
               id int,
               parent_id int NOT NULL CONSTRAINT child_parent_id_fkey REFERENCES parent,
               code varchar(3),
               qty int CONSTRAINT child_qty_positive CHECK (qty > 0));
           INSERT INTO parent VALUES (1);"""
    )
    return conn


def raised(
    conn: psycopg.Connection[Any], query: Any, params: dict[str, Any] | None = None
) -> DalError:
    verb = main_verb(query) if isinstance(query, str) else ""
    with pytest.raises(DalError) as caught, translating(params, verb=verb):
        conn.execute(query, params)
    assert isinstance(caught.value.__cause__, psycopg.Error | type(None))
    return caught.value


def test_unique_violation_is_conflict(scratch: psycopg.Connection[Any]) -> None:
    err = raised(scratch, "INSERT INTO parent VALUES (1)")
    assert type(err) is Conflict
    assert err.constraint == "parent_pkey"
    assert err.sqlstate == "23505"


def test_foreign_keys(scratch: psycopg.Connection[Any]) -> None:
    err = raised(scratch, "INSERT INTO child (parent_id) VALUES (99)")
    assert type(err) is ReferenceMissing
    assert err.constraint == "child_parent_id_fkey"
    scratch.execute("INSERT INTO child (parent_id) VALUES (1)")
    err = raised(scratch, "DELETE FROM parent")
    assert type(err) is StillReferenced
    assert isinstance(err, Conflict)
    assert err.constraint == "child_parent_id_fkey"


def test_a_foreign_key_error_is_told_by_the_statement_not_the_message(
    scratch: psycopg.Connection[Any],
) -> None:
    # The server's words depend on lc_messages; a trigger speaking German stands in for
    # a server configured so. Only the statement's verb decides.
    scratch.execute(
        """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               RAISE EXCEPTION 'Aktualisieren oder Löschen in Tabelle »parent« verletzt
                   Fremdschlüssel-Constraint »child_parent_id_fkey«'
                   USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'child_parent_id_fkey';
           END $$;
           CREATE TRIGGER refuse BEFORE INSERT OR DELETE ON parent
               FOR EACH ROW EXECUTE FUNCTION refuse();"""
    )
    assert type(raised(scratch, "DELETE FROM parent WHERE id = 1")) is StillReferenced
    assert type(raised(scratch, "INSERT INTO parent VALUES (2)")) is ReferenceMissing
    moving = "WITH gone AS (DELETE FROM child RETURNING parent_id) INSERT INTO parent VALUES (3)"
    assert main_verb(moving) == "INSERT"
    assert type(raised(scratch, moving)) is ReferenceMissing


def test_not_null_names_the_column(scratch: psycopg.Connection[Any]) -> None:
    err = raised(scratch, "INSERT INTO child (parent_id) VALUES (NULL)")
    assert type(err) is InvalidData
    assert err.column == "parent_id"
    assert "parent_id must not be null" in str(err)


def test_check_and_length_and_type_errors(scratch: psycopg.Connection[Any]) -> None:
    err = raised(scratch, "INSERT INTO child (parent_id, qty) VALUES (1, 0)")
    assert type(err) is InvalidData
    assert err.constraint == "child_qty_positive"
    err = raised(scratch, "INSERT INTO child (parent_id, code) VALUES (1, 'toolong')")
    assert type(err) is InvalidData
    assert err.sqlstate == "22001"
    err = raised(scratch, "SELECT %(id)s::uuid", {"id": "not-a-uuid"})
    assert type(err) is InvalidData
    assert err.sqlstate == "22P02"


def test_nul_byte_is_invalid_data_naming_the_parameter(scratch: psycopg.Connection[Any]) -> None:
    err = raised(scratch, "SELECT %(note)s::text", {"note": "a\x00b"})
    assert type(err) is InvalidData
    assert err.column == "note"


def test_statement_timeout_is_query_timeout(db_url: str) -> None:
    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0, statement_timeout_ms=50))
    try:
        with pool.connection() as conn:
            err = raised(conn, "SELECT pg_sleep(2)")
        assert type(err) is QueryTimeout
        assert isinstance(err, Unavailable)
    finally:
        pool.close()


def test_the_timeouts_keep_the_urls_own_options(db_url: str) -> None:
    url = psycopg.conninfo.make_conninfo(db_url, options="-c search_path=pg_catalog,public")
    settings = Settings(
        pool_size=1, max_overflow=0, statement_timeout_ms=1500, idle_in_transaction_timeout_ms=2000
    )
    pool = open_pool(url, settings)
    try:
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT current_setting('search_path'), current_setting('statement_timeout'),"
                " current_setting('idle_in_transaction_session_timeout')"
            )
            assert row.fetchone() == ("pg_catalog,public", "1500ms", "2s")
    finally:
        pool.close()


def test_lost_connection_is_connection_lost(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as victim, psycopg.connect(db_url) as admin:
        pid = victim.info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        err = raised(victim, "SELECT 1")
    assert isinstance(err, ConnectionLost)


def test_pool_timeout_is_unavailable(db_url: str) -> None:
    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0, pool_timeout=0.2))
    try:
        with pool.connection(), pytest.raises(Unavailable, match="pool timeout"), translating():
            pool.getconn(timeout=0.1)
    finally:
        pool.close()


def test_other_exceptions_become_dal_errors() -> None:
    err = translate(ValueError("boom"))
    assert type(err) is DalError
    assert "boom" in err.message
    same = Conflict("x")
    assert translate(same) is same


def test_server_side_operational_errors_are_not_connection_lost(
    scratch: psycopg.Connection[Any],
) -> None:
    """Only a broken connection is worth retrying; a deterministic failure is not."""
    scratch.execute("CREATE TABLE wide (v text CONSTRAINT wide_v_key UNIQUE)")
    big = secrets.token_hex(6_000)  # incompressible and too big for a btree row
    err = raised(scratch, "INSERT INTO wide VALUES (%(v)s)", {"v": big})
    assert type(err) is InvalidData
    assert (err.sqlstate or "").startswith("54")
    assert not isinstance(err, ConnectionLost)
