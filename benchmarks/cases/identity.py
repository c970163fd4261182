"""Plan checks of the users queries."""

from __future__ import annotations

from typing import Any

import psycopg

from benchmarks.cases.base import Case, same


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """An active user from the middle of the sign-up order."""
    row = conn.execute(
        """SELECT id, email, username, created_at, password_hash
             FROM users WHERE status = 'active' ORDER BY created_at LIMIT 1 OFFSET 10"""
    ).fetchone()
    linked = conn.execute(
        """SELECT (SELECT max(github_id) FROM users), (SELECT max(gitlab_id) FROM users)"""
    ).fetchone()
    assert row is not None and linked is not None
    return {
        "github_id": linked[0],
        "gitlab_id": linked[1],
        "user_id": row[0],
        "user_email": row[1],
        "username": row[2],
        "user_created_at": row[3],
        "password_hash": row[4],
    }


CASES: dict[str, Case] = {
    # users: point lookups and keyset pages
    "users.get_by_id": Case(lambda s: {"id": s["user_id"]}, ("users_pkey",), 8),
    "users.get_many": Case(lambda s: {"ids": [s["user_id"]]}, ("users_pkey",), 8),
    "users.get_by_email": Case(
        lambda s: {"email": s["user_email"].upper()}, ("users_email_lower_key",), 8
    ),
    "users.get_by_username": Case(
        lambda s: {"username": s["username"]}, ("users_username_lower_key",), 8
    ),
    "users.get_by_github_id": Case(
        lambda s: {"github_id": s["github_id"]}, ("users_github_id_key",), 8
    ),
    "users.get_by_gitlab_id": Case(
        lambda s: {"gitlab_id": s["gitlab_id"]}, ("users_gitlab_id_key",), 8
    ),
    "users.get_by_login": Case(
        lambda s: {"login": s["username"]},
        ("users_email_lower_key", "users_username_lower_key"),
        12,
    ),
    "users.update": Case(
        lambda s: {
            "id": s["user_id"],
            **{
                f"set_{f}": False
                for f in (
                    "email",
                    "username",
                    "display_name",
                    "preferences",
                    "status",
                    "github_id",
                    "gitlab_id",
                )
            },
            **dict.fromkeys(
                (
                    "email",
                    "username",
                    "display_name",
                    "preferences",
                    "status",
                    "github_id",
                    "gitlab_id",
                )
            ),
        },
        ("users_pkey",),
        80,  # an UPDATE also writes every index entry of the new row version
    ),
    "users.set_password_hash": Case(
        lambda s: {"id": s["user_id"], "password_hash": s["password_hash"]}, ("users_pkey",), 80
    ),
    "users.touch_last_login": Case(lambda s: {"id": s["user_id"]}, ("users_pkey",), 80),
    "users.soft_delete": Case(lambda s: {"id": s["user_id"]}, ("users_pkey",), 80),
    "users.list_first_page": Case(
        same({"statuses": ["active", "suspended"], "limit": 51}), ("users_created_at_id_idx",), 64
    ),
    "users.list_page_after": Case(
        lambda s: {
            "after_created_at": s["user_created_at"],
            "after_id": s["user_id"],
            "statuses": ["active", "suspended"],
            "limit": 51,
        },
        ("users_created_at_id_idx",),
        64,  # 51 rows from the heap, one page each at worst, plus the index path
    ),
}

EXEMPT: dict[str, str] = {
    "users.insert": "a single-row INSERT: no read path to plan",
    "users.hard_delete": "deletes by primary key; its cost is the cascades, measured elsewhere",
    "users.count_all": "the health report counts whole tables on purpose",
    # The task-file importer runs once per file, keyed by project (tasks_project_id_key_key);
    # its speed is asserted by tests/test_import_db.py on a real 561-task file.
}
