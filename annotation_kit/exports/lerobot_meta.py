"""LeRobot's metadata for an export: ``meta/info.json``, the episodes' and tasks' tables (parquet
in v3.0, jsonl in v2.1), ``subtasks.parquet`` and the full annotation records, written once the
episodes are (:mod:`.lerobot`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..formats.lerobot import ANNOTATIONS_FILE, SUBTASKS_FILE
from . import lerobot_language as language
from . import lerobot_stats as stats_of

CHUNK = 1000
"""Files per chunk folder (``chunks_size``)."""


def write_meta(
    layout: Any,
    folder: Path,
    episodes_meta: list[tuple[dict[str, Any], dict[str, Any]]],
    stats_all: list[dict[str, Any]],
    records: list[dict[str, Any]],
    robot_type: str | None,
) -> None:
    """``meta/``: info, tasks, episodes, stats and (``annotation_kit.jsonl``) every record."""
    meta = folder / "meta"
    meta.mkdir(exist_ok=True)
    robot = robot_type or next((u.episode.robot for u in layout.units if u.episode.robot), "")
    robot = robot or "unknown"
    n = len(layout.units)
    info: dict[str, Any] = {
        "codebase_version": layout.version,
        "robot_type": robot,
        "total_episodes": n,
        "total_frames": layout.total,
        "total_tasks": len(layout.tasks),
        "chunks_size": CHUNK,
        "fps": layout.fps,
        "splits": {"train": f"0:{n}"},
        "features": layout.features,
    }
    video = layout.cameras == "video" and layout.camera_keys
    if layout.version == "v3.0":
        info |= {
            "data_files_size_in_mb": layout.data_mb,
            "video_files_size_in_mb": layout.video_mb,
            "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
            "video_path": (
                "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
                if video
                else None
            ),
        }
        if layout.language:
            info["tools"] = [language.SAY_TOOL]
        rows = []
        for row, stats in episodes_meta:
            flat = {f"stats/{k}/{s}": v for k, values in stats.items() for s, v in values.items()}
            rows.append(
                row | flat | {"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
            )
        (meta / "episodes/chunk-000").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), meta / "episodes/chunk-000/file-000.parquet")
        indexed(layout.tasks, "task", meta / "tasks.parquet")
        (meta / "stats.json").write_text(json.dumps(stats_of.aggregate(stats_all), indent=1))
    else:
        info |= {
            "total_chunks": (n - 1) // CHUNK + 1,
            "total_videos": n * len(layout.camera_keys) if video else 0,
            "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
            "video_path": (
                "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
                if video
                else None
            ),
        }
        jsonl(
            meta / "episodes.jsonl",
            [
                {
                    "episode_index": r["episode_index"],
                    "tasks": r["tasks"],
                    "length": r["length"],
                }
                for r, _s in episodes_meta
            ],
        )
        jsonl(
            meta / "tasks.jsonl",
            [{"task_index": i, "task": t} for i, t in enumerate(layout.tasks)],
        )
        jsonl(
            meta / "episodes_stats.jsonl",
            [{"episode_index": r["episode_index"], "stats": s} for r, s in episodes_meta],
        )
    if layout.subtasks:
        indexed(layout.subtasks, "subtask", folder / SUBTASKS_FILE)
    jsonl(folder / ANNOTATIONS_FILE, records)
    (meta / "info.json").write_text(json.dumps(info, indent=4))


def indexed(names: list[str], label: str, path: Path) -> None:
    """``names`` as lerobot keeps tasks: a parquet file that pandas reads back with the text as
    its index (named ``label``) and a ``<label>_index`` column. Written with pyarrow and the
    pandas schema metadata that says so (importing pandas would cost more than the export of a
    small task)."""
    column = f"{label}_index"
    pandas = {
        "index_columns": [label],
        "column_indexes": [
            {
                "name": None,
                "field_name": None,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": {"encoding": "UTF-8"},
            }
        ],
        "columns": [
            {
                "name": column,
                "field_name": column,
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {
                "name": label,
                "field_name": label,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": None,
            },
        ],
        "attributes": {},
        "creator": {"library": "pyarrow", "version": pa.__version__},
    }
    table = pa.table(
        {column: pa.array(range(len(names)), pa.int64()), label: pa.array(names, pa.string())}
    )
    pq.write_table(table.replace_schema_metadata({"pandas": json.dumps(pandas)}), path)


def jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as JSON lines (UTF-8, one object per line)."""
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
