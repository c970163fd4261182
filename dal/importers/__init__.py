"""Importers: Task Master and spec-kit task files to a neutral model, and back.

This package is pure Python (no database): parsers (`taskmaster`, `speckit`) produce
`model.ImportFile`s, `plan` diffs them against a project's existing tasks, `export`
writes them back as Task Master JSON. The database applier builds on `plan`.
"""
