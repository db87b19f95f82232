"""MCAP: index from the summary section (a linear scan when a file has none), decode ROS 2
(CDR), protobuf and JSON messages, cameras from image topics, signals from numeric topics."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from mcap.exceptions import McapError
from mcap.reader import make_reader
from mcap_protobuf.decoder import DecoderFactory as ProtobufDecoders
from mcap_ros2.decoder import DecoderFactory as Ros2Decoders

from ..store.locations import Location
from .base import (
    EpisodeInfo,
    FormatError,
    Frame,
    StreamInfo,
    StreamKind,
    encode_jpeg,
    exported_segments,
    flatten_numeric,
    rate,
    stack_rows,
)

NAME = "mcap"
SUFFIXES = (".mcap",)
MAGIC = b"\x89MCAP"
RAW_IMAGES = {
    "sensor_msgs/msg/Image",
    "sensor_msgs/Image",
    "foxglove.RawImage",
    "foxglove_msgs/msg/RawImage",
}
COMPRESSED_IMAGES = {
    "sensor_msgs/msg/CompressedImage",
    "sensor_msgs/CompressedImage",
    "foxglove.CompressedImage",
    "foxglove_msgs/msg/CompressedImage",
}
NUMERIC_SCHEMAS = {
    "sensor_msgs/msg/JointState",
    "std_msgs/msg/Float64MultiArray",
    "std_msgs/msg/Float32MultiArray",
    "sensor_msgs/msg/Imu",
    "geometry_msgs/msg/WrenchStamped",
    "geometry_msgs/msg/PoseStamped",
    "geometry_msgs/msg/TwistStamped",
    "nav_msgs/msg/Odometry",
    "std_msgs/msg/Float64",
    "std_msgs/msg/Float32",
    "std_msgs/msg/Int32",
}
_NUMBER_TYPES = {"number", "integer", "boolean", "array"}


def _decoders() -> list[Any]:
    return [Ros2Decoders(), ProtobufDecoders(), _JsonDecoders()]


class _JsonDecoders:
    def decoder_for(self, message_encoding: str, _schema: Any) -> Callable[[bytes], Any] | None:
        return json.loads if message_encoding == "json" else None


ANNOTATIONS = "annotation_kit.Annotation"
"""Schema of the annotations channel an annotation_kit export writes (read back as segments)."""


def _kind(schema: Any) -> StreamKind:
    if schema is None or schema.name == ANNOTATIONS:
        return "other"
    if schema.name in RAW_IMAGES | COMPRESSED_IMAGES:
        return "camera"
    if schema.name in NUMERIC_SCHEMAS:
        return "signal"
    if schema.encoding == "ros2msg":
        return "signal" if _ros2_has_numbers(schema.data.decode(errors="replace")) else "other"
    if schema.encoding == "jsonschema":
        try:
            properties = json.loads(schema.data).get("properties", {})
        except ValueError:
            return "other"
        if any(p.get("type") in _NUMBER_TYPES for p in properties.values()):
            return "signal"
    return "other"


_ROS_NUMBERS = {
    "bool",
    "byte",
    "char",
    "float32",
    "float64",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
}


def _ros2_has_numbers(definition: str) -> bool:
    """Whether the top-level message of a ``.msg`` definition has a numeric field."""
    top = definition.split("\n====", 1)[0]
    for line in top.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and "=" not in line and words[0].split("[", 1)[0] in _ROS_NUMBERS:
            return True
    return False


def scan(location: Location, *, probe_cameras: bool = True) -> list[EpisodeInfo]:
    """Index one MCAP file as one episode, reading only its summary when it has one.

    Camera resolution is not in an MCAP summary: it comes from the channel metadata
    (``width``/``height``) when the recorder wrote it, else, with ``probe_cameras``, from the
    first frame of each camera (one chunk read per camera); without, it stays unknown.
    """
    try:
        with location.open() as stream:
            reader = make_reader(stream, decoder_factories=_decoders() if probe_cameras else ())
            header = reader.get_header()
            summary = reader.get_summary()
            if summary is None or summary.statistics is None:
                counts, first, last, channels, schemas = _linear_scan(reader)
            else:
                stats = summary.statistics
                counts = dict(stats.channel_message_counts)
                first, last = stats.message_start_time, stats.message_end_time
                chunks = [c for c in summary.chunk_indexes if c.message_index_offsets]
                if stats.message_count and chunks:  # trust, but check: a writer's statistics
                    # may start after its first message; the chunks holding messages know
                    first = min(first, *(c.message_start_time for c in chunks))
                    last = max(last, *(c.message_end_time for c in chunks))
                channels, schemas = summary.channels, summary.schemas
            duration = max(0, last - first) if counts else 0
            streams = []
            exported: list[dict[str, Any]] = []
            for channel in sorted(channels.values(), key=lambda c: c.topic):
                schema = schemas.get(channel.schema_id)
                count = counts.get(channel.id, 0)
                info = StreamInfo(
                    name=channel.topic,
                    kind=_kind(schema),
                    count=count,
                    rate_hz=rate(count, duration),
                    encoding=schema.name if schema else channel.message_encoding,
                )
                if info.kind == "camera" and count:
                    _resolution(reader, channel, info, probe=probe_cameras)
                if schema is not None and schema.name == ANNOTATIONS and count:
                    exported += [
                        json.loads(m.data) | {"_t": m.log_time}
                        for _s, _c, m in reader.iter_messages(topics=[channel.topic])
                    ]
                streams.append(info)
    except (McapError, EOFError, ValueError, KeyError) as exc:
        raise FormatError(f"{location.url}: not a readable MCAP file ({exc})") from exc
    if not counts:
        raise FormatError(f"{location.url}: the MCAP file holds no messages")
    return [
        EpisodeInfo(
            name=location.name.removesuffix(".mcap"),
            source_uri=location.url,
            format=NAME,
            duration_ns=duration,
            start_time_ns=first,
            streams=streams,
            size_bytes=location.size(),
            locator={},
            meta={"profile": header.profile, "library": header.library},
            segments=exported_segments(exported, duration),
        )
    ]


def _linear_scan(reader: Any) -> tuple[dict[int, int], int, int, dict, dict]:
    counts: dict[int, int] = defaultdict(int)
    channels: dict[int, Any] = {}
    schemas: dict[int, Any] = {}
    first, last = None, 0
    for schema, channel, message in reader.iter_messages(log_time_order=False):
        counts[channel.id] += 1
        channels[channel.id] = channel
        if schema is not None:
            schemas[schema.id] = schema
        first = message.log_time if first is None else min(first, message.log_time)
        last = max(last, message.log_time)
    return dict(counts), first or 0, last, channels, schemas


def _resolution(reader: Any, channel: Any, info: StreamInfo, *, probe: bool) -> None:
    """Width and height from the channel metadata, else (``probe``) from its first message."""
    meta = channel.metadata or {}
    if "width" in meta and "height" in meta:
        info.width, info.height = int(meta["width"]), int(meta["height"])
        return
    if not probe:
        return
    for _s, _c, _m, decoded in reader.iter_decoded_messages(topics=[channel.topic]):
        frame = _pixels_or_bytes(decoded)
        if isinstance(frame, np.ndarray):
            info.height, info.width = frame.shape[:2]
        else:
            from io import BytesIO

            from PIL import Image

            with Image.open(BytesIO(frame[0])) as image:
                info.width, info.height = image.size
        return


def _pixels_or_bytes(decoded: Any) -> np.ndarray | tuple[bytes, str]:
    message = decoded
    get = message.get if isinstance(message, dict) else lambda k, d=None: getattr(message, k, d)
    fmt = str(get("format", "") or "").lower()
    data = get("data")
    if isinstance(data, str):  # JSON messages carry bytes as base64
        import base64

        data = base64.b64decode(data)
    data = bytes(data or b"")
    if fmt and get("width") is None:  # compressed: jpeg / png
        return data, "image/png" if "png" in fmt else "image/jpeg"
    width, height = int(get("width") or 0), int(get("height") or 0)
    encoding = str(get("encoding", "rgb8")).lower()
    channels = 1 if encoding in ("mono8", "8uc1") else 3
    pixels = np.frombuffer(data, dtype=np.uint8)[: width * height * channels]
    pixels = (
        pixels.reshape(height, width, channels) if channels == 3 else pixels.reshape(height, width)
    )
    return pixels[..., ::-1] if encoding in ("bgr8",) else pixels


class McapEpisode:
    """Lazy reader of one MCAP episode; keeps the file open between calls."""

    def __init__(self, location: Location, start_time_ns: int) -> None:
        self._stream = location.open()
        self._reader = make_reader(self._stream, decoder_factories=_decoders())
        self._start = start_time_ns
        self._times: dict[str, np.ndarray] = {}
        self.columns: list[str] = []

    def signal(
        self, name: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The stream, or only ``[start_ns, end_ns]`` of it (only the chunks there are read)."""
        window = {}
        if start_ns is not None:
            window["starting_at"] = self._start + start_ns
        if end_ns is not None:
            window["ending_at"] = self._start + end_ns
        times, rows = [], []
        for _s, _c, message, decoded in self._reader.iter_decoded_messages(topics=[name], **window):
            times.append(message.log_time - self._start)
            rows.append(flatten_numeric(decoded))
        if not rows:
            if window:
                return np.empty(0, dtype=np.int64), np.empty((0, len(self.columns)))
            raise FormatError(f"stream {name!r} has no messages")
        columns, values = stack_rows(rows)
        if not columns:
            raise FormatError(f"stream {name!r} has no numeric fields")
        self.columns = columns
        return np.asarray(times, dtype=np.int64), values

    def frame_times(self, camera: str) -> np.ndarray:
        """Every frame time (walks the whole topic: prefer :meth:`frame_at`)."""
        if camera not in self._times:
            self._times[camera] = np.fromiter(
                (
                    m.log_time - self._start
                    for _s, _c, m in self._reader.iter_messages(topics=[camera])
                ),
                dtype=np.int64,
            )
        return self._times[camera]

    def frame(self, camera: str, index: int) -> Frame:
        """Frame ``index`` of a camera."""
        return self.frame_at(camera, int(self.frame_times(camera)[index]), tolerance_ns=1)

    def frame_at(self, camera: str, t_ns: int, tolerance_ns: int = 500_000_000) -> Frame:
        """The frame nearest ``t_ns`` within ``tolerance_ns``, reading only the chunks there."""
        best = None
        for _s, _c, message, decoded in self._reader.iter_decoded_messages(
            topics=[camera],
            starting_at=max(0, self._start + t_ns - tolerance_ns),
            ending_at=self._start + t_ns + tolerance_ns,
        ):
            distance = abs(message.log_time - self._start - t_ns)
            if best is None or distance < best[0]:
                best = (distance, message.log_time - self._start, decoded)
        if best is None:
            raise FormatError(
                f"no frame of {camera!r} within {tolerance_ns / 1e9:g} s of {t_ns / 1e9:.3f} s"
            )
        content = _pixels_or_bytes(best[2])
        if isinstance(content, np.ndarray):
            return Frame(encode_jpeg(content), "image/jpeg", best[1], -1)
        return Frame(content[0], content[1], best[1], -1)

    def frames_between(
        self, cameras: list[str], start_ns: int, end_ns: int
    ) -> dict[str, list[Frame]]:
        """Every frame of ``cameras`` in [start_ns, end_ns], in one pass over those chunks."""
        out: dict[str, list[Frame]] = {camera: [] for camera in cameras}
        for _s, channel, message, decoded in self._reader.iter_decoded_messages(
            topics=list(cameras),
            starting_at=max(0, self._start + start_ns),
            ending_at=self._start + end_ns,
        ):
            content = _pixels_or_bytes(decoded)
            t = message.log_time - self._start
            if isinstance(content, np.ndarray):
                out[channel.topic].append(Frame(encode_jpeg(content), "image/jpeg", t, -1))
            else:
                out[channel.topic].append(Frame(content[0], content[1], t, -1))
        return out

    def close(self) -> None:
        """Close the MCAP file."""
        self._stream.close()


def open_episode(location: Location, info: dict[str, Any]) -> McapEpisode:
    """Open one indexed MCAP episode for lazy reading."""
    return McapEpisode(location, int(info["start_time_ns"]))
