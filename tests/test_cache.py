"""The Redis read-through cache against a real Redis (dal.aio.cache, dal.cache_plan).

A row changed behind the DAL's back (plain SQL on the test connection, which tells no
cache) shows whether a read came from Redis: a cached read still returns the old
value, and after a write through the DAL every read returns the new one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest

import dal
import dal.aio.cache
import dal.aio.queries
import dal.cache
import dal.queries
from dal.config import Roles, Settings
from dal.db import Pool, open_pool, transaction
from dal.errors import NotFound
from tests import factories, redis_server
from tests.fix_db import as_role
from tests.flavoured import config_store, projects, users

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis where one answers, else one the tests start."""
    with redis_server.for_session(tmp_path_factory.mktemp("redis")) as url:
        yield url


def cached(url: str, redis: str, **kw: Any) -> Settings:
    return Settings(pool_size=2, max_overflow=2, pool_timeout=5.0, redis_url=redis, **kw)


@pytest.fixture
def cpool(db_url: str, redis_url: str) -> Iterator[Pool]:
    """A pool of the test database reading through Redis."""
    pool = open_pool(db_url, cached(db_url, redis_url, redis_timeout_ms=500))
    yield pool
    pool.close()


def behind_the_dal(conn: Conn, statement: str, *args: Any) -> None:
    """Change rows with plain SQL, which bumps no cache."""
    conn.execute(statement, args)


@pytest.mark.flavours
def test_a_cached_lookup_is_served_from_redis_until_a_write(conn: Conn, cpool: Pool) -> None:
    user = factories.user(conn, "ada")
    assert users.get(cpool, user.id).display_name == user.display_name  # a miss: stored
    behind_the_dal(conn, "UPDATE users SET display_name = 'behind' WHERE id = %s", user.id)
    assert users.get(cpool, user.id).display_name == user.display_name  # a hit: the old one
    assert users.get_by_email(cpool, user.email).display_name == "behind"  # another key
    users.update(cpool, user.id, display_name="Ada L.")  # a DAL write bumps users
    assert users.get(cpool, user.id).display_name == "Ada L."
    assert users.get_by_email(cpool, user.email).display_name == "Ada L."
    assert users.get_by_username(cpool, user.username).display_name == "Ada L."


@pytest.mark.flavours
def test_a_row_write_moves_its_rows_lookups_by_id_and_every_search(conn: Conn, cpool: Pool) -> None:
    ada, bob = factories.user(conn, "ada_row"), factories.user(conn, "bob_row")
    for user in (ada, bob):
        users.get(cpool, user.id)
        users.get_by_email(cpool, user.email)
    for user in (ada, bob):
        behind_the_dal(conn, "UPDATE users SET display_name = 'behind' WHERE id = %s", user.id)
    users.update(cpool, ada.id, display_name="Ada")  # one row's write
    assert users.get(cpool, ada.id).display_name == "Ada"
    assert users.get(cpool, bob.id).display_name is None  # bob's lookup by id: still a hit
    # A lookup by email cannot know its row before reading: every row write moves it.
    assert users.get_by_email(cpool, bob.email).display_name == "behind"


@pytest.mark.flavours
def test_a_changed_email_moves_every_lookup_of_the_table(conn: Conn, cpool: Pool) -> None:
    ada = factories.user(conn, "ada_mail")
    with pytest.raises(NotFound):
        users.get_by_email(cpool, "new-ada@example.com")  # cached: no such user
    users.update(cpool, ada.id, email="new-ada@example.com")
    assert users.get_by_email(cpool, "new-ada@example.com").id == ada.id
    with pytest.raises(NotFound):
        users.get_by_email(cpool, ada.email)


@pytest.mark.flavours
def test_a_missing_row_cached_as_missing_appears_once_created(cpool: Pool) -> None:
    with pytest.raises(NotFound):
        users.get_by_email(cpool, "grace@example.com")
    with pytest.raises(NotFound):
        users.get_by_email(cpool, "grace@example.com")  # from Redis: None
    created = users.create(cpool, email="grace@example.com", username="grace")
    assert users.get_by_email(cpool, "grace@example.com").id == created.id


