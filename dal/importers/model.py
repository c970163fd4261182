"""The neutral model every task-file parser produces and the importer consumes.

Parsers (`taskmaster`, `speckit`) turn a file into `ImportFile`s; `plan` diffs them
against a project's tasks and `export` turns them back into Task Master JSON. Nothing
here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from dal._task_list import STATUSES as TASK_STATUSES
from dal.errors import InvalidData

SourceFormat = Literal[
    "taskmaster-json-legacy", "taskmaster-json-tagged", "taskmaster-text", "speckit"
]

# Our status vocabulary: TaskTracker's three plus Task Master's, spelled with `_`
# (the CHECK tasks_status_valid; one list for the whole package).
STATUSES: Final = TASK_STATUSES

PRIORITIES: Final = ("low", "medium", "high", "critical")

TITLE_MAX: Final = 200
"""The `tasks.title` limit; longer titles are cut and the full text kept in `data`."""

KEY_MAX: Final = 100
"""The `tasks.key` limit (CHECK tasks_key_format: 1-100 characters, no whitespace)."""

PROJECT_NAME_MAX: Final = 200
"""The `projects.name` limit (CHECK projects_name_length)."""

IMPORT_KEY: Final = "_import"
"""The one `data` key parsers reserve for what export needs to restore the file exactly
(original id type, key order, spelling, dependency form). Every other `data` key is a
field of the source task, kept verbatim."""


@dataclass(frozen=True, slots=True)
class ImportedTask:
    """One task or subtask as read from a file, before it meets the database."""

    key: str
    """Project-scoped key: "12", "12.3" (subtask 3 of task 12), "T001", or a slug."""
    parent_key: str | None
    title: str
    description: str | None
    status: str
    """One of `STATUSES`."""
    priority: str | None
    """One of `PRIORITIES`, or None when the file gives none."""
    depends_on: tuple[str, ...]
    """Keys of other tasks of the same import, each once, in file order."""
    data: dict[str, Any]
    """JSON-able: the source fields that have no column, verbatim, plus `IMPORT_KEY`."""
    position: int
    """Order in the file (parents before their subtasks), to export in the same order."""
    unresolved: tuple[str, ...] = ()
    """Keys of dependencies the file does not have: tasks of the project (from an
    earlier import), or of one still to come, which the import keeps waiting for."""


@dataclass(frozen=True, slots=True)
class ImportFile:
    """The tasks of one project-to-be: a legacy file, one tag of a tagged file, ..."""

    source_format: SourceFormat
    tag: str | None
    """The Task Master tag these tasks came from; None for untagged sources."""
    metadata: dict[str, Any] | None
    """The file's (or tag's) metadata object verbatim; None when the file has none."""
    tasks: tuple[ImportedTask, ...]
    """Every task and subtask, parents before children, in file order."""


class TaskFileError(InvalidData):
    """A task file cannot be imported as it is; nothing was written.

    The message is one sentence naming the file, the task (when there is one) and the
    problem, e.g. ``tasks.json: task 7.2 depends on 9, which does not exist``.
    """

    def __init__(
        self,
        filename: str,
        problem: str,
        *,
        task: str | None = None,
        tag: str | None = None,
        line: int | None = None,
    ) -> None:
        where = filename if line is None else f"{filename}:{line}"
        if tag is not None:
            where += f" (tag {tag!r})"
        subject = f"task {task} " if task is not None else ""
        super().__init__(f"{where}: {subject}{problem}")
        self.filename = filename
        self.problem = problem
        self.task = task
        self.tag = tag
        self.line = line


def fit_title(title: str) -> tuple[str, str | None]:
    """The title cut to `TITLE_MAX` characters, and the full title when it had to be cut."""
    if len(title) <= TITLE_MAX:
        return title, None
    return title[: TITLE_MAX - 1].rstrip() + "…", title


def shorten(text: str, limit: int = 24) -> str:
    """`text` quoted for a message, cut to `limit` characters: 'abc…'."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def key_problem(key: str) -> str | None:
    """Why the database would refuse `key` as a task key, or None if it would not.

    Checked before writing so the message names the task instead of the constraint.
    Python's whitespace is a superset of PostgreSQL's ``[[:space:]]``.
    """
    if not key:
        return "a task key cannot be empty"
    if "\x00" in key:
        return "a task key cannot contain a NUL character (\\u0000)"
    if any(char.isspace() for char in key):
        return "a task key cannot contain whitespace"
    if len(key) > KEY_MAX:
        return f"its key would be {len(key)} characters, over the {KEY_MAX} a task key can hold"
    return None


def project_name_problem(name: str) -> str | None:
    """Why the database would refuse `name` as a project name, or None if it would not."""
    if "\x00" in name:
        return "a project name cannot contain a NUL character (\\u0000)"
    if not name.strip():
        return "a project name cannot be blank"
    if len(name) > PROJECT_NAME_MAX:
        return f"it is {len(name)} characters, over the {PROJECT_NAME_MAX} a project name can hold"
    return None
