"""Users against a real database: constraints, case-insensitivity, passwords, paging."""

from __future__ import annotations

import time
from typing import Any, Literal
from uuid import uuid4

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound
from dal.pagination import Page, encode_cursor
from tests.flavoured import users

pytestmark = pytest.mark.flavours


def make(conn: psycopg.Connection[Any], n: int = 0, **extra: Any) -> users.User:
    fields: dict[str, Any] = {"email": f"user{n}@example.com", "username": f"user{n}"}
    return users.create(conn, **(fields | extra))


def count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM users").fetchone()
    assert row is not None
    return int(row[0])


def test_create_fills_defaults(conn: psycopg.Connection[Any]) -> None:
    user = make(conn, password="correct horse", display_name="Ada")
    assert user.status == "active"
    assert user.preferences == {}
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert user.created_at == user.updated_at
    assert users.get(conn, user.id) == user


def test_email_and_username_unique_ignoring_case(conn: psycopg.Connection[Any]) -> None:
    make(conn, 1)
    with pytest.raises(Conflict) as caught:
        users.create(conn, email="USER1@Example.com", username="other")
    assert caught.value.constraint == "users_email_lower_key"
    with pytest.raises(Conflict) as caught:
        users.create(conn, email="other@example.com", username="USER1")
    assert caught.value.constraint == "users_username_lower_key"
    assert count(conn) == 1
    assert users.get_by_email(conn, "User1@EXAMPLE.com").username == "user1"
    assert users.get_by_username(conn, "uSeR1").email == "user1@example.com"


def test_external_ids_unique_only_when_present(conn: psycopg.Connection[Any]) -> None:
    make(conn, 1)
    make(conn, 2)  # two NULL github_ids are fine
    make(conn, 3, github_id=42)
    with pytest.raises(Conflict) as caught:
        make(conn, 4, github_id=42)
    assert caught.value.constraint == "users_github_id_key"
    with pytest.raises(InvalidData) as invalid:
        make(conn, 5, gitlab_id=-1)
    assert invalid.value.constraint == "users_gitlab_id_positive"
    assert count(conn) == 3


@pytest.mark.parametrize(
    ("link", "unlink", "find", "constraint"),
    [
        ("link_github", "unlink_github", "get_by_github_id", "users_github_id_key"),
        ("link_gitlab", "unlink_gitlab", "get_by_gitlab_id", "users_gitlab_id_key"),
    ],
)
def test_signing_in_through_a_code_host(
    conn: psycopg.Connection[Any], link: str, unlink: str, find: str, constraint: str
) -> None:
    ada, bob = make(conn, 1), make(conn, 2)
    with pytest.raises(NotFound):
        getattr(users, find)(conn, 77)
    linked = getattr(users, link)(conn, ada.id, 77)
    assert getattr(users, find)(conn, 77) == linked
    with pytest.raises(Conflict) as caught:  # another user holds it: nothing written
        getattr(users, link)(conn, bob.id, 77)
    assert caught.value.constraint == constraint
    assert users.get(conn, bob.id) == bob
    with pytest.raises(InvalidData):
        getattr(users, link)(conn, bob.id, 0)
    with pytest.raises(NotFound):
        getattr(users, link)(conn, uuid4(), 78)
    getattr(users, unlink)(conn, ada.id)
    with pytest.raises(NotFound):
        getattr(users, find)(conn, 77)
    assert getattr(users, link)(conn, bob.id, 77).id == bob.id  # free again


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"email": "not-an-email"}, "users_email_format"),
        ({"email": "a" * 250 + "@x.io"}, "users_email_format"),
        ({"username": "ab"}, "users_username_format"),
        ({"username": "has space"}, "users_username_format"),
        ({"display_name": ""}, "users_display_name_length"),
        ({"display_name": "x" * 101}, "users_display_name_length"),
    ],
)
def test_check_constraints(
    conn: psycopg.Connection[Any], fields: dict[str, Any], constraint: str
) -> None:
    base: dict[str, Any] = {"email": "ok@example.com", "username": "okuser"}
    with pytest.raises(InvalidData) as caught:
        users.create(conn, **(base | fields))
    assert caught.value.constraint == constraint
    assert caught.value.table == "users"
    assert count(conn) == 0


