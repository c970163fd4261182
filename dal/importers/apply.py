"""Import task files into a project's tasks, and export a project back to Task Master JSON.

The parsers validate the whole file first (a `TaskFileError` means nothing was read
from or written to the database). Then, in ONE transaction for all tags of the file:
find or create the project, read its keyed tasks, diff them (`plan_import`) and write
only the difference with a few set-based statements. Re-importing the same file
writes nothing; tasks the file no longer has are reported and deleted only with
``prune=True``. Tasks of the project without a key (created by hand) are left alone.

With ``tag="*"`` every tag of a Task Master file goes to its own project named
``"<project>:<tag>"`` (an untagged file or task_NNN.txt files count as tag ``master``);
otherwise the chosen tag (by default ``master``, else the first tag that has tasks)
goes to ``project``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from dal import dependencies, projects, queries, tasks, users
from dal._keys import natural_key
from dal.arguments import checked
from dal.db import Conn, Db, snapshot, transaction
from dal.dependencies import Dependency
from dal.errors import DalError, InvalidData, NotFound, lone_surrogate
from dal.importers import _stored
from dal.importers._graph import find_cycle
from dal.importers._order import Position, place
from dal.importers.export import to_taskmaster_json
from dal.importers.model import (
    ImportedTask,
    ImportFile,
    TaskFileError,
    key_problem,
    project_name_problem,
    shorten,
)
from dal.importers.plan import ExistingTask, ImportPlan, plan_import
from dal.importers.speckit import parse_speckit
from dal.importers.taskmaster import ALL_TAGS, load_path, read_text
from dal.projects import Project
from dal.tasks import Task
from dal.users import User

_MOVED: Final = -1
"""ExistingTask.position for a task that must be re-placed: never a file position."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did (or, for a dry run, would do) to one project."""

    project_name: str
    project: Project | None
    """None only for a dry run into a project that does not exist yet."""
    tag: str | None
    plan: ImportPlan
    dry_run: bool
    pruned: bool
    waiting: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per task key, the keys of dependencies the project does not have (yet): stored,
    and made real edges by the import that brings those tasks."""
    resolved: int = 0
    """Dependencies that waited for a task this import brought, now real edges."""

    @property
    def created(self) -> int:
        return len(self.plan.create)

    @property
    def updated(self) -> int:
        return len(self.plan.update)

    @property
    def unchanged(self) -> int:
        return len(self.plan.unchanged)

    @property
    def deleted(self) -> int:
        return len(self.plan.delete) if self.pruned and not self.dry_run else 0

    @property
    def would_delete(self) -> int:
        """Tasks only in the project, kept because the import did not prune (or was dry)."""
        return len(self.plan.delete) - self.deleted

    @property
    def only_in_project(self) -> list[str]:
        """Keys of the tasks only in the project: deleted if `deleted`, else kept."""
        return list(self.plan.delete)

    def summary(self) -> str:
        """For people: for a dry run one line ("project demo (new): 2 to create, ...");
        otherwise "project demo: 2 created, 1 updated, 40 unchanged, ..." and then, as
        `--dry-run` lists them, one ``  - KEY`` line per task only in the project
        (deleted with prune, else kept).
        """
        if self.dry_run:
            new = " (new)" if self.project is None else ""
            return f"project {self.project_name}{new}: {self.plan.summary()}"
        parts = [
            f"{self.created} created",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.deleted:
            parts.append(f"{self.deleted} deleted")
        if self.would_delete:
            parts.append(f"{self.would_delete} only in the project (delete with --prune)")
        if self.resolved:
            parts.append(f"{self.resolved} waiting dependencies resolved")
        lines = [f"project {self.project_name}: {', '.join(parts)}"]
        lines += [f"  - {key}" for key in self.only_in_project]
        lines += self.waiting_lines()
        return "\n".join(lines)

    def waiting_lines(self) -> list[str]:
        """One ``  ? KEY waits for 1, 2`` line per task with dependencies not in the project."""
        return [
            f"  ? {key} waits for {', '.join(keys)} (not in the project yet)"
            for key, keys in self.waiting.items()
        ]

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-able data (the CLI's ``--json``)."""
        return {
            "project": self.project_name,
            "project_id": None if self.project is None else str(self.project.id),
            "tag": self.tag,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "only_in_project": self.only_in_project,
            "waiting": {key: list(keys) for key, keys in self.waiting.items()},
            "resolved": self.resolved,
        }


