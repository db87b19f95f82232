"""What every format reader produces: an index of each episode (cheap, from metadata) and a
lazy reader for its signals and frames (opened only when someone looks)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import Any, Literal, Protocol

import numpy as np

from ..errors import AnnotationKitError

StreamKind = Literal["signal", "camera", "other"]


class FormatError(AnnotationKitError):
    """A file that cannot be imported: corrupt, truncated, or a layout we do not know."""


@dataclass
class StreamInfo:
    """One stream of an episode: a camera, a numeric signal, or something else (logs...)."""

    name: str
    kind: StreamKind
    count: int = 0
    rate_hz: float | None = None
    fields: list[str] = field(default_factory=list)
    """Channel names of a signal (e.g. joint names)."""
    width: int | None = None
    height: int | None = None
    encoding: str = ""
    missing: bool = False
    """Declared by the source but its data is absent (e.g. a LeRobot video file)."""

    def to_json(self) -> dict[str, Any]:
        """The stream's metadata as JSON, empty fields left out."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "", False)}


@dataclass
class SourceSegment:
    """An annotation found in the source (LeRobot language columns, subtasks, tasks)."""

    start_ns: int
    end_ns: int
    description: str
    skill: str | None = None
    style: str = "subtask"
    labels: list[str] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)
    """Where an exported annotation came from (its workspace id, author, provenance...)."""


def exported_segments(records: list[dict[str, Any]], duration_ns: int) -> list[SourceSegment]:
    """Annotations written by an annotation_kit export, back as source segments (episode-level
    ones span the whole episode)."""
    out = []
    for r in records:
        start, end = r.get("start_ns"), r.get("end_ns")
        if start is None or end is None or start < 0:
            start, end = 0, duration_ns
        out.append(
            SourceSegment(
                int(start),
                int(end),
                r.get("description") or "",
                skill=r.get("skill"),
                style="annotation_kit",
                labels=list(r.get("labels") or []),
                origin={
                    k: r.get(k)
                    for k in ("annotation", "version", "task", "author", "provenance", "kind")
                    if r.get(k) is not None
                },
            )
        )
    return out


@dataclass
class EpisodeInfo:
    """The index of one episode, as stored on its :class:`~annotation_kit.store.models.Dataset`."""

    name: str
    source_uri: str
    format: str
    duration_ns: int
    start_time_ns: int = 0
    streams: list[StreamInfo] = field(default_factory=list)
    size_bytes: int = 0
    robot: str = ""
    locator: dict[str, Any] = field(default_factory=dict)
    """What the reader needs to find this episode again inside its file or folder."""
    meta: dict[str, Any] = field(default_factory=dict)
    segments: list[SourceSegment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Things the user should know that did not stop the import (a missing video...)."""

    @property
    def cameras(self) -> list[StreamInfo]:
        """The camera streams."""
        return [s for s in self.streams if s.kind == "camera"]


@dataclass
class Frame:
    """One encoded camera frame."""

    data: bytes
    mime: str
    t_ns: int
    """When the frame was taken, ns from the episode start."""
    index: int
    """Frame number in its camera stream, or -1 where the format does not number frames
    (MCAP: frames are found by time)."""


class EpisodeReader(Protocol):
    """Lazy access to one episode's data; times are ns from the episode start."""

    def signal(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps int64[n], values float64[n, k]) of a whole signal stream."""
        ...

    def frame_times(self, camera: str) -> np.ndarray:
        """int64 timestamps of every frame of a camera."""
        ...

    def frame(self, camera: str, index: int) -> Frame | np.ndarray:
        """Frame ``index`` of a camera, encoded, or as an (H, W, 3) uint8 array."""
        ...

    def close(self) -> None:
        """Release the source's files."""
        ...


def flatten_numeric(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number inside a decoded message, by dotted path (``position.elbow``, ``data[3]``).

    Works on JSON dicts, ROS 2 messages and protobuf messages alike; ROS ``header`` fields are
    bookkeeping and left out. A ``name`` list beside equally long number lists
    (``sensor_msgs/JointState``) names their entries.
    """
    out: dict[str, float] = {}
    _flatten(value, prefix, out)
    return out


_NUMBER = (bool, int, float, np.integer, np.floating)


def _items(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, SimpleNamespace):  # ROS 2 messages: SimpleNamespace with __slots__
        return ((k, getattr(value, k)) for k in (getattr(value, "__slots__", None) or vars(value)))
    if hasattr(value, "ListFields"):  # protobuf
        return ((f.name, v) for f, v in value.ListFields())
    return None


def _flatten(value: Any, prefix: str, out: dict[str, float]) -> None:
    if isinstance(value, _NUMBER):
        out[prefix] = float(value)
        return
    if isinstance(value, (str, bytes, bytearray)):
        return
    items = _items(value)
    if items is not None:
        pairs = [(k, v) for k, v in items if k != "header"]
        names = next((v for k, v in pairs if k == "name"), None)
        names = (
            list(names)
            if isinstance(names, (list, tuple)) and names and all(isinstance(n, str) for n in names)
            else None
        )
        for key, item in pairs:
            path = f"{prefix}.{key}" if prefix else str(key)
            if (
                names
                and isinstance(item, (list, tuple, np.ndarray))
                and len(item) == len(names)
                and len(item)
                and isinstance(item[0], _NUMBER)
            ):
                for label, number in zip(names, item, strict=True):
                    out[f"{path}.{label}"] = float(number)
            else:
                _flatten(item, path, out)
        return
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        for i, v in enumerate(value.ravel()):
            out[f"{prefix}[{i}]"] = float(v)
        return
    if isinstance(value, (list, tuple)) or type(value).__name__ == "RepeatedScalarContainer":
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out)


def stack_rows(rows: Sequence[dict[str, float]]) -> tuple[list[str], np.ndarray]:
    """Column names and an (n, k) float64 array from per-message flattened dicts."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    values = np.full((len(rows), len(columns)), np.nan)
    index = {c: i for i, c in enumerate(columns)}
    for r, row in enumerate(rows):
        for key, number in row.items():
            values[r, index[key]] = number
    return columns, values


def encode_jpeg(pixels: np.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an (H, W, 3) or (H, W) uint8 image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).convert("RGB").save(
        buffer, format="JPEG", quality=quality
    )
    return buffer.getvalue()


def rate(count: int, duration_ns: int) -> float | None:
    """Messages per second of a stream over an episode of ``duration_ns``.

    MCAP summaries give per-channel counts but not per-channel time spans, so this is the
    estimate; formats that store a rate (HDF5 attrs, LeRobot fps) report that instead.
    """
    if count < 2 or duration_ns <= 0:
        return None
    return round(count / (duration_ns / 1e9), 3)