def test_nul_byte_names_the_field(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(InvalidData) as caught:
        users.create(conn, email="a@b.io", username="nul", display_name="bad\x00name")
    assert caught.value.column == "display_name"
    assert caught.value.__cause__ is None  # refused at the call: nothing was sent
    assert count(conn) == 0


def test_preferences_must_be_an_object(conn: psycopg.Connection[Any]) -> None:
    user = make(conn)
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute("UPDATE users SET preferences = '[1]' WHERE id = %s", [user.id])
    assert caught.value.diag.constraint_name == "users_preferences_is_object"


def test_password_round_trip_and_authenticate(conn: psycopg.Connection[Any]) -> None:
    user = make(conn, password="s3cret-pass")
    assert user.check_password("s3cret-pass")
    assert not user.check_password("wrong-pass")
    signed_in = users.authenticate(conn, "USER0@example.com", "s3cret-pass")
    assert signed_in is not None and signed_in.last_login_at is not None
    assert users.authenticate(conn, "user0", "wrong-pass") is None
    assert users.authenticate(conn, "nobody", "s3cret-pass") is None
    users.set_password(conn, user.id, "another-pass")
    assert users.authenticate(conn, "user0", "s3cret-pass") is None
    assert users.authenticate(conn, "user0", "another-pass") is not None


def test_short_password_rejected_before_writing(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(InvalidData) as caught:
        make(conn, password="short")
    assert caught.value.column == "password"
    assert count(conn) == 0


def test_suspended_or_deleted_users_cannot_sign_in(conn: psycopg.Connection[Any]) -> None:
    user = make(conn, password="s3cret-pass")
    users.update(conn, user.id, status="suspended")
    assert users.authenticate(conn, "user0", "s3cret-pass") is None
    users.update(conn, user.id, status="active")
    users.soft_delete(conn, user.id)
    assert users.get(conn, user.id).status == "deleted"
    assert users.authenticate(conn, "user0", "s3cret-pass") is None


def test_to_dict_never_includes_the_hash(conn: psycopg.Connection[Any]) -> None:
    user = make(conn, password="s3cret-pass")
    data = user.to_dict()
    assert "password_hash" not in data
    assert user.password_hash is not None
    assert user.password_hash not in repr(user)
    assert data["id"] == str(user.id) and data["email"] == user.email


def test_partial_update_moves_updated_at(conn: psycopg.Connection[Any]) -> None:
    user = make(conn, display_name="Before")
    time.sleep(0.01)
    changed = users.update(conn, user.id, preferences={"theme": "dark"})
    assert changed.display_name == "Before"  # untouched
    assert changed.preferences == {"theme": "dark"}
    assert changed.updated_at > user.updated_at
    cleared = users.update(conn, user.id, display_name=None)
    assert cleared.display_name is None and cleared.preferences == {"theme": "dark"}
    with pytest.raises(InvalidData) as caught:
        users.update(conn, user.id, status="banned")
    assert caught.value.constraint == "users_status_valid"
    assert users.get(conn, user.id) == cleared  # nothing written, updated_at unmoved


def test_missing_user_is_not_found(conn: psycopg.Connection[Any]) -> None:
    import uuid

    missing = uuid.uuid4()
    for call in (
        lambda: users.get(conn, missing),
        lambda: users.get_by_email(conn, "none@example.com"),
        lambda: users.update(conn, missing, display_name="x"),
        lambda: users.hard_delete(conn, missing),
        lambda: users.soft_delete(conn, missing),
        lambda: users.set_password(conn, missing, "long enough"),
    ):
        with pytest.raises(NotFound):
            call()


def test_hard_delete_removes_the_row(conn: psycopg.Connection[Any]) -> None:
    user = make(conn)
    users.hard_delete(conn, user.id)
    assert count(conn) == 0


def test_keyset_pages_cover_every_user_once_while_inserting(
    conn: psycopg.Connection[Any],
) -> None:
    for n in range(23):
        make(conn, n)
    seen: list[str] = []
    page: Page[users.User] = users.list_page(conn, limit=5)
    extra = 100
    while True:
        seen += [u.username for u in page.items]
        make(conn, extra)  # rows arriving during the walk land after the cursor
        extra += 1
        if page.next_cursor is None:
            break
        page = users.list_page(conn, cursor=page.next_cursor, limit=5)
    assert len(seen) == len(set(seen))
    assert {f"user{n}" for n in range(23)} <= set(seen)


def test_bad_cursor_and_limit(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(InvalidData) as caught:
        users.list_page(conn, cursor="garbage!")
    assert caught.value.column == "cursor"
    with pytest.raises(InvalidData):
        users.list_page(conn, limit=0)
    forged = encode_cursor(["2030-01-01T00:00:00+00:00", 5])  # an id that is a number
    with pytest.raises(InvalidData) as caught:
        users.list_page(conn, cursor=forged)
    assert caught.value.column == "cursor"


def test_only_argon2id_hashes_are_stored(conn: psycopg.Connection[Any]) -> None:
    user = make(conn)
    for bad in ("5e884898da28047151d0e56f8dc6292773603d0d", "$scrypt$ln=14,r=8,p=1$x$y"):
        with pytest.raises(psycopg.errors.CheckViolation) as caught:
            conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", [bad, user.id])
        assert caught.value.diag.constraint_name == "users_password_hash_format"


def test_sign_in_upgrades_an_outdated_hash(conn: psycopg.Connection[Any]) -> None:
    from dal import passwords

    user = make(conn, password="s3cret-pass")
    assert user.password_hash is not None
    passwords.set_cost(time_cost=2, memory_cost_kib=2048)
    try:
        signed_in = users.authenticate(conn, "user0", "s3cret-pass")
        stored = users.get(conn, user.id).password_hash
    finally:
        passwords.set_cost(time_cost=1, memory_cost_kib=1024)  # the suite's cost (fix_db)
    assert signed_in is not None
    assert stored is not None
    assert stored != user.password_hash
    assert "m=2048,t=2" in stored
    assert users.authenticate(conn, "user0", "s3cret-pass") is not None


def test_the_async_run_goes_through_dal_aio(conn: psycopg.Connection[Any]) -> None:
    """The harness itself (tests/flavoured.py): in the async run, calls are awaited
    on an async twin of `conn`, and the rows they return are the shared row types."""
    from dal.rows.users import User
    from tests import flavoured

    made = users.create(conn, email="twin@example.com", username="twin")
    assert type(made) is User and users.get(conn, made.id) == made
    if flavoured.current is not None:
        assert flavoured.current.calls == 2
        assert any(isinstance(t, psycopg.AsyncConnection) for t in flavoured.current.twins.values())


def test_the_default_cost_is_at_least_owasps_minimum() -> None:
    """OWASP's password storage cheat sheet: argon2id with at least 19 MiB of memory and
    2 iterations (or more memory for fewer). The suite lowers the cost for speed
    (fix_db); a fresh hasher has argon2-cffi's default, RFC 9106's low-memory profile."""
    from argon2 import PasswordHasher, Type

    default = PasswordHasher()
    assert default.type is Type.ID
    assert default.memory_cost >= 19 * 1024
    assert default.time_cost >= 2


def test_an_unknown_login_costs_one_argon2_verification_as_a_known_one_does(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    from dal import passwords

    make(conn, password="s3cret-pass")
    checked: list[str | bytes] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(hash)
            return super().verify(hash, password)

    now = passwords._kdf.hasher
    counting = Counting(time_cost=now.time_cost, memory_cost=now.memory_cost, parallelism=1)
    monkeypatch.setattr(passwords._kdf, "hasher", counting)
    assert users.authenticate(conn, "nobody-here", "s3cret-pass") is None
    assert users.authenticate(conn, "user0", "wrong-pass!") is None
    assert len(checked) == 2  # one argon2 run each: a miss is not answered faster
    assert checked[0] == passwords._kdf.dummy_hash
