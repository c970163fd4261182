"""The seam every named query passes through: logs, spans, Ctrl-C, both flavours."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dal import aio, observe, queries, users
from dal.config import Settings
from dal.db import open_connection

SECRET = "s3cret-value@example.com"


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """An SDK tracer provider with an in-memory exporter (OpenTelemetry allows setting
    the global provider once per process, so this module owns it)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    yield memory
    memory.clear()  # the provider stays: OpenTelemetry cannot unset it


def test_no_span_and_no_tracer_work_without_a_provider(conn: psycopg.Connection[Any]) -> None:
    """Before any SDK is set (this module's fixture sets one), the seam makes nothing."""
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        pytest.fail("a tracer provider was already set: run this test before the others")
    assert observe.span(queries.get("users.count_all"), conn) is observe._NO_SPAN


def test_each_query_is_logged_with_name_time_and_rows_never_values(
    conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    made = users.create(conn, email=SECRET, username="logged")
    with caplog.at_level(logging.DEBUG, logger="dal.queries"):
        users.get_by_email(conn, SECRET)
        users.list_page(conn, limit=10)
    lines = [r for r in caplog.records if r.name == "dal.queries"]
    assert [r.levelno for r in lines] == [logging.DEBUG, logging.DEBUG]
    first, second = (r.getMessage() for r in lines)
    assert first.startswith("users.get_by_email: ") and first.endswith(" ms, 1 rows")
    assert second.startswith("users.list_first_page: ") and second.endswith(" ms, 1 rows")
    assert SECRET not in caplog.text and str(made.id) not in caplog.text


def test_a_slow_query_is_a_warning_at_the_connections_threshold(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    slow = Settings(slow_query_ms=0)
    with open_connection(db_url, slow, autocommit=True) as conn, caplog.at_level(logging.WARNING):
        users.count(conn)
    [line] = [r for r in caplog.records if r.name == "dal.queries"]
    assert line.levelno == logging.WARNING
    assert line.getMessage().startswith("slow query users.count_all: ")
    with open_connection(db_url, Settings(), autocommit=True) as conn:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="dal.queries"):
            users.count(conn)
        assert [r for r in caplog.records if r.name == "dal.queries"] == []


def _dal_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if _scope(s) == "dal"]


def _scope(span: ReadableSpan) -> str | None:
    return span.instrumentation_scope.name if span.instrumentation_scope else None


def test_one_span_per_call_nested_under_the_callers_span(
    exporter: InMemorySpanExporter, conn: psycopg.Connection[Any], db_url: str
) -> None:
    made = users.create(conn, email=SECRET, username="traced")
    exporter.clear()
    tracer = trace.get_tracer("service")
    with tracer.start_as_current_span("handler") as parent:
        users.get(conn, made.id)

        async def in_async() -> None:
            async with await aio.open_connection(db_url, Settings(), autocommit=True) as aconn:
                await aio.users.get_by_email(aconn, SECRET)

        asyncio.run(in_async())
    spans = _dal_spans(exporter)
    assert [s.name for s in spans] == ["users.get_by_id", "users.get_by_email"]
    for span in spans:
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        attributes = dict(span.attributes or {})
        assert attributes["db.system.name"] == "postgresql"
        assert attributes["db.namespace"] == conn.info.dbname
        assert attributes["db.operation.name"] == "SELECT"
        assert attributes["db.response.returned_rows"] == 1
        assert SECRET not in str(attributes) and str(made.id) not in str(attributes)


def test_psycopg_instrumentation_sees_every_statement_under_the_dal_span(
    exporter: InMemorySpanExporter, db_url: str
) -> None:
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    instrumentor = PsycopgInstrumentor()
    # Its uninstrument() leaves Connection.connect bound to psycopg's own class, so a
    # subclass's connect() would return a plain psycopg connection: put back the
    # classmethods themselves afterwards.
    originals = {
        cls: cls.__dict__["connect"] for cls in (psycopg.Connection, psycopg.AsyncConnection)
    }
    instrumentor.instrument()
    try:
        # Instrumentation hooks psycopg's connect: a connection opened after it.
        with open_connection(db_url, Settings(), autocommit=True) as conn:
            exporter.clear()
            users.count(conn)
            users.list_page(conn, limit=5)
    finally:
        instrumentor.uninstrument()
        for cls, connect in originals.items():
            setattr(cls, "connect", connect)  # noqa: B010 -- the classmethod object itself
    finished = exporter.get_finished_spans()
    ours = _dal_spans(exporter)
    theirs = [s for s in finished if _scope(s) != "dal"]
    assert [s.name for s in ours] == ["users.count_all", "users.list_first_page"]
    assert len(theirs) == 2
    for statement, query in zip(theirs, ours, strict=True):
        assert statement.parent is not None
        assert statement.parent.span_id == query.context.span_id


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Ctrl-C raising KeyboardInterrupt, as in a terminal: a process started in the
    background by a shell without job control (`cmd &`, nohup) inherits SIGINT ignored,
    and Python then installs no handler of its own."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_cancels_the_statement_on_the_server(conn: psycopg.Connection[Any]) -> None:
    """KeyboardInterrupt during a long statement: psycopg's wait loop cancels it, so the
    server is not left running it, and the connection works afterwards."""
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signals reach only the main thread")
    pid = conn.info.backend_pid
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        conn.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - started < 10
    with psycopg.connect(conn.info.dsn, autocommit=True) as observer:
        row = observer.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    assert row is not None and row[0] == "idle"
    assert users.count(conn) == 0  # the connection is usable


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_cancels_a_dal_call_on_the_server(conn: psycopg.Connection[Any]) -> None:
    """The same through the seam: a named query that runs long is cancelled."""

    @dataclass(frozen=True)
    class Slept:
        pg_sleep: Any

    slow = queries.Query.parse("users.sleep", "sleeps", "SELECT pg_sleep(30)", "test")
    pid = conn.info.backend_pid
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        queries.fetch_all(conn, slow, {}, Slept)
    with psycopg.connect(conn.info.dsn, autocommit=True) as observer:
        row = observer.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    assert row == ("idle",)


