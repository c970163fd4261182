"""Sync history: sha format, one unfinished run per project, finish once, paging."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dal import Conflict, InvalidData, NotFound
from dal.pagination import Page
from tests.factories import Conn, count, project, user
from tests.flavoured import projects, sync_history

pytestmark = pytest.mark.flavours

SHA1 = "a" * 40
SHA256 = "0123456789abcdef" * 4


def test_start_and_finish(conn: Conn) -> None:
    made = project(conn, user(conn))
    run = sync_history.start(conn, made.id, SHA1.upper())
    assert (run.status, run.commit_sha, run.finished_at) == ("running", SHA1, None)
    done = sync_history.finish(conn, run.id)
    assert done.status == "succeeded" and done.finished_at is not None
    assert done.finished_at >= done.started_at
    with pytest.raises(Conflict):
        sync_history.finish(conn, run.id, error="again")
    with pytest.raises(NotFound):
        sync_history.finish(conn, 999_999)
    failed = sync_history.finish(conn, sync_history.start(conn, made.id, SHA256).id, error="boom")
    assert (failed.status, failed.error) == ("failed", "boom")
    assert sync_history.latest(conn, made.id) == failed


def test_a_queued_run_begins_once(conn: Conn) -> None:
    made = project(conn, user(conn))
    queued = sync_history.start(conn, made.id, SHA1, queued=True)
    assert queued.status == "pending"
    running = sync_history.begin(conn, queued.id)
    assert running == replace(queued, status="running")
    with pytest.raises(Conflict, match="is running, not pending"):
        sync_history.begin(conn, queued.id)
    sync_history.finish(conn, queued.id)
    with pytest.raises(Conflict, match="is succeeded, not pending"):
        sync_history.begin(conn, queued.id)
    with pytest.raises(NotFound):
        sync_history.begin(conn, 999_999)
    latest = sync_history.latest(conn, made.id)
    assert latest is not None and latest.finished_at is not None
    assert latest == replace(running, status="succeeded", finished_at=latest.finished_at)


@pytest.mark.parametrize("sha", ["a" * 39, "a" * 41, "g" * 40, "a" * 63, ""])
def test_sha_format(conn: Conn, sha: str) -> None:
    made = project(conn, user(conn))
    with pytest.raises(InvalidData) as caught:
        sync_history.start(conn, made.id, sha)
    assert caught.value.constraint == "sync_history_commit_sha_format"
    assert count(conn, "sync_history") == 0


def test_one_unfinished_run_per_project(conn: Conn) -> None:
    made = project(conn, user(conn))
    sync_history.start(conn, made.id, SHA1, queued=True)
    with pytest.raises(Conflict) as caught:
        sync_history.start(conn, made.id, SHA256)
    assert caught.value.constraint == "sync_history_one_unfinished_per_project_key"
    assert count(conn, "sync_history") == 1


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE sync_history SET status = 'succeeded'", "sync_history_finished_iff_done"),
        ("UPDATE sync_history SET error = 'x'", "sync_history_error_only_on_failure"),
        ("UPDATE sync_history SET status = 'lost'", "sync_history_status_valid"),
        (
            "UPDATE sync_history SET status = 'failed', finished_at = started_at - interval '1s'",
            "sync_history_finished_after_start",
        ),
    ],
)
def test_state_checks(conn: Conn, statement: str, constraint: str) -> None:
    import psycopg

    made = project(conn, user(conn))
    run = sync_history.start(conn, made.id, SHA1)
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(statement.encode())
    assert caught.value.diag.constraint_name == constraint
    assert sync_history.latest(conn, made.id) == run


def test_latest_per_project_and_history_pages(conn: Conn) -> None:
    owner = user(conn)
    one, two, never = project(conn, owner), project(conn, owner), project(conn, owner)
    runs = []
    for n in range(7):
        runs.append(sync_history.finish(conn, sync_history.start(conn, one.id, f"{n:040x}").id))
    last_two = sync_history.start(conn, two.id, SHA1)
    latest = sync_history.latest_for_projects(conn, [one.id, two.id, never.id])
    assert latest == {one.id: runs[-1], two.id: last_two}
    assert sync_history.latest(conn, never.id) is None
    seen = []
    page: Page[sync_history.SyncRun] = sync_history.history(conn, one.id, limit=3)
    while True:
        seen += page.items
        if page.next_cursor is None:
            break
        page = sync_history.history(conn, one.id, cursor=page.next_cursor, limit=3)
    assert seen == list(reversed(runs))
    projects.delete(conn, one.id)
    assert count(conn, "sync_history") == 1
