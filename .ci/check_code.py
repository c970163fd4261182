#!/usr/bin/env python3
"""Three rules of `dal` that no linter knows, checked on its source (`make lint`).

1. psycopg's public API only: no import of a private psycopg or psycopg_pool module
   or name (`psycopg._queries`, `from psycopg import _tpc`), no `psycopg._x` attribute,
   and none of the undocumented names a fast path once reached for
   (`Transformer` used standalone, `error_from_result`, `notify_handler`, ...).
2. Named SQL stays in its area: a module runs only the queries of its own `sql/`
   file (`dal/aio/users.py` runs `users.*`); a workflow calls area functions
   instead of running another area's SQL by string, an import cycle no import
   linter can see. A query named in a `queries.Call` (a pipelined batch) counts.
3. The public API is documented: every public function, method and class of the
   area modules, the core (db, queries) and the row types has a docstring.

Exits 1 and lists each breach as `path:line: message`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAL = ROOT / "dal"

PSYCOPG = ("psycopg", "psycopg_pool")
# Attributes and names psycopg does not document for applications.
UNDOCUMENTED = {
    "Transformer",
    "error_from_result",
    "notify_handler",
    "set_pgresult",
    "load_row",
    "load_rows",
    "lock",
    "_pgconn",
    "pgresult",
}
RUNNERS = {"fetch_one", "fetch_all", "fetch_value", "fetch_tuples", "execute", "stream"}
# A module's own query file, where its name differs from the file's stem.
OWN_FILE = {"config_store": "config", "_task_list": "tasks"}
# Workflows that own a query file of their own (the importers' set-based writes).
WORKFLOW_FILES = {"importers": "importing"}


def private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def check_psycopg(path: Path, tree: ast.AST) -> list[str]:
    found = []
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in PSYCOPG and any(private(p) for p in parts):
                    found.append(f"{where}:{node.lineno}: private module {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] not in PSYCOPG:
                continue
            if any(private(p) for p in parts):
                found.append(f"{where}:{node.lineno}: private module {node.module}")
            for alias in node.names:
                if private(alias.name) or alias.name in UNDOCUMENTED:
                    found.append(f"{where}:{node.lineno}: {node.module}.{alias.name} is not public")
        elif isinstance(node, ast.Attribute):
            if node.attr in UNDOCUMENTED:
                found.append(f"{where}:{node.lineno}: .{node.attr} is not psycopg's public API")
            chain = _chain(node)
            if chain and chain[0] in PSYCOPG and any(private(p) for p in chain[1:]):
                found.append(f"{where}:{node.lineno}: {'.'.join(chain)} is not public")
    return found


def _chain(node: ast.AST) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return []


def owner_of(path: Path) -> str:
    """The query file a module may run: its own area's, or its workflow's."""
    rel = path.relative_to(DAL).parts
    if rel[0] == "aio":
        rel = rel[1:]
    if len(rel) > 1:
        return WORKFLOW_FILES.get(rel[0], "")
    stem = rel[0].removesuffix(".py")
    return OWN_FILE.get(stem, stem)


def check_named_sql(path: Path, tree: ast.AST) -> list[str]:
    own = owner_of(path)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in RUNNERS | {"Call"} or _chain(node.func)[:1] != ["queries"]:
            continue
        at = 0 if node.func.attr == "Call" else 1  # Call(name, ...); run(db, name, ...)
        if len(node.args) <= at:
            continue
        name = node.args[at]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            area = name.value.split(".", 1)[0]
            if area != own:
                found.append(
                    f"{path.relative_to(ROOT)}:{node.lineno}: runs {name.value!r}, SQL of "
                    f"another area: call a function of dal.{area} instead"
                )
    return found


# Modules whose public names are the library's API (relative to dal/, both flavours).
DOCUMENTED = (
    "rows/",
    "db.py",
    "queries.py",
    *(
        f"{area}.py"
        for area in (
            "categories",
            "config_store",
            "dependencies",
            "events",
            "moods",
            "projects",
            "recommendations",
            "servers",
            "surveys",
            "sync_history",
            "tasks",
            "users",
        )
    ),
)


def check_docstrings(path: Path, tree: ast.Module) -> list[str]:
    rel = path.relative_to(DAL).as_posix().removeprefix("aio/")
    if not rel.startswith(DOCUMENTED):
        return []
    found = []
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        inner = node.body if isinstance(node, ast.ClassDef) else []
        for item in [node, *inner]:
            public = isinstance(item, kinds) and not item.name.startswith("_")
            if public and ast.get_docstring(item) is None:
                found.append(
                    f"{path.relative_to(ROOT)}:{item.lineno}: {item.name} has no docstring"
                )
    return found


def main() -> int:
    problems = []
    for path in sorted(DAL.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        problems += check_psycopg(path, tree)
        problems += check_named_sql(path, tree)
        problems += check_docstrings(path, tree)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(
            "dal: psycopg's public API only; every module runs its own named SQL; "
            "the public API has docstrings"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
