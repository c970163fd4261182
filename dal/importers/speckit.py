"""Read a spec-kit `tasks.md` checklist: one task per ``- [ ] T001 [P] [US1] ...`` line.

Choices, for what real files do:
- an indented task line is a subtask of the nearest less-indented task above it;
- a code used again gets a unique key by occurrence ("T005", then "T005#2", ...), with
  the code itself in `data["code"]`: real files repeat codes by mistake, and refusing
  them would block the import of the whole file;
- checkboxes without a T-code (acceptance lists and the like) are not tasks and are
  skipped; indented non-checkbox lines under a task are kept in `data["notes"]`;
- a phase heading's ``✅ COMPLETED`` suffix is stripped from the phase name and
  recorded as `data["phase_completed"]`;
- a title longer than the column allows is cut; the full text is the description.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Final

from dal.arguments import checked
from dal.importers.model import ImportedTask, ImportFile, fit_title

_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*")
_PHASE = re.compile(r"Phase\s+([\w.]+)\s*[:.\-\u2013\u2014]\s*(.*)", re.IGNORECASE)
_DONE_SUFFIX = re.compile(
    r"\s*[-\u2013\u2014:]?\s*(?:✅\s*(?:\(?COMPLETED?\)?)?|\(?COMPLETED?\)?\s*✅?)\s*$",
    re.IGNORECASE,
)
_TASK = re.compile(r"(\s*)[-*+]\s+\[([ xX])\]\s+(?:\*\*)?(T\d+[A-Za-z0-9]*)(?:\*\*)?:?(?:\s+(.*))?")
_MARKER = re.compile(r"\[([^\]\s]+)\]\s*")
_STORY = re.compile(r"US\d+", re.IGNORECASE)
_FIELD = re.compile(r"\*\*(.+?)\*\*:\s*(.*)")
_BACKTICKED = re.compile(r"`([^`\s]+)`")
_EXTENSIONS: Final = frozenset(
    {"py", "pyi", "js", "jsx", "ts", "tsx", "mjs", "cjs", "json", "md", "yaml", "yml", "toml"}
    | {"ini", "cfg", "sql", "sh", "txt", "html", "css", "scss", "go", "rs", "java", "kt", "rb"}
    | {"php", "cs", "c", "h", "cpp", "hpp", "swift", "vue", "svelte", "env", "lock", "xml"}
)


@checked
def parse_speckit(text: str, *, filename: str) -> ImportFile:
    """Parse a spec-kit `tasks.md`. Status is done for ``[x]``/``[X]``, else pending."""
    del filename  # every line parses to something; kept for the parsers' common signature
    metadata: dict[str, Any] = {}
    context: dict[str, Any] = {}  # phase and section the next task belongs to
    seen: Counter[str] = Counter()
    tasks: list[ImportedTask] = []
    open_tasks: list[tuple[int, ImportedTask]] = []  # indentation and task, outermost first
    for line in text.removeprefix("\ufeff").splitlines():
        heading = _HEADING.fullmatch(line)
        task_line = _TASK.fullmatch(line)
        if heading:
            open_tasks.clear()
            _enter_heading(len(heading[1]), heading[2], context, metadata)
        elif task_line:
            indent = len(task_line[1].expandtabs(4))
            while open_tasks and open_tasks[-1][0] >= indent:
                open_tasks.pop()
            parent = open_tasks[-1][1].key if open_tasks else None
            task = _task(task_line, parent, context, seen, len(tasks))
            tasks.append(task)
            open_tasks.append((indent, task))
        elif open_tasks and line.strip() and _indent(line) > open_tasks[-1][0]:
            open_tasks[-1][1].data.setdefault("notes", []).append(line.strip())
        elif line.strip():
            open_tasks.clear()
            field = _FIELD.fullmatch(line.strip())
            if field and not context:  # "**Feature ID**: ..." lines of the header
                metadata.setdefault("fields", {})[field[1]] = field[2]
    return ImportFile(
        source_format="speckit", tag=None, metadata=metadata or None, tasks=tuple(tasks)
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _enter_heading(
    level: int, text: str, context: dict[str, Any], metadata: dict[str, Any]
) -> None:
    if level == 1:
        metadata.setdefault("title", text)
        return
    if level == 2:
        context.clear()
        name, completed = _DONE_SUFFIX.sub("", text), bool(_DONE_SUFFIX.search(text))
        phase = _PHASE.fullmatch(name)
        if phase:
            context.update(phase=phase[1], phase_name=phase[2].strip())
        else:
            context["section"] = name
        if completed:
            context["phase_completed"] = True
        return
    context["section"] = text


def _task(
    match: re.Match[str],
    parent: str | None,
    context: dict[str, Any],
    seen: Counter[str],
    position: int,
) -> ImportedTask:
    code = match[3]
    seen[code] += 1
    key = code if seen[code] == 1 else f"{code}#{seen[code]}"
    rest = match[4] or ""
    data: dict[str, Any] = {"code": code, **context, "parallel": False}
    while marker := _MARKER.match(rest):
        label, rest = marker[1], rest[marker.end() :]
        if label == "P":
            data["parallel"] = True
        elif _STORY.fullmatch(label):
            data["story"] = label.upper()
        else:
            data.setdefault("labels", []).append(label)
    text = rest.strip() or code
    paths = _paths(text)
    if paths:
        data["paths"] = paths
    if seen[code] > 1:
        data["occurrence"] = seen[code]
    title, full = fit_title(text)
    return ImportedTask(
        key=key,
        parent_key=parent,
        title=title,
        description=full,
        status="pending" if match[2] == " " else "done",
        priority=None,
        depends_on=(),
        data=data,
        position=position,
    )


def _paths(text: str) -> list[str]:
    """File paths named in a task, with or without backticks, each once, in order."""
    found = [token for token in _BACKTICKED.findall(text) if _looks_like_path(token)]
    for word in _BACKTICKED.sub(" ", text).split():
        token = word.strip("()[]{},;:'\"").removesuffix(".")
        if _looks_like_path(token) and not token.startswith("/"):
            found.append(token)
    return list(dict.fromkeys(found))


def _looks_like_path(token: str) -> bool:
    """A relative path (a/b, a/b.py) or a file name with a known extension (.env, x.py).

    URLs, calls, pins and scoped npm packages ("@scope/name") are not paths.
    """
    if token.startswith("@") or any(mark in token for mark in ("://", "(", "=")):
        return False
    return "/" in token or ("." in token and token.rsplit(".", 1)[1] in _EXTENSIONS)
