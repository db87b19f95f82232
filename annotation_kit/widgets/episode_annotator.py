"""EpisodeAnnotator: cameras and signals of one episode on a shared timeline, segments drawn and
edited on it, keyboard-first, saved on every change.

Only what is on screen crosses to the browser: each shown signal as a min/max envelope of the
visible window (a few hundred points, whatever the episode length) and one frame per shown camera
at the playhead. Every save states the version it edited; if someone else saved first, the
widget shows the conflict and the stored segment, and overwrites nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..access import visibility
from ..access.workflow import Duty, duties
from ..data import datasets
from ..data.episodes import Episode
from ..errors import ConflictError, ValidationError
from ..library import dictionaries, guidelines, skills
from ..work import annotations, progress, reviews, rules, tasks, views
from ..workspace import Workspace
from ._base import HERE, Spec, Trait, notebook_class
from ._episode_screen import EpisodeScreen
from ._panel import panel_class
from ._undo import COPIED, UndoHistory

if TYPE_CHECKING:
    from ..store.models import Annotation

DEFAULT_VIEW_NS = 60 * 1_000_000_000
SIGNALS_SHOWN = 2


def _window(duration_ns: int, at: int) -> list[int]:
    """The view an episode opens on: the first minute, or a minute around ``at``."""
    width = min(duration_ns, DEFAULT_VIEW_NS)
    start = min(max(0, at - width // 4), duration_ns - width)
    return [start, start + width]


class EpisodeAnnotatorController(EpisodeScreen):
    """Opens one episode of a task; reads its windows and frames; writes segments with undo."""

    watched = ("task", "dataset", "view", "playhead", "shown_cameras", "shown_signals")

    def __init__(self, workspace: Workspace, task: int = 0, dataset: int = 0, at: int = 0) -> None:
        self.ws = workspace
        self.initial = (int(task), int(dataset))
        self.at = int(at)
        """Where the playhead starts on the first episode opened (ns; e.g. a comment's anchor)."""
        self.episode: Episode | None = None
        self.seen: dict[str, Any] = {}
        self.undo = UndoHistory()
        self.sent: OrderedDict[str, None] = OrderedDict()
        self.later: Any = None
        self.ruled = False
        self.author: int | None = None
        """The user's id when they annotate the open task (they see only their own segments
        of an independently annotated episode); read on open and refresh."""
        """Whether the open task's project has rules (read on open and refresh; saves only
        check them when it has)."""

    # ----- reading -------------------------------------------------------------------------

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Open the episode if it changed, then the windows and frames the state asks for."""
        task_id, dataset_id = state["task"], state["dataset"]
        if self.initial != (0, 0):
            task_id, dataset_id = self.initial
            self.initial = (0, 0)
        if not task_id:
            return {}
        out: dict[str, Any] = {}
        if (task_id, dataset_id) != (self.seen.get("task"), self.seen.get("dataset")) or not (
            self.episode
        ):
            out |= self._open(task_id, dataset_id)
            state = state | out
        # moving the playhead or the view only needs new frames and windows: segments and the
        # rest are read again after each save and on the refresh request
        out |= self._screen(state | out)
        return out

    def _open(self, task_id: int, dataset_id: int) -> dict[str, Any]:
        with self.ws.transaction(write=False) as session:
            visibility.require_task(session, task_id, self.ws.me(session))
            status = progress.dataset_status(session, task_id)
            if not status:
                raise ValidationError(f"task #{task_id} has no datasets to annotate")
            ids = [d.id for d in status]
            if not dataset_id:  # the first dataset still to do, else the first
                dataset_id = next((d.id for d in status if d.status == "to do"), ids[0])
            if dataset_id not in ids:
                raise ValidationError(f"dataset #{dataset_id} is not part of task #{task_id}")
            dataset = datasets.get(session, dataset_id)
            if self.episode is not None:
                self.episode.close()
            self.episode = Episode(dataset)
        episode = self.episode
        cameras = [c["name"] for c in episode.cameras if not c.get("missing")]
        signals = [s["name"] for s in episode.streams if s.get("kind") == "signal"]
        rates = [float(c["rate_hz"]) for c in episode.cameras if c.get("rate_hz")]
        self.seen = {"task": task_id, "dataset": dataset_id}
        self.undo.clear()
        out = {
            "task": task_id,
            "dataset": dataset_id,
            "episode_name": episode.name,
            "duration_ns": episode.duration_ns,
            "frame_ns": round(1e9 / max(rates)) if rates else 33_333_333,
            "cameras": cameras,
            "signals": signals,
            "shown_cameras": cameras,
            "shown_signals": signals[:SIGNALS_SHOWN],
            "view": _window(episode.duration_ns, self.at),
            "playhead": min(max(0, self.at), episode.duration_ns),
        }
        self.at = 0  # only the first episode opens at the anchor
        return out | self._records({**out})

    def _records(self, state: dict[str, Any]) -> dict[str, Any]:
        """Segments, review comments, skills, labels and permissions of the open episode."""
        task_id, dataset_id = state["task"], state["dataset"]
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            allowed = tasks.permissions(session, task_id, by=me)
            names = skills.names(session)
            annotating = Duty.ANNOTATOR in duties(tasks.get(session, task_id), me)
            self.author = me.id if annotating else None  # an annotator sees only their own work
            found = annotations.list_annotations(
                session, task_id, dataset=dataset_id, author=self.author
            )  # on independent datasets, and never the consensus
            segments = [views.segment_json(a, names) for a in found]
            comments = [
                {
                    "round": c.round,
                    "decision": c.decision,
                    "comment": c.comment,
                    "annotation": c.annotation,
                    "start_ns": c.start_ns,
                    "end_ns": c.end_ns,
                }
                for c in reviews.comments(session, task_id, dataset=dataset_id)
            ]
            episodes = [
                {"id": d.id, "name": d.name, "status": d.status, "duration_s": d.duration_s}
                for d in progress.dataset_status(session, task_id)
            ]
            library = [s.name for s in skills.offered(session, task_id)]
            labels = dictionaries.offered(session, task_id)
            guides = [g.as_json() for g in guidelines.for_task(session, task_id)]
            suggestions = annotations.recent_descriptions(session)
            self.ruled = bool(rules.task_rules(session, task_id))
            found_rules = (
                rules.evaluate(session, task_id, dataset=dataset_id, author=self.author)
                if self.ruled
                else []
            )
            findings = [f.as_json() for f in found_rules]
        return {
            "episodes": episodes,
            "segments": segments,
            "findings": findings,
            "comments": comments,
            "skills": library,
            "labels": labels,
            "guidelines": guides,
            "suggestions": suggestions,
            "can_edit": "annotate" in allowed,
        }

    # ----- writing -------------------------------------------------------------------------

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``open`` (another episode), ``add``, ``update``,
        ``delete``, ``invalid`` (a segment or the episode), ``undo`` or ``template`` (copy
        segments to the task's other episodes)."""
        action = str(request.get("action") or "")
        if action == "refresh":
            return self._records(state) | self._screen(state)
        if action == "open":  # another episode; at_ns: with the playhead there
            self.at = max(0, int(request.get("at_ns") or 0))
            return self.refresh(state | {"dataset": int(request["dataset"])})
        if not state["task"] or not state["dataset"]:
            raise ValidationError("open an episode first")
        try:
            with self.ws.transaction() as session:  # the answer is read in the same transaction
                note = self._write(session, action, request, state)
                answer = self._written(session, action, request, state)
        except ConflictError as exc:
            return self._records(state) | {"_error": str(exc), "_notice": ""}
        return answer | {"_notice": note}

    def _written(
        self, session: Any, action: str, request: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        """What one's own save changes: the episode's segments and status, and the suggestions
        when a description may have changed (the rest — other episodes included — is read again
        on refresh and when another episode opens)."""
        task_id, dataset_id = state["task"], state["dataset"]
        names = skills.names(session)
        found = annotations.list_annotations(
            session, task_id, dataset=dataset_id, author=self.author
        )
        out: dict[str, Any] = {
            "segments": [views.segment_json(a, names) for a in found],
            "findings": [
                f.as_json()
                for f in rules.evaluate(session, task_id, dataset=dataset_id, author=self.author)
            ]
            if self.ruled
            else [],
        }
        if action == "template" or not state["episodes"]:  # other episodes changed too
            out["episodes"] = [
                {"id": d.id, "name": d.name, "status": d.status, "duration_s": d.duration_s}
                for d in progress.dataset_status(session, task_id)
            ]
        else:
            invalid = sum(1 for a in found if not a.valid)
            status = progress.DatasetStatus(dataset_id, "", 0, len(found), invalid).status
            out["episodes"] = [
                e | {"status": status} if e["id"] == dataset_id else e for e in state["episodes"]
            ]
        changes = request.get("changes") or {}
        if action in ("undo", "template") or request.get("description") or "description" in changes:
            out["suggestions"] = annotations.recent_descriptions(session)
        return out

    def _write(
        self, session: Any, action: str, request: dict[str, Any], state: dict[str, Any]
    ) -> str:
        task_id, dataset_id = state["task"], state["dataset"]
        me = self.ws.me(session)
        if action == "add":
            made = annotations.add(
                session,
                task_id,
                dataset_id,
                start_ns=int(request["start_ns"]),
                end_ns=int(request["end_ns"]),
                skill=request.get("skill") or None,
                labels=request.get("labels") or [],
                description=request.get("description") or "",
                by=me,
            )
            self.undo.push({"op": "delete", "id": made.id, "version": made.version})
            return f"added segment #{made.id}"
        if action == "update":
            before = annotations.get(session, _named(request))
            self._check_here(before, task_id, dataset_id)
            changes = {
                k: request["changes"][k]
                for k in ("start_ns", "end_ns", "skill", "labels", "description")
                if k in request["changes"]
            }
            if "skill" in changes and not changes["skill"]:
                changes["skill"] = None  # "(no skill)" in the form
            old = annotations.values(session, before, list(changes))
            after = annotations.update(
                session,
                before.id,
                expected_version=int(request["version"]),
                by=me,
                **changes,
            )
            self.undo.push({"op": "update", "id": after.id, "version": after.version, **old})
            return f"saved segment #{after.id}"
        if action == "delete":
            found = annotations.get(session, _named(request))
            self._check_here(found, task_id, dataset_id)
            copy = annotations.values(session, found, COPIED) | {
                "valid": found.valid,
                "reason": found.invalid_reason,
            }
            annotations.delete(session, found.id, expected_version=int(request["version"]), by=me)
            self.undo.push({"op": "add", "id": found.id, **copy})
            return f"deleted segment #{found.id}"
        if action == "invalid":
            reason = request.get("reason") or ""
            if request.get("annotation"):
                found = annotations.get(session, _named(request))
                self._check_here(found, task_id, dataset_id)
                marked = annotations.set_valid(
                    session,
                    found.id,
                    False,
                    reason=reason,
                    expected_version=int(request["version"]),
                    by=me,
                )
                self.undo.push({"op": "valid", "id": marked.id, "version": marked.version})
                return f"marked segment #{marked.id} invalid"
            marked = annotations.mark_invalid(session, task_id, dataset_id, reason, by=me)
            self.undo.push({"op": "delete", "id": marked.id, "version": marked.version})
            return "marked the episode invalid"
        if action == "undo":
            return self.undo.undo(session, task_id, dataset_id, me)
        if action == "template":
            made = annotations.copy_segments(session, task_id, dataset_id, by=me)
            count = sum(len(v) for v in made.values())
            return f"copied {count} segment(s) onto {len(made)} other episode(s)"
        raise ValidationError(f"unknown request {action!r}")

    @staticmethod
    def _check_here(found: Annotation, task_id: int, dataset_id: int) -> None:
        if (found.task_id, found.dataset_id) != (task_id, dataset_id):
            raise ValidationError(f"annotation #{found.id} is not on this episode of this task")


def _named(request: dict[str, Any]) -> int:
    """The annotation a request is about, and the version its sender saw."""
    try:
        annotation, _version = int(request["annotation"]), int(request["version"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError(
            "the request must name an annotation and the version it edited"
        ) from None
    return annotation


SPEC = Spec(
    name="EpisodeAnnotator",
    esm=HERE / "episode_annotator.js",
    css=HERE / "widgets.css",
    controller=EpisodeAnnotatorController,
    parts=("_episode_view.js",),
    doc="Annotate one episode of a task: cameras, signals, a timeline of segments, keyboard-first.",
    traits={
        "task": Trait(int, 0, "The task being annotated."),
        "dataset": Trait(int, 0, "The episode (dataset id) open now."),
        "episodes": Trait(list, [], "The task's episodes with their status (episode picker)."),
        "episode_name": Trait(str, "", "Name of the open episode."),
        "duration_ns": Trait(int, 0, "Length of the episode clock."),
        "frame_ns": Trait(int, 33_333_333, "One frame step (the fastest camera's period)."),
        "cameras": Trait(list, [], "Camera streams of the episode."),
        "signals": Trait(list, [], "Signal streams of the episode."),
        "shown_cameras": Trait(list, [], "Cameras on screen."),
        "shown_signals": Trait(list, [], "Signals on screen."),
        "view": Trait(list, [], "Visible window [start_ns, end_ns] of the signal plots."),
        "playhead": Trait(int, 0, "Playhead position on the episode clock (ns)."),
        "frames": Trait(dict, {}, "Per shown camera: the frame at the playhead (data URL)."),
        "prefetch": Trait(dict, {}, "Frames near the playhead sent ahead: {at, src}."),
        "windows": Trait(list, [], "Per shown signal: min/max envelope of the visible window."),
        "segments": Trait(list, [], "Annotations of the open episode in this task."),
        "comments": Trait(list, [], "Review comments on this episode, anchored in time."),
        "skills": Trait(list, [], "The project's skills in hot-key order (key n picks the n-th)."),
        "labels": Trait(list, [], "Labels from the project's dictionaries."),
        "guidelines": Trait(list, [], "The project's and its skills' guidelines (safe HTML)."),
        "suggestions": Trait(list, [], "Descriptions written before (suggestions)."),
        "findings": Trait(list, [], "Where the open episode breaks its project's rules."),
        "can_edit": Trait(bool, False, "Whether this user may change annotations now."),
    },
)

EpisodeAnnotator = notebook_class(SPEC)
EpisodeAnnotatorPanel = panel_class(SPEC)
