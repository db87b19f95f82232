"""LeRobot datasets, v2.1 (one parquet per episode + jsonl meta) and v3.0 (many episodes per
parquet file + parquet meta), read with pyarrow; video frames decoded with PyAV.

Each episode becomes one dataset (``<folder URL>#episode=N``). The episode clock is
``frame_index / fps``. Annotations already in the dataset — its tasks, ``subtask_index`` runs
(with ``meta/subtasks.parquet``) and ``language_persistent`` / ``language_events`` columns — are
returned as source segments and imported with provenance ``import``. An annotation_kit export
read back (``meta/annotation_kit.jsonl``) gives exactly the records it holds, each once.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow.parquet as pq

from ..store.locations import Location
from .base import EpisodeInfo, FormatError, SourceSegment, StreamInfo, exported_segments
from .lerobot_episode import LeRobotEpisode

NAME = "lerobot"
ANNOTATIONS_FILE = "meta/annotation_kit.jsonl"
"""Where an annotation_kit export keeps every annotation record (read back on import)."""
SUBTASKS_FILE = "meta/subtasks.parquet"
BOOKKEEPING = {"timestamp", "frame_index", "episode_index", "index", "task_index", "subtask_index"}
LANGUAGE = ("language_persistent", "language_events")


def is_dataset(location: Location) -> bool:
    """Whether ``location`` is a LeRobot dataset folder (it has ``meta/info.json``)."""
    return location.isdir() and location.child("meta/info.json").exists()


def _read_json(location: Location) -> Any:
    with location.open() as stream:
        return json.load(stream)


def _jsonl(location: Location) -> list[dict[str, Any]]:
    with location.open() as stream:
        return [json.loads(line) for line in stream.read().decode().splitlines() if line.strip()]


def _names(feature: dict[str, Any]) -> list[str]:
    names = feature.get("names")
    if isinstance(names, dict):  # {"motors": [...]} in some datasets
        names = next(iter(names.values()), None)
    flat: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                walk(x)
        elif item is not None:
            flat.append(str(item))

    walk(names)
    return flat


def scan(location: Location, *, probe_cameras: bool = True) -> list[EpisodeInfo]:
    """Index every episode of a LeRobot dataset folder from its ``meta/`` files."""
    try:
        info = _read_json(location.child("meta/info.json"))
        version = str(info.get("codebase_version", ""))
        if version.startswith("v2"):
            rows = _episodes_v2(location)
        elif version.startswith("v3"):
            rows = _episodes_v3(location)
        else:
            raise FormatError(f"unsupported LeRobot codebase_version {version!r}")
        videos = _existing_videos(location, info)
        subtasks = _subtasks(location)
        exported = _exported(location)
        return [_episode(location, info, version, row, videos, subtasks, exported) for row in rows]
    except FormatError as exc:
        raise FormatError(f"{location.url}: {exc}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise FormatError(f"{location.url}: not a readable LeRobot dataset ({exc})") from exc


def _episodes_v2(location: Location) -> list[dict[str, Any]]:
    return _jsonl(location.child("meta/episodes.jsonl"))


def _episodes_v3(location: Location) -> list[dict[str, Any]]:
    folder = location.child("meta/episodes")
    rows: list[dict[str, Any]] = []
    for path in sorted(location.fs.find(folder.path)):
        if not path.endswith(".parquet"):
            continue
        with location.fs.open(path, "rb") as stream:
            schema = pq.read_schema(stream)
            keep = [n for n in schema.names if not n.startswith("stats/")]
            stream.seek(0)
            rows.extend(pq.read_table(stream, columns=keep).to_pylist())
    if not rows:
        raise FormatError("meta/episodes holds no episodes")
    return rows


def _existing_videos(location: Location, info: dict[str, Any]) -> set[str]:
    videos = location.child("videos")
    if not any(f.get("dtype") == "video" for f in info["features"].values()) or not videos.exists():
        return set()
    root = location.path.rstrip("/") + "/"
    return {p.removeprefix(root) for p in location.fs.find(videos.path)}


def _exported(location: Location) -> dict[int, list[dict[str, Any]]] | None:
    """Annotations an annotation_kit export wrote (``meta/annotation_kit.jsonl``), by episode,
    with their ns bounds on each LeRobot episode's own clock; None for a dataset that is not
    an annotation_kit export."""
    path = location.child(ANNOTATIONS_FILE)
    if not path.exists():
        return None
    out: dict[int, list[dict[str, Any]]] = {}
    for record in _jsonl(path):
        offset = int(record.get("unit_start_ns") or 0)
        for key in ("start_ns", "end_ns"):
            if record.get(key) is not None:
                record[key] = int(record[key]) - offset
        out.setdefault(int(record["lerobot_episode"]), []).append(record)
    return out


def _subtasks(location: Location) -> dict[int, str]:
    path = location.child(SUBTASKS_FILE)
    if not path.exists():
        return {}
    with path.open() as stream:
        table = pq.read_table(stream)
    names = [n for n in table.column_names if n != "subtask_index"]
    return dict(
        zip(
            table.column("subtask_index").to_pylist(),
            table.column(names[0]).to_pylist(),
            strict=True,
        )
    )


def _video_file(info: dict[str, Any], row: dict[str, Any], key: str) -> str:
    template = info.get("video_path") or ""
    chunk_size = int(info.get("chunks_size", 1000))
    return template.format(
        episode_chunk=row["episode_index"] // chunk_size,
        episode_index=row["episode_index"],
        video_key=key,
        chunk_index=row.get(f"videos/{key}/chunk_index", 0),
        file_index=row.get(f"videos/{key}/file_index", 0),
    )


def _data_file(info: dict[str, Any], row: dict[str, Any]) -> str:
    chunk_size = int(info.get("chunks_size", 1000))
    return info["data_path"].format(
        episode_chunk=row["episode_index"] // chunk_size,
        episode_index=row["episode_index"],
        chunk_index=row.get("data/chunk_index", 0),
        file_index=row.get("data/file_index", 0),
    )


def _streams(
    info: dict[str, Any], row: dict[str, Any], videos: set[str], length: int, fps: float
) -> tuple[list[StreamInfo], list[str], dict[str, str]]:
    """An episode's cameras (video or image features) and signals, what is wrong with them (a
    missing video file), and each video camera's file."""
    streams: list[StreamInfo] = []
    problems: list[str] = []
    files: dict[str, str] = {}
    for key, feature in info["features"].items():
        dtype = feature.get("dtype")
        shape = feature.get("shape") or []
        if key in BOOKKEEPING or dtype == "language":
            continue
        size: dict[str, Any] = {
            "height": shape[0] if shape else None,
            "width": shape[1] if len(shape) > 1 else None,
        }
        if dtype == "video":
            relative = _video_file(info, row, key)
            present = relative in videos
            files[key] = relative
            vinfo = feature.get("info") or {}
            streams.append(
                StreamInfo(
                    name=key,
                    kind="camera",
                    count=length,
                    rate_hz=float(vinfo.get("video.fps", fps)),
                    encoding=f"video/{vinfo.get('video.codec', 'mp4')}",
                    missing=not present,
                    **size,
                )
            )
            if not present:
                problems.append(
                    f"camera {key}: video file {relative} is missing; its signals "
                    f"were imported without it"
                )
        elif dtype == "image":
            streams.append(
                StreamInfo(
                    name=key,
                    kind="camera",
                    count=length,
                    rate_hz=fps,
                    encoding="image in parquet",
                    **size,
                )
            )
        elif dtype in ("float32", "float64", "int64", "int32", "bool", "int16", "uint8"):
            streams.append(
                StreamInfo(
                    name=key,
                    kind="signal",
                    count=length,
                    rate_hz=fps,
                    fields=_names(feature),
                    encoding=dtype,
                )
            )
    return streams, problems, files


