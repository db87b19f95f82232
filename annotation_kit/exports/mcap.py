"""MCAP: each episode's original streams plus an ``/annotations`` channel, so the export plays
back in Foxglove with the segments on the timeline.

An MCAP source is copied as it was apart from the added channel: its header profile (``ros2``…),
every schema and channel (those without messages too), every message with its timestamps and
sequence number, its metadata records and attachments.
Other sources (HDF5, LeRobot) are written as JSON: each signal on its own channel
(``{"values": [...]}`` with the field names in the channel metadata) and each camera as
``foxglove.CompressedImage``. Annotations are JSON messages (schema encoding ``jsonschema``), one
per annotation at its start time (episode-level ones at the episode start), carrying start/end
in ns from the episode start and what the annotation says.

Files: ``episodes/<NNNNNN>_<name>.mcap``; with ``chunk_s`` or ``chunk_mb`` each episode is split
into ``..._partNNN.mcap`` files of at most that duration / about that size, each with the
annotations that overlap it. Memory is bounded by one message (MCAP sources) or one episode.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcap.reader import make_reader
from mcap.writer import CompressionType, Writer

from ..errors import ValidationError
from ..formats.mcap import ANNOTATIONS
from ..store.locations import locate
from .plan import AnnotationRecord, EpisodePlan, Plan

ANNOTATION_SCHEMA = {
    "type": "object",
    "title": ANNOTATIONS,
    "properties": {
        "annotation": {"type": "integer"},
        "version": {"type": "integer"},
        "task": {"type": "integer"},
        "kind": {"type": "string"},
        "start_ns": {"type": ["integer", "null"]},
        "end_ns": {"type": ["integer", "null"]},
        "skill": {"type": ["string", "null"]},
        "skill_version": {"type": ["integer", "null"]},
        "labels": {"type": "array", "items": {"type": "string"}},
        "description": {"type": "string"},
        "author": {"type": "string"},
        "provenance": {"type": "string"},
        "valid": {"type": "boolean"},
        "review_verdict": {"type": ["string", "null"]},
    },
}
SIGNAL_SCHEMA = {
    "type": "object",
    "title": "annotation_kit.Signal",
    "properties": {"values": {"type": "array", "items": {"type": "number"}}},
}
IMAGE_SCHEMA = {
    "type": "object",
    "title": "foxglove.CompressedImage",
    "properties": {
        "timestamp": {
            "type": "object",
            "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}},
        },
        "frame_id": {"type": "string"},
        "format": {"type": "string"},
        "data": {"type": "string", "contentEncoding": "base64"},
    },
}
ANNOTATION_TOPIC = "/annotations"
ANNOTATION_FIELDS = tuple(ANNOTATION_SCHEMA["properties"])


def check(plan: Plan, *, chunk_s: float | None, chunk_mb: float | None, **_: Any) -> None:
    """Refuse chunk sizes that are not sizes, before anything is recorded or written."""
    for name, value in (("chunk_s", chunk_s), ("chunk_mb", chunk_mb)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < float("inf")
        ):
            raise ValidationError(f"{name} must be above 0, got {value!r}")


def write(
    plan: Plan, folder: Path, *, chunk_s: float | None = None, chunk_mb: float | None = None
) -> dict[str, Any]:
    """Write ``plan`` as MCAP files in ``folder``: each episode's messages and its annotations,
    optionally split in chunks of ``chunk_s`` seconds or ``chunk_mb`` MB."""
    check(plan, chunk_s=chunk_s, chunk_mb=chunk_mb)
    (folder / "episodes").mkdir()
    files = 0
    for episode in plan.episodes:
        stem = f"{episode.dataset:06d}_{_safe(episode.name)}"
        source = _source(episode)
        parts = _Parts(folder / "episodes", stem, episode, chunk_s, chunk_mb, source)
        try:
            for message in source.messages:
                parts.add(*message)
        finally:
            source.close()
            files += parts.close()
        plan.step(episode.name)
    return {"files": files}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:80] or "episode"


Message = tuple[tuple, tuple, int, int, bytes, int]
"""(schema, channel, log_time, publish_time, data, sequence)"""


@dataclass
class _Source:
    """What an episode's files start with, and its messages in time order."""

    messages: Iterator[tuple]
    """:data:`Message` tuples (converted sources have no sequence numbers)."""
    profile: str = ""
    channels: list[tuple[tuple, tuple]] = field(default_factory=list)
    """Every (schema, channel) of the source, those without messages too."""
    metadata: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    attachments: list[Any] = field(default_factory=list)
    stream: Any = None

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


