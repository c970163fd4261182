"""The committed snapshot sql/schema.sql equals the catalog built by the migrations."""

from __future__ import annotations

from pathlib import Path

from dal import schema


def test_migrated_catalog_equals_the_committed_snapshot(db_url: str) -> None:
    difference = schema.diff(db_url)
    assert difference == "", (
        "sql/schema.sql is stale: run `dal schema dump` and commit it\n" + difference
    )


def test_diff_reports_a_stale_snapshot(db_url: str, tmp_path: Path) -> None:
    stale = tmp_path / "schema.sql"
    stale.write_text(schema.snapshot_path().read_text().replace("users", "people", 1))
    difference = schema.diff(db_url, stale).splitlines()
    # Exactly the edited line, removed from the snapshot's side and added as it is live.
    changed = [line for line in difference if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert len(changed) == 2, changed
    removed, added = sorted(changed, key=lambda line: line[0] != "-")
    assert removed.startswith("-") and "people" in removed
    assert added.startswith("+") and added[1:] == removed[1:].replace("people", "users", 1)


def test_normalise_drops_what_varies() -> None:
    raw = (
        "--\n-- PostgreSQL database dump\n--\n\\restrict abc123\nSET statement_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n\n\n"
        "CREATE TABLE public.t (\n    id integer\n);\n"
        "ALTER TABLE ONLY public.t ALTER COLUMN id SET (pg_attver=1234);\n\n\n\\unrestrict abc123\n"
    )
    assert schema.normalise(raw) == "CREATE TABLE public.t (\n    id integer\n);\n"


def test_named_not_null_constraints_are_normalised() -> None:
    pg18 = "CREATE TABLE t (\n    id bigint CONSTRAINT t_id_not_null NOT NULL\n);\n"
    assert schema.normalise(pg18) == "CREATE TABLE t (\n    id bigint NOT NULL\n);\n"