def _episode(
    location: Location,
    info: dict[str, Any],
    version: str,
    row: dict[str, Any],
    videos: set[str],
    subtasks: dict[int, str],
    exported: dict[int, list[dict[str, Any]]] | None = None,
) -> EpisodeInfo:
    fps = float(info["fps"])
    index, length = int(row["episode_index"]), int(row["length"])
    if length < 1:
        raise FormatError(f"episode {index} has no frames")
    duration = round((length - 1) * 1e9 / fps)
    streams, problems, files = _streams(info, row, videos, length, fps)
    data_file = _data_file(info, row)
    tasks = row.get("tasks") or []
    segments = [SourceSegment(0, duration, str(t), style="task") for t in tasks if t]
    wants_columns = [
        k
        for k, f in info["features"].items()
        if f.get("dtype") == "language" or k == "subtask_index"
    ]
    locator = {
        "version": version,
        "episode": index,
        "fps": fps,
        "data_file": data_file,
        "from_index": row.get("dataset_from_index"),
        "videos": files,
        "video_from": {k: row.get(f"videos/{k}/from_timestamp", 0.0) for k in files},
    }
    if exported is not None:  # our own export: its records (with their origin) and nothing else
        # — its task strings came from those records or from the task's name, never twice
        segments = exported_segments(exported.get(index, []), duration)
    elif wants_columns:
        segments += _source_segments(location, locator, wants_columns, duration, subtasks)
    return EpisodeInfo(
        name=f"{location.name}/episode_{index:06d}",
        source_uri=f"{location.url}#episode={index}",
        format=f"{NAME}-{version}",
        duration_ns=duration,
        streams=streams,
        size_bytes=0,
        robot=str(info.get("robot_type") or ""),
        locator=locator,
        meta={"fps": fps, "tasks": tasks, "codebase_version": version},
        segments=segments,
        problems=problems,
    )


