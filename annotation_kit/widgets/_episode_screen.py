"""What the annotator and the review form show of an episode: signal windows (min/max per
pixel column) and camera frames at the playhead, each only when what it depends on changed,
and frames prefetched for the next keys, each frame's data sent to the browser once.

A frame travels as its encoded bytes (``{"data": bytes, "mime": ...}``): both hosts send bytes
inside a synced value as a binary buffer beside the JSON (Bokeh's websocket protocol, the
Jupyter widget protocol), not as base64 text a third larger; the page shows them through a
``blob:`` address."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..data.episodes import Episode

POINTS = 400
"""Signal points per window sent to the browser (as min/max pairs over buckets)."""
PREFETCH_STEPS = (-3, -2, -1, *range(1, 16))
"""Frame steps around the playhead whose frames are sent ahead, so ←/→ show at once."""
PREFETCH_JUMPS_NS = (-1_000_000_000, 100_000_000, 200_000_000, 300_000_000, 1_000_000_000)
"""Jumps sent ahead too: Shift+←/→ and playback (100 ms per tick)."""
SENT_FRAMES = 600
"""Frames remembered as already in the browser (its cache holds more)."""


class EpisodeScreen:
    """A controller's view of its open episode (``self.episode``); ``self.seen`` remembers what
    was drawn, ``self.sent`` the frames the browser holds."""

    episode: Episode | None
    seen: dict[str, Any]
    sent: OrderedDict[str, None]
    later: Any

    def _screen(self, state: dict[str, Any]) -> dict[str, Any]:
        """Signal windows and frames, only where what they depend on changed."""
        episode = self.episode
        if episode is None:  # none open (nothing to review yet): nothing to draw
            return {}
        out: dict[str, Any] = {}
        start, end = (int(v) for v in (state["view"] or [0, episode.duration_ns]))
        start, end = max(0, start), min(episode.duration_ns, max(end, start + 1))
        key = (start, end, tuple(state["shown_signals"]))
        if key != self.seen.get("windows"):
            self.seen["windows"] = key
            out["windows"] = [self._window(name, start, end) for name in state["shown_signals"]]
        playhead = min(max(0, int(state["playhead"])), episode.duration_ns)
        key = (playhead, tuple(state["shown_cameras"]))
        if key != self.seen.get("frames"):
            first = "frames" not in self.seen  # the first paint waits for nothing more
            self.seen["frames"] = key
            out["frames"] = {name: self._frame(name, playhead) for name in state["shown_cameras"]}
            if not first:  # after the answer, so it never waits for them
                self.later = lambda now: {"prefetch": self._prefetch(playhead, now)}
        return out

    def _prefetch(self, playhead: int, state: dict[str, Any]) -> dict[str, Any]:
        """Frames of the times the next keys lead to, each frame's data sent once: ``at`` maps
        camera and playhead time to a frame id, ``src`` holds the ids not sent before."""
        episode = self.episode
        assert episode is not None
        step = int(state["frame_ns"]) or 1
        times = {playhead + k * step for k in PREFETCH_STEPS}
        times |= {playhead + jump for jump in PREFETCH_JUMPS_NS}
        times = {t for t in times if 0 <= t <= episode.duration_ns}
        at: dict[str, dict[str, str]] = {}
        src: dict[str, dict[str, Any]] = {}
        cameras = list(state["shown_cameras"])
        try:
            found = episode.frames_at(cameras, sorted(times))
        except Exception:  # a broken frame is shown (with its error) when it is reached
            return {}
        for camera in cameras:
            for t, frame in found[camera].items():
                frame_id = f"{state['dataset']}:{camera}@{frame.t_ns}"
                at.setdefault(camera, {})[str(t)] = frame_id
                if frame_id not in self.sent:
                    src[frame_id] = _image(frame)
                self.sent[frame_id] = None
                self.sent.move_to_end(frame_id)
        while len(self.sent) > SENT_FRAMES:
            self.sent.popitem(last=False)
        return {"dataset": state["dataset"], "at": at, "src": src}

    def _window(self, name: str, start: int, end: int) -> dict[str, Any]:
        assert self.episode is not None
        window = self.episode.signal(name, start, end, max_points=POINTS)
        fields = window.fields[: window.low.shape[1] if window.low.ndim > 1 else 1]
        low = window.low.reshape(len(window.t_ns), -1)
        high = window.high.reshape(len(window.t_ns), -1)
        return {
            "name": name,
            "fields": list(fields),
            "t": [int(t) for t in window.t_ns],
            "low": [_round(low[:, i]) for i in range(low.shape[1])],
            "high": [_round(high[:, i]) for i in range(high.shape[1])],
            "samples": window.samples,
        }

    def _frame(self, camera: str, t_ns: int) -> dict[str, Any]:
        assert self.episode is not None
        try:
            frame = self.episode.frame(camera, t_ns)
        except Exception as exc:  # a broken frame must not stop annotation of the rest
            return {"t_ns": t_ns, "error": str(exc)}
        return _image(frame) | {"t_ns": frame.t_ns, "at": t_ns}


def _round(values: Any) -> list[float]:
    return [float(f"{v:.5g}") for v in values]


def _image(frame: Any) -> dict[str, Any]:
    """A frame as the page receives it: its encoded bytes (a binary buffer) and their type."""
    return {"data": bytes(frame.data), "mime": frame.mime}
