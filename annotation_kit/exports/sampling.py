"""Frame-based formats (HDF5, LeRobot) store samples at a fixed rate: which source streams
become ``observation.state`` and ``action``, and which source sample each output frame takes.

Each output frame ``i`` is at ``round(i * 1e9 / rate)`` ns and takes the source sample nearest
to that time (no interpolation), so an export at the source's own rate reproduces its values
exactly. The default mapping goes by stream name (``*/joint_state(s)``, ``qpos``,
``observation.state`` → state; ``*/joint_cmd``, ``*/command``, ``action(s)`` → action) and can be
overridden per export: ``mapping={"observation.state": "/arm/q", "action": "/arm/q_cmd"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ValidationError

STATE = re.compile(r"(joint_?states?$|(^|[/.])qpos$|observation\.state$|(^|/)states?$)", re.I)
ACTION = re.compile(r"(joint_?(cmd|command)s?$|(^|/)commands?$|(^|[/.])actions?$)", re.I)
KEYS = ("observation.state", "action")


def mapping_for(streams: list[dict[str, Any]], override: dict[str, str] | None) -> dict[str, str]:
    """Which signal stream feeds each of ``observation.state`` and ``action``."""
    signals = [s["name"] for s in streams if s.get("kind") == "signal"]
    out: dict[str, str] = {}
    for key, pattern in (("observation.state", STATE), ("action", ACTION)):
        found = next((n for n in signals if pattern.search(n)), None)
        if found:
            out[key] = found
    for key, name in (override or {}).items():
        if key not in KEYS:
            raise ValidationError(f"mapping keys are {', '.join(KEYS)}; got {key!r}")
        if name not in signals:
            raise ValidationError(
                f"mapping {key!r} → {name!r}: no such signal; signals: {', '.join(signals)}"
            )
        out[key] = name
    return out


@dataclass
class Grid:
    """The output frames of one episode: their times and, per source stream, the source index
    each frame takes."""

    t_ns: np.ndarray

    @classmethod
    def at(cls, duration_ns: int, rate_hz: float) -> Grid:
        """Frame times every ``1/rate_hz`` seconds over ``duration_ns``."""
        if not rate_hz or rate_hz <= 0:
            raise ValidationError(f"rate_hz must be above 0, got {rate_hz}")
        # a duration stored in whole ns is up to 0.5 ns short of the frame it ends on (g1: 479
        # frames at 30 fps last 15,933,333,333.3 ns): allow 1 ns so that frame is kept
        count = int(np.floor((duration_ns + 1) * rate_hz / 1e9)) + 1
        return cls(np.round(np.arange(count) * (1e9 / rate_hz)).astype(np.int64))

    def nearest(self, source_t: np.ndarray) -> np.ndarray:
        """Index of the source sample nearest to each output frame."""
        if len(source_t) == 0:
            raise ValidationError("a mapped stream has no samples")
        if len(source_t) == len(self.t_ns) and np.array_equal(source_t, self.t_ns):
            return np.arange(len(source_t))  # same clock: every frame takes its own sample
        right = np.clip(np.searchsorted(source_t, self.t_ns), 0, len(source_t) - 1)
        left = np.clip(right - 1, 0, len(source_t) - 1)
        pick_left = np.abs(source_t[left] - self.t_ns) <= np.abs(source_t[right] - self.t_ns)
        return np.where(pick_left, left, right)

    def index_of(self, t_ns: int) -> int:
        """The output frame nearest to ``t_ns``."""
        return int(np.argmin(np.abs(self.t_ns - t_ns)))


def rate_of(episode: Any, rate_hz: float | None) -> float:
    """The export rate: the one asked for, else the episode's fastest camera, else its fastest
    signal (so a signals-only episode keeps its own rate), else 30 Hz."""
    if rate_hz:
        return float(rate_hz)
    rates = [c.get("rate_hz") for c in episode.cameras if c.get("rate_hz")]
    if not rates:
        rates = [
            s.get("rate_hz")
            for s in episode.streams
            if s.get("kind") == "signal" and s.get("rate_hz")
        ]
    return float(max(rates)) if rates else 30.0


def pixels(frame: Any) -> np.ndarray:
    """An (H, W, 3) uint8 array from an encoded frame or an array."""
    if isinstance(frame, np.ndarray):
        return frame[..., :3] if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=-1)
    import io

    from PIL import Image

    with Image.open(io.BytesIO(frame.data)) as image:
        return np.asarray(image.convert("RGB"))


def camera_pixels(
    data: Any, camera: str, grid: Grid, window_ns: int = 5_000_000_000
) -> Iterator[np.ndarray]:
    """The pixels of ``camera`` at each output frame, one frame in memory at a time (frames of
    an MCAP source are read a few seconds at a time, in order)."""
    reader = data.reader
    times = reader.frame_times(camera)
    picks = grid.nearest(times)
    if hasattr(reader, "_dataset"):  # HDF5 keeps raw pixels: copy them, not a JPEG of them
        stored = reader._dataset(camera)
        for i in picks:
            found = stored[int(i)]
            yield found[..., :3] if found.ndim == 3 else np.repeat(found[..., None], 3, axis=-1)
        return
    if not hasattr(reader, "frames_between"):
        for i in picks:
            yield pixels(reader.frame(camera, int(i)))
        return
    loaded: dict[int, Any] = {}
    for i in picks:
        i = int(i)
        if i not in loaded:
            start = int(times[i])
            found = reader.frames_between([camera], start, start + window_ns)[camera]
            loaded = {int(np.searchsorted(times, f.t_ns)): f for f in found}
        yield pixels(loaded[i])