@checked
def import_taskmaster(
    db: Db,
    path: Path | str,
    *,
    project: str,
    owner: str,
    tag: str | None = None,
    prune: bool = False,
    dry_run: bool = False,
    strict: bool = False,
) -> list[ImportResult]:
    """Import a Task Master `tasks.json` (legacy or tagged), a `task_NNN.txt` file or a
    directory of them; one result per imported tag (see the module docstring).

    `owner` is a username or an email. Raises `TaskFileError` (an InvalidData) for a
    file that cannot be imported and NotFound for an unknown owner; nothing is written
    then, nor on any other error.

    A dependency on a task the file does not have resolves against the project as the
    import leaves it (tasks imported earlier count); one the project lacks too waits,
    stored (`ImportResult.waiting`), until an import brings that task. With `strict`,
    such a file is refused instead.
    """
    path = Path(path)
    files = load_path(path, tag=tag, strict=strict)
    targets = [(_project_name(project, file, tag), file) for file in files]
    return _import(db, str(path), targets, owner=owner, prune=prune, dry_run=dry_run)


@checked
def import_speckit(
    db: Db,
    path: Path | str,
    *,
    project: str,
    owner: str,
    prune: bool = False,
    dry_run: bool = False,
) -> ImportResult:
    """Import a spec-kit `tasks.md` checklist into `project`; same guarantees as above."""
    path = Path(path)
    file = parse_speckit(read_text(path), filename=str(path))
    if not file.tasks:
        raise TaskFileError(
            str(path), "has no task lines ('- [ ] T001 ...'): is it a spec-kit tasks.md?"
        )
    [result] = _import(db, str(path), [(project, file)], owner=owner, prune=prune, dry_run=dry_run)
    return result


@checked
def export_taskmaster(db: Db, project_id: UUID, *, tag: str | None = None) -> dict[str, Any]:
    """The project's keyed tasks as a Task Master document: legacy ``{"tasks": [...]}``,
    or tagged ``{tag: {"tasks": [...]}}`` when `tag` is given.

    The file-level ``metadata`` object is not stored by the import, so it is not written.
    NotFound if there is no such project.
    """
    with snapshot(db) as conn:
        projects.get(conn, project_id)  # NotFound
        stored = _stored.read_project(conn, project_id)
    ranked = sorted(stored.values(), key=_export_order)
    tasks = tuple(_stored.to_imported(task, index) for index, task in enumerate(ranked))
    file = ImportFile(
        source_format="taskmaster-json-legacy" if tag is None else "taskmaster-json-tagged",
        tag=tag,
        metadata=None,
        tasks=tasks,
    )
    return to_taskmaster_json(file)


def _export_order(task: _stored.StoredTask) -> tuple[bool, float, Any]:
    """Stored position first; tasks without one (made by hand) last, by key."""
    position = task.position
    return (
        position is None,
        0.0 if position is None else float(position),
        natural_key(task.task.key),
    )


@checked
def find_project(db: Db, *, name: str, owner: str) -> Project:
    """The project `name` of `owner` (a username or an email); NotFound if there is none."""
    with transaction(db) as conn:
        found = _find_project(conn, resolve_owner(conn, owner).id, name, create=False)
    if found is None:
        raise NotFound(f"{owner!r} has no project named {name!r}", table="projects")
    return found


@checked
def resolve_owner(db: Db, owner: str) -> User:
    """The user named by a username or an email; NotFound with a clear message."""
    by_email = "@" in owner
    try:
        return users.get_by_email(db, owner) if by_email else users.get_by_username(db, owner)
    except NotFound:
        what = "email" if by_email else "username"
        raise NotFound(f"owner {owner!r}: no user with that {what}", table="users") from None


def _project_name(project: str, file: ImportFile, tag: str | None) -> str:
    return f"{project}:{file.tag or 'master'}" if tag == ALL_TAGS else project


def _import(
    db: Db,
    filename: str,
    targets: Sequence[tuple[str, ImportFile]],
    *,
    owner: str,
    prune: bool,
    dry_run: bool,
) -> list[ImportResult]:
    for name, file in targets:
        _check_storable(file, filename)
        problem = project_name_problem(name)
        if problem is not None:
            raise TaskFileError(
                filename, f"cannot go to project {shorten(name, 40)}: {problem}", tag=file.tag
            )
    with transaction(db) as conn:
        owner_id = resolve_owner(conn, owner).id
        return [
            _import_one(conn, filename, owner_id, name, file, prune=prune, dry_run=dry_run)
            for name, file in targets
        ]


