"""Export annotation segments as WebVTT subtitles, one ``.vtt`` file per episode, so a video
player shows each segment's skill and description while the episode plays.

An exporter is a function ``write(plan, folder, **options)``: ``plan.episodes`` lists the
episodes with their checked annotations (``annotation_kit.exports.AnnotationRecord``); write
files into ``folder`` (a fresh, empty local folder) and return extra counts. annotation_kit
moves the folder into place when the function returns, records the export and adds the
manifest, so a failure here never leaves a half-written result.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def _clock(ns: int) -> str:
    ms = ns // 1_000_000
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _cue_text(text: str) -> str:
    # WebVTT cue text must not contain "-->" and treats < and & as markup
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write(plan: Any, folder: Path, *, with_labels: bool = True) -> dict[str, Any]:
    cues = 0
    for episode in plan.episodes:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", episode.name).strip("._") or "episode"
        lines = ["WEBVTT", ""]
        for a in sorted(episode.segments, key=lambda r: (r.start_ns, r.annotation)):
            text = " — ".join(p for p in (a.skill, a.description) if p) or "(segment)"
            if with_labels and a.labels:
                text += f" [{', '.join(a.labels)}]"
            lines += [f"a{a.annotation}", f"{_clock(a.start_ns)} --> {_clock(a.end_ns)}",
                      _cue_text(text), ""]
            cues += 1
        (folder / f"{episode.dataset:06d}_{name}.vtt").write_text("\n".join(lines), "utf-8")
    return {"cues": cues}
