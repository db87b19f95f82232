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
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "", False)}


@dataclass
class SourceSegment:
    """An annotation found in the source (LeRobot language columns, subtasks, tasks)."""

    start_ns: int
    end_ns: int
    description: str
    skill: str | None = None
    style: str = "subtask"


@dataclass
class EpisodeInfo:
    """The index of one episode, as stored on its :class:`~annotation_kit.models.Dataset`."""

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
        return [s for s in self.streams if s.kind == "camera"]


@dataclass
class Frame:
    """One encoded camera frame."""

    data: bytes
    mime: str
    t_ns: int
    index: int


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

    def close(self) -> None: ...


def flatten_numeric(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number inside a decoded message, by dotted path (``position.elbow``, ``data[3]``).

    Works on JSON dicts, ROS 2 messages and protobuf messages alike. A ``name`` list beside
    equally long number lists (``sensor_msgs/JointState``) names their entries.
    """
    out: dict[str, float] = {}
    _flatten(_plain(value), prefix, out)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, SimpleNamespace):  # ROS 2 messages: SimpleNamespace with __slots__
        names = getattr(value, "__slots__", None) or list(vars(value))
        return {k: _plain(getattr(value, k)) for k in names}
    if hasattr(value, "DESCRIPTOR") and hasattr(value, "ListFields"):
        return {f.name: _plain(v) for f, v in value.ListFields()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "RepeatedScalarContainer":
        return [_plain(v) for v in value]
    return value


def _flatten(value: Any, prefix: str, out: dict[str, float]) -> None:
    if isinstance(value, (bool, int, float)):
        out[prefix] = float(value)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        for i, v in enumerate(value.ravel()):
            out[f"{prefix}[{i}]"] = float(v)
    elif isinstance(value, dict):
        names = value.get("name") if isinstance(value.get("name"), list) else None
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if (
                names
                and isinstance(item, list)
                and len(item) == len(names)
                and all(isinstance(x, (int, float)) for x in item)
            ):
                for label, number in zip(names, item, strict=True):
                    out[f"{path}.{label}"] = float(number)
            else:
                _flatten(item, path, out)
    elif isinstance(value, list):
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
