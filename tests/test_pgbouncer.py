"""The DAL through a real PgBouncer in transaction pooling mode (tests/pgbouncer.py).

In that mode each transaction may run on another server connection, so the DAL must
keep nothing in a session: the acting user is set per transaction already; psycopg's
prepared statements are off (`DATABASE_PREPARE_THRESHOLD=off`: PgBouncer 1.18 cannot
follow them from one server connection to the next); the statement timeout is set on
the role, since PgBouncer refuses the `options` startup parameter that carries it.
Every call goes through PgBouncer as the application role, in both flavours.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

import dal
from dal.config import Roles, Settings
from dal.db import Pool, open_pool
from dal.errors import ConfigError, NotFound, QueryTimeout, translating
from tests import pgbouncer
from tests.fix_db import as_role
from tests.flavoured import (
    categories,
    config_store,
    events,
    moods,
    projects,
    recommendations,
    servers,
    surveys,
    tasks,
    users,
)

THROUGH_PGBOUNCER = Settings(pool_size=4, max_overflow=0, pool_timeout=10.0, prepare_threshold=None)


@pytest.fixture(scope="module")
def bouncer(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[pgbouncer.Bouncer]:
    if not pgbouncer.installed():
        pytest.skip("needs Debian's pgbouncer (.ci/run installs it)")
    running = pgbouncer.Bouncer(
        tmp_path_factory.mktemp("pgbouncer"), pg_admin, [Roles.app, Roles.readonly, "postgres"]
    )
    yield running
    running.stop()


def _dbname(db_url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])


@pytest.fixture
def pool(bouncer: pgbouncer.Bouncer, db_url: str) -> Iterator[Pool]:
    """The application role's pool, through PgBouncer (four clients, two server
    connections)."""
    opened = open_pool(bouncer.url(_dbname(db_url), Roles.app), THROUGH_PGBOUNCER)
    yield opened
    opened.close()


def _user(pool: Pool, name: str) -> UUID:
    return UUID(str(users.create(pool, email=f"{name}@example.com", username=name).id))


@pytest.mark.flavours
def test_every_area_works_through_pgbouncer(pool: Pool) -> None:
    owner, member = _user(pool, "owner"), _user(pool, "member")
    now = datetime.now(UTC)
    assert users.get_by_email(pool, "owner@example.com").id == owner
    with dal.acting_as(owner):
        project = projects.create(pool, owner_id=owner, name="Bounced")
        projects.add_member(pool, project.id, member, role="member", access_level="read")
        label = categories.create(pool, owner_id=owner, name="Work")
        task = tasks.create(
            pool, owner_id=owner, project_id=project.id, key="1", title="Ship", category_id=label.id
        )
        tasks.update(pool, task.id, status="in_progress")
        assert [t.id for t in tasks.list_for_user(pool, owner).items] == [task.id]
        assert tasks.counts_by_status(pool, owner)["in_progress"] == 1
        assert [n.task.id for n in tasks.project_tree(pool, project.id)] == [task.id]
        server = servers.create(pool, snowflake_id=42_000_001, name="Guild", owner_id=owner)
        servers.add_member(pool, server.id, member)
        event = events.create(
            pool, server_id=server.id, creator_id=owner, title="Picnic in the park",
            starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2),
        )  # fmt: skip
        poll = surveys.create(
            pool, server_id=server.id, creator_id=owner, title="Which day?",
            opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1),
        )  # fmt: skip
        question = surveys.add_question(pool, poll.id, position=1, kind="text", prompt="When?")
        surveys.publish(pool, poll.id)
        mood = moods.record(pool, owner, mood="calm", intensity=6)
        advice = recommendations.create(
            pool, owner, kind="activity", content="Walk", relevance_score=0.8,
            mood=(mood.id, mood.recorded_at),
        )  # fmt: skip
        config_store.set_user_setting(pool, owner, "theme", "dark")
    with dal.acting_as(member):
        assert projects.get(pool, project.id).name == "Bounced"
        with pytest.raises(NotFound):
            moods.get(pool, owner, mood.id, mood.recorded_at)  # the owner's alone
        events.rsvp(pool, event.id, member, "going")
        surveys.answer(pool, question.id, member, "Saturday")
        assert [hit.id for hit in events.search(pool, "picnic")] == [event.id]
    with dal.acting_as(owner):
        assert [r.user_id for r in events.rsvps(pool, event.id).items] == [member]
        assert recommendations.active(pool, owner)[0].id == advice.id
        assert config_store.get_user_setting(pool, owner, "theme").value == "dark"
        tasks.delete(pool, task.id)
        with pytest.raises(NotFound):
            tasks.get(pool, task.id)


def test_the_acting_user_never_outlives_its_transaction(pool: Pool) -> None:
    """Eight threads, each acting for its own user, share two server connections: each
    sees its own tasks only, and a call acting for no one sees none."""
    people = [_user(pool, f"worker{n}") for n in range(8)]
    for n, person in enumerate(people):
        with dal.acting_as(person):
            for i in range(n + 1):
                tasks.create(pool, owner_id=person, title=f"task {i}")
    wrong: list[str] = []

    def work(n: int, person: UUID) -> None:
        for _ in range(25):
            with dal.acting_as(person):
                seen = sum(dal.tasks.counts_by_status(pool, person).values())
            if seen != n + 1:
                wrong.append(f"worker{n} saw {seen} tasks")
            if sum(dal.tasks.counts_by_status(pool, person).values()):
                wrong.append(f"no one acting saw worker{n}'s tasks")

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_no_statement_is_left_prepared_on_the_server(pool: Pool) -> None:
    person = _user(pool, "repeater")
    with dal.acting_as(person):
        for _ in range(20):  # past any prepare threshold
            users.get(pool, person)
    with dal.db.connection(pool) as conn:
        for _ in range(4):  # whichever server connection each lands on
            row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
            assert row == (0,)


def test_the_statement_timeout_is_set_on_the_role(bouncer: pgbouncer.Bouncer, db_url: str) -> None:
    # Before PgBouncer opens a server session for the role here: a session reads its
    # role's settings when it starts.
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET statement_timeout = '100ms'").format(
                sql.Identifier(Roles.app), sql.Identifier(_dbname(db_url))
            )
        )
    url = bouncer.url(_dbname(db_url), Roles.app)
    with (
        open_pool(url, THROUGH_PGBOUNCER) as pool,
        dal.db.connection(pool) as conn,
        pytest.raises(QueryTimeout),
        translating(),
    ):
        conn.execute("SELECT pg_sleep(2)")


def test_timeouts_in_the_settings_are_refused_with_advice(
    bouncer: pgbouncer.Bouncer, db_url: str
) -> None:
    settings = Settings(statement_timeout_ms=500, prepare_threshold=None)
    with pytest.raises(ConfigError, match="on the role"):
        open_pool(bouncer.url(_dbname(db_url), Roles.app), settings).close()


def test_the_application_role_reaches_the_server_directly_too(db_url: str) -> None:
    """The same calls without PgBouncer, as a control: the role and its rights, not
    PgBouncer, decide what a call may do."""
    with open_pool(as_role(db_url, Roles.app), THROUGH_PGBOUNCER) as direct:
        person = _user(direct, "direct")
        with dal.acting_as(person):
            assert sum(dal.tasks.counts_by_status(direct, person).values()) == 0