class _Parts:
    """One output file, or a new one whenever the time or size limit is reached."""

    def __init__(
        self,
        folder: Path,
        stem: str,
        episode: EpisodePlan,
        chunk_s: float | None,
        chunk_mb: float | None,
        source: _Source,
    ) -> None:
        self.folder, self.stem, self.episode, self.source = folder, stem, episode, source
        self.span_ns = int(chunk_s * 1e9) if chunk_s else None
        self.max_bytes = int(chunk_mb * 1e6) if chunk_mb else None
        self.split = bool(chunk_s or chunk_mb)
        self.index = -1
        self.writer: Writer | None = None
        self.part_start = 0
        self.channels: dict[tuple, int] = {}
        self.schemas: dict[tuple, int] = {}
        self.count = 0

    def add(
        self,
        schema: tuple,
        channel: tuple,
        log_time: int,
        publish_time: int,
        data: bytes,
        sequence: int = 0,
    ) -> None:
        t = log_time - self.episode.start_time_ns
        if self.writer is None or (
            self.split
            and (
                (self.span_ns and t >= self.part_start + self.span_ns)
                or (self.max_bytes and self.stream.tell() >= self.max_bytes)
            )
        ):
            self._next(t)
        self._writing.add_message(
            self._channel(schema, channel), log_time, data, publish_time, sequence
        )

    def _channel(self, schema: tuple, channel: tuple) -> int:
        key = (schema, channel)
        if key not in self.channels:
            if schema not in self.schemas:
                name, encoding, body = schema
                self.schemas[schema] = (
                    self._writing.register_schema(name, encoding, body) if name or body else 0
                )
            topic, message_encoding, metadata = channel
            self.channels[key] = self._writing.register_channel(
                topic, message_encoding, self.schemas[schema], dict(metadata)
            )
        return self.channels[key]

    def _next(self, t: int) -> None:
        self._finish()
        self.index += 1
        if self.span_ns:  # parts cover fixed spans of the episode clock
            self.part_start = (t // self.span_ns) * self.span_ns
        else:
            self.part_start = t
        suffix = f"_part{self.index:03d}" if self.split else ""
        self.path = self.folder / f"{self.stem}{suffix}.mcap"
        self.stream = open(self.path, "wb")  # noqa: SIM115 - closed in _finish
        self.writer = Writer(self.stream, compression=CompressionType.ZSTD)
        self.writer.start(profile=self.source.profile, library="annotation_kit")
        self.channels, self.schemas = {}, {}
        for schema, channel in self.source.channels:  # every channel, as the source has them
            self._channel(schema, channel)
        for name, data in self.source.metadata:
            self.writer.add_metadata(name, data)
        for a in self.source.attachments:
            self.writer.add_attachment(a.create_time, a.log_time, a.name, a.media_type, a.data)
        self.count += 1

    @property
    def _writing(self) -> Writer:
        """The open file's writer (one is open while messages are written)."""
        assert self.writer is not None
        return self.writer

    def _finish(self) -> None:
        if self.writer is None:
            return
        end = self.part_start + self.span_ns if self.span_ns else None
        self._annotations(self.part_start if self.split else None, end)
        self.writer.finish()
        self.stream.close()
        self.writer = None

    def _annotations(self, start: int | None, end: int | None) -> None:
        schema = (ANNOTATIONS, "jsonschema", _json(ANNOTATION_SCHEMA))
        channel = (ANNOTATION_TOPIC, "json", (("annotation_kit", "annotations"),))
        schema_id = self._writing.register_schema(*schema)
        channel_id = self._writing.register_channel(
            channel[0], channel[1], schema_id, dict(channel[2])
        )
        for record in self.episode.annotations:
            if not _overlaps(record, start, end):
                continue
            at = max(record.start_ns or 0, start or 0)  # inside this part's span
            t = self.episode.start_time_ns + at
            self._writing.add_message(channel_id, t, annotation_message(record), t)

    def close(self) -> int:
        if self.writer is None:  # an episode with no messages still gets its annotations
            self._next(0)
        self._finish()
        return self.count


def _overlaps(record: AnnotationRecord, start: int | None, end: int | None) -> bool:
    if start is None or record.start_ns is None:
        return start is None or start == 0
    return (record.end_ns or 0) >= start and (end is None or record.start_ns < end)


def annotation_message(record: AnnotationRecord) -> bytes:
    """An annotation as the JSON message body of the ``annotation_kit.Annotation`` channel."""
    values = record.to_json()
    return _json({k: values[k] for k in ANNOTATION_FIELDS})


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _source(episode: EpisodePlan) -> _Source:
    if episode.format.split("-", 1)[0] == "mcap":
        return _copied(episode)
    return _Source(_converted(episode))


def _copied(episode: EpisodePlan) -> _Source:
    location = locate(episode.source_uri.split("#", 1)[0])
    stream = location.open()
    try:
        reader = make_reader(stream)
        header = reader.get_header()
        summary = reader.get_summary()
        channels = []
        if summary is not None:
            for channel in summary.channels.values():
                if channel.topic == ANNOTATION_TOPIC:
                    continue
                schema = summary.schemas.get(channel.schema_id)
                channels.append((_schema_key(schema), _channel_key(channel)))
        source = _Source(
            _copied_messages(reader),
            profile=header.profile,
            channels=channels,
            metadata=[(m.name, dict(m.metadata)) for m in reader.iter_metadata()],
            attachments=list(reader.iter_attachments()),
            stream=stream,
        )
    except BaseException:
        stream.close()
        raise
    return source


def _schema_key(schema: Any) -> tuple:
    return (schema.name, schema.encoding, bytes(schema.data)) if schema else ("", "", b"")


def _channel_key(channel: Any) -> tuple:
    return (channel.topic, channel.message_encoding, tuple(sorted(channel.metadata.items())))


def _copied_messages(reader: Any) -> Iterator[Message]:
    for schema, channel, message in reader.iter_messages(log_time_order=True):
        if channel.topic == ANNOTATION_TOPIC:
            continue  # annotations of an earlier export: the workspace's replace them
        yield (
            _schema_key(schema),
            _channel_key(channel),
            message.log_time,
            message.publish_time,
            message.data,
            message.sequence,
        )


def _converted(episode: EpisodePlan) -> Iterator[tuple[tuple, tuple, int, int, bytes]]:
    import heapq

    data = episode.open()
    try:
        streams = [s for s in episode.streams if s.get("kind") == "signal"]
        iterators = [_signal_messages(data, episode, s) for s in streams]
        iterators += [
            _camera_messages(data, episode, c) for c in episode.cameras if not c.get("missing")
        ]
        yield from heapq.merge(*iterators, key=lambda m: m[2])
    finally:
        data.close()


def _signal_messages(data: Any, episode: EpisodePlan, stream: dict[str, Any]) -> Iterator:
    times, values = data.reader.signal(stream["name"])
    fields = stream.get("fields") or []
    schema = ("annotation_kit.Signal", "jsonschema", _json(SIGNAL_SCHEMA))
    channel = (stream["name"], "json", (("fields", json.dumps(fields)),))
    for t, row in zip(times.tolist(), values.tolist(), strict=True):
        stamp = episode.start_time_ns + int(t)
        yield schema, channel, stamp, stamp, _json({"values": row})


def _camera_messages(data: Any, episode: EpisodePlan, camera: dict[str, Any]) -> Iterator:
    from ..formats.base import Frame, encode_jpeg

    name = camera["name"]
    schema = ("foxglove.CompressedImage", "jsonschema", _json(IMAGE_SCHEMA))
    channel = (name, "json", ())
    times = data.reader.frame_times(name)
    for index, t in enumerate(times.tolist()):
        found = data.reader.frame(name, index)
        if not isinstance(found, Frame):
            found = Frame(encode_jpeg(found), "image/jpeg", int(t), index)
        stamp = episode.start_time_ns + int(t)
        body = {
            "timestamp": {"sec": stamp // 1_000_000_000, "nsec": stamp % 1_000_000_000},
            "frame_id": name,
            "format": found.mime.split("/")[-1],
            "data": base64.b64encode(found.data).decode(),
        }
        yield schema, channel, stamp, stamp, _json(body)


write.check = check  # type: ignore[attr-defined]
