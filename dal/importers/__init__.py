"""Importers: Task Master and spec-kit task files to a neutral model, and back.

Parsers (`taskmaster`, `speckit`) produce `model.ImportFile`s, `plan` diffs them
against a project's existing tasks, `export` writes them back as Task Master JSON; all
pure Python. `apply` is the database half: `import_taskmaster`, `import_speckit` and
`export_taskmaster` read and write a project's tasks in one transaction.
"""

from dal.importers.apply import (
    ImportResult,
    export_taskmaster,
    find_project,
    import_speckit,
    import_taskmaster,
    resolve_owner,
)
from dal.importers.export import to_taskmaster_json
from dal.importers.model import ImportedTask, ImportFile, TaskFileError
from dal.importers.plan import ExistingTask, ImportPlan, plan_import
from dal.importers.speckit import parse_speckit
from dal.importers.taskmaster import ALL_TAGS, load_path, parse_taskmaster

__all__ = [
    "ALL_TAGS",
    "ExistingTask",
    "ImportFile",
    "ImportPlan",
    "ImportResult",
    "ImportedTask",
    "TaskFileError",
    "export_taskmaster",
    "find_project",
    "import_speckit",
    "import_taskmaster",
    "load_path",
    "parse_speckit",
    "parse_taskmaster",
    "plan_import",
    "resolve_owner",
    "to_taskmaster_json",
]
