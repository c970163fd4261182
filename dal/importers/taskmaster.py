"""Read Task Master task files: `tasks.json` (legacy or tagged) and `task_NNN.txt`.

Tags: a tagged file holds one task list per tag and ids restart in each tag, so each tag
becomes its own `ImportFile` (its own project). `tag=None` picks `master` when it has
tasks, else the first tag that has some (tm-core also falls back to the first tag);
`tag="name"` picks one; `tag="*"` returns every tag, empty ones included, in file order.

Subtasks of subtasks (which Task Master's types forbid but real files contain) are
flattened, not rejected: subtask 3 of subtask 1.2 gets key "1.2.3" and parent "1.2".

Validation is strict and happens before anything is returned: one `TaskFileError`
naming the task and the problem, for wrong types, look-alike files from other tools,
duplicate ids, ids the database cannot hold as keys, a key given twice in one JSON
object, numbers that are not finite, dependencies on missing tasks and dependency
cycles.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from dal.arguments import checked
from dal.importers import _tm_ids as ids
from dal.importers._graph import find_cycle
from dal.importers.model import (
    IMPORT_KEY,
    PRIORITIES,
    ImportedTask,
    ImportFile,
    SourceFormat,
    TaskFileError,
    fit_title,
    key_problem,
    shorten,
)
from dal.importers.taskmaster_text import TASK_HEADER, text_to_raw

ALL_TAGS: Final = "*"

_COLUMNS: Final = frozenset(
    {"id", "title", "description", "status", "priority", "dependencies", "subtasks"}
)
"""Task fields that become model attributes; every other field is kept in `data`."""

_TEXT_FILE = re.compile(r"task_(\d+)(?:_(.+))?\.txt")


@checked
def parse_taskmaster(
    text: str, *, filename: str, tag: str | None = None, strict: bool = False
) -> list[ImportFile]:
    """Parse a `tasks.json` (legacy or tagged) or plain-text task file, detected from content.

    Returns one `ImportFile` per selected tag (see the module docstring); a legacy or
    plain-text file is a single untagged list. Raises `TaskFileError`.

    A dependency on a task the file does not have (a `task_NNN.txt` file names tasks of
    other files) is kept in the task's `unresolved`, for the import to resolve against
    the project; with `strict`, it is refused, as Task Master's own
    `validate-dependencies` would report it.
    """
    body = text.removeprefix("\ufeff")
    if body.lstrip().startswith(TASK_HEADER):
        _check_untagged(filename, tag, "a plain-text task file")
        raw = text_to_raw(body, filename=filename)
        context = _Context(filename, None, hints=False, strict=strict)
        return [_build(raw, context, "taskmaster-text", None)]
    return _from_document(_load_json(body, filename), filename, tag, strict)


@checked
def load_path(
    path: Path | str, *, tag: str | None = None, strict: bool = False
) -> list[ImportFile]:
    """`parse_taskmaster` for a file, or for a directory of `task_NNN[_tag].txt` files.

    In a directory, `task_001.txt` files belong to the master tag and
    `task_001_<tag>.txt` files to <tag> (as `task-master generate` names them).
    """
    path = Path(path)
    if not path.is_dir():
        return parse_taskmaster(read_text(path), filename=str(path), tag=tag, strict=strict)
    groups: dict[str | None, list[tuple[int, Path]]] = {}
    for child in path.iterdir():
        match = _TEXT_FILE.fullmatch(child.name)
        if match and child.is_file():
            groups.setdefault(match[2], []).append((int(match[1]), child))
    if not groups:
        raise TaskFileError(str(path), "holds no task_NNN.txt files")
    names = list(groups) if tag == ALL_TAGS else [_pick_text_tag(path, groups, tag)]
    files = []
    for name in names:
        raw: list[Any] = []
        for _, child in sorted(groups[name]):
            raw += text_to_raw(read_text(child), filename=str(child))
        context = _Context(str(path), name, hints=False, strict=strict)
        files.append(_build(raw, context, "taskmaster-text", None))
    return files


def _pick_text_tag(
    path: Path, groups: dict[str | None, list[tuple[int, Path]]], tag: str | None
) -> str | None:
    if tag in (None, "master") and None in groups:
        return None
    if tag is None:
        return sorted(name for name in groups if name is not None)[0]
    if tag in groups:
        return tag
    known = ", ".join(sorted(name or "master" for name in groups))
    raise TaskFileError(str(path), f"has no task files for tag {tag!r} (tags: {known})")


def read_text(path: Path) -> str:
    """A task file's text (UTF-8, BOM allowed); TaskFileError naming the file otherwise."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TaskFileError(str(path), f"cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TaskFileError(str(path), f"is not UTF-8 text (byte {exc.start})") from exc


