"""JSON and CSV: one record per annotation (see ``schema.json`` in this folder).

JSON is written as ``annotations.json``: ``{"schema": ..., "annotations": [...]}``, streamed one
record at a time. CSV is ``annotations.csv`` with a header row; pandas reads it with no options
(labels are joined with ``;``, empty cells are missing values, times are ISO 8601).
"""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from .plan import AnnotationRecord, Plan

SCHEMA = Path(__file__).with_name("schema.json")
SCHEMA_ID = "https://annotation-kit.dev/schemas/annotations-1.json"
COLUMNS = [f.name for f in fields(AnnotationRecord)]


def write_json(plan: Plan, folder: Path) -> dict[str, Any]:
    """Write ``annotations.json``: the tasks and every annotation record, streamed."""
    with open(folder / "annotations.json", "w", encoding="utf-8") as out:
        head = {"schema": SCHEMA_ID, "tasks": plan.tasks}
        out.write(json.dumps(head)[:-1] + ', "annotations": [')
        for i, record in enumerate(plan.annotations):
            out.write(("," if i else "") + "\n" + json.dumps(record.to_json(), ensure_ascii=False))
        out.write("\n]}\n")
    (folder / "schema.json").write_bytes(SCHEMA.read_bytes())
    return {}


def write_csv(plan: Plan, folder: Path) -> dict[str, Any]:
    """Write ``annotations.csv``: one row per annotation record."""
    with open(folder / "annotations.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for record in plan.annotations:
            row = record.to_json()
            row["labels"] = ";".join(row["labels"])
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return {}
