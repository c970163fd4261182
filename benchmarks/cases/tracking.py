"""Plan checks of projects, categories, tasks, dependencies and sync history."""

from __future__ import annotations

from typing import Any

import psycopg

from benchmarks.cases.base import Case, one


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """A heavy (not the heaviest) task owner, a big project, a dependency edge, a synced project."""
    (owner,) = one(
        conn,
        "SELECT owner_id FROM tasks GROUP BY owner_id ORDER BY count(*) DESC, owner_id "
        "LIMIT 1 OFFSET 4",
    )
    task_id, project_id = one(
        conn,
        "SELECT id, project_id FROM tasks WHERE owner_id = %s AND project_id IS NOT NULL "
        "ORDER BY id LIMIT 1",
        [owner],
    )
    (big_project,) = one(
        conn,
        "SELECT project_id FROM tasks WHERE project_id IS NOT NULL GROUP BY project_id "
        "ORDER BY count(*) DESC, project_id LIMIT 1 OFFSET 4",
    )
    dep_task, dep_on = one(
        conn, "SELECT task_id, depends_on_id FROM task_dependencies ORDER BY 1, 2 LIMIT 1"
    )
    category_id, category_owner = one(
        conn,
        "SELECT c.id, c.owner_id FROM categories c WHERE c.owner_id = %s ORDER BY c.id LIMIT 1",
        [owner],
    )
    member, member_project = one(
        conn,
        # busy, not the busiest; a project where they are no owner, whose membership
        # the member-management queries then really change
        "SELECT user_id, min(project_id::text) FILTER (WHERE role <> 'owner')::uuid"
        "  FROM project_members GROUP BY user_id HAVING bool_or(role <> 'owner')"
        " ORDER BY count(*) DESC, user_id LIMIT 1 OFFSET 20",
    )
    # page cursors a little way into the member's projects and the big project's members
    member_project_after = one(
        conn,
        "SELECT created_at, project_id FROM project_members WHERE user_id = %s"
        " ORDER BY created_at, project_id OFFSET 2 LIMIT 1",
        [member],
    )
    project_member_after = one(
        conn,
        "SELECT created_at, user_id FROM project_members WHERE project_id = %s"
        " ORDER BY created_at, user_id LIMIT 1",
        [big_project],
    )
    sync_project, sync_id, sync_started = one(
        conn,
        "SELECT project_id, max(id), max(started_at) FROM sync_history GROUP BY project_id "
        "ORDER BY count(*) DESC, project_id LIMIT 1",
    )
    projects = [r[0] for r in conn.execute("SELECT id FROM projects ORDER BY id LIMIT 20")]
    return {
        "task_owner": owner,
        "task_id": task_id,
        "task_project": project_id,
        "big_project": big_project,
        "dep_task": dep_task,
        "dep_on": dep_on,
        "category_id": category_id,
        "category_owner": category_owner,
        "member": member,
        "member_project": member_project,
        "member_project_after": member_project_after,
        "project_member_after": project_member_after,
        "sync_project": sync_project,
        "sync_id": sync_id,
        "sync_started": sync_started,
        "some_projects": projects,
    }


def _unset(*fields: str) -> dict[str, Any]:
    """Parameters of a partial UPDATE that changes nothing (set_<field> false)."""
    return {f"set_{f}": False for f in fields} | dict.fromkeys(fields)


_TASK_FIELDS = (
    "key",
    "category_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "data",
)
WRITE = 80  # an UPDATE or DELETE also touches every index of the row
TASK_UPDATE = 120
# Composite foreign keys need unique (id, x) keys beside the primary key; for
# `WHERE id = ...` the planner may take either, at the same cost.
TASK_BY_ID = "tasks_pkey|tasks_id_project_id_key"
CATEGORY_BY_ID = "categories_pkey|categories_id_owner_id_key"
MEMBER_PAGE = "project_members_user_id_created_at_idx"
PROJECT_MEMBERS = "project_members_project_id_created_at_idx"
JOIN_PAGE = 200  # a page of 51 rows, each joined by a key probe (three buffers or four)
EDGE = "task_dependencies_pkey|task_dependencies_depends_on_id_idx"