@pytest.mark.flavours
def test_a_cached_row_round_trips_every_field(conn: Conn, cpool: Pool) -> None:
    user = users.create(
        cpool, email="x@example.com", username="xavier", preferences={"a": [1, {"b": None}]}
    )
    first = users.get(cpool, user.id)
    again = users.get(cpool, user.id)
    assert again == first == user
    assert type(again.id) is UUID and again.created_at.tzinfo is not None


@pytest.mark.flavours
def test_deletes_and_cascades_invalidate(conn: Conn, cpool: Pool) -> None:
    owner = factories.user(conn, "owner")
    member = factories.user(conn, "member")
    project = factories.project(conn, owner)
    projects.add_member(cpool, project.id, member.id, role="member")
    assert [p.id for p in projects.list_for_user(cpool, member.id).items] == [project.id]
    assert projects.get_member(cpool, project.id, member.id).role == "member"
    projects.delete(cpool, project.id)  # project_members go by ON DELETE CASCADE
    assert projects.list_for_user(cpool, member.id).items == []
    with pytest.raises(NotFound):
        projects.get_member(cpool, project.id, member.id)
    users.hard_delete(cpool, member.id)
    with pytest.raises(NotFound):
        users.get(cpool, member.id)


@pytest.mark.flavours
def test_membership_writes_invalidate(conn: Conn, cpool: Pool) -> None:
    owner = factories.user(conn, "owner")
    member = factories.user(conn, "member")
    project = factories.project(conn, owner)
    assert projects.list_for_user(cpool, member.id).items == []
    projects.add_member(cpool, project.id, member.id, role="member", access_level="read")
    assert projects.get_member(cpool, project.id, member.id).access_level == "read"
    projects.change_member_role(cpool, project.id, member.id, role="member", access_level="write")
    assert projects.get_member(cpool, project.id, member.id).access_level == "write"
    # A later page (the query after a cursor) is cached and invalidated too.
    second = factories.project(conn, owner)
    projects.add_member(cpool, second.id, member.id, role="viewer")
    first_page = projects.list_for_user(cpool, member.id, limit=1)
    after = projects.list_for_user(cpool, member.id, cursor=first_page.next_cursor, limit=1)
    assert [(p.id, p.role) for p in after.items] == [(second.id, "viewer")]
    projects.change_member_role(cpool, second.id, member.id, role="member")
    after = projects.list_for_user(cpool, member.id, cursor=first_page.next_cursor, limit=1)
    assert [(p.id, p.role) for p in after.items] == [(second.id, "member")]
    projects.remove_member(cpool, project.id, member.id)
    projects.remove_member(cpool, second.id, member.id)
    assert projects.list_for_user(cpool, member.id).items == []


@pytest.mark.flavours
def test_configuration_writes_invalidate(conn: Conn, cpool: Pool) -> None:
    user = factories.user(conn, "user_u")
    config_store.set(cpool, "site.name", "one")
    assert config_store.get(cpool, "site.name") == "one"
    config_store.set(cpool, "site.name", "two")
    assert config_store.get(cpool, "site.name") == "two"
    config_store.delete(cpool, "site.name")
    with pytest.raises(NotFound):
        config_store.get(cpool, "site.name")
    config_store.set_flag(cpool, "beta", enabled=False)
    assert config_store.get_flag(cpool, "beta").enabled is False
    config_store.set_flag(cpool, "beta", enabled=True)
    assert config_store.get_flag(cpool, "beta").enabled is True
    # A user's setting falls back on the app_config default "user.<key>".
    config_store.set(cpool, "user.theme", "light")
    assert config_store.get_user_setting(cpool, user.id, "theme").value == "light"
    config_store.set(cpool, "user.theme", "dark")  # the default changes: app_config
    assert config_store.get_user_setting(cpool, user.id, "theme").value == "dark"
    config_store.set_user_setting(cpool, user.id, "theme", "solar")
    assert config_store.get_user_setting(cpool, user.id, "theme").value == "solar"
    assert [s.value for s in config_store.user_settings(cpool, user.id)] == ["solar"]
    config_store.reset_user_setting(cpool, user.id, "theme")
    assert config_store.get_user_setting(cpool, user.id, "theme").value == "dark"


