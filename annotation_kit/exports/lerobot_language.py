"""Segments as LeRobot reads them: one subtask per frame, the language columns and their rows.

LeRobot (0.6) models subtasks as back-to-back spans: a ``subtask`` row of ``language_persistent``
is active from its timestamp until the next one, and ``subtask_index`` names one subtask per
frame. Our segments may overlap, nest or leave gaps, so they are first flattened on the frame
grid: a segment covers the frames from its start to before its end (and the last frame when it
reaches the episode's end); each frame takes the segment that started last among those covering
it (an inner segment wins over the one around it, which resumes when the inner one ends), and a
frame that no segment covers takes ``gap`` (the ``gap_subtask`` option, ``"idle"`` by
default). The runs of equal frames are the spans; both the language rows and
``subtask_index`` come from them, so they agree on every frame.

Rows, as lerobot's own writer makes them (``lerobot.datasets.language``):

- ``subtask`` (role ``assistant``) at the first frame of each span, its timestamp exactly that
  frame's ``timestamp`` (float32);
- ``plan`` at the same frames, when it differs from the one before: the numbered list of the
  segment spans still to come — the next ``plan_ahead`` of them (5 by default, then
  ``(K more)``; ``None``: all of them, as lerobot's annotation pipeline writes it; ``0``: no
  plan rows). Every frame carries the episode's whole list of rows, so a plan repeating the
  whole future at every boundary would grow with segments² × frames (300 segments of 200
  characters in a 10-minute episode: over 100 GB); capped, the rows grow with the segments;
- ``task_aug`` (role ``user``) at the first frame when valid episode-level annotations carry a
  description: the episode's task first, then each description (lerobot rotates ``${task}``
  through them);
- no event rows: nothing we store is an interjection, a VQA pair or a tool call.

Invalid annotations never become language (they stay in ``meta/annotation_kit.jsonl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .plan import AnnotationRecord

JSON = pa.json_() if hasattr(pa, "json_") else pa.string()
PERSISTENT_ROW = pa.struct(
    [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string()),
        pa.field("style", pa.string()),
        pa.field("timestamp", pa.float32(), nullable=False),
        pa.field("camera", pa.string()),
        pa.field("tool_calls", pa.list_(JSON)),
    ]
)
EVENT_ROW = pa.struct(
    [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string()),
        pa.field("style", pa.string()),
        pa.field("camera", pa.string()),
        pa.field("tool_calls", pa.list_(JSON)),
    ]
)
PERSISTENT = pa.list_(PERSISTENT_ROW)
PLAN_AHEAD = 5
"""How many segments to come a plan row lists by default."""
GROUP_BYTES = 256 * 1024 * 1024
"""The language text of one parquet row group, at most (see :func:`frames_per_group`)."""
EVENTS = pa.list_(EVENT_ROW)
COLUMNS = ("language_persistent", "language_events")
SAY_TOOL = {  # the tool lerobot declares by default (``meta/info.json["tools"]``)
    "type": "function",
    "function": {
        "name": "say",
        "description": "Speak a short utterance to the user via the TTS executor.",
        "parameters": {
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "The verbatim text to speak."}
            },
            "required": ["text"],
        },
    },
}


def text(record: AnnotationRecord) -> str:
    """What a segment says: its description, else its skill."""
    return record.description or record.skill or "segment"


def language_segments(records: list[AnnotationRecord]) -> list[AnnotationRecord]:
    """The segments that become subtasks (valid ones with a span)."""
    return [
        a
        for a in records
        if a.kind == "segment" and a.valid and a.start_ns is not None and a.end_ns is not None
    ]


@dataclass
class Span:
    """A run of frames sharing one subtask text (a segment, or a gap between segments)."""

    first: int
    """First frame of the span."""
    text: str
    segment: bool
    """False for a gap (no segment covers these frames)."""


def spans(
    records: list[AnnotationRecord], times_ns: np.ndarray, offset_ns: int, gap: str
) -> tuple[list[Span], np.ndarray]:
    """The back-to-back spans over the frames at ``times_ns`` (on the unit's clock; segments are
    on the episode clock, ``offset_ns`` earlier) and, per frame, the index of its span."""
    n = len(times_ns)
    owner = np.full(n, -1, dtype=np.int64)  # per frame: the covering segment that started last
    segments = language_segments(records)
    segments.sort(key=lambda a: (a.start_ns or 0, -(a.end_ns or 0), a.annotation))
    for i, a in enumerate(segments):  # segments: start and end are set
        start, end = (a.start_ns or 0) - offset_ns, (a.end_ns or 0) - offset_ns
        lo = np.searchsorted(times_ns, start, side="left")
        hi = np.searchsorted(times_ns, end, side="left")
        if n and end >= times_ns[-1]:  # reaching the end: the last frame too
            hi = n
        owner[lo:hi] = i  # later starts overwrite; where an inner one ends, the outer shows again
    if n == 0:
        return [], owner
    change = np.flatnonzero(np.diff(owner)) + 1
    firsts = np.concatenate([[0], change])
    out = [
        Span(int(f), text(segments[owner[f]]) if owner[f] >= 0 else gap, bool(owner[f] >= 0))
        for f in firsts
    ]
    span_of = np.repeat(np.arange(len(firsts)), np.diff(np.append(firsts, n)))
    return out, span_of


def persistent_rows(
    found: list[Span],
    timestamps: np.ndarray,
    task: str,
    records: list[AnnotationRecord],
    ahead: int | None = PLAN_AHEAD,
) -> list[dict[str, Any]]:
    """The ``language_persistent`` rows of one episode (the same list on each of its frames);
    plans list the next ``ahead`` segments (None: every one still to come)."""
    rows: list[dict[str, Any]] = []
    described = [
        a.description
        for a in records
        if a.kind != "segment" and a.valid and a.description and a.description != task
    ]
    if described:
        t0 = float(timestamps[0])
        for content in dict.fromkeys([task, *described]):
            rows.append(_row("user", content, "task_aug", t0))
    to_come = np.cumsum([0] + [s.segment for s in found])  # segments before each span
    segments = [s.text for s in found if s.segment]
    previous = None
    for i, span in enumerate(found):
        t = float(timestamps[span.first])
        rows.append(_row("assistant", span.text, "subtask", t))
        if ahead == 0:
            continue
        first = int(to_come[i])
        shown = segments[first:] if ahead is None else segments[first : first + ahead]
        plan = "\n".join(f"{k}. {item}" for k, item in enumerate(shown, start=1))
        if more := len(segments) - first - len(shown):
            plan += f"\n({more} more)"
        if shown and plan != previous:
            rows.append(_row("assistant", plan, "plan", t))
        previous = plan
    rows.sort(key=lambda r: (r["timestamp"], r["style"], r["role"]))
    return rows


def _row(role: str, content: str, style: str, timestamp: float) -> dict[str, Any]:
    return {
        "role": role,
        "content": content,
        "style": style,
        "timestamp": timestamp,
        "camera": None,
        "tool_calls": None,
    }


def columns(rows: list[dict[str, Any]], n: int) -> dict[str, pa.Array]:
    """Both language columns for ``n`` frames: ``rows`` on every frame, no events."""
    atoms = _structs(rows, PERSISTENT_ROW)
    k = len(rows)  # the same rows on every frame, without n Python lists
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * k)
    repeated = atoms.take(pa.array(np.tile(np.arange(k), n), pa.int64()))
    persistent = pa.ListArray.from_arrays(offsets, repeated, PERSISTENT)
    events = pa.ListArray.from_arrays(
        pa.array(np.zeros(n + 1, dtype=np.int32)), _structs([], EVENT_ROW), EVENTS
    )
    return {"language_persistent": persistent, "language_events": events}


def frames_per_group(rows: list[dict[str, Any]], n: int) -> int:
    """How many of an episode's ``n`` frames one parquet row group holds: all of them, unless
    ``rows`` on every frame add up to more than :data:`GROUP_BYTES` of text — more than an
    Arrow string array holds (2 GB), and more than the ``datasets`` library lerobot reads with
    converts at once ("nested data conversions not implemented for chunked array outputs")."""
    size = sum(len((r["content"] or "").encode()) + 32 for r in rows)
    return max(1, min(n, GROUP_BYTES // max(1, size)))


def _structs(rows: list[dict[str, Any]], kind: pa.StructType) -> pa.StructArray:
    """``rows`` as a struct array (built field by field: pyarrow cannot convert Python values
    into the JSON extension type of ``tool_calls``, which stays null here)."""
    arrays = [
        pa.nulls(len(rows), pa.list_(pa.string())).cast(f.type)
        if f.name == "tool_calls"
        else pa.array([r[f.name] for r in rows], f.type)
        for f in kind
    ]
    return pa.StructArray.from_arrays(arrays, fields=list(kind))


def hf_feature() -> dict[str, Any]:
    """The ``datasets`` feature of both columns, as the parquet ``huggingface`` metadata says."""

    def row(with_timestamp: bool) -> dict[str, Any]:
        value = {"dtype": "string", "_type": "Value"}
        fields: dict[str, Any] = {"role": value, "content": value, "style": value}
        if with_timestamp:
            fields["timestamp"] = {"dtype": "float32", "_type": "Value"}
        fields["camera"] = value
        fields["tool_calls"] = {"feature": {"_type": "Json"}, "_type": "List"}
        return {"feature": fields, "_type": "List"}

    return {"language_persistent": row(True), "language_events": row(False)}
