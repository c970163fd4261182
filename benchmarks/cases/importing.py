"""Plan checks of the importer's queries (sql/importing.sql)."""

from __future__ import annotations

from typing import Any

import psycopg

from benchmarks.cases.base import Case


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """A project with many keyed tasks, and its owner and name."""
    row = conn.execute(
        """SELECT p.id, p.owner_id, p.name FROM projects p
            WHERE p.id = (SELECT project_id FROM tasks WHERE project_id IS NOT NULL
                           GROUP BY project_id ORDER BY count(*) DESC, project_id
                           LIMIT 1 OFFSET 4)"""
    ).fetchone()
    assert row is not None
    return {"import_project": row[0], "import_owner": row[1], "import_name": row[2]}


CASES: dict[str, Case] = {
    "importing.find_projects": Case(
        lambda s: {"owner_id": s["import_owner"], "name": s["import_name"]},
        ("projects_owner_id_created_at_idx",),
        16,
    ),
    "importing.project_tasks": Case(
        lambda s: {"project_id": s["import_project"]},
        ("tasks_project_id_key_key", "task_dependencies_project_id_idx"),
        6000,  # reads the whole project once per import, on purpose
        max_sort_rows=3000,  # groups the project's dependency edges by task: no order to reuse
    ),
}

EXEMPT: dict[str, str] = {
    "importing.lock_project_name": "an advisory lock: reads no table",
    "importing.insert_tasks": "a batch INSERT of the file's new tasks (parents found by key)",
    "importing.update_tasks": "a batch UPDATE by primary key, once per file",
    "importing.insert_dependencies": "a batch INSERT of the file's new edges",
    "importing.delete_dependencies": "a batch DELETE by primary key, once per file",
    "importing.delete_tasks": "only with --prune: a batch DELETE by primary key",
}
