"""What the seam records about each named query: a log line and a trace span.

- The logger `dal.queries`: at DEBUG every query's name, milliseconds and row count;
  at WARNING every query slower than the connection's slow-query threshold
  (`DATABASE_SLOW_QUERY_MS`, 500 ms by default). Parameter values are never logged.
- An OpenTelemetry span named after the query (``users.get_by_email``) with the
  database semantic-convention attributes, when `opentelemetry-api` is installed (the
  `otel` extra) and the OpenTelemetry SDK's tracer provider (which every distribution
  and `opentelemetry-instrument` set) is the global one. Without it, nothing is created.

Both cost little when off (the report measures the seam with and without them): a
fast query with tracing off costs one dictionary lookup and one comparison here.

The same for both flavours: the sync and the async seam call these.
"""

from __future__ import annotations

import logging
import sys
import weakref
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from dal.query_files import Query

log = logging.getLogger("dal.queries")

DEFAULT_SLOW_QUERY_MS = 500.0

# Per connection the DAL opened: its slow-query threshold (the settings it was opened
# with). A weak mapping: the entry goes with the connection. The lowest threshold
# ever set lets a fast call skip the lookup: the common case costs one comparison.
_slow_ms: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
_lowest_slow_ms = DEFAULT_SLOW_QUERY_MS

_trace: Any
try:
    from opentelemetry import trace as _trace
except ImportError:  # the `otel` extra is not installed
    _trace = None

_SDK = "opentelemetry.sdk.trace"
_NO_SPAN: AbstractContextManager[Any] = nullcontext()
# The DAL's tracer, once a real provider is set. OpenTelemetry lets the global
# provider be set only once, so a tracer found stays right for the process.
_tracer: Any = None


def set_slow_query_ms(conn: Any, slow_ms: float) -> None:
    """Log queries on `conn` slower than `slow_ms` at WARNING."""
    global _lowest_slow_ms  # noqa: PLW0603 -- a bound for the fast path, only lowered
    _slow_ms[conn] = slow_ms
    _lowest_slow_ms = min(_lowest_slow_ms, slow_ms)


def _found_tracer() -> Any:
    """The DAL's tracer if a tracer provider has been set, else None."""
    global _tracer  # noqa: PLW0603 -- one tracer, made on first use
    # Until the SDK is imported no provider can have been set; asking the API instead
    # would read the environment on every query.
    if _trace is None or _SDK not in sys.modules:
        return None
    if isinstance(_trace.get_tracer_provider(), _trace.ProxyTracerProvider):
        return None
    _tracer = _trace.get_tracer("dal")
    return _tracer


def span(query: Query, conn: Any) -> AbstractContextManager[Any]:
    """A span around one run of `query` on `conn`, current while it runs (so
    psycopg's own instrumentation nests its statement spans under it); a shared
    no-op when tracing is off."""
    tracer = _tracer or _found_tracer()
    if tracer is None:
        return _NO_SPAN
    started: AbstractContextManager[Any] = tracer.start_as_current_span(
        query.name, kind=_trace.SpanKind.CLIENT, attributes=_attributes(query, conn)
    )
    return started


def batch_spans(queries: list[Query], conn: Any) -> list[Any]:
    """A span per query of a pipelined batch, started now and ended by `batch_ended`:
    the statements run at once, so none is current (psycopg's instrumentation, if on,
    nests its own under the caller's span). An empty list when tracing is off."""
    tracer = _tracer or _found_tracer()
    if tracer is None:
        return []
    return [
        tracer.start_span(
            query.name, kind=_trace.SpanKind.CLIENT, attributes=_attributes(query, conn)
        )
        for query in queries
    ]


def batch_ended(spans: list[Any], error: BaseException | None = None) -> None:
    """End the spans of a batch, each marked failed if the batch raised `error`."""
    for one in spans:
        if error is not None:
            one.record_exception(error)
            one.set_status(_trace.Status(_trace.StatusCode.ERROR, type(error).__name__))
        one.end()


def _attributes(query: Query, conn: Any) -> dict[str, Any]:
    info = conn.info
    operation = query.raw.lstrip("( \n").split(None, 1)[0].upper() if query.raw else ""
    attributes: dict[str, Any] = {
        "db.system.name": "postgresql",
        "db.system": "postgresql",
        "db.namespace": info.dbname,
        "db.operation.name": operation,
        "db.query.summary": query.name,
        "db.query.text": query.raw,  # placeholders only: values are never recorded
        "server.address": info.host,
    }
    if info.port:
        attributes["server.port"] = int(info.port)
    return attributes


def finished(query: Query, conn: Any, elapsed: float, rows: int, span_: Any) -> None:
    """Record one finished run: `elapsed` seconds, `rows` returned or touched."""
    ms = elapsed * 1000.0
    if span_ is not None:
        span_.set_attribute("db.response.returned_rows", rows)
    if ms >= _lowest_slow_ms and ms >= _slow_ms.get(conn, DEFAULT_SLOW_QUERY_MS):
        log.warning("slow query %s: %.1f ms, %d rows", query.name, ms, rows)
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("%s: %.3f ms, %d rows", query.name, ms, rows)
