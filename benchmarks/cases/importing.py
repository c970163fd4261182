"""Plan checks of the importer's queries (sql/importing.sql).

The batch writes find a project's tasks by key from unnest'ed arrays: each key must be
an index probe into tasks_project_id_key_key, never a hash join over a Seq Scan of
tasks. Their cases send BATCH keys of a big project, as a re-import of a large
tasks.json does; like every write case they run in a transaction rolled back.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.cases.base import Case

BATCH = 50  # tasks (or dependency edges) per statement


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """A project with many keyed tasks, its owner and name, and batches of its keys."""
    row = conn.execute(
        """SELECT p.id, p.owner_id, p.name FROM projects p
            WHERE p.id = (SELECT project_id FROM tasks WHERE project_id IS NOT NULL
                           GROUP BY project_id ORDER BY count(*) DESC, project_id
                           LIMIT 1 OFFSET 4)"""
    ).fetchone()
    assert row is not None
    project = row[0]
    # Existing tasks spread over the project (ordered by id, a random order of keys).
    existing = conn.execute(
        """SELECT t.key, p.key FROM tasks t LEFT JOIN tasks p ON p.id = t.parent_id
            WHERE t.project_id = %s AND t.key IS NOT NULL ORDER BY t.id LIMIT %s""",
        [project, BATCH],
    ).fetchall()
    top = [
        r[0]
        for r in conn.execute(
            """SELECT key FROM tasks WHERE project_id = %s AND parent_id IS NULL
                AND key ~ '^[0-9]+$' ORDER BY key::int""",
            [project],
        )
    ]
    edges = conn.execute(
        """SELECT t.key, d.key FROM task_dependencies e
             JOIN tasks t ON t.id = e.task_id JOIN tasks d ON d.id = e.depends_on_id
            WHERE e.project_id = %s AND t.key IS NOT NULL AND d.key IS NOT NULL
            ORDER BY e.task_id, e.depends_on_id""",
        [project],
    ).fetchall()
    assert len(existing) == BATCH and len(top) > 2 * BATCH and len(edges) >= BATCH, project
    # New edges: a later top-level task depends on an earlier one (no cycle), not yet there.
    have = {(a, b) for a, b in edges}
    step = len(top) // BATCH
    fresh = [
        (top[i], top[i - gap])
        for gap in (step, step + 3, step + 7)
        for i in range(gap, len(top), step)
        if (top[i], top[i - gap]) not in have
    ][:BATCH]
    assert len(fresh) == BATCH, project
    # New tasks: half top-level after the last key, half subtasks of existing tasks.
    half = BATCH // 2
    new_top = [str(int(top[-1]) + n) for n in range(1, half + 1)]
    parents = top[::step][: BATCH - half]
    return {
        "import_project": project,
        "import_owner": row[1],
        "import_name": row[2],
        "import_new": [(key, None) for key in new_top] + [(f"{p}.99", p) for p in parents],
        "import_existing": [(r[0], r[1]) for r in existing],
        "import_new_edges": fresh,
        "import_edges": [(r[0], r[1]) for r in edges[:: max(1, len(edges) // BATCH)][:BATCH]],
    }


def _tasks(pairs: list[tuple[str, str | None]]) -> dict[str, list[Any]]:
    """The arrays importing.insert_tasks / update_tasks take, as dal.importers.apply builds."""
    return {
        "keys": [key for key, _ in pairs],
        "parent_keys": [parent for _, parent in pairs],
        "titles": [f"Imported task {key}" for key, _ in pairs],
        "descriptions": [None for _ in pairs],
        "statuses": ["pending" for _ in pairs],
        "priorities": ["medium" for _ in pairs],
        "data": [Jsonb({"taskmaster": {"id": key}}) for key, _ in pairs],
    }


def _edges(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    return {"task_keys": [a for a, _ in pairs], "depends_on_keys": [b for _, b in pairs]}


BY_KEY = "tasks_project_id_key_key"
EDGE = "task_dependencies_pkey|task_dependencies_depends_on_id_idx"  # either finds (task, on)

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
    "importing.insert_tasks": Case(
        lambda s: (
            {"owner_id": s["import_owner"], "project_id": s["import_project"]}
            | _tasks(s["import_new"])
        ),
        (BY_KEY,),
        2000,  # 50 new rows, each into the heap and every index of tasks; a probe per parent
    ),
    "importing.update_tasks": Case(
        lambda s: {"project_id": s["import_project"]} | _tasks(s["import_existing"]),
        (BY_KEY,),
        3000,  # 50 key probes (and parents'), 50 new row versions with their index entries
    ),
    "importing.insert_dependencies": Case(
        lambda s: {"project_id": s["import_project"]} | _edges(s["import_new_edges"]),
        (BY_KEY,),
        1500,  # two key probes per edge, then the row, its indexes and its trigger's probe
    ),
    "importing.delete_dependencies": Case(
        lambda s: {"project_id": s["import_project"]} | _edges(s["import_edges"]),
        (BY_KEY, EDGE),
        1000,  # two key probes and one edge probe per pair
    ),
    "importing.delete_tasks": Case(
        lambda s: {"project_id": s["import_project"], "keys": [k for k, _ in s["import_existing"]]},
        (BY_KEY,),
        # a key probe and a heap page per key, 3-6 buffers (more after earlier rolled-back
        # writes); the cascades to subtasks and edges run as triggers, outside the plan
        600,
    ),
}

PENDING = (
    "runs only in imports that name tasks the project lacks; the data set holds no such "
    "dependency, and task_pending_dependencies_project_id_depends_on_key_idx serves it"
)

EXEMPT: dict[str, str] = {
    "importing.lock_project_name": "an advisory lock: reads no table",
    "importing.pending_for_project": PENDING,
    "importing.keep_pending": PENDING,
    "importing.resolve_pending": PENDING,
}
