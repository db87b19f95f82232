"""Camera videos as lerobot writes them, with PyAV.

Defaults follow lerobot's own encoder (``lerobot.configs.video``): AV1 through SVT-AV1, a
keyframe every 2 frames (``g=2``: training decodes random frames, each one a short seek), CRF 30,
preset 12, ``yuv420p``. ``codec="h264"`` writes H.264 (libx264) with the same GOP and no
B-frames instead, for players and decoders without AV1. v3.0 packs several episodes one after
another into each file, up to ``file_mb`` per file, and says where each episode lies
(``from_timestamp`` / ``to_timestamp``); v2.1 writes one file per episode.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ValidationError

CODECS = {  # option → (PyAV encoder, name in info.json, encoder options)
    "av1": ("libsvtav1", "av1", {"g": "2", "crf": "30", "preset": "12"}),
    "h264": ("libx264", "h264", {"g": "2", "crf": "23", "bf": "0", "preset": "veryfast"}),
}
ALIASES = {"libsvtav1": "av1", "libx264": "h264"}
PIX_FMT = "yuv420p"


def codec_name(codec: str) -> str:
    """The codec's name as PyAV knows it (aliases accepted); :class:`ValidationError` if unknown."""
    name = ALIASES.get(codec, codec)
    if name not in CODECS:
        raise ValidationError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    return name


def feature_info(codec: str, height: int, width: int, fps: int) -> dict[str, Any]:
    """The ``info`` block of a video feature in ``meta/info.json``."""
    _encoder, name, options = CODECS[codec]
    info: dict[str, Any] = {
        "video.height": height,
        "video.width": width,
        "video.codec": name,
        "video.pix_fmt": PIX_FMT,
        "video.is_depth_map": False,
        "video.fps": fps,
        "video.channels": 3,
        "has_audio": False,
        "video.g": int(options["g"]),
        "video.crf": int(options["crf"]),
    }
    if codec == "av1":
        info["video.preset"] = int(options["preset"])
    return info


@dataclass
class Placed:
    """Where one episode of one camera went."""

    chunk_index: int
    file_index: int
    from_timestamp: float
    to_timestamp: float
    sample: list[np.ndarray]
    """Every 10th frame, for the image stats."""


class VideoFile:
    """One camera's open mp4 file; episodes are appended to it in order."""

    def __init__(self, path: Path, codec: str, fps: int, number: int) -> None:
        import av

        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its settings unless told not to
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.number, self.fps = path, number, fps
        self.encoder, _name, self.options = CODECS[codec]
        self.container = av.open(str(path), "w")
        self.stream: Any = None
        self.frames = 0
        self.bytes = 0

    def append(self, frames: Iterable[np.ndarray]) -> tuple[float, float, list[np.ndarray]]:
        """Encode ``frames``; the file time span they cover and a few of them (for the stats)."""
        import av
        from av.video.frame import PictureType

        first = self.frames
        sample = []
        for i, pixels in enumerate(frames):
            if self.stream is None:
                self.stream = self.container.add_stream(
                    self.encoder, rate=Fraction(self.fps), options=dict(self.options)
                )
                self.stream.width = pixels.shape[1] // 2 * 2
                self.stream.height = pixels.shape[0] // 2 * 2
                self.stream.pix_fmt = PIX_FMT
            picture = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(pixels[: self.stream.height, : self.stream.width]),
                format="rgb24",
            )
            picture.pts = self.frames
            if i == 0:  # each episode starts on a keyframe, as lerobot's writer starts them
                picture.pict_type = PictureType.I
            self._mux(self.stream.encode(picture))
            self.frames += 1
            if i % 10 == 0:
                sample.append(pixels)
        return first / self.fps, self.frames / self.fps, sample

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            self.bytes += packet.size
            self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and close the file."""
        if self.stream is not None:
            self._mux(self.stream.encode())
        self.container.close()


class Videos:
    """The video files of one export, per camera key."""

    def __init__(
        self, folder: Path, version: str, codec: str, fps: int, file_mb: float, chunk: int
    ) -> None:
        self.folder, self.version, self.codec, self.fps = folder, version, codec, fps
        self.limit, self.chunk = file_mb * 1e6, chunk
        self.open: dict[str, VideoFile] = {}

    def write(self, key: str, episode: int, frames: Iterable[np.ndarray]) -> Placed:
        """Append an episode's ``frames`` of camera ``key`` to the current video file (a new one
        when full, or per episode before v3.0); where they were placed."""
        current = self.open.get(key)
        if self.version != "v3.0" or current is None or current.bytes >= self.limit:
            number = episode if self.version != "v3.0" else (current.number + 1 if current else 0)
            if current is not None:
                current.close()
            path = self._path(key, number)
            current = self.open[key] = VideoFile(path, self.codec, self.fps, number)
        start, end, sample = current.append(frames)
        if self.version != "v3.0":
            current.close()
            del self.open[key]
        return Placed(current.number // self.chunk, current.number % self.chunk, start, end, sample)

    def _path(self, key: str, number: int) -> Path:
        chunk, index = divmod(number, self.chunk)
        if self.version == "v3.0":
            return self.folder / f"videos/{key}/chunk-{chunk:03d}/file-{index:03d}.mp4"
        return self.folder / f"videos/chunk-{chunk:03d}/{key}/episode_{number:06d}.mp4"

    def close(self) -> None:
        """Close every open video file."""
        for file in self.open.values():
            file.close()
        self.open.clear()