@pytest.mark.flavours
def test_a_transaction_invalidates_at_its_commit_and_not_on_rollback(
    conn: Conn, cpool: Pool
) -> None:
    user = factories.user(conn, "user_t")
    name = users.get(cpool, user.id).display_name
    with transaction(cpool) as tx:
        users.update(tx, user.id, display_name="inside")
        with transaction(tx):  # a savepoint: its end is no commit
            users.update(tx, user.id, display_name="nested")
        # Not committed: another caller still sees (and may cache) the old row.
        assert users.get(cpool, user.id).display_name == name
    assert users.get(cpool, user.id).display_name == "nested"
    behind_the_dal(conn, "UPDATE users SET display_name = 'behind' WHERE id = %s", user.id)
    with pytest.raises(RuntimeError):
        _write_then_fail(cpool, user.id)
    # Nothing was bumped: the cached row (which the rollback left true) is served.
    assert users.get(cpool, user.id).display_name == "nested"


def _write_then_fail(pool: Pool, user_id: UUID) -> None:
    with transaction(pool) as tx:
        users.update(tx, user_id, display_name="rolled back")
        raise RuntimeError


@pytest.mark.flavours
def test_rows_are_cached_per_acting_user(db_url: str, conn: Conn, redis_url: str) -> None:
    owner = factories.user(conn, "owner")
    outsider = factories.user(conn, "outsider")
    project = factories.project(conn, owner)
    pool = open_pool(as_role(db_url, Roles.app), cached(db_url, redis_url))
    try:
        with dal.acting_as(owner.id):
            assert projects.get_member(pool, project.id, owner.id).role == "owner"
            assert [p.id for p in projects.list_for_user(pool, owner.id).items] == [project.id]
        with dal.acting_as(outsider.id), pytest.raises(NotFound):
            projects.get_member(pool, project.id, owner.id)  # RLS hides it: not served
        with dal.acting_as(outsider.id):
            assert projects.list_for_user(pool, owner.id).items == []
        with pytest.raises(NotFound):  # no acting user: the application role sees nothing
            projects.get_member(pool, project.id, owner.id)
    finally:
        pool.close()


