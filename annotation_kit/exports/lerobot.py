"""LeRobot datasets, v3.0 (default) and v2.1, written with pyarrow (and PyAV for videos).

Each exported episode is resampled to ``rate_hz`` (default 30 Hz; see :mod:`.sampling`) with
``observation.state`` and ``action`` mapped from the source streams (float32 by default,
``dtype="float64"`` keeps float64 sources exact) and each camera as
``observation.images.<name>``: an mp4 video (``cameras="video"``, PyAV, ``codec`` libx264 by
default), PNG images inside the parquet (``cameras="images"``), or left out (``"none"``).

v3.0: ``data/chunk-000/file-NNN.parquet`` with each episode its own row group,
``videos/<key>/chunk-000/file-NNN.mp4`` (one file per episode), ``meta/info.json``,
``meta/tasks.parquet``, ``meta/episodes/chunk-000/file-000.parquet`` (with per-episode stats
and video offsets) and ``meta/stats.json``. v2.1: one parquet and one mp4 per episode,
``meta/{info.json, episodes.jsonl, tasks.jsonl, episodes_stats.jsonl}``.

Annotations: each segment's description (its skill when it has none) becomes
``language_persistent`` atoms (role ``assistant``, style ``subtask``, timestamp of its start; an
atom with empty content ends a segment followed by a gap) and episode-level annotations
``language_events`` atoms on the first frame (v3.0); both versions also get ``subtask_index`` per
frame (-1 outside segments) with ``meta/subtasks.parquet``, and the episode's task is the
annotation_kit task's description (else its name). ``meta/annotation_kit.jsonl`` keeps every
exported annotation record with the frames it maps to, which the importer reads back with
where the annotation came from. ``strict_match=True`` writes only the annotated spans: each
segment becomes its own LeRobot episode whose task is the segment's description.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ValidationError
from .plan import AnnotationRecord, EpisodePlan, Plan
from .sampling import Grid, camera_pixels, mapping_for

VERSIONS = ("v3.0", "v2.1")
CAMERA_MODES = ("video", "images", "none")
ATOM = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("style", pa.string()),
        ("timestamp", pa.float64()),
    ]
)
LANGUAGE = pa.list_(ATOM)
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
CHUNK = 1000
FILE_MB = 100


@dataclass
class Unit:
    """One LeRobot episode: a span of one exported episode."""

    episode: EpisodePlan
    start_ns: int
    end_ns: int
    task: str
    records: list[AnnotationRecord] = field(default_factory=list)


def write(
    plan: Plan,
    folder: Path,
    *,
    version: str = "v3.0",
    rate_hz: float = 30.0,
    mapping: dict[str, str] | None = None,
    cameras: str = "video",
    codec: str = "libx264",
    dtype: str = "float32",
    strict_match: bool = False,
    robot_type: str | None = None,
) -> dict[str, Any]:
    if version not in VERSIONS:
        raise ValidationError(f"LeRobot version must be one of {', '.join(VERSIONS)}")
    if cameras not in CAMERA_MODES:
        raise ValidationError(f"cameras must be one of {', '.join(CAMERA_MODES)}")
    if dtype not in ("float32", "float64"):
        raise ValidationError("dtype must be float32 or float64")
    units = _units(plan, strict_match)
    if not units:
        raise ValidationError("nothing to export: no episodes (or, with strict_match, segments)")
    layout = _Layout(plan, units, version, rate_hz, mapping, cameras, codec, dtype)
    layout.write(folder, robot_type)
    return {"lerobot_episodes": len(units), "frames": layout.total}


def _task_text(episode: EpisodePlan, plan: Plan) -> str:
    names = {t["name"]: t for t in plan.tasks}
    for name in episode.tasks:
        if name in names:
            return names[name].get("description") or name
    return episode.name


def _units(plan: Plan, strict: bool) -> list[Unit]:
    units = []
    for episode in plan.episodes:
        if not strict:
            units.append(
                Unit(
                    episode,
                    0,
                    episode.duration_ns,
                    _task_text(episode, plan),
                    list(episode.annotations),
                )
            )
            continue
        for a in sorted(episode.segments, key=lambda r: (r.start_ns, r.annotation)):
            units.append(Unit(episode, a.start_ns, a.end_ns, _text(a), [a]))
    return units


def _text(record: AnnotationRecord) -> str:
    return record.description or record.skill or "segment"


class _Layout:
    def __init__(self, plan, units, version, rate_hz, mapping, cameras, codec, dtype):
        self.plan, self.units, self.version = plan, units, version
        self.rate, self.mapping, self.cameras, self.codec = float(rate_hz), mapping, cameras, codec
        self.dtype = np.dtype(dtype)
        if self.rate <= 0:
            raise ValidationError(f"rate_hz must be above 0, got {rate_hz}")
        self.tasks = sorted({u.task for u in units})
        self.subtasks = sorted({_text(a) for u in units for a in u.records if a.kind == "segment"})
        self.total = 0
        self.features: dict[str, dict[str, Any]] = {}
        self.signals: dict[str, str] = {}
        self.camera_keys: dict[str, str] = {}
        self._plan_features()

    # ----- features -----------------------------------------------------------------------

    def _plan_features(self) -> None:
        first = self.units[0].episode
        self.signals = mapping_for(first.streams, self.mapping)
        if not self.signals:
            raise ValidationError(
                f"episode {first.name!r} has no signal to map to observation.state or action; "
                "pass mapping={'observation.state': ..., 'action': ...}"
            )
        fields = {s["name"]: s.get("fields") or [] for s in first.streams}
        dims = {}
        data = first.open()
        try:
            for key, stream in self.signals.items():
                _t, values = data.reader.signal(stream)
                dims[key] = values.shape[1]
                names = list(fields.get(stream) or [])
                self.features[key] = {
                    "dtype": self.dtype.name,
                    "shape": [values.shape[1]],
                    "names": names if len(names) == values.shape[1] else None,
                }
            if self.cameras != "none":
                for camera in first.cameras:
                    if camera.get("missing"):
                        continue
                    key = "observation.images." + _label(camera["name"])
                    self.camera_keys[camera["name"]] = key
                    grid = Grid(np.array([0], dtype=np.int64))
                    sample = next(camera_pixels(data, camera["name"], grid))
                    feature = {
                        "dtype": "video" if self.cameras == "video" else "image",
                        "shape": list(sample.shape),
                        "names": ["height", "width", "channels"],
                    }
                    if self.cameras == "video":
                        feature["info"] = {
                            "video.height": sample.shape[0],
                            "video.width": sample.shape[1],
                            "video.codec": "h264" if "264" in self.codec else self.codec,
                            "video.pix_fmt": "yuv420p",
                            "video.is_depth_map": False,
                            "video.fps": self.rate,
                            "video.channels": 3,
                            "has_audio": False,
                        }
                    self.features[key] = feature
        finally:
            data.close()
        for unit in self.units[1:]:  # every episode must have the same features
            mapped = mapping_for(unit.episode.streams, self.mapping)
            if set(mapped) != set(self.signals):
                raise ValidationError(
                    f"episode {unit.episode.name!r} maps {sorted(mapped)}, the first one "
                    f"{sorted(self.signals)}: a LeRobot dataset needs the same features"
                )
            names = {c["name"] for c in unit.episode.cameras if not c.get("missing")}
            if self.cameras != "none" and names != set(self.camera_keys):
                raise ValidationError(
                    f"episode {unit.episode.name!r} has cameras {sorted(names)}, the first one "
                    f"{sorted(self.camera_keys)}: a LeRobot dataset needs the same cameras"
                )
        scalar = {"dtype": "float32", "shape": [1], "names": None}
        index = {"dtype": "int64", "shape": [1], "names": None}
        self.features |= {
            "timestamp": scalar,
            "frame_index": index,
            "episode_index": index,
            "index": index,
            "task_index": index,
            "subtask_index": index,
        }
        if self.version == "v3.0":
            language = {"dtype": "language", "shape": [1], "names": None}
            self.features |= {"language_persistent": language, "language_events": language}
        self.dims = dims

    # ----- writing ------------------------------------------------------------------------

    def write(self, folder: Path, robot_type: str | None) -> None:
        episodes_meta, stats_all, records = [], [], []
        writer = None
        file_index = 0
        data_dir = folder / "data/chunk-000"
        data_dir.mkdir(parents=True)
        # where each episode's frames start in the dataset (the ``index`` column)
        lengths = [len(Grid.at(u.end_ns - u.start_ns, self.rate).t_ns) for u in self.units]
        firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
        # the next episode is read and prepared in a thread while this one is written (pyarrow
        # and numpy release the GIL): two episodes in memory at most
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            pending = pool.submit(self._unit, folder, 0, self.units[0], firsts[0])
            for number, unit in enumerate(self.units):
                table, stats = pending.result()
                if number + 1 < len(self.units):
                    pending = pool.submit(
                        self._unit, folder, number + 1, self.units[number + 1], firsts[number + 1]
                    )
                if self.version == "v3.0":
                    path = data_dir / f"file-{file_index:03d}.parquet"
                    if writer is not None and path.stat().st_size > FILE_MB * 1e6:
                        writer.close()
                        writer, file_index = None, file_index + 1
                        path = data_dir / f"file-{file_index:03d}.parquet"
                    if writer is None:
                        writer = pq.ParquetWriter(path, table.schema)
                    writer.write_table(table, row_group_size=max(1, len(table)))
                else:
                    chunk = folder / f"data/chunk-{number // CHUNK:03d}"
                    chunk.mkdir(parents=True, exist_ok=True)
                    pq.write_table(table, chunk / f"episode_{number:06d}.parquet")
                row = {
                    "episode_index": number,
                    "tasks": [unit.task],
                    "length": len(table),
                    "data/chunk_index": 0,
                    "data/file_index": file_index,
                    "dataset_from_index": self.total,
                    "dataset_to_index": self.total + len(table),
                }
                for key in self.camera_keys.values():
                    if self.cameras == "video":
                        row |= {
                            f"videos/{key}/chunk_index": 0,
                            f"videos/{key}/file_index": number,
                            f"videos/{key}/from_timestamp": 0.0,
                            f"videos/{key}/to_timestamp": len(table) / self.rate,
                        }
                episodes_meta.append((row, stats))
                self.plan.step(unit.episode.name)
                stats_all.append(stats)
                self.total += len(table)
                records += [
                    a.to_json()
                    | {
                        "lerobot_episode": number,
                        "unit_start_ns": unit.start_ns,
                        "from_frame": _frame_of(a.start_ns, unit, self.rate),
                        "to_frame": _frame_of(a.end_ns, unit, self.rate),
                    }
                    for a in unit.records
                ]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if writer is not None:
                writer.close()
        self._meta(folder, episodes_meta, stats_all, records, robot_type)

    def _unit(self, folder: Path, number: int, unit: Unit, first: int):
        grid = Grid.at(unit.end_ns - unit.start_ns, self.rate)
        times = grid.t_ns + unit.start_ns
        n = len(times)
        absolute = Grid(times)
        columns: dict[str, Any] = {}
        stats: dict[str, dict[str, Any]] = {}
        data = unit.episode.open()
        try:
            if hasattr(data.reader, "prefetch"):  # both streams in one read
                data.reader.prefetch(list(self.signals.values()))
            for key, stream in self.signals.items():
                t, values = data.reader.signal(stream)
                picked = values[absolute.nearest(t)].astype(self.dtype)
                if picked.shape[1] != self.dims[key]:
                    raise ValidationError(
                        f"episode {unit.episode.name!r}: {stream} has {picked.shape[1]} values "
                        f"per sample, the first episode {self.dims[key]}"
                    )
                arrow = pa.from_numpy_dtype(self.dtype)
                columns[key] = pa.FixedSizeListArray.from_arrays(
                    pa.array(picked.ravel(), arrow), picked.shape[1]
                )
                stats[key] = _stats(picked)
            for camera, key in self.camera_keys.items():
                frames = camera_pixels(data, camera, absolute)
                if self.cameras == "images":
                    cells, sample = [], []
                    for i, pixels in enumerate(frames):
                        cells.append({"bytes": _png(pixels), "path": None})
                        if i % max(1, n // 50) == 0:
                            sample.append(pixels)
                    columns[key] = pa.array(cells, IMAGE)
                else:
                    sample = self._video(folder, number, key, frames)
                stats[key] = _image_stats(sample)
        finally:
            data.close()
        frame_index = np.arange(n, dtype=np.int64)
        columns |= {
            "timestamp": pa.array(frame_index / self.rate, pa.float32()),
            "frame_index": frame_index,
            "episode_index": np.full(n, number, dtype=np.int64),
            "index": np.arange(first, first + n, dtype=np.int64),
            "task_index": np.full(n, self.tasks.index(unit.task), dtype=np.int64),
            "subtask_index": self._subtask_index(unit, times),
        }
        if self.version == "v3.0":
            persistent, events = self._language(unit)
            atoms = pa.array(persistent, ATOM)
            k = len(persistent)  # the same atoms on every row, without n Python lists
            columns["language_persistent"] = pa.ListArray.from_arrays(
                pa.array(
                    np.arange(0, n * k + 1, k or 1)[: n + 1] if k else np.zeros(n + 1), pa.int32()
                ),
                atoms.take(pa.array(np.tile(np.arange(k), n), pa.int64())),
            )
            offsets = np.full(n + 1, len(events), dtype=np.int32)
            offsets[0] = 0
            columns["language_events"] = pa.ListArray.from_arrays(
                pa.array(offsets), pa.array(events, ATOM)
            )
        stats |= {  # closed forms: these columns are ramps and constants
            "timestamp": _ramp_stats(n, 0.0, 1 / self.rate),
            "frame_index": _ramp_stats(n, 0, 1),
            "episode_index": _ramp_stats(n, number, 0),
            "index": _ramp_stats(n, first, 1),
            "task_index": _ramp_stats(n, self.tasks.index(unit.task), 0),
        }
        return pa.table(columns), stats

    def _subtask_index(self, unit: Unit, times: np.ndarray) -> np.ndarray:
        out = np.full(len(times), -1, dtype=np.int64)
        for a in sorted(unit.records, key=lambda r: (r.start_ns or 0, r.annotation)):
            if a.kind != "segment":
                continue
            inside = (times >= a.start_ns) & (times < a.end_ns)
            out[inside] = self.subtasks.index(_text(a))
        return out

    def _language(self, unit: Unit) -> tuple[list[dict], list[dict]]:
        persistent: list[dict[str, Any]] = []
        segments = sorted(
            (a for a in unit.records if a.kind == "segment"), key=lambda r: (r.start_ns, r.end_ns)
        )
        for i, a in enumerate(segments):
            start = (a.start_ns - unit.start_ns) / 1e9
            persistent.append(_atom(_text(a), "subtask", start))
            following = segments[i + 1].start_ns if i + 1 < len(segments) else None
            if a.end_ns < unit.end_ns and (following is None or following > a.end_ns):
                persistent.append(_atom("", "subtask", (a.end_ns - unit.start_ns) / 1e9))
        events = [
            _atom(a.description or a.skill or ("valid" if a.valid else "invalid"), "episode", 0.0)
            for a in unit.records
            if a.kind != "segment"
        ]
        return persistent, events

    def _video(self, folder: Path, number: int, key: str, frames) -> list[np.ndarray]:
        import av

        if self.version == "v3.0":
            path = folder / f"videos/{key}/chunk-000/file-{number:03d}.mp4"
        else:
            path = folder / f"videos/chunk-{number // CHUNK:03d}/{key}/episode_{number:06d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        sample = []
        with av.open(str(path), "w") as container:
            stream = None
            for i, pixels in enumerate(frames):
                if stream is None:
                    stream = container.add_stream(self.codec, rate=_fraction(self.rate))
                    stream.width, stream.height = pixels.shape[1] // 2 * 2, pixels.shape[0] // 2 * 2
                    stream.pix_fmt = "yuv420p"
                picture = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(pixels[: stream.height, : stream.width]), format="rgb24"
                )
                picture.pts = i
                for packet in stream.encode(picture):
                    container.mux(packet)
                if i % 10 == 0:
                    sample.append(pixels)
            if stream is not None:
                for packet in stream.encode():
                    container.mux(packet)
        return sample

    # ----- meta ---------------------------------------------------------------------------

    def _meta(self, folder, episodes_meta, stats_all, records, robot_type) -> None:
        meta = folder / "meta"
        meta.mkdir(exist_ok=True)
        robot = robot_type or next((u.episode.robot for u in self.units if u.episode.robot), "")
        robot = robot or "unknown"
        n = len(self.units)
        info: dict[str, Any] = {
            "codebase_version": self.version,
            "robot_type": robot,
            "total_episodes": n,
            "total_frames": self.total,
            "total_tasks": len(self.tasks),
            "chunks_size": CHUNK,
            "fps": self.rate,
            "splits": {"train": f"0:{n}"},
            "features": self.features,
        }
        video = self.cameras == "video" and self.camera_keys
        if self.version == "v3.0":
            info |= {
                "data_files_size_in_mb": FILE_MB,
                "video_files_size_in_mb": 200,
                "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
                "video_path": (
                    "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
                    if video
                    else None
                ),
            }
            rows = []
            for row, stats in episodes_meta:
                flat = {
                    f"stats/{k}/{s}": v for k, values in stats.items() for s, v in values.items()
                }
                rows.append(
                    row | flat | {"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
                )
            (meta / "episodes/chunk-000").mkdir(parents=True)
            pq.write_table(pa.Table.from_pylist(rows), meta / "episodes/chunk-000/file-000.parquet")
            import pandas as pd

            pd.DataFrame(
                {"task_index": range(len(self.tasks))}, index=pd.Index(self.tasks)
            ).to_parquet(meta / "tasks.parquet")
            (meta / "stats.json").write_text(json.dumps(_aggregate(stats_all), indent=1))
        else:
            info |= {
                "total_chunks": (n - 1) // CHUNK + 1,
                "total_videos": n * len(self.camera_keys) if video else 0,
                "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
                "video_path": (
                    "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
                    if video
                    else None
                ),
            }
            _jsonl(
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
            _jsonl(
                meta / "tasks.jsonl",
                [{"task_index": i, "task": t} for i, t in enumerate(self.tasks)],
            )
            _jsonl(
                meta / "episodes_stats.jsonl",
                [{"episode_index": r["episode_index"], "stats": s} for r, s in episodes_meta],
            )
        pq.write_table(
            pa.table(
                {"subtask_index": list(range(len(self.subtasks))), "subtask": self.subtasks},
                schema=pa.schema([("subtask_index", pa.int64()), ("subtask", pa.string())]),
            ),
            meta / "subtasks.parquet",
        )
        _jsonl(meta / "annotation_kit.jsonl", records)
        (meta / "info.json").write_text(json.dumps(info, indent=4))


def _label(name: str) -> str:
    generic = {"image", "images", "compressed", "camera", "observation", "observations", "raw"}
    parts = [p for p in name.replace(".", "/").split("/") if p and p not in generic]
    return "_".join(parts) or "camera"


def _frame_of(t_ns: int | None, unit: Unit, rate: float) -> int | None:
    if t_ns is None:
        return None
    return round((t_ns - unit.start_ns) * rate / 1e9)


def _atom(content: str, style: str, timestamp: float) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "style": style, "timestamp": timestamp}


def _fraction(rate: float) -> Any:
    from fractions import Fraction

    return Fraction(rate).limit_denominator(1001)


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _stats(values: np.ndarray) -> dict[str, list]:
    v = np.asarray(values, dtype=np.float64)
    return {
        "min": v.min(axis=0).tolist(),
        "max": v.max(axis=0).tolist(),
        "mean": v.mean(axis=0).tolist(),
        "std": v.std(axis=0).tolist(),
        "count": [len(v)],
    }


def _ramp_stats(n: int, first: float, step: float) -> dict[str, list]:
    """Stats of first, first + step, ... (n values) without building them."""
    last = first + step * (n - 1)
    spread = abs(step) * np.sqrt((n * n - 1) / 12.0)
    return {
        "min": [min(first, last)],
        "max": [max(first, last)],
        "mean": [(first + last) / 2],
        "std": [float(spread)],
        "count": [n],
    }


def _image_stats(sample: list[np.ndarray]) -> dict[str, list]:
    """Per-channel stats in [0, 1], shaped (3, 1, 1) as LeRobot keeps them."""
    if not sample:
        return {}
    v = np.stack(sample).astype(np.float64) / 255.0
    axes = (0, 1, 2)

    def shaped(x: np.ndarray) -> list:
        return x.reshape(3, 1, 1).tolist()

    return {
        "min": shaped(v.min(axis=axes)),
        "max": shaped(v.max(axis=axes)),
        "mean": shaped(v.mean(axis=axes)),
        "std": shaped(v.std(axis=axes)),
        "count": [len(sample)],
    }


def _aggregate(all_stats: list[dict[str, dict[str, list]]]) -> dict[str, dict[str, list]]:
    """Dataset stats from per-episode stats (means and variances weighted by counts)."""
    out: dict[str, dict[str, list]] = {}
    for key in all_stats[0]:
        parts = [s[key] for s in all_stats if s.get(key)]
        if not parts:
            continue
        counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
        means = np.array([p["mean"] for p in parts], dtype=np.float64)
        stds = np.array([p["std"] for p in parts], dtype=np.float64)
        weights = counts.reshape(-1, *([1] * (means.ndim - 1))) / counts.sum()
        mean = (means * weights).sum(axis=0)
        var = ((stds**2 + (means - mean) ** 2) * weights).sum(axis=0)
        out[key] = {
            "min": np.min([p["min"] for p in parts], axis=0).tolist(),
            "max": np.max([p["max"] for p in parts], axis=0).tolist(),
            "mean": mean.tolist(),
            "std": np.sqrt(var).tolist(),
            "count": [int(counts.sum())],
        }
    return out


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