CASES: dict[str, Case] = {
    # projects and members
    "projects.get_by_id": Case(lambda s: {"id": s["big_project"]}, ("projects_pkey",), 8),
    "projects.get_many": Case(lambda s: {"ids": [s["big_project"]]}, ("projects_pkey",), 8),
    "projects.update": Case(
        lambda s: {"id": s["big_project"]} | _unset("name", "git_url"), ("projects_pkey",), WRITE
    ),
    "projects.delete": Case(lambda s: {"id": s["big_project"]}, ("projects_pkey",), WRITE),
    "projects.list_for_user_first_page": Case(
        lambda s: {"user_id": s["member"], "limit": 51},
        (MEMBER_PAGE,),
        # The page of memberships index-only and in order, then its projects: by a key
        # probe per row (three buffers each; 156 at `large`, for the member in 86
        # projects), or read whole by a hash join while the table is small.
        JOIN_PAGE,
        max_sort_rows=51,  # after a hash join, the page itself (51 rows) sorted again
        # The policies read the acting user's projects once (dal_projects): 198 there.
        rls_max_buffers=JOIN_PAGE + 60,
    ),
    "projects.list_for_user_after": Case(
        lambda s: {
            "user_id": s["member"],
            "after_joined_at": s["member_project_after"][0],
            "after_project_id": s["member_project_after"][1],
            "limit": 51,
        },
        (MEMBER_PAGE,),
        JOIN_PAGE,
        max_sort_rows=51,
        rls_max_buffers=JOIN_PAGE + 60,
    ),
    "projects.get_member": Case(
        lambda s: {"project_id": s["member_project"], "user_id": s["member"]},
        # The key, or either join-order index: each holds every column of a membership,
        # so the planner may read the user's (or the project's) few memberships there
        # index-only rather than the key and the heap.
        (f"project_members_pkey|{MEMBER_PAGE}|{PROJECT_MEMBERS}",),
        8,
        # Under row-level security it reads the acting member's range (86 projects at
        # `large`), which dal_projects has just read too: 25 buffers there.
        rls_max_buffers=32,
    ),
    "projects.set_member_role": Case(
        lambda s: {
            "project_id": s["member_project"],
            "user_id": s["member"],
            "role": "member",
            "access_level": "write",
        },
        ("project_members_pkey",),
        WRITE,
    ),
    "projects.remove_member": Case(
        lambda s: {"project_id": s["member_project"], "user_id": s["member"]},
        ("project_members_pkey",),
        WRITE,
    ),
    "projects.list_members_first_page": Case(
        lambda s: {"project_id": s["big_project"], "limit": 51},
        (PROJECT_MEMBERS,),
        16,  # a page of the project's members, index-only
        # The seed gives a project at most 6 members. Under row-level security the
        # planner may read them by the key and sort them (fewer than a page); a
        # project of many members takes the ordered index.
        rls_indexes=(f"{PROJECT_MEMBERS}|project_members_pkey",),
    ),
    "projects.list_members_after": Case(
        lambda s: {
            "project_id": s["big_project"],
            "after_created_at": s["project_member_after"][0],
            "after_user_id": s["project_member_after"][1],
            "limit": 51,
        },
        (PROJECT_MEMBERS,),
        16,
        rls_indexes=(f"{PROJECT_MEMBERS}|project_members_pkey",),
    ),
    # categories
    "categories.get_by_id": Case(lambda s: {"id": s["category_id"]}, (CATEGORY_BY_ID,), 8),
    "categories.update": Case(
        lambda s: {"id": s["category_id"]} | _unset("name", "colour"), (CATEGORY_BY_ID,), WRITE
    ),
    "categories.delete": Case(lambda s: {"id": s["category_id"]}, (CATEGORY_BY_ID,), WRITE),
    "categories.list_for_user_with_counts_first_page": Case(
        lambda s: {"owner_id": s["category_owner"], "limit": 51},
        ("categories_owner_id_name_lower_key", "tasks_category_id_idx"),
        600,  # counts every task of each category through the index: the heavy owner's tasks
    ),
    "categories.list_for_user_with_counts_after": Case(
        lambda s: {"owner_id": s["category_owner"], "after_name": "", "limit": 51},
        ("categories_owner_id_name_lower_key", "tasks_category_id_idx"),
        600,
    ),
    # tasks
    "tasks.get_by_id": Case(lambda s: {"id": s["task_id"]}, (TASK_BY_ID,), 8),
    "tasks.get_many": Case(lambda s: {"ids": [s["task_id"], s["dep_task"]]}, (TASK_BY_ID,), 16),
    "tasks.update": Case(
        lambda s: (
            {"id": s["task_id"], "check_version": False, "expected_version": None}
            | _unset(*_TASK_FIELDS)
        ),
        (TASK_BY_ID,),
        # A new row version (updated_at is indexed, so never a HOT update) takes an
        # entry in each of the 11 indexes of tasks, three and four levels deep at
        # `large`, and the update's triggers read the row's parent and category by
        # key: 102 buffers at `large`.
        TASK_UPDATE,
    ),
    "tasks.delete": Case(lambda s: {"id": s["task_id"]}, (TASK_BY_ID,), WRITE),
    "tasks.bulk_set_status": Case(
        lambda s: {
            "ids": [s["task_id"], s["dep_task"]],
            "owner_id": s["task_owner"],
            "status": "review",
        },
        (TASK_BY_ID,),
        WRITE,
    ),
    "tasks.list_for_project": Case(
        lambda s: {"project_id": s["big_project"]},
        ("tasks_project_id_key_key",),
        3000,  # the whole project (the task tree): one heap page per task at worst
    ),
    "tasks.project_exists": Case(lambda s: {"project_id": s["big_project"]}, ("projects_pkey",), 4),
    "tasks.list_dependency_edges": Case(
        lambda s: {"project_id": s["big_project"]}, ("task_dependencies_project_id_idx",), 1000
    ),
    "tasks.overdue": Case(
        lambda s: {"owner_id": s["task_owner"], "as_of": "2026-01-01T00:00:00Z", "limit": 50},
        ("tasks_owner_id_due_at_open_idx",),
        64,
    ),
    "tasks.counts_by_status": Case(
        lambda s: {"owner_id": s["task_owner"]},
        ("tasks_owner_id_status_idx",),
        200,  # an index-only scan over the owner's entries: a few thousand tuples
    ),
    # dependencies
    "dependencies.reaches": Case(
        lambda s: {"from_id": s["dep_task"], "to_id": s["task_id"]},
        (EDGE,),
        200,  # walks the dependency graph reachable from one task, each task once
    ),
    "dependencies.delete": Case(
        lambda s: {"task_id": s["dep_task"], "depends_on_id": s["dep_on"]},
        (EDGE,),
        WRITE,
    ),
    "dependencies.list_depends_on": Case(
        lambda s: {"task_id": s["dep_task"]}, ("task_dependencies_pkey", TASK_BY_ID), 32
    ),
    "dependencies.list_dependents": Case(
        lambda s: {"task_id": s["dep_on"]},
        ("task_dependencies_depends_on_id_idx", TASK_BY_ID),
        32,
    ),
    "dependencies.list_for_project": Case(
        lambda s: {"project_id": s["big_project"]}, ("task_dependencies_project_id_idx",), 1000
    ),
    # sync history
    "sync_history.get_by_id": Case(lambda s: {"id": s["sync_id"]}, ("sync_history_pkey",), 8),
    "sync_history.begin": Case(lambda s: {"id": s["sync_id"]}, ("sync_history_pkey",), WRITE),
    "sync_history.finish": Case(
        lambda s: {"id": s["sync_id"], "status": "failed", "error": "x"},
        ("sync_history_pkey",),
        WRITE,
    ),
    "sync_history.latest_for_projects": Case(
        lambda s: {"project_ids": s["some_projects"]},
        ("sync_history_project_id_started_at_idx",),
        100,  # one short backward index probe per project
    ),
    "sync_history.history_first_page": Case(
        lambda s: {"project_id": s["sync_project"], "limit": 21},
        ("sync_history_project_id_started_at_idx",),
        32,
    ),
    "sync_history.history_page_after": Case(
        lambda s: {
            "project_id": s["sync_project"],
            "after_started_at": s["sync_started"],
            "after_id": s["sync_id"],
            "limit": 21,
        },
        ("sync_history_project_id_started_at_idx",),
        32,
    ),
}

EXEMPT: dict[str, str] = {
    "projects.insert": "a single-row INSERT: no read path to plan",
    "projects.add_member": "a single-row INSERT: no read path to plan",
    "categories.insert": "a single-row INSERT: no read path to plan",
    "tasks.insert": "a single-row INSERT: no read path to plan",
    "dependencies.insert": "a single-row INSERT (its trigger reads tasks_pkey)",
    "dependencies.lock_project_graph": "takes an advisory lock; reads no table",
    "sync_history.start": "a single-row INSERT: no read path to plan",
}
