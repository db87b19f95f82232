"""The guard on raw SQL: one SELECT, over the tables analytics reads, calling no scanner or file
reader."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ...errors import PermissionDenied, ValidationError
from .copies import TABLES

if TYPE_CHECKING:
    import duckdb


TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""Table functions raw SQL may call (the scanners and file readers may not)."""


def check_select(connection: duckdb.DuckDBPyConnection, query: object) -> None:
    """Refuse anything but one SELECT over the tables analytics reads (and a few table
    functions)."""
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ValidationError("the query must be SQL text")
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ValidationError(f"the query is not valid SQL: {exc}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ValidationError("only one SELECT statement may run (analytics is read-only)")
    tree = json.loads(
        connection.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0]  # type: ignore[index]
    )
    if tree.get("error"):
        raise ValidationError(f"the query is not valid SQL: {tree.get('error_message')}")
    ctes: set[str] = set()
    for node in _nodes(tree):
        for entry in (node.get("cte_map") or {}).get("map") or []:
            ctes.add(str(entry.get("key", "")).lower())
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = str((node.get("function") or {}).get("function_name", "")).lower()
            if name not in TABLE_FUNCTIONS:
                raise PermissionDenied(f"the table function {name}() is not available here")
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            qualified = node.get("catalog_name") or node.get("schema_name") not in ("", "main")
            if qualified or (name not in TABLES and name not in ctes):
                raise PermissionDenied(
                    f"{name!r} is not one of the tables analytics reads: {', '.join(TABLES)}"
                )


def _nodes(tree: Any) -> Any:
    """Every mapping in a JSON tree."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)
