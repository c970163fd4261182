"""Seed profiles: deterministic, valid against every constraint, resettable."""

from __future__ import annotations

import os
import random
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dal import seed
from dal.errors import DalError, InvalidData
from dal.migrate import BOOKKEEPING_TABLES
from dal.seed.context import Context
from dal.testing import create_database, drop_database
from tests.factories import count as rows


def fingerprint(conn: psycopg.Connection[Any], table: str) -> str:
    row = conn.execute(
        sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t").format(
            sql.Identifier(table)
        )
    ).fetchone()
    assert row is not None
    return str(row[0])


def schema_tables(conn: psycopg.Connection[Any]) -> set[str]:
    """Every table of the schema, from the catalog: partitioned parents, not partitions."""
    found = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"""
    ).fetchall()
    return {name for (name,) in found}


def test_small_profile_loads_every_table(conn: psycopg.Connection[Any]) -> None:
    counts = seed.seed(conn, "small", progress=False)
    profile = seed.PROFILES["small"]
    assert counts["users"] == profile.users
    for table, count in counts.items():
        assert rows(conn, table) == count, table
        assert count > 0, f"{table} got no rows"
    tables = schema_tables(conn)
    assert set(BOOKKEEPING_TABLES) <= tables  # the migration bookkeeping is really there
    assert set(counts) == tables - set(BOOKKEEPING_TABLES)


SHARES = """
WITH per_user AS (
    SELECT u.id, count(x.{column}) AS n
      FROM users u LEFT JOIN {table} x ON x.{column} = u.id
     GROUP BY u.id),
ranked AS (
    SELECT n, row_number() OVER (ORDER BY n DESC, id) AS rank, count(*) OVER () AS users,
           sum(n) OVER () AS total
      FROM per_user)
SELECT sum(n) FILTER (WHERE rank <= ceil(users * 0.05))::float8 / max(total),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n) / (max(total)::float8 / max(users))
  FROM ranked
"""


def test_seeded_tasks_and_moods_are_skewed(conn: psycopg.Connection[Any]) -> None:
    """A few heavy users, most light: measured on the rows in the database."""
    seed.seed(conn, "small", progress=False)
    for table, column in (("tasks", "owner_id"), ("moods", "user_id")):
        query = sql.SQL(SHARES).format(table=sql.Identifier(table), column=sql.Identifier(column))
        row = conn.execute(query).fetchone()
        assert row is not None
        top_share, median_to_mean = row
        assert top_share >= 0.4, f"the top 5% of users own only {top_share:.0%} of {table}"
        assert median_to_mean <= 0.5, (
            f"{table}: the median user has {median_to_mean:.0%} of the mean"
        )


def test_same_seed_same_rows(
    conn: psycopg.Connection[Any], pg_admin: str, template_db: str
) -> None:
    seed.seed(conn, "dev", seed=7, progress=False)
    twin = f"dal_seed_twin_{os.getpid()}"
    other_url = create_database(pg_admin, twin, template=template_db)
    try:
        with psycopg.connect(other_url, autocommit=True) as other:
            seed.seed(other, "dev", seed=7, progress=False)
            for table in seed.table_names(conn):
                assert fingerprint(conn, table) == fingerprint(other, table), table
            seed.reset(other)
            seed.seed(other, "dev", seed=8, progress=False)
            assert fingerprint(conn, "users") != fingerprint(other, "users")
    finally:
        drop_database(pg_admin, twin)


def test_reset_empties_and_seeding_twice_is_refused(conn: psycopg.Connection[Any]) -> None:
    seed.seed(conn, "dev", progress=False)
    with pytest.raises(DalError, match="already holds users"):
        seed.seed(conn, "dev", progress=False)
    emptied = seed.reset(conn)
    assert "users" in emptied
    for table in emptied:
        assert rows(conn, table) == 0


def test_unknown_profile_is_invalid(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(InvalidData, match="unknown seed profile"):
        seed.seed(conn, "huge", progress=False)


def test_skew_gives_a_few_heavy_users() -> None:
    profile = seed.Profile("t", users=1000, projects=1, tasks=1, moods=1, servers=1, events=1)
    counts = Context(profile, 1).split(100_000, 1000, random.Random(1))
    assert sum(counts) == 100_000
    top = sorted(counts, reverse=True)
    assert sum(top[:10]) > 0.25 * 100_000  # 1% of users own over a quarter
    assert top[len(top) // 2] < 100  # the median user is light
