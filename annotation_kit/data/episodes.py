"""Looking at one episode: its clock, streams, downsampled signal windows and camera frames.

Nothing is read at import; a stream is read the first time someone looks at it, then kept for
this :class:`Episode` (one signal stream, never the whole episode). Frames are decoded one at a
time around the playhead, with a small cache so stepping back and forth is cheap.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AnnotationKitError
from ..formats import FormatError, Frame, open_reader
from ..store.models import Dataset

FRAME_CACHE = 128
WINDOW_CACHE = 8


@dataclass(frozen=True)
class SignalWindow:
    """A window of one signal, at most ``max_points`` long whatever the episode length.

    When the window holds more samples than that, each output point covers a bucket of samples
    and ``low``/``high`` are the bucket's minimum and maximum (so spikes survive); otherwise
    ``low`` and ``high`` are both the raw values.
    """

    name: str
    fields: list[str]
    t_ns: np.ndarray
    low: np.ndarray
    high: np.ndarray
    samples: int
    """How many raw samples the window covered."""

    @property
    def downsampled(self) -> bool:
        """Whether the window holds fewer points than samples (each point a min/max bucket)."""
        return self.samples > len(self.t_ns)


class _Guarded:
    """A format reader whose failures below it (pyarrow, mcap, zstd, PyAV, h5py, a changed
    file...) become a :class:`FormatError` naming the episode and the stream, never quoting
    the file; the library's own errors pass as they are."""

    def __init__(self, reader: Any, episode: str) -> None:
        self._reader, self._episode = reader, episode

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._reader, attr)
        if not callable(value):
            return value

        def guarded(*args: Any, **kwargs: Any) -> Any:
            what = next((a for a in args if isinstance(a, str)), None)
            what = f"stream {what!r}" if what else attr.strip("_")
            return _Guarded.call(self._episode, what, value, *args, **kwargs)

        return guarded

    @staticmethod
    def call(episode: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AnnotationKitError:
            raise
        except Exception as exc:
            raise FormatError(
                f"episode {episode!r}: cannot read {what} ({type(exc).__name__}); its source "
                "may be corrupt, or changed since it was imported"
            ) from exc


class Episode:
    """Lazy view of one registered dataset. Use as a context manager, or call :meth:`close`."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset_id = dataset.id
        self.name = dataset.name
        self.duration_ns = dataset.duration_ns
        self.start_time_ns = dataset.start_time_ns
        self.streams: list[dict[str, Any]] = list(dataset.streams)
        self.cameras: list[dict[str, Any]] = list(dataset.cameras)
        self._info = {
            "locator": dataset.meta.get("locator", {}),
            "start_time_ns": dataset.start_time_ns,
        }
        self._uri, self._format = dataset.source_uri, dataset.format
        self._reader: Any = None
        self._signals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._frame_times_cache: dict[str, np.ndarray] = {}
        self._frames: OrderedDict[tuple[str, int], Frame] = OrderedDict()
        self._windows: OrderedDict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = (
            OrderedDict()
        )

    @property
    def reader(self) -> Any:
        """The format reader of the source, opened on first use."""
        if self._reader is None:
            opened = _Guarded.call(
                self.name, "the source", open_reader, self._uri, self._format, self._info
            )
            self._reader = _Guarded(opened, self.name)
        return self._reader

    def _stream(self, name: str, kind: str) -> dict[str, Any]:
        pool = self.cameras if kind == "camera" else self.streams
        for stream in pool:
            if stream["name"] == name:
                return stream
        known = ", ".join(s["name"] for s in pool) or "none"
        raise FormatError(f"episode {self.name!r} has no {kind} stream {name!r}; it has: {known}")

    def signal(
        self, name: str, start_ns: int = 0, end_ns: int | None = None, max_points: int = 2000
    ) -> SignalWindow:
        """The part of signal ``name`` between ``start_ns`` and ``end_ns``, downsampled."""
        stream = self._stream(name, "signal")
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        end_ns = self.duration_ns if end_ns is None else end_ns
        times, values = self._read(name, start_ns, end_ns)
        first = np.searchsorted(times, start_ns, side="left")
        last = np.searchsorted(times, end_ns, side="right")
        t, v = times[first:last], values[first:last]
        fields = (
            stream.get("fields")
            or getattr(self.reader, "columns", None)
            or [f"{name}[{i}]" for i in range(values.shape[1])]
        )
        if len(t) <= max_points:
            return SignalWindow(name, list(fields), t, v, v, len(t))
        buckets = max_points // 2
        edges = np.linspace(0, len(t), buckets + 1).astype(np.int64)[:-1]
        low = np.minimum.reduceat(v, edges, axis=0)
        high = np.maximum.reduceat(v, edges, axis=0)
        return SignalWindow(name, list(fields), t[edges], low, high, len(t))

    def _read(self, name: str, start_ns: int, end_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """The whole stream once read; before that, a reader that can read only a time range
        (MCAP) reads just the window asked for (the last few windows are kept)."""
        if name in self._signals:
            return self._signals[name]
        whole = start_ns <= 0 and end_ns >= self.duration_ns
        if whole or not hasattr(self.reader, "frame_at"):
            self._signals[name] = self.reader.signal(name)
            return self._signals[name]
        key = (name, start_ns, end_ns)
        if key not in self._windows:
            self._windows[key] = self.reader.signal(name, start_ns, end_ns)
            while len(self._windows) > WINDOW_CACHE:
                self._windows.popitem(last=False)
        return self._windows[key]

    def frame_index(self, camera: str, t_ns: int) -> int:
        """Index of the frame of ``camera`` nearest to ``t_ns``."""
        times = self._frame_times(camera)
        i = int(np.searchsorted(times, t_ns))
        if i >= len(times) or (i > 0 and t_ns - times[i - 1] <= times[i] - t_ns):
            i -= 1
        return max(i, 0)

    def _frame_times(self, camera: str) -> np.ndarray:
        stream = self._stream(camera, "camera")
        if stream.get("missing"):
            raise FormatError(f"camera {camera} of episode {self.name!r}: its video is missing")
        if camera not in self._frame_times_cache:
            self._frame_times_cache[camera] = self.reader.frame_times(camera)
        return self._frame_times_cache[camera]

    def frame(self, camera: str, t_ns: int) -> Frame:
        """The encoded frame (JPEG or PNG) of ``camera`` nearest to ``t_ns``."""
        stream = self._stream(camera, "camera")
        if stream.get("missing"):
            raise FormatError(f"camera {camera} of episode {self.name!r}: its video is missing")
        if hasattr(self.reader, "frame_at"):  # reads only the chunks around t (MCAP)
            period = 1e9 / (stream.get("rate_hz") or 30.0)
            key = (camera, round(t_ns / period))
            if key not in self._frames:
                self._remember(key, self.reader.frame_at(camera, t_ns, round(2 * period)))
        else:
            key = (camera, self.frame_index(camera, t_ns))
            if key not in self._frames:
                found = self.reader.frame(camera, key[1])
                if isinstance(found, np.ndarray):
                    from ..formats.base import encode_jpeg

                    found = Frame(
                        encode_jpeg(found),
                        "image/jpeg",
                        int(self._frame_times(camera)[key[1]]),
                        key[1],
                    )
                self._remember(key, found)
        self._frames.move_to_end(key)
        return self._frames[key]

    def frames_at(self, cameras: list[str], times: list[int]) -> dict[str, dict[int, Frame]]:
        """The frame of each camera nearest to each time (as :meth:`frame`), read in one pass
        over the span where the format allows it (MCAP), else frame by frame."""
        out: dict[str, dict[int, Frame]] = {camera: {} for camera in cameras}
        if not times or not cameras:
            return out
        if not hasattr(self.reader, "frames_between"):
            for camera in cameras:
                for t in times:
                    out[camera][t] = self.frame(camera, t)
            return out
        periods = {c: 1e9 / (self._stream(c, "camera").get("rate_hz") or 30.0) for c in cameras}
        pad = round(2 * max(periods.values()))
        missing = []
        for t in sorted(set(times)):
            keys = {c: (c, round(t / periods[c])) for c in cameras}
            if all(key in self._frames for key in keys.values()):
                for camera, key in keys.items():
                    out[camera][t] = self._frames[key]
            else:
                missing.append(t)
        # Only the spans around times not read before, each on its own (the span between two
        # far-apart times is not read for nothing)
        spans: list[list[int]] = []
        for t in missing:
            if spans and t - spans[-1][-1] <= 4 * pad:
                spans[-1].append(t)
            else:
                spans.append([t])
        for span in spans:
            found = self.reader.frames_between(list(cameras), span[0] - pad, span[-1] + pad)
            for camera, frames in found.items():
                if not frames:
                    continue
                stamps = np.fromiter((f.t_ns for f in frames), dtype=np.int64)
                for t in span:
                    i = int(np.argmin(np.abs(stamps - t)))
                    out[camera][t] = frames[i]
                    self._remember((camera, round(t / periods[camera])), frames[i])
        return out

    def _remember(self, key: tuple[str, int], frame: Frame) -> None:
        self._frames[key] = frame
        while len(self._frames) > FRAME_CACHE:
            self._frames.popitem(last=False)

    def contact_sheet(
        self, camera: str | None = None, *, count: int = 8, width: int = 160
    ) -> bytes:
        """A JPEG strip of ``count`` frames spread over the episode, for browsing."""
        from PIL import Image

        cameras = [c["name"] for c in self.cameras if not c.get("missing")]
        if not cameras:
            raise FormatError(f"episode {self.name!r} has no camera with frames")
        shown: str = camera or cameras[0]
        times = np.linspace(0, self.duration_ns, count).astype(np.int64)
        tiles = []
        for t in times:
            with Image.open(io.BytesIO(self.frame(shown, int(t)).data)) as image:
                ratio = width / image.width
                tiles.append(
                    image.convert("RGB").resize((width, max(1, round(image.height * ratio))))
                )
        sheet = Image.new("RGB", (width * len(tiles), max(t.height for t in tiles)))
        for i, tile in enumerate(tiles):
            sheet.paste(tile, (i * width, 0))
        buffer = io.BytesIO()
        sheet.save(buffer, format="JPEG", quality=80)
        return buffer.getvalue()

    def close(self) -> None:
        """Close the source's reader (it opens again on the next read)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> Episode:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<Episode {self.name!r} {self.duration_ns / 1e9:.2f}s, "
            f"{len(self.streams)} streams, {len(self.cameras)} cameras>"
        )