def _check_untagged(filename: str, tag: str | None, what: str) -> None:
    if tag not in (None, ALL_TAGS, "master"):
        raise TaskFileError(filename, f"has no tag {tag!r}: it is {what}, which has no tags")


class _Duplicated(dict[str, Any]):
    """A JSON object that had a key twice: `json` would silently keep the last value.

    `_load_json` leaves this marker (and `_NonFinite`) in the document instead of
    failing at once, so the walk over the tasks can name the task that holds it.
    """

    duplicate: str


@dataclass(frozen=True, slots=True)
class _NonFinite:
    """A number that would be infinite or NaN (``1e400``, ``NaN``, ``-Infinity``)."""

    text: str

    def describe(self, where: str = "") -> str:
        if self.text in ("NaN", "Infinity", "-Infinity"):
            return f"{self.text}{where}, which is not valid JSON"
        return f"{self.text}{where}, a number out of range (infinite)"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Duplicated(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _load_json(body: str, filename: str) -> Any:
    try:
        return json.loads(
            body, object_pairs_hook=_object, parse_float=_float, parse_constant=_NonFinite
        )
    except json.JSONDecodeError as exc:
        if not body.lstrip().startswith(("{", "[")):
            raise TaskFileError(
                filename, f"is neither JSON nor a Task Master task file ({TASK_HEADER} ...)"
            ) from exc
        raise TaskFileError(
            filename, f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except ValueError as exc:
        raise TaskFileError(filename, f"is not valid JSON: {exc}") from exc


def _find_bad(value: Any, skip: str | None = None) -> str | None:
    """What `_load_json` marked in `value` (a key twice, a non-finite number), as the end
    of a message ("has the key 'x' twice in 'metadata'..."), or None. `skip` is a key of
    `value` itself not to look into (a task's subtasks are checked as tasks)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        where = f" in {path!r}" if path else ""
        if isinstance(item, _NonFinite):
            return f"has {item.describe(where)}"
        if isinstance(item, _Duplicated):
            return _twice(item.duplicate, where)
        if isinstance(item, dict):
            children = [
                (child, f"{path}.{key}" if path else key)
                for key, child in item.items()
                if not (item is value and key == skip)
            ]
        elif isinstance(item, list):
            children = [(child, f"{path}[{index}]") for index, child in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def _twice(key: str, where: str) -> str:
    return f"has the key {key!r} twice{where}: JSON keeps only the last value, so one is lost"


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, _NonFinite):
        return value.text
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _from_document(doc: Any, filename: str, tag: str | None, strict: bool) -> list[ImportFile]:
    if not isinstance(doc, dict):
        raise TaskFileError(
            filename,
            f"is not a Task Master file: the top level is {_json_type(doc)}, not an object",
        )
    if isinstance(doc, _Duplicated):
        raise TaskFileError(filename, _twice(doc.duplicate, " at the top level"))
    if "tasks" in doc:
        _check_untagged(filename, tag, "an untagged (legacy) tasks.json")
        return [_tag_file(doc, filename, None, "taskmaster-json-legacy", strict)]
    if not doc:
        raise TaskFileError(filename, "is an empty object: no tasks and no tags")
    for name, value in doc.items():
        if not (isinstance(value, dict) and isinstance(value.get("tasks"), list)):
            raise TaskFileError(
                filename,
                f"is not a Task Master file: top-level key {name!r} is neither 'tasks' "
                "nor a tag holding a tasks list",
            )
    return [
        _tag_file(doc[name], filename, name, "taskmaster-json-tagged", strict)
        for name in _tags(doc, filename, tag)
    ]


def _tags(doc: dict[str, Any], filename: str, tag: str | None) -> list[str]:
    if tag == ALL_TAGS:
        return list(doc)
    if tag is not None:
        if tag not in doc:
            raise TaskFileError(filename, f"has no tag {tag!r} (tags: {', '.join(doc)})")
        return [tag]
    candidates = ["master", *doc] if "master" in doc else list(doc)
    return [next((name for name in candidates if doc[name]["tasks"]), candidates[0])]


def _tag_file(
    obj: dict[str, Any], filename: str, tag: str | None, fmt: SourceFormat, strict: bool
) -> ImportFile:
    context = _Context(filename, tag, hints=True, strict=strict)
    extra = sorted(set(obj) - {"tasks", "metadata"})
    if extra:
        where = "beside 'tasks'" if tag is None else "in the tag"
        raise context.error(f"is not a Task Master file: unexpected key {extra[0]!r} {where}")
    if not isinstance(obj["tasks"], list):
        raise context.error(f"has 'tasks' as {_json_type(obj['tasks'])}, not a list")
    metadata = obj.get("metadata")
    if "metadata" in obj and not isinstance(metadata, dict):
        raise context.error(f"has 'metadata' as {_json_type(metadata)}, not an object")
    bad = _find_bad(obj, skip="tasks")
    if bad is not None:
        raise context.error(bad)
    return _build(obj["tasks"], context, fmt, metadata)


@dataclass(frozen=True, slots=True)
class _Context:
    filename: str
    tag: str | None
    hints: bool
    """Record in `data` what export needs to restore the JSON exactly (not for text)."""
    strict: bool = False
    """Refuse a dependency on a task the file does not have."""

    def error(self, problem: str, task: str | None = None) -> TaskFileError:
        return TaskFileError(self.filename, problem, task=task, tag=self.tag)


@dataclass(frozen=True, slots=True)
class _Node:
    obj: dict[str, Any]
    key: str
    parent_key: str | None
    raw_id: ids.Id


def _build(
    raw_tasks: list[Any], context: _Context, fmt: SourceFormat, metadata: dict[str, Any] | None
) -> ImportFile:
    nodes = list(_walk(raw_tasks, None, context))
    parents: dict[str, str | None] = {}
    for node in nodes:
        if node.key in parents:
            raise context.error("is defined twice (duplicate id)", node.key)
        parents[node.key] = node.parent_key
    tasks: dict[str, ImportedTask] = {}
    alternatives: dict[tuple[str, str], str] = {}
    for position, node in enumerate(nodes):
        task, alts = _convert(node, position, parents, context)
        tasks[task.key] = task
        alternatives |= {(task.key, chosen): other for chosen, other in alts.items()}
    _break_ambiguous_cycles(tasks, alternatives, context)
    if context.hints:
        for node in nodes:
            _hint_dependencies(node, tasks[node.key], parents)
    return ImportFile(
        source_format=fmt, tag=context.tag, metadata=metadata, tasks=tuple(tasks.values())
    )


def _break_ambiguous_cycles(
    tasks: dict[str, ImportedTask], alternatives: dict[tuple[str, str], str], context: _Context
) -> None:
    """Reject dependency cycles, after re-reading ambiguous entries that cause one.

    A subtask's int dependency that names both a sibling and a top-level task means the
    sibling, unless that closes a cycle: then the top-level task is meant (a real file
    has 7.2 -> 5 and 7.5 -> 2, where 7 itself depends on task 5).
    """
    while cycle := find_cycle({key: task.depends_on for key, task in tasks.items()}):
        edge = next(((a, b) for a, b in itertools.pairwise(cycle) if (a, b) in alternatives), None)
        if edge is None:
            if len(cycle) == 2:
                raise context.error("depends on itself", cycle[0])
            raise context.error(f"is in a dependency cycle: {' → '.join(cycle)}", cycle[0])
        key, chosen = edge
        other = alternatives.pop(edge)
        deps = dict.fromkeys(other if dep == chosen else dep for dep in tasks[key].depends_on)
        tasks[key] = replace(tasks[key], depends_on=tuple(deps))


def _hint_dependencies(node: _Node, task: ImportedTask, parents: dict[str, str | None]) -> None:
    """Keep the file's own dependency list when export would write it differently."""
    raw = node.obj.get("dependencies")
    if "dependencies" in node.obj and raw != ids.render(task.depends_on, task.parent_key, parents):
        task.data[IMPORT_KEY]["dependencies"] = raw


def _walk(items: list[Any], parent: str | None, context: _Context) -> Iterator[_Node]:
    """Every task in file order, parents before their subtasks, with its key."""
    for number, obj in enumerate(items, 1):
        what = (
            f"task number {number}"
            if parent is None
            else f"subtask number {number} of task {parent}"
        )
        if isinstance(obj, _NonFinite):
            raise context.error(f"{what} is {obj.describe()}")
        if not isinstance(obj, dict):
            raise context.error(f"{what} is {_json_type(obj)}, not an object")
        if "id" not in obj:
            raise context.error(f"{what} has no id (title: {obj.get('title')!r})")
        raw_id = obj["id"]
        if isinstance(raw_id, _NonFinite):
            raise context.error(f"{what} has the id {raw_id.describe()}")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
            raise context.error(
                f"{what} has an id that is {_json_type(raw_id)}, not an integer or string"
            )
        local = str(raw_id) if parent is None else ids.local_id(raw_id)
        if not local.strip():
            raise context.error(f"{what} has an empty id")
        key = local if parent is None else f"{parent}.{local}"
        problem = key_problem(key)
        if problem is not None:
            raise context.error(f"{what} has the id {shorten(str(raw_id))}: {problem}")
        bad = _find_bad(obj, skip="subtasks")
        if bad is not None:
            raise context.error(bad, key)
        yield _Node(obj, key, parent, raw_id)
        subtasks = obj.get("subtasks", [])
        if not isinstance(subtasks, list):
            raise context.error(f"has 'subtasks' as {_json_type(subtasks)}, not a list", key)
        yield from _walk(subtasks, key, context)


def _convert(
    node: _Node, position: int, parents: dict[str, str | None], context: _Context
) -> tuple[ImportedTask, dict[str, str]]:
    """The task, and for each ambiguous dependency the key chosen -> the other reading."""
    obj, key = node.obj, node.key

    def fail(problem: str) -> TaskFileError:
        return context.error(problem, key)

    if IMPORT_KEY in obj:
        raise fail(f"has a field named {IMPORT_KEY!r}, which the importer reserves")
    title = _text_field(obj, "title", fail, required=True)
    assert title is not None
    if not title.strip():
        raise fail("has a blank title")
    short_title, full_title = fit_title(title)
    status, status_spelling = _status(obj, fail)
    priority, priority_spelling = _priority(obj, fail)
    raw_deps = obj.get("dependencies", [])
    depends_on, alternatives, unresolved = _dependencies(
        raw_deps, node.parent_key, parents, fail, strict=context.strict
    )

    data = {name: value for name, value in obj.items() if name not in _COLUMNS}
    if context.hints:
        hints: dict[str, Any] = {"keys": list(obj)}
        local = ids.local_part(key, node.parent_key)
        if not _same(ids.default_id(local), node.raw_id):
            hints["id"] = node.raw_id
        optional = {
            "title": full_title,
            "status": status_spelling,
            "priority": priority_spelling,
        }
        hints |= {name: value for name, value in optional.items() if value is not None}
        data[IMPORT_KEY] = hints
    elif full_title is not None:
        data[IMPORT_KEY] = {"title": full_title}
    task = ImportedTask(
        key=key,
        parent_key=node.parent_key,
        title=short_title,
        description=_text_field(obj, "description", fail),
        status=status,
        priority=priority,
        depends_on=depends_on,
        data=data,
        position=position,
        unresolved=unresolved,
    )
    return task, alternatives


def _same(a: ids.Id, b: ids.Id) -> bool:
    return type(a) is type(b) and a == b


def _text_field(
    obj: dict[str, Any], name: str, fail: Callable[[str], TaskFileError], *, required: bool = False
) -> str | None:
    if name not in obj:
        if required:
            raise fail(f"has no {name} (is this a Task Master file?)")
        return None
    value = obj[name]
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise fail(f"has a {name} that is {_json_type(value)}, not a string")
    return value


def _status(obj: dict[str, Any], fail: Callable[[str], TaskFileError]) -> tuple[str, str | None]:
    """Our status and, when it is not spelled as Task Master writes it, the original."""
    if "status" not in obj:
        return "pending", None  # absence is recorded by the key list
    raw = obj["status"]
    if not isinstance(raw, str):
        raise fail(f"has a status that is {_json_type(raw)}, not a string")
    ours = ids.TM_STATUSES.get(raw.strip().lower())
    if ours is None:
        known = ", ".join(ids.TM_STATUSES)
        raise fail(f"has status {raw!r}, which Task Master does not use (expected one of {known})")
    return ours, None if raw == ids.STATUS_TO_TM[ours] else raw


def _priority(
    obj: dict[str, Any], fail: Callable[[str], TaskFileError]
) -> tuple[str | None, str | None]:
    raw = obj.get("priority")
    if raw is None:
        return None, None
    if not isinstance(raw, str):
        raise fail(f"has a priority that is {_json_type(raw)}, not a string")
    ours = raw.strip().lower()
    if ours not in PRIORITIES:
        raise fail(f"has priority {raw!r} (expected one of {', '.join(PRIORITIES)})")
    return ours, None if raw == ours else raw


def _dependencies(
    raw: Any,
    parent_key: str | None,
    parents: dict[str, str | None],
    fail: Callable[[str], TaskFileError],
    *,
    strict: bool,
) -> tuple[tuple[str, ...], dict[str, str], tuple[str, ...]]:
    """The keys of the file's tasks a `dependencies` list names, the alternatives of
    ambiguous ones, and the keys it names that the file does not have."""
    if not isinstance(raw, list):
        raise fail(f"has 'dependencies' as {_json_type(raw)}, not a list")
    keys: dict[str, None] = {}  # ordered set: a repeated entry counts once
    elsewhere: dict[str, None] = {}
    alternatives: dict[str, str] = {}
    for dep in raw:
        if isinstance(dep, bool) or not isinstance(dep, int | str):
            raise fail(f"has a dependency that is {_json_type(dep)} ({dep!r}), not a task id")
        found = ids.candidates(dep, parent_key, parents)
        if not found:
            if strict:
                raise fail(f"depends on {dep}, which does not exist")
            problem = key_problem(str(dep))
            if problem is not None:
                raise fail(f"depends on {shorten(str(dep))}, which is no task key: {problem}")
            elsewhere[str(dep)] = None  # a top-level task of another file, or of later
            continue
        keys[found[0]] = None
        if len(found) > 1:
            alternatives[found[0]] = found[1]
    return tuple(keys), alternatives, tuple(elsewhere)


__all__ = ["ALL_TAGS", "load_path", "parse_taskmaster"]