def open_episode(location: Location, info: dict[str, Any]) -> LeRobotEpisode:
    """Open one indexed episode of a LeRobot dataset for lazy reading."""
    return LeRobotEpisode(location, info["locator"])


def _source_segments(
    location: Location,
    locator: dict[str, Any],
    columns: list[str],
    duration_ns: int,
    subtasks: dict[int, str],
) -> list[SourceSegment]:
    """Segments from ``subtask_index`` runs and the ``language_*`` columns of one episode."""
    with location.child(locator["data_file"]).open() as stream:
        table = pq.read_table(
            stream,
            columns=["episode_index", "frame_index", *columns],
            filters=[("episode_index", "=", locator["episode"])],
        )
    table = table.sort_by("frame_index")
    period = 1e9 / float(locator["fps"])
    segments: list[SourceSegment] = []
    if "subtask_index" in columns:
        for first, last, value in _runs(table.column("subtask_index").to_pylist()):
            segments.append(
                SourceSegment(
                    round(first * period),
                    min(duration_ns, round((last + 1) * period)),
                    subtasks.get(value, f"subtask {value}"),
                    style="subtask",
                )
            )
    frames = table.column("frame_index").to_pylist()
    for column in (c for c in columns if c in LANGUAGE):
        cells = table.column(column).to_pylist()
        if column == "language_events":  # an event has no timestamp: it fires on its frame
            for frame, cell in zip(frames, cells, strict=True):
                for a in cell or []:
                    if a.get("content"):
                        start = round(frame * period)
                        segments.append(
                            SourceSegment(
                                start,
                                min(duration_ns, start + round(period)),
                                a["content"],
                                style=a.get("style") or "event",
                            )
                        )
            continue
        atoms = {  # persistent rows: active from their timestamp until the next of their style
            (a.get("style") or "", float(a.get("timestamp") or 0.0), a.get("content") or "")
            for cell in cells
            for a in (cell or [])
        }
        by_style: dict[str, list[tuple[float, str]]] = {}
        for style, t, content in sorted(atoms):
            by_style.setdefault(style, []).append((t, content))
        for style, rows in by_style.items():
            for i, (t, content) in enumerate(rows):
                start = round(t * 1e9)
                end = round(rows[i + 1][0] * 1e9) if i + 1 < len(rows) else duration_ns
                if end > start and content:
                    segments.append(SourceSegment(start, end, content, style=style or "language"))
    return segments


def _runs(values: list[Any]) -> list[tuple[int, int, Any]]:
    """(first, last, value) runs of equal consecutive values (None and negative = none)."""
    runs: list[tuple[int, int, Any]] = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, int) and value < 0):
            continue
        if runs and runs[-1][2] == value and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, value)
        else:
            runs.append((i, i, value))
    return runs
