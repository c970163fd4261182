"""App config, feature flags with deterministic rollout, user settings with defaults."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from dal import InvalidData, NotFound, ReferenceMissing
from tests.community_helpers import count, user
from tests.flavoured import config_store as cfg

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def test_config_get_set_delete(conn: Conn) -> None:
    entry = cfg.set(
        conn,
        "mail.sender",
        {"name": "Team", "address": "team@example.com"},
        description="From header",
    )
    assert cfg.get(conn, "mail.sender") == {"name": "Team", "address": "team@example.com"}
    changed = cfg.set(conn, "mail.sender", "noreply@example.com")
    assert (changed.value, changed.description) == ("noreply@example.com", "From header")
    assert changed.updated_at >= entry.updated_at
    cfg.set(conn, "limits.upload_mb", 25)
    assert [e.key for e in cfg.all_entries(conn)] == ["limits.upload_mb", "mail.sender"]
    cfg.delete(conn, "mail.sender")
    with pytest.raises(NotFound):
        cfg.get(conn, "mail.sender")
    with pytest.raises(NotFound):
        cfg.delete(conn, "mail.sender")
    assert cfg.get_or(conn, "mail.sender", None) is None
    with pytest.raises(InvalidData) as caught:
        cfg.set(conn, "Bad Key!", 1)
    assert caught.value.constraint == "app_config_key_format"
    assert count(conn, "app_config") == 1


def test_get_entry(conn: Conn) -> None:
    made = cfg.set(conn, "site.name", "Community", description="Shown in the header")
    entry = cfg.get_entry(conn, "site.name")
    assert entry == made
    assert (entry.key, entry.value, entry.description) == (
        "site.name",
        "Community",
        "Shown in the header",
    )
    with pytest.raises(NotFound) as caught:
        cfg.get_entry(conn, "site.missing")
    assert caught.value.table == "app_config"


def test_flag_constraints(conn: Conn) -> None:
    for pct in (-1, 101):
        with pytest.raises(InvalidData) as caught:
            cfg.set_flag(conn, "new-ui", enabled=True, rollout_percentage=pct)
        assert caught.value.constraint == "feature_flags_rollout_percentage_range"
    with pytest.raises(InvalidData) as name:
        cfg.set_flag(conn, "New UI", enabled=True)
    assert name.value.constraint == "feature_flags_name_format"
    assert count(conn, "feature_flags") == 0


def test_rollout_is_deterministic_and_monotonic(conn: Conn) -> None:
    people = [UUID(int=i * 7919 + 1) for i in range(400)]
    assert not cfg.is_enabled(conn, "unknown", people[0])
    cfg.set_flag(conn, "new-ui", enabled=True, rollout_percentage=0)
    assert not any(cfg.is_enabled(conn, "new-ui", p) for p in people)
    previous: set[UUID] = set()
    for pct in (10, 25, 50, 100):
        cfg.set_flag(conn, "new-ui", enabled=True, rollout_percentage=pct)
        on = {p for p in people if cfg.is_enabled(conn, "new-ui", p)}
        assert on == {p for p in people if cfg.is_enabled(conn, "new-ui", p)}  # same answer
        assert previous <= on  # raising the percentage only adds users
        assert abs(len(on) - 4 * pct) <= 40  # roughly pct% of 400
        previous = on
    assert len(previous) == 400
    cfg.set_flag(conn, "new-ui", enabled=False, rollout_percentage=100)
    assert not any(cfg.is_enabled(conn, "new-ui", p) for p in people)
    # The bucket is a pure function of (flag, user): fixed across processes and servers.
    assert cfg.bucket("new-ui", UUID(int=1)) == cfg.bucket("new-ui", UUID(int=1))
    # Each flag picks its own half of the users, not always the same people.
    assert {p for p in people if cfg.bucket("a", p) < 50} != {
        p for p in people if cfg.bucket("b", p) < 50
    }
    assert cfg.get_flag(conn, "new-ui").rollout_percentage == 100
    cfg.delete_flag(conn, "new-ui")
    with pytest.raises(NotFound):
        cfg.get_flag(conn, "new-ui")


# Known buckets, so a change of the hash scheme (and with it every user's rollout) fails here.
# bucket = int.from_bytes(sha256(f"{flag}:{user_id}")[:8], "big") % 100; checked
# independently of the DAL with e.g. `printf %s new-ui:00000000-0000-0000-0000-000000000001
# | sha256sum`, whose first 16 hex digits are the 8 bytes read big-endian.
@pytest.mark.parametrize(
    ("flag", "user_id", "expected"),
    [
        # c81085003838f23d = 14416168643202708029, mod 100 = 29
        ("new-ui", UUID(int=1), 29),
        # 95fc4e8ef8b0e854 = 10807599581747013716, mod 100 = 16
        ("new-ui", UUID("12345678-1234-5678-1234-567812345678"), 16),
        # aa70ef9e2462af35 = 12281579646333660981, mod 100 = 81: another flag, another bucket
        ("checkout-v2", UUID(int=1), 81),
    ],
)
def test_rollout_bucket_is_pinned(flag: str, user_id: UUID, expected: int) -> None:
    assert cfg.bucket(flag, user_id) == expected


def test_rollout_admits_a_user_once_the_percentage_passes_their_bucket(conn: Conn) -> None:
    person = UUID(int=1)  # bucket 29 for "new-ui" (pinned above): in when bucket < percentage
    cfg.set_flag(conn, "new-ui", enabled=True, rollout_percentage=29)
    assert not cfg.is_enabled(conn, "new-ui", person)
    cfg.set_flag(conn, "new-ui", enabled=True, rollout_percentage=30)
    assert cfg.is_enabled(conn, "new-ui", person)


def test_user_settings_fall_back_to_defaults(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    cfg.set(conn, "user.theme", "light")
    cfg.set(conn, "user.digest", {"daily": True})
    cfg.set(conn, "site.name", "Community")  # not a user default
    assert cfg.get_user_setting(conn, person.id, "theme") == cfg.Setting("theme", "light", True)
    cfg.set_user_setting(conn, person.id, "theme", "dark")
    cfg.set_user_setting(conn, person.id, "language", "fr")
    assert cfg.get_user_setting(conn, person.id, "theme") == cfg.Setting("theme", "dark", False)
    assert cfg.get_user_setting(conn, other.id, "theme").value == "light"
    assert cfg.user_settings(conn, person.id) == [
        cfg.Setting("digest", {"daily": True}, True),
        cfg.Setting("language", "fr", False),
        cfg.Setting("theme", "dark", False),
    ]
    cfg.reset_user_setting(conn, person.id, "theme")
    assert cfg.get_user_setting(conn, person.id, "theme").is_default
    with pytest.raises(NotFound):
        cfg.get_user_setting(conn, person.id, "missing")
    with pytest.raises(NotFound):
        cfg.reset_user_setting(conn, person.id, "theme")
    with pytest.raises(ReferenceMissing) as caught:
        cfg.set_user_setting(conn, uuid4(), "theme", "dark")
    assert caught.value.constraint == "user_settings_user_id_fkey"
    with pytest.raises(InvalidData) as key:
        cfg.set_user_setting(conn, person.id, "Theme!", "dark")
    assert key.value.constraint == "user_settings_key_format"
    assert count(conn, "user_settings") == 1


def test_a_description_is_kept_unless_given_and_none_clears_it(conn: Conn) -> None:
    cfg.set(conn, "site.name", "Community", description="Shown in the header")
    assert cfg.set(conn, "site.name", "Club").description == "Shown in the header"
    assert cfg.set(conn, "site.name", "Club", description=None).description is None
    assert cfg.set(conn, "site.fresh", 1).description is None
    cfg.set_flag(conn, "new-ui", enabled=False, description="The redesign")
    assert cfg.set_flag(conn, "new-ui", enabled=True).description == "The redesign"
    assert cfg.set_flag(conn, "new-ui", enabled=True, description=None).description is None
