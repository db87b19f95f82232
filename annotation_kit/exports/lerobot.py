"""LeRobot datasets, v3.0 (default) and v2.1, written with pyarrow (and PyAV for videos), in
the shape lerobot's own writer gives them, so that lerobot's ``LeRobotDataset`` loads them.

Which lerobot loads which option (each checked by ``tests/consumers``):

- ``version="v3.0"`` (default): lerobot 0.6 — with the ``language_persistent`` /
  ``language_events`` columns (:mod:`.lerobot_language`) and ``subtask_index``;
- ``version="v3.0", language=False``: lerobot 0.4 and 0.6 — tasks and ``subtask_index`` only
  (lerobot 0.4 refuses the ``language`` dtype);
- ``version="v2.1"``: lerobot 0.3 — tasks and ``subtask_index``.

Episodes keep their source's frame rate (the episodes' common whole-number rate; episodes of
different rates, or a rate that is no whole number, are refused with the rates named) unless
``rate_hz`` (an integer) is given, and then each is resampled to it (see :mod:`.sampling`);
every resampling is named in the export's ``cleaned`` list and manifest. ``observation.state``
and ``action`` are mapped from the source streams
(float32 by default, ``dtype="float64"`` keeps float64 sources exact) and each camera as
``observation.images.<name>``: video (``cameras="video"``, :mod:`.lerobot_video`: AV1 with a
keyframe every 2 frames by default, ``codec="h264"`` for H.264), PNG images inside the parquet
(``cameras="images"``), or left out (``"none"``).

v3.0: ``data/chunk-000/file-NNN.parquet`` with each episode its own row group, files of up to
``data_file_mb``; ``videos/<key>/chunk-000/file-NNN.mp4`` with several episodes each, up to
``video_file_mb``; ``meta/info.json``, ``meta/tasks.parquet``, ``meta/episodes/...parquet``
(per-episode stats and video offsets), ``meta/stats.json``. v2.1: one parquet and one mp4 per
episode, ``meta/{info.json, episodes.jsonl, tasks.jsonl, episodes_stats.jsonl}``. Parquet files
carry the ``huggingface`` schema metadata lerobot writes; stats carry quantiles
(:mod:`.lerobot_stats`).

Tasks: each episode keeps its source's own task (a LeRobot episode's task, an HDF5 ``task``
attribute); episodes whose source has none get the annotation_kit task's description (else its
name), and ``task_text="task"`` uses that for every episode. Segments become one
``subtask_index`` per frame (``meta/subtasks.parquet``, indexed by the subtask text like
``tasks.parquet``) and, in v3.0, language rows (each ``plan`` row lists the next ``plan_ahead``
segments, 5 by default; ``None`` lists them all). ``meta/annotation_kit.jsonl`` keeps every
exported annotation record with the frames it maps to, which the importer reads back with where
the annotation came from. ``strict_match=True`` writes only the annotated spans: each segment
becomes its own LeRobot episode whose task is the segment's description.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ValidationError
from . import lerobot_language as language
from . import lerobot_stats as stats_of
from . import lerobot_units as cut
from .lerobot_features import carried_column, plan_features
from .lerobot_meta import CHUNK, write_meta
from .lerobot_units import Unit
from .lerobot_video import Videos, codec_name
from .plan import AnnotationRecord, Plan
from .sampling import Grid, camera_pixels, resampling

VERSIONS = ("v3.0", "v2.1")
CAMERA_MODES = ("video", "images", "none")
TASK_TEXTS = ("source", "task")
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def write(
    plan: Plan,
    folder: Path,
    *,
    version: str = "v3.0",
    language: bool = True,
    rate_hz: float | None = None,
    mapping: dict[str, str] | None = None,
    cameras: str = "video",
    codec: str = "av1",
    dtype: str = "float32",
    strict_match: bool = False,
    robot_type: str | None = None,
    task_text: str = "source",
    gap_subtask: str = "idle",
    plan_ahead: int | None = language.PLAN_AHEAD,
    data_file_mb: float = 100,
    video_file_mb: float = 200,
) -> dict[str, Any]:
    """Write ``plan`` as a LeRobot dataset in ``folder`` (see the module's docstring for the
    options)."""
    checked = plan.checked  # the export checked these very options a moment ago
    layout = (
        checked
        if isinstance(checked, _Layout)
        else check(
            plan,
            version=version,
            language=language,
            rate_hz=rate_hz,
            mapping=mapping,
            cameras=cameras,
            codec=codec,
            dtype=dtype,
            strict_match=strict_match,
            task_text=task_text,
            gap_subtask=gap_subtask,
            plan_ahead=plan_ahead,
            data_file_mb=data_file_mb,
            video_file_mb=video_file_mb,
        )
    )
    exported = [*layout.signals.values(), *layout.carried, *layout.camera_keys]
    for episode in plan.episodes:
        if said := resampling(episode, layout.fps, exported):
            plan.cleaned.append(said)
    layout.write(folder, robot_type)
    return {"lerobot_episodes": len(layout.units), "frames": layout.total}


def check(
    plan: Plan,
    *,
    version: str,
    language: bool,
    rate_hz: float | None,
    mapping: dict[str, str] | None,
    cameras: str,
    codec: str,
    dtype: str,
    strict_match: bool,
    task_text: str,
    gap_subtask: str,
    plan_ahead: int | None,
    data_file_mb: float,
    video_file_mb: float,
    **_: Any,
) -> _Layout:
    """Refuse options that do not fit ``plan``, naming the problem, before anything is
    recorded or written (the export runs this first); the layout to write, when they fit."""
    if version not in VERSIONS:
        raise ValidationError(f"LeRobot version must be one of {', '.join(VERSIONS)}")
    if cameras not in CAMERA_MODES:
        raise ValidationError(f"cameras must be one of {', '.join(CAMERA_MODES)}")
    if dtype not in ("float32", "float64"):
        raise ValidationError("dtype must be float32 or float64")
    if task_text not in TASK_TEXTS:
        raise ValidationError(f"task_text must be one of {', '.join(TASK_TEXTS)}")
    if not isinstance(gap_subtask, str) or not gap_subtask.strip():
        raise ValidationError("gap_subtask must be a non-empty text (unlabelled frames' subtask)")
    if not isinstance(language, bool):
        raise ValidationError("language must be True or False")
    if plan_ahead is not None and (
        isinstance(plan_ahead, bool) or not isinstance(plan_ahead, int) or plan_ahead < 0
    ):
        raise ValidationError(f"plan_ahead must be a whole number ≥ 0 or None, not {plan_ahead!r}")
    fps = cut.fps(rate_hz, plan, cameras != "none")
    for name, value in (("data_file_mb", data_file_mb), ("video_file_mb", video_file_mb)):
        if not isinstance(value, int | float) or not 0 < value < float("inf"):
            raise ValidationError(f"{name} must be above 0, got {value!r}")
    units = cut.units(plan, strict_match, task_text)
    if not units:
        raise ValidationError("nothing to export: no episodes (or, with strict_match, segments)")
    return _Layout(
        plan,
        units,
        version,
        fps,
        mapping,
        cameras,
        codec_name(codec),
        dtype,
        language=language and version == "v3.0",
        gap=gap_subtask,
        ahead=plan_ahead,
        data_mb=data_file_mb,
        video_mb=video_file_mb,
    )


write.check = check  # type: ignore[attr-defined]


class _Layout:
    def __init__(
        self,
        plan: Plan,
        units: list[Unit],
        version: str,
        fps: int,
        mapping: dict[str, str] | None,
        cameras: str,
        codec: str,
        dtype: str,
        *,
        language: bool,
        gap: str,
        ahead: int | None,
        data_mb: float,
        video_mb: float,
    ) -> None:
        self.plan, self.units, self.version = plan, units, version
        self.fps, self.mapping, self.cameras, self.codec = fps, mapping, cameras, codec
        self.dtype, self.language, self.gap = np.dtype(dtype), language, gap
        self.ahead = ahead
        self.data_mb, self.video_mb = data_mb, video_mb
        self.tasks = sorted({u.task for u in units})
        texts = {t for u in units for a in u.records if (t := language_text(a))}
        self.subtasks = sorted(texts | {gap}) if texts else []
        self.total = 0
        self.features: dict[str, dict[str, Any]] = {}
        self.signals: dict[str, str] = {}
        self.carried: dict[str, str] = {}
        """Other features of LeRobot sources, carried as they are: name → dtype."""
        self.camera_keys: dict[str, str] = {}
        self.dims: dict[str, int] = {}
        self.schema_metadata: dict[str, str] = {}
        plan_features(self)

    # ----- features -----------------------------------------------------------------------

    # ----- writing ------------------------------------------------------------------------

    def write(self, folder: Path, robot_type: str | None) -> None:
        episodes_meta: list[tuple[dict[str, Any], dict[str, Any]]] = []
        stats_all: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        writer = None
        file_number = 0
        # where each episode's frames start in the dataset (the ``index`` column)
        lengths = [len(Grid.at(u.end_ns - u.start_ns, self.fps).t_ns) for u in self.units]
        firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
        self.videos = Videos(folder, self.version, self.codec, self.fps, self.video_mb, CHUNK)
        # the next episode is read and prepared in a thread while this one is written (pyarrow
        # and numpy release the GIL): two episodes in memory at most; videos are encoded there,
        # one episode after the other
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            pending = pool.submit(self._unit, 0, self.units[0], firsts[0])
            for number, unit in enumerate(self.units):
                table, stats, placed, rows = pending.result()
                if number + 1 < len(self.units):
                    pending = pool.submit(
                        self._unit, number + 1, self.units[number + 1], firsts[number + 1]
                    )
                if self.version == "v3.0":
                    path = self._data_path(folder, file_number)
                    if writer is not None and path.stat().st_size > self.data_mb * 1e6:
                        writer.close()
                        writer, file_number = None, file_number + 1
                        path = self._data_path(folder, file_number)
                    for part in self._groups(table, rows):
                        if writer is None:
                            path.parent.mkdir(parents=True, exist_ok=True)
                            writer = pq.ParquetWriter(path, part.schema)
                        writer.write_table(part, row_group_size=max(1, len(part)))
                else:
                    path = folder / f"data/chunk-{number // CHUNK:03d}/episode_{number:06d}.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    pq.write_table(self._ordered({}, table), path)
                row = {
                    "episode_index": number,
                    "tasks": [unit.task],
                    "length": len(table),
                    "data/chunk_index": file_number // CHUNK,
                    "data/file_index": file_number % CHUNK,
                    "dataset_from_index": self.total,
                    "dataset_to_index": self.total + len(table),
                }
                for key, where in placed.items():
                    row |= {
                        f"videos/{key}/chunk_index": where.chunk_index,
                        f"videos/{key}/file_index": where.file_index,
                        f"videos/{key}/from_timestamp": where.from_timestamp,
                        f"videos/{key}/to_timestamp": where.to_timestamp,
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
                        "from_frame": cut.frame_of(a.start_ns, unit, self.fps),
                        "to_frame": cut.frame_of(a.end_ns, unit, self.fps),
                    }
                    for a in unit.records
                ]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if writer is not None:
                writer.close()
            self.videos.close()
        write_meta(self, folder, episodes_meta, stats_all, records, robot_type)

    @staticmethod
    def _data_path(folder: Path, number: int) -> Path:
        chunk, index = divmod(number, CHUNK)
        return folder / f"data/chunk-{chunk:03d}/file-{index:03d}.parquet"

    def _unit(self, number: int, unit: Unit, first: int) -> Any:
        grid = Grid.at(unit.end_ns - unit.start_ns, self.fps)
        times = grid.t_ns + unit.start_ns
        n = len(times)
        absolute = Grid(times)
        columns: dict[str, Any] = {}
        stats: dict[str, dict[str, Any]] = {}
        placed = {}
        data = unit.episode.open()
        try:
            if hasattr(data.reader, "prefetch"):  # every stream in one read
                data.reader.prefetch([*self.signals.values(), *self.carried])
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
                stats[key] = stats_of.of(picked)
            for key, dtype in self.carried.items():
                t, values = data.reader.signal(key)
                columns[key] = carried_column(values[absolute.nearest(t)], dtype, self.dims[key])
                stats[key] = stats_of.of(values[absolute.nearest(t)])
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
                    placed[key] = self.videos.write(key, number, frames)
                    sample = placed[key].sample
                stats[key] = stats_of.images(sample)
        finally:
            data.close()
        frame_index = np.arange(n, dtype=np.int64)
        timestamps = (frame_index / self.fps).astype(np.float32)
        task = self.tasks.index(unit.task)
        columns |= {
            "timestamp": pa.array(timestamps, pa.float32()),
            "frame_index": frame_index,
            "episode_index": np.full(n, number, dtype=np.int64),
            "index": np.arange(first, first + n, dtype=np.int64),
            "task_index": np.full(n, task, dtype=np.int64),
        }
        stats |= {  # closed forms: these columns are ramps and constants
            "timestamp": stats_of.ramp(n, 0.0, 1 / self.fps),
            "frame_index": stats_of.ramp(n, 0, 1),
            "episode_index": stats_of.ramp(n, number, 0),
            "index": stats_of.ramp(n, first, 1),
            "task_index": stats_of.ramp(n, task, 0),
        }
        rows = None
        if self.subtasks:
            spans, span_of = language.spans(unit.records, grid.t_ns, unit.start_ns, self.gap)
            ids = np.array([self.subtasks.index(s.text) for s in spans], dtype=np.int64)
            columns["subtask_index"] = ids[span_of]
            stats["subtask_index"] = stats_of.of(columns["subtask_index"])
            if self.language:
                rows = language.persistent_rows(
                    spans, timestamps, unit.task, unit.records, self.ahead
                )
        elif self.language:
            rows = language.persistent_rows([], timestamps, unit.task, unit.records)
        if rows is not None and language.frames_per_group(rows, n) >= n:
            columns |= language.columns(rows, n)  # one row group: built here, in the thread
            rows = None
        return pa.table(columns), stats, placed, rows

    def _groups(self, table: pa.Table, rows: list[dict[str, Any]] | None) -> Iterator[pa.Table]:
        """An episode's frames as parquet row groups: one, unless the language rows every frame
        carries make it too large to read back (:func:`.lerobot_language.frames_per_group`);
        the language columns of a group are built as it is written, so memory holds one."""
        if rows is None:  # no language columns, or already built with the frames
            yield self._ordered({}, table)
            return
        n = len(table)
        step = language.frames_per_group(rows, n)
        full = language.columns(rows, step)  # every frame carries the same rows
        for start in range(0, n, step):
            size = min(step, n - start)
            yield self._ordered(
                full if size == step else language.columns(rows, size), table.slice(start, size)
            )

    def _ordered(self, extra: dict[str, Any], table: pa.Table) -> pa.Table:
        """``table``'s columns and ``extra`` in the features' order, with the parquet
        metadata lerobot reads."""
        columns = {name: table.column(name) for name in table.column_names} | extra
        ordered = pa.table({k: columns[k] for k in self.features if k in columns})
        return ordered.replace_schema_metadata(self.schema_metadata)

    # ----- meta ---------------------------------------------------------------------------


def language_text(record: AnnotationRecord) -> str:
    """The subtask a record contributes, or nothing (not a valid segment)."""
    return language.text(record) if language.language_segments([record]) else ""


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()
