"""Plan checks of the configuration queries.

app_config and feature_flags are small by nature: a fixed catalogue of settings
and flags (17 and 8 rows whatever the profile, a single page each) that does not
grow with users or activity, so their queries are exempt. user_settings grows
with users and is checked.
"""

from __future__ import annotations

from typing import Any

import psycopg

from benchmarks.cases.base import Case


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The user with the most settings of their own, and one of those keys."""
    row = conn.execute(
        """SELECT user_id, min(key) FROM user_settings
            GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1"""
    ).fetchone()
    assert row is not None
    return {"config_user_id": row[0], "config_key": row[1]}


def _setting(s: Any) -> dict[str, Any]:
    return {"user_id": s["config_user_id"], "key": s["config_key"]}


TINY = "app_config/feature_flags are a small fixed catalogue (one page), not growing data"

CASES: dict[str, Case] = {
    "config.get_user_setting": Case(_setting, ("user_settings_pkey",), 8),
    "config.delete_user_setting": Case(_setting, ("user_settings_pkey",), 24),
    "config.list_user_settings": Case(
        lambda s: {"user_id": s["config_user_id"]},
        ("user_settings_pkey",),
        # the user's own values by key prefix, the one page of app_config, and a key
        # probe per "user.*" default
        40,
    ),
}

EXEMPT: dict[str, str] = {
    "transactions.current_id": "reads no table: the open transaction's id",
    "transactions.status": "reads no table: the commit log, by transaction id",
    "transactions.set_acting_user": "reads no table: sets a transaction-local setting",
    "transactions.wal_position": "reads no table: the end of the primary's WAL",
    "transactions.replay_position": "reads no table: a replica's replay position and lag",
    "config.get": TINY,
    "config.upsert": TINY,
    "config.delete": TINY,
    "config.list_all": TINY,
    "config.get_flag": TINY,
    "config.upsert_flag": TINY,
    "config.delete_flag": TINY,
    "config.upsert_user_setting": "a single-row INSERT ... ON CONFLICT: no read path to plan",
}
