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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ValidationError
from .plan import Unfit

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


SAME_RATE = 0.02
"""Rates within 2 % are the same rate: MCAP rates are measured (messages over the episode's
span), so a 15 Hz camera reads 15.075 Hz in a 2 s recording."""


def whole_rate(rate: float) -> int | None:
    """``rate`` as a whole number of frames per second, when it is one (within ``SAME_RATE``)."""
    nearest = round(rate)
    return nearest if nearest > 0 and abs(rate - nearest) <= SAME_RATE * nearest else None


def common_whole_rate(episodes: list[Any], *, cameras: bool = True) -> int:
    """The frame rate an export of ``episodes`` keeps when none is asked for (LeRobot: one
    integer fps per dataset): their own, when they share one whole-number rate; else a
    :class:`ValidationError` naming each episode's rate and asking for ``rate_hz``."""
    stated = {e.name: _stated(e, cameras) for e in episodes}
    own = {name: rate for name, rate in stated.items() if rate is not None}
    if not own:
        return int(DEFAULT_RATE)
    whole = {name: whole_rate(rate) for name, rate in own.items()}
    if odd := [name for name, fps in whole.items() if fps is None]:
        said = ", ".join(f"{name} {own[name]:g} Hz" for name in odd[:5])
        raise Unfit(
            odd[0],
            f"is at {own[odd[0]]:g} Hz, not a whole number of frames per second",
            f"LeRobot stores a whole number of frames per second; {said} "
            f"{'is' if len(odd) == 1 else 'are'} not: pass rate_hz= to resample on purpose",
        )
    counted = Counter(fps for fps in whole.values() if fps is not None)
    rates = sorted(counted)
    if len(rates) > 1:
        groups = "; ".join(
            f"{fps} Hz: {', '.join([n for n, r in whole.items() if r == fps][:3])}"
            + (" ..." if counted[fps] > 3 else "")
            for fps in rates
        )
        usual = counted.most_common(1)[0][0]
        other = next(name for name, fps in whole.items() if fps != usual)
        raise Unfit(
            other,
            f"is at {whole[other]} Hz, the others at {usual} Hz",
            f"the episodes have different frame rates ({groups}); one LeRobot dataset has one "
            f"fps: pass rate_hz= to resample them to one, or export them apart",
        )
    return int(rates[0])


def resampling(episode: Any, rate: float, names: list[str]) -> str | None:
    """What exporting ``episode``'s streams ``names`` at ``rate`` changes, said for the
    export's record (None when each keeps its own rate)."""
    streams = {s["name"]: s for s in [*episode.streams, *episode.cameras]}
    changed = [
        f"{name} {own:g} Hz"
        for name in names
        if (own := streams.get(name, {}).get("rate_hz")) and abs(own - rate) > SAME_RATE * rate
    ]
    if not changed:
        return None
    return f"episode {episode.name}: resampled to {rate:g} Hz from {', '.join(changed)}"


def rate_of(episode: Any, rate_hz: float | None, *, cameras: bool = True) -> float:
    """The export rate: the one asked for, else the episode's fastest camera (when cameras are
    exported), else its fastest signal (so a signals-only export keeps the signals' own rate),
    else 30 Hz."""
    if rate_hz:
        return float(rate_hz)
    stated = _stated(episode, cameras)
    return DEFAULT_RATE if stated is None else stated


DEFAULT_RATE = 30.0
"""The rate of an episode whose index states none (registered from metadata alone)."""


def _stated(episode: Any, cameras: bool) -> float | None:
    """The episode's own rate: its fastest camera (when cameras are exported), else its fastest
    signal; None when its index states none."""
    rates = [c.get("rate_hz") for c in episode.cameras if cameras and c.get("rate_hz")]
    if not rates:
        rates = [
            s.get("rate_hz")
            for s in episode.streams
            if s.get("kind") == "signal" and s.get("rate_hz")
        ]
    return float(max(rates)) if rates else None


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