def test_a_reader_that_read_before_a_write_never_stores_over_it(
    conn: Conn, cpool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a reader misses and reads the old row; a writer commits and returns;
    only then does the reader go on to store what it read. No later read returns it."""
    user = factories.user(conn, "race")
    load = dal.queries._run_borrowed
    raced: list[str] = []

    def load_then_write(*args: Any) -> Any:
        found = load(*args)
        if not raced:  # the reader's load, not the writer's own statement
            raced.append("written")
            worker = threading.Thread(
                target=dal.users.update, args=(cpool, user.id), kwargs={"display_name": "new"}
            )
            worker.start()
            worker.join()  # committed and returned before the reader goes on
        return found

    monkeypatch.setattr(dal.queries, "_run_borrowed", load_then_write)
    assert dal.users.get(cpool, user.id).display_name == user.display_name  # old, as read
    assert raced == ["written"]
    monkeypatch.undo()
    assert dal.users.get(cpool, user.id).display_name == "new"
    assert dal.users.get(cpool, user.id).display_name == "new"


def test_the_race_in_the_async_flavour(
    db_url: str, conn: Conn, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = factories.user(conn, "race")
    load = dal.aio.queries._run_borrowed
    raced: list[str] = []

    async def load_then_write(*args: Any) -> Any:
        found = await load(*args)
        if not raced:
            raced.append("written")
            await dal.aio.users.update(args[0], user.id, display_name="new")
        return found

    async def run() -> None:
        pool = await dal.aio.open_pool(db_url, cached(db_url, redis_url, redis_timeout_ms=500))
        try:
            monkeypatch.setattr(dal.aio.queries, "_run_borrowed", load_then_write)
            assert (await dal.aio.users.get(pool, user.id)).display_name == user.display_name
            assert raced == ["written"]
            monkeypatch.undo()
            assert (await dal.aio.users.get(pool, user.id)).display_name == "new"
        finally:
            await pool.close()

    asyncio.run(run())


@pytest.mark.flavours
def test_invalidate_all(conn: Conn, cpool: Pool) -> None:
    user = factories.user(conn, "user_i")
    users.get(cpool, user.id)
    behind_the_dal(conn, "UPDATE users SET display_name = 'behind' WHERE id = %s", user.id)
    assert users.get(cpool, user.id).display_name != "behind"
    dal.cache.invalidate_all(cpool)  # the epoch in Redis: either flavour's keys hold it
    assert users.get(cpool, user.id).display_name == "behind"


@pytest.fixture
def own_redis(tmp_path: Any) -> Iterator[redis_server.RedisServer]:
    if not redis_server.installed():
        pytest.fail("this test needs Debian's redis-server (.ci/run installs it)")
    server = redis_server.RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def test_redis_hung_then_back(
    db_url: str,
    conn: Conn,
    own_redis: redis_server.RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(dal.cache, "RETRY_AFTER_S", 0.3)
    user = factories.user(conn, "user_h")
    pool = open_pool(db_url, cached(db_url, own_redis.url, redis_timeout_ms=50))
    try:
        assert dal.users.get(pool, user.id).display_name == user.display_name  # stored
        own_redis.pause()  # hung: every command times out, the old row stays in it
        with caplog.at_level(logging.WARNING, logger="dal.cache"):
            dal.users.update(pool, user.id, display_name="while hung")  # its bump is owed
            for _ in range(5):
                assert dal.users.get(pool, user.id).display_name == "while hung"
        assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
        own_redis.resume()
        time.sleep(0.4)
        # The owed bump goes first: the row cached before the write is never served.
        assert dal.users.get(pool, user.id).display_name == "while hung"
        stats = dal.cache.stats(pool)
        assert stats is not None and stats.failures >= 1
        before = stats.hits
        assert dal.users.get(pool, user.id).display_name == "while hung"
        assert stats.hits == before + 1  # reading through Redis again
    finally:
        pool.close()


def test_redis_stopped_mid_run(
    db_url: str, conn: Conn, own_redis: redis_server.RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dal.cache, "RETRY_AFTER_S", 0.3)
    user = factories.user(conn, "user_s")
    pool = open_pool(db_url, cached(db_url, own_redis.url, redis_timeout_ms=50))
    try:
        dal.users.get(pool, user.id)
        own_redis.stop()
        dal.users.update(pool, user.id, display_name="while stopped")
        assert dal.users.get(pool, user.id).display_name == "while stopped"
        own_redis.start()
        time.sleep(0.4)
        assert dal.users.get(pool, user.id).display_name == "while stopped"
        assert dal.users.get(pool, user.id).display_name == "while stopped"
        stats = dal.cache.stats(pool)
        assert stats is not None and stats.hits >= 1
    finally:
        pool.close()


@pytest.mark.flavours
def test_a_value_json_cannot_hold_is_read_but_not_cached(conn: Conn, cpool: Pool) -> None:
    user = users.create(cpool, email="big@example.com", username="bignum", preferences={"n": 2**70})
    for _ in range(2):  # a miss each time: nothing stored, and no error
        assert users.get(cpool, user.id).preferences == {"n": 2**70}