def _import_one(
    conn: Conn,
    filename: str,
    owner_id: UUID,
    name: str,
    file: ImportFile,
    *,
    prune: bool,
    dry_run: bool,
) -> ImportResult:
    project = _find_project(conn, owner_id, name, create=not dry_run)
    stored: dict[str, _stored.StoredTask] = {}
    if project is not None:
        if not dry_run:  # the same lock dal.dependencies.add takes: no edge sneaks in
            dependencies.lock_project_graph(conn, project.id)
        stored = _stored.read_project(conn, project.id)
    file = _resolve_elsewhere(file, stored, prune=prune)
    pending = _pending(conn, project) if stored else []
    positions, moved = place(
        [task.key for task in file.tasks], {key: s.position for key, s in stored.items()}
    )
    plan = plan_import(file.tasks, _existing(stored, file.tasks, moved))
    _check_cycles(
        conn, project, file, stored, plan, pending=pending, prune=prune, filename=filename
    )
    resolved = 0
    if not dry_run:
        assert project is not None
        resolved = _write(
            conn, project.id, owner_id, plan, positions,
            pending=pending, stored_keys=stored, prune=prune,
        )  # fmt: skip
    waiting = {task.key: task.unresolved for task in file.tasks if task.unresolved}
    return ImportResult(
        name, project, file.tag, plan, dry_run=dry_run, pruned=prune,
        waiting=waiting, resolved=resolved,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Pending:
    """A stored dependency waiting for a task key (task_pending_dependencies)."""

    task_id: UUID
    task_key: str | None
    depends_on_key: str


def _pending(conn: Conn, project: Project | None) -> list[_Pending]:
    if project is None:
        return []
    params = {"project_id": project.id}
    return queries.fetch_all(conn, "importing.pending_for_project", params, _Pending)


def _resolve_elsewhere(
    file: ImportFile, stored: dict[str, _stored.StoredTask], *, prune: bool
) -> ImportFile:
    """The file with each dependency on a task only the project has (imported from
    another file) made a real one; those on tasks the project lacks stay `unresolved`.
    A task the import prunes resolves nothing."""
    in_file = _keys(file.tasks)
    kept = {key for key in stored if not prune or key in in_file}
    changed = []
    for task in file.tasks:
        found = tuple(key for key in task.unresolved if key in kept)
        rest = tuple(key for key in task.unresolved if key not in kept)
        changed.append(
            replace(task, depends_on=(*task.depends_on, *found), unresolved=rest) if found else task
        )
    return replace(file, tasks=tuple(changed))


def _find_project(conn: Conn, owner_id: UUID, name: str, *, create: bool) -> Project | None:
    params = {"owner_id": owner_id, "name": name}
    if create:  # two imports creating one project at once would make two
        queries.execute(conn, "importing.lock_project_name", params)
    found = queries.fetch_all(conn, "importing.find_projects", params, Project)
    if len(found) > 1:
        raise InvalidData(
            f"the owner has {len(found)} projects named {name!r}; rename all but one first",
            table="projects",
        )
    if found:
        return found[0]
    return projects.create(conn, owner_id=owner_id, name=name) if create else None


def _existing(
    stored: dict[str, _stored.StoredTask], tasks: Iterable[ImportedTask], moved: set[str]
) -> dict[str, ExistingTask]:
    """Stored tasks for `plan_import`: a moved task compares as changed ("position")."""
    new_position = {task.key: task.position for task in tasks}
    out: dict[str, ExistingTask] = {}
    for key, item in stored.items():
        position = None
        if key in new_position:
            position = _MOVED if key in moved else new_position[key]
        out[key] = replace(item.task, position=position)
    return out


def _check_storable(file: ImportFile, filename: str) -> None:
    """What the database would refuse (NUL in text, a key tasks_key_format rejects):
    name the task rather than fail mid-write. The parsers check keys first, with the
    task's place in the file; this holds for any parser."""
    for task in file.tasks:
        problem = key_problem(task.key)
        if problem is not None:
            raise TaskFileError(
                filename, f"has the key {shorten(task.key)}: {problem}", tag=file.tag
            )
        text = [task.key, task.title, task.description, task.data]
        if _holds(text, _nul):
            raise TaskFileError(
                filename, "contains a NUL character (\\u0000), which PostgreSQL text cannot hold",
                task=task.key, tag=file.tag,
            )  # fmt: skip
        if _holds(text, lone_surrogate):
            raise TaskFileError(
                filename, "contains a lone surrogate (\\ud800 ...), which UTF-8 cannot hold",
                task=task.key, tag=file.tag,
            )  # fmt: skip


def _nul(text: str) -> bool:
    return "\x00" in text


def _holds(value: Any, bad: Callable[[str], bool]) -> bool:
    """Whether a string in `value` (keys and items of dicts and lists too) is `bad`."""
    if isinstance(value, str):
        return bad(value)
    if isinstance(value, dict):
        return any(_holds(key, bad) or _holds(item, bad) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds(item, bad) for item in value)
    return False


def _check_cycles(
    conn: Conn,
    project: Project | None,
    file: ImportFile,
    stored: dict[str, _stored.StoredTask],
    plan: ImportPlan,
    *,
    pending: list[_Pending],
    prune: bool,
    filename: str,
) -> None:
    """One check of the project's whole graph as the import would leave it, by task id,
    instead of one per edge (as `dal.dependencies.add` does for a single edge).

    The graph: the file's edges, replacing the stored edges between keyed tasks of the
    file's tasks, plus every other stored edge of the project (tasks made by hand, without
    a key, included), minus those of pruned tasks. The parser already rejected cycles in
    the file; this catches one closed through a task the file does not have.
    """
    node: dict[str, UUID | str] = {key: item.id for key, item in stored.items()}
    for task in file.tasks:
        node.setdefault(task.key, task.key)  # a task to create: its key until it has an id
    graph: dict[UUID | str, list[UUID | str]] = {
        node[task.key]: [node[dep] for dep in task.depends_on] for task in file.tasks
    }
    if project is None or not stored:  # no stored edge can reach a task of the file
        stored_edges: list[Dependency] = []
    else:
        stored_edges = dependencies.list_for_project(conn, project.id)
    keyed = {item.id for item in stored.values()}
    hand_made = any(not {e.task_id, e.depends_on_id} <= keyed for e in stored_edges)
    all_tasks: list[Task] = []
    if project is not None and hand_made:
        all_tasks = tasks.list_for_project(conn, project.id)
    gone = _pruned(all_tasks, stored, file, plan) if prune else set()
    in_file = {node[task.key] for task in file.tasks}
    for edge in stored_edges:
        if edge.task_id in gone or edge.depends_on_id in gone:
            continue
        if edge.task_id in in_file and edge.depends_on_id in keyed:
            continue  # the file's list replaces these (_write)
        graph.setdefault(edge.task_id, []).append(edge.depends_on_id)
    file_keys = _keys(file.tasks)
    for wait in pending:  # a waiting dependency this import resolves is an edge too
        if wait.task_id in gone or wait.task_key in file_keys or wait.depends_on_key not in node:
            continue
        graph.setdefault(wait.task_id, []).append(node[wait.depends_on_key])
    cycle = find_cycle(graph)
    if cycle is None:
        return
    start = next((index for index, step in enumerate(cycle) if step in in_file), 0)
    cycle = [*cycle[start:-1], *cycle[:start], cycle[start]]
    key_of: dict[UUID | str, str] = {step: key for key, step in node.items()}
    title_of: dict[UUID | str, str] = {task.id: task.title for task in all_tasks}
    chain = [
        key_of[step] if step in key_of else f"the hand-made task {title_of[step]!r}"
        for step in cycle
    ]
    raise TaskFileError(
        filename,
        f"would make a dependency cycle in the project: {' → '.join(chain)}",
        task=chain[0],
        tag=file.tag,
    )


def _pruned(
    all_tasks: list[Task],
    stored: dict[str, _stored.StoredTask],
    file: ImportFile,
    plan: ImportPlan,
) -> set[UUID]:
    """Ids of the tasks pruning deletes: `plan.delete` and, by the parent foreign key's
    cascade, their subtasks without a key (`all_tasks`: the project's tasks, needed only
    when it has hand-made tasks with dependencies)."""
    gone = {stored[key].id for key in plan.delete}
    keep = {stored[task.key].id for task in file.tasks if task.key in stored}
    children: dict[UUID, list[UUID]] = {}
    for task in all_tasks:
        if task.parent_id is not None:
            children.setdefault(task.parent_id, []).append(task.id)
    pending = list(gone)
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in gone and child not in keep:
                gone.add(child)
                pending.append(child)
    return gone


def _write(
    conn: Conn,
    project_id: UUID,
    owner_id: UUID,
    plan: ImportPlan,
    positions: dict[str, Position],
    *,
    pending: list[_Pending],
    stored_keys: Iterable[str],
    prune: bool,
) -> int:
    """Write the plan in one round trip; return how many waiting dependencies it resolved."""
    project: dict[str, Any] = {"project_id": project_id}
    # Every write in one round trip (pipeline mode); each statement sees those before
    # it (a level's parents are in), and the counts are checked once all are back.
    calls: list[queries.Call] = []
    expected: list[tuple[int, str]] = []  # (rows, what) per call; -1: not checked
    for level in _by_depth(plan.create):
        params = project | {"owner_id": owner_id} | _columns(level, positions)
        calls.append(queries.Call("importing.insert_tasks", params, count=True))
        expected.append((len(level), "new tasks"))
    changed = [new for _, new in plan.update]
    if changed:
        params = project | _columns(changed, positions)
        calls.append(queries.Call("importing.update_tasks", params, count=True))
        expected.append((len(changed), "updates"))
    added = [(task.key, dep) for task in plan.create for dep in task.depends_on]
    removed: list[tuple[str, str]] = []
    for old, new in plan.update:
        added += [(new.key, dep) for dep in new.depends_on if dep not in old.depends_on]
        removed += [(new.key, dep) for dep in old.depends_on if dep not in new.depends_on]
    if removed:
        calls.append(
            queries.Call("importing.delete_dependencies", project | _edges(removed), count=True)
        )
        expected.append((-1, "removed dependencies"))
    if added:
        calls.append(
            queries.Call("importing.insert_dependencies", project | _edges(added), count=True)
        )
        expected.append((len(added), "new dependencies"))
    if prune and plan.delete:
        calls.append(
            queries.Call("importing.delete_tasks", project | {"keys": plan.delete}, count=True)
        )
        expected.append((-1, "deleted tasks"))
    planned = [*plan.create, *(new for _, new in plan.update), *plan.unchanged]  # the file's
    in_file = _keys(planned)
    waiting = [(task.key, key) for task in planned for key in task.unresolved]
    had = {(w.task_key, w.depends_on_key) for w in pending if w.task_key in in_file}
    if set(waiting) != had:
        params = project | {"keys": sorted(in_file)} | _edges(waiting)
        calls.append(queries.Call("importing.keep_pending", params, count=True))
        expected.append((-1, "waiting dependencies"))
    # A waiting dependency resolves once its key exists: brought by this import, or
    # given to a task since (tasks.create and tasks.update can set a key).
    present = in_file | (set() if prune else set(stored_keys))
    resolving = any(w.depends_on_key in present for w in pending)
    if resolving:
        calls.append(queries.Call("importing.resolve_pending", project, count=True))
        expected.append((-1, "resolved dependencies"))
    if not calls:
        return 0
    counts = queries.pipelined(conn, calls)
    for count, (wanted, what) in zip(counts, expected, strict=True):
        if wanted >= 0:
            _expect(count, wanted, what)
    return int(counts[-1]) if resolving else 0


def _keys(tasks: Iterable[ImportedTask]) -> set[str]:
    return {task.key for task in tasks}


def _by_depth(tasks: list[ImportedTask]) -> list[list[ImportedTask]]:
    """New tasks in batches whose parents exist once the batches before them are in."""
    depth: dict[str, int] = {}
    levels: list[list[ImportedTask]] = []
    for task in tasks:  # parents come before their subtasks
        level = depth[task.parent_key] + 1 if task.parent_key in depth else 0
        depth[task.key] = level
        if level == len(levels):
            levels.append([])
        levels[level].append(task)
    return levels


def _columns(tasks: list[ImportedTask], positions: dict[str, Position]) -> dict[str, list[Any]]:
    return {
        "keys": [task.key for task in tasks],
        "parent_keys": [task.parent_key for task in tasks],
        "titles": [task.title for task in tasks],
        "descriptions": [task.description for task in tasks],
        "statuses": [task.status for task in tasks],
        "priorities": [task.priority or _stored.DEFAULT_PRIORITY for task in tasks],
        "data": [Jsonb(_stored.to_row_data(task, positions[task.key])) for task in tasks],
    }


def _edges(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    return {
        "task_keys": [task for task, _ in pairs],
        "depends_on_keys": [dep for _, dep in pairs],
    }


def _expect(count: int, wanted: int, what: str) -> None:
    """A batch that touched fewer rows than planned means the project changed under us."""
    if count != wanted:
        raise DalError(f"import: expected {wanted} {what}, wrote {count}; nothing was written")
