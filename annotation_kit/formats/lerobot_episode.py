"""One LeRobot episode, read lazily: its parquet columns (only the row groups that hold it, with
the next episodes' groups read ahead for exports walking in order) and its video frames,
decoded with PyAV. Made by :func:`annotation_kit.formats.lerobot.open_episode`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..store.locations import Location
from .base import FormatError, Frame, encode_jpeg

_COMPUTE: Any = pc  # its functions are generated at import: the stubs do not list them


class LeRobotEpisode:
    """Lazy reader of one LeRobot episode: reads only the columns asked for."""

    def __init__(self, location: Location, locator: dict[str, Any]) -> None:
        self._root = location
        self._loc = locator
        self._period = 1e9 / float(locator["fps"])
        self._table_cache: dict[str, Any] = {}
        self._containers: dict[str, Any] = {}
        self._file: Any = None
        self._groups: dict[Any, Any] = {}

    def _columns(self, *names: str) -> Any:
        """Columns of this episode, reading only the row groups that can hold it (in v3.0 files
        each episode is usually its own row group)."""
        if self._file is None:
            self._file, self._groups = _parquet(self._root.child(self._loc["data_file"]))
        episode = self._loc["episode"]
        wanted = self._groups.get(episode)
        if wanted is None:
            wanted = [
                i for i, (low, high) in enumerate(self._groups["ranges"]) if low <= episode <= high
            ]
        columns = ["episode_index", "frame_index", *names]
        if len(wanted) == 1 and "offsets" in self._groups:  # read ahead: the next episodes too
            table = _ahead(
                self._root.child(self._loc["data_file"]).url,
                self._file,
                self._groups,
                wanted[0],
                columns,
            )
        else:
            table = self._file.read_row_groups(wanted, columns=columns)
            table = table.filter(_COMPUTE.equal(table["episode_index"], episode))
        frames = table.column("frame_index").to_numpy()
        if len(frames) > 1 and not (np.diff(frames) > 0).all():
            table = table.sort_by("frame_index")
        return table

    def prefetch(self, names: list[str]) -> None:
        """Read these columns in one pass; :meth:`signal` then serves them from memory."""
        self._table_cache["signals"] = self._columns(*names)

    def signal(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of one state/action column."""
        cached = self._table_cache.get("signals")
        table = cached if cached is not None and name in cached.column_names else None
        if table is None:
            table = self._columns(name)
        times = np.round(table.column("frame_index").to_numpy() * self._period).astype(np.int64)
        return times, _matrix(table.column(name).combine_chunks(), len(table))

    def frame_times(self, camera: str) -> np.ndarray:
        """Times of a camera's frames (``frame_index`` / fps)."""
        table = self._table_cache.get("frames") or self._columns()
        self._table_cache["frames"] = table
        return np.round(table.column("frame_index").to_numpy() * self._period).astype(np.int64)

    def frame(self, camera: str, index: int) -> Frame:
        """Frame ``index`` of a camera, from its video or its parquet image column."""
        t = int(self.frame_times(camera)[index])
        video = self._loc["videos"].get(camera)
        if video is None:  # image stored in the parquet file
            cell = self._columns(camera).column(camera)[index].as_py()
            data = cell["bytes"] if isinstance(cell, dict) else cell
            mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
            return Frame(data, mime, t, index)
        location = self._root.child(video)
        if not location.exists():
            raise FormatError(f"camera {camera}: video file {video} is missing")
        return Frame(encode_jpeg(self._decode(location, camera, t)), "image/jpeg", t, index)

    def _decode(self, location: Location, camera: str, t_ns: int) -> np.ndarray:
        import av

        container = self._containers.get(camera)
        if container is None:
            container = self._containers[camera] = av.open(location.open(), mode="r")
        stream = container.streams.video[0]
        target = float(self._loc["video_from"].get(camera) or 0.0) + t_ns / 1e9
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
        best = None
        for decoded in container.decode(stream):
            best = decoded
            if decoded.time is not None and decoded.time >= target - 0.5 / (1e9 / self._period):
                break
        if best is None:
            raise FormatError(f"camera {camera}: no frame at {t_ns} ns")
        return best.to_ndarray(format="rgb24")

    def close(self) -> None:
        """Close the open video containers."""
        for container in self._containers.values():
            container.close()


_OPEN: dict[tuple[str, int], tuple[Any, pq.ParquetFile, dict[Any, Any]]] = {}


def _parquet(location: Location) -> tuple[pq.ParquetFile, dict[Any, Any]]:
    """The data file, opened and its footer parsed once for all the episodes it holds (a v3.0
    file may hold thousands), and which row groups hold each episode. The last few files
    opened stay open for the next episodes; a file dropped from this cache is closed once no reader
    holds it any more (by the garbage collector, never under a reader's feet)."""
    key = (location.url, location.size())
    if key in _OPEN:
        return _OPEN[key][1], _OPEN[key][2]
    while len(_OPEN) >= 4:
        _OPEN.pop(next(iter(_OPEN)))
    stream = location.open()
    file = pq.ParquetFile(stream)
    meta = file.metadata
    position = file.schema_arrow.get_field_index("episode_index")
    ranges: list[tuple[float, float]] = []
    groups: dict[Any, Any] = {"ranges": ranges}
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(position).statistics
        if stats is None or not stats.has_min_max:
            ranges.append((float("-inf"), float("inf")))
        else:
            ranges.append((stats.min, stats.max))
            if stats.min == stats.max:  # one episode per row group (v3.0 writers)
                groups.setdefault(stats.min, []).append(i)
    if all(low == high for low, high in ranges):
        groups["offsets"] = np.cumsum(
            [0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        )
    else:  # row groups shared by episodes: find them by their ranges
        groups = {"ranges": ranges}
    _OPEN[key] = (stream, file, groups)
    return file, groups


AHEAD = 32
"""Row groups (episodes) read at once when reading one episode's group: exports and batch
jobs walk episodes in order, and one read of many groups costs little more than one."""


_READ: dict[str, Any] = {}


def _ahead(url: str, file: Any, groups: dict[str, Any], group: int, columns: list[str]) -> Any:
    """The rows of row group ``group``, from a read of it and the groups after it."""
    key = (url, tuple(columns))
    cached = _READ.get("key") == key and _READ["first"] <= group < _READ["last"]
    if not cached:
        last = min(group + AHEAD, len(groups["offsets"]) - 1)
        _READ.update(
            key=key,
            first=group,
            last=last,
            table=file.read_row_groups(list(range(group, last)), columns=columns),
        )
    offsets = groups["offsets"]
    start = int(offsets[group] - offsets[_READ["first"]])
    return _READ["table"].slice(start, int(offsets[group + 1] - offsets[group]))


def _matrix(column: pa.Array, rows: int) -> np.ndarray:
    """(rows, k) float64 from a scalar or list-typed Arrow column."""
    if (
        pa.types.is_list(column.type)
        or pa.types.is_large_list(column.type)
        or pa.types.is_fixed_size_list(column.type)
    ):
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return np.asarray(flat, dtype=np.float64).reshape(rows, -1)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(rows, -1)
