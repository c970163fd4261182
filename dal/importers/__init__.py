"""Importers: Task Master and spec-kit task files to a neutral model, and back.

This package is pure Python (no database): parsers (`taskmaster`, `speckit`) produce
`model.ImportFile`s, `plan` diffs them against a project's existing tasks, `export`
writes them back as Task Master JSON. The database applier builds on `plan`.
"""

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
    "ImportedTask",
    "TaskFileError",
    "load_path",
    "parse_speckit",
    "parse_taskmaster",
    "plan_import",
    "to_taskmaster_json",
]