def test_a_plain_psycopg_connection_works_through_its_own_cursors(db_url: str) -> None:
    """A connection the DAL did not open works the same, in both flavours, and so
    does one whose cursor factory is a RawCursor ($1 placeholders)."""
    with psycopg.connect(db_url, autocommit=True) as plain:
        made = users.create(plain, email="plain@example.com", username="plain")
        assert users.get(plain, made.id) == made
    with psycopg.connect(db_url, autocommit=True, cursor_factory=psycopg.RawCursor) as raw:
        assert users.get(raw, made.id) == made
        assert users.list_page(raw, limit=5).items == [made]

    async def in_async() -> None:
        async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as aplain:
            assert await aio.users.get(aplain, made.id) == made

    asyncio.run(in_async())


def test_own_sql_on_the_dals_connections_keeps_psycopgs_placeholders(conn: Any) -> None:
    """The DAL leaves the cursor factory alone: `%s` and `%(name)s` work as usual."""
    assert conn.execute("SELECT %s::int", [41]).fetchone() == (41,)
    assert conn.execute("SELECT %(n)s::int", {"n": 42}).fetchone() == (42,)


def test_a_pipelined_batch_returns_each_result_in_order_with_a_span_each(
    exporter: InMemorySpanExporter,
    conn: psycopg.Connection[Any],
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = users.create(conn, email="batch@example.com", username="batch")
    calls = [
        queries.Call("users.get_by_id", {"id": made.id}, users.User),
        queries.Call("users.count_all", {}),
        queries.Call("users.touch_last_login", {"id": made.id}, count=True),
    ]
    exporter.clear()
    tracer = trace.get_tracer("service")
    with caplog.at_level(logging.DEBUG, logger="dal.queries"), tracer.start_as_current_span("h"):
        found, counted, touched = queries.pipelined(conn, calls)

        async def in_async() -> list[Any]:
            async with await aio.open_connection(db_url, Settings(), autocommit=True) as aconn:
                batch: list[Any] = await aio.queries.pipelined(aconn, calls)
                return batch

        async_found = asyncio.run(in_async())
    assert found == [made] and counted == [(1,)] and touched == 1
    assert [row.id for row in async_found[0]] == [made.id] and async_found[2] == 1
    names = [s.name for s in _dal_spans(exporter)]
    assert names == [call.name for call in calls] * 2
    assert all(s.end_time is not None and s.parent is not None for s in _dal_spans(exporter))
    logged = [r.getMessage().split(":")[0] for r in caplog.records if r.name == "dal.queries"]
    assert logged == [call.name for call in calls] * 2


def test_a_failed_batch_in_a_transaction_writes_nothing(conn: psycopg.Connection[Any]) -> None:
    from dal.db import transaction
    from dal.errors import InvalidData

    made = users.create(conn, email="before@example.com", username="before")
    with pytest.raises(InvalidData), transaction(conn):
        queries.pipelined(
            conn,
            [
                queries.Call("users.touch_last_login", {"id": made.id}, count=True),
                queries.Call(
                    "users.insert",
                    {
                        "email": "no at sign",
                        "username": "x",
                        "password_hash": None,
                        "display_name": None,
                        "preferences": "{}",
                        "github_id": None,
                        "gitlab_id": None,
                    },
                    users.User,
                ),
            ],
        )
    assert users.get(conn, made.id).last_login_at is None


def test_a_batch_missing_a_parameter_names_the_query(conn: psycopg.Connection[Any]) -> None:
    from dal.errors import DalError

    with pytest.raises(DalError, match=r"users.get_by_email needs parameters \['email'\]"):
        queries.pipelined(conn, [queries.Call("users.get_by_email", {"mail": "x"}, users.User)])


@pytest.mark.parametrize("given", ["pool", "connection"])
def test_a_failed_batch_outside_a_transaction_writes_nothing_either(
    conn: psycopg.Connection[Any], pool: Any, given: str
) -> None:
    """The batch is its own transaction: the write before the failing statement goes too."""
    from dal.errors import DalError

    made = users.create(conn, email="alone@example.com", username="alone")
    with pytest.raises(DalError):
        queries.pipelined(
            pool if given == "pool" else conn,
            [
                queries.Call("users.touch_last_login", {"id": made.id}, count=True),
                queries.Call("users.get_by_email", {"mail": "a parameter missing"}, users.User),
            ],
        )
    assert users.get(conn, made.id).last_login_at is None
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
