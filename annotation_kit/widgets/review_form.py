"""ReviewForm: review a task's annotations on the episode timeline the annotator used.

The reviewer chooses a full review or a random sample of the task's datasets, walks the
annotations of each sampled episode, passes or rejects each one with a comment anchored to a
time range, and passes or fails the task. From the second round on, each annotation says what
the annotator changed since the task was sent back. The rules (who may, when, a rejection needs
a comment, no pass while an annotation is rejected) live in :mod:`annotation_kit.work.reviews` and
:mod:`annotation_kit.work.tasks`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..access import visibility
from ..access.workflow import is_supervisor
from ..errors import ConflictError, ValidationError
from ..library import guidelines, skills
from ..work import annotations, consensus, progress, reviews, tasks
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class
from .episode_annotator import SPEC as ANNOTATOR
from .episode_annotator import EpisodeAnnotatorController

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..store.models import User

MODES = ("full", "count", "percent")


class ReviewFormController(EpisodeAnnotatorController):
    """The annotator's episode view (frames, windows, segments) plus the review round."""

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """The review round, and the open episode of the sample (none until a sample is drawn)."""
        task_id, dataset_id = state["task"], state["dataset"]
        if self.initial != (0, 0):
            (task_id, dataset_id), self.initial = self.initial, (0, 0)
        if not task_id:
            return {}
        sample = self._sample_ids(task_id)
        if not sample:  # nothing to look at until the reviewer chooses what to review
            self.seen = {}
            return {"task": task_id, "dataset": 0} | self._round(task_id, 0)
        if dataset_id not in sample:
            dataset_id = sample[0]
        return super().refresh(state | {"task": task_id, "dataset": dataset_id})

    def _sample_ids(self, task_id: int) -> list[int]:
        with self.ws.transaction(write=False) as session:
            visibility.require_task(session, task_id, self.ws.me(session))
            found = reviews.current_sample(session, task_id)
        return found.datasets if found else []

    def _records(self, state: dict[str, Any]) -> dict[str, Any]:
        out = super()._records(state)
        out.pop("suggestions", None)  # the form writes no descriptions
        out.pop("can_edit", None)
        out |= self._disagreement(state["task"], state["dataset"])
        picked = {c["id"] for c in out["disagreement"].get("consensus", [])}
        out["segments"] = [s for s in out["segments"] if s["id"] not in picked]
        return out | self._round(state["task"], state["dataset"])

    def _disagreement(self, task_id: int, dataset_id: int) -> dict[str, Any]:
        """On an independently annotated episode: each annotator's lane, their agreement two
        by two, and the consensus picked so far (empty on a shared episode)."""
        if not dataset_id:
            return {"disagreement": {}}
        with self.ws.transaction(write=False) as session:
            if dataset_id not in consensus.independent(session, task_id):
                return {"disagreement": {}}
            me = self.ws.me(session)
            view = consensus.disagreement(session, task_id, dataset_id, by=me)
            names = skills.names(session)
            people = {u.id: u.name for u in tasks.get(session, task_id).annotators}
            allowed = "approve" in tasks.permissions(session, task_id, by=me)

        def segment(a: Any) -> dict[str, Any]:
            return {
                "id": a.id,
                "start_ns": a.start_ns,
                "end_ns": a.end_ns,
                "skill": names.get(a.skill_id, "") if a.skill_id else "",
                "author": people.get(a.author_id, ""),
                "source": (a.attributes or {}).get("consensus_of"),
            }

        return {
            "disagreement": {
                "lanes": [
                    {"author": lane.author, "segments": [segment(a) for a in lane.segments]}
                    for lane in view.lanes
                ],
                "consensus": [segment(a) for a in view.consensus],
                "pairs": [
                    {
                        "a": first,
                        "b": second,
                        "matched": len(got.pairs),
                        "unmatched": got.unmatched,
                        "mean_tiou": got.mean_tiou,
                        "boundary_f1": {f"{t:g}": v for t, v in got.boundary_f1.items()},
                        "skill_alpha": got.skill_alpha,
                    }
                    for first, second, got in view.pairs
                ],
                "can_pick": allowed or is_supervisor(me),
            }
        }

    def _round(self, task_id: int, dataset_id: int) -> dict[str, Any]:
        """The review round: sample, verdicts, changes since the last round, progress."""
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            task = tasks.get(session, task_id)
            allowed = tasks.permissions(session, task_id, by=me)
            sample = reviews.current_sample(session, task_id)
            total = len(tasks.task_dataset_ids(session, task_id))
            chosen = set(sample.datasets if sample else [])
            found = annotations.list_annotations(session, task_id)
            in_sample = [a for a in found if a.dataset_id in chosen]
            verdicts = {
                v.annotation_id: v
                for v in reviews.verdicts(session, task_id, round=task.review_round)
            }
            changes = reviews.changes_since_last_round(session, task_id)
            policy = reviews.review_policy(session, task_id)
            names = {d.id: d.name for d in progress.dataset_status(session, task_id)}
            cited = [g.as_json() for g in guidelines.for_task(session, task_id)]
        per_dataset = Counter(a.dataset_id for a in in_sample)
        judged = Counter(a.dataset_id for a in in_sample if a.id in verdicts)
        rejected = sum(
            1 for a in in_sample if a.id in verdicts and str(verdicts[a.id].decision) == "reject"
        )
        here = {a.id for a in found if a.dataset_id == dataset_id}
        return {
            "guidelines": cited,
            "task_name": task.name,
            "task_version": task.version,
            "status": str(task.status),
            "round": task.review_round,
            "can_review": "approve" in allowed,
            "policy": policy,
            "sample": (
                {
                    "mode": sample.mode,
                    "size": sample.size,
                    "seed": sample.seed,
                    "count": len(sample.datasets),
                    "total": total,
                }
                if sample
                else {}
            ),
            "episodes": [
                {
                    "id": i,
                    "name": names.get(i, f"#{i}"),
                    "judged": judged[i],
                    "total": per_dataset[i],
                }
                for i in (sample.datasets if sample else [])
            ],
            "verdicts": {
                str(i): {
                    "decision": str(v.decision),
                    "comment": v.comment,
                    "start_ns": v.range_start_ns,
                    "end_ns": v.range_end_ns,
                    "stale": v.annotation_version != found_version(found, i),
                }
                for i, v in verdicts.items()
                if i in here
            },
            "changes": [
                {"annotation": c.annotation, "kind": c.kind, "before": c.before, "after": c.after}
                for c in changes
                if c.dataset == dataset_id
            ],
            "progress": {
                "judged": sum(judged.values()),
                "total": len(in_sample),
                "rejected": rejected,
                "changed": sum(1 for c in changes if c.dataset in chosen),
            },
        }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``open`` (another episode of the sample), ``sample``
        (full, count or percent), ``judge`` (an annotation), ``consensus`` (``annotations``
        picked from the lanes, or one ``author``'s lane), ``pass_task`` or ``fail_task``."""
        action = request.get("action")
        if action in ("refresh", "open"):
            return super().handle(request, state)
        if not state["task"]:
            raise ValidationError("open a task to review first")
        task_id = state["task"]
        with self.ws.transaction() as session:
            me = self.ws.me(session)
            if action == "sample":
                note = _sample(session, task_id, request, me)
            elif action == "judge":
                note = _judge(session, task_id, request, me)
            elif action == "consensus":
                picked = request.get("annotations")
                author = request.get("author")
                made = consensus.adopt(
                    session,
                    task_id,
                    int(state["dataset"]),
                    annotations=None if author else [int(i) for i in picked or []],
                    author=str(author) if author else None,
                    by=me,
                )
                note = f"consensus: {len(made)} segment(s)" + (f" from {author}" if author else "")
            elif action == "pass_task":
                tasks.approve(
                    session,
                    task_id,
                    comment=request.get("comment") or "",
                    expected_version=_int(request, "version"),
                    by=me,
                )
                note = "task passed"
            elif action == "fail_task":
                tasks.reject(
                    session,
                    task_id,
                    comment=request.get("comment") or "",
                    dataset=state["dataset"] or None,
                    range_ns=_anchor(request),
                    expected_version=_int(request, "version"),
                    by=me,
                )
                note = "task failed: sent back to the annotators"
            else:
                raise ValidationError(f"unknown request {action!r}")
        if action in ("sample", "fail_task"):  # a new sample, or a new round without one
            self.seen = {}
            return self.refresh(state | {"dataset": 0}) | {"_notice": note}
        return self._records(state) | {"_notice": note}


def _sample(session: Session, task_id: int, request: dict[str, Any], me: User) -> str:
    """Draw the review sample the reviewer asked for (full, a count or a percent)."""
    mode = request.get("mode")
    if mode not in MODES:
        raise ValidationError(f"sample mode must be one of {', '.join(MODES)}")
    size = _number(request.get("size")) if mode != "full" else None
    if mode == "count" and size is not None and size != int(size):
        raise ValidationError(f"sample count must be a whole number, got {size:g}")
    asked = request.get("per_annotator")
    each = None if mode == "full" or asked in (None, "") else _number(asked, "per annotator")
    if each is not None and each != int(each):
        raise ValidationError(f"per annotator must be a whole number, got {each:g}")
    drawn = reviews.draw_sample(
        session,
        task_id,
        count=int(size) if mode == "count" and size is not None else None,
        percent=size if mode == "percent" else None,
        per_annotator=int(each) if each is not None else None,
        risky=bool(request.get("risky")) and mode != "full",
        by=me,
    )
    return f"reviewing {len(drawn.datasets)} dataset(s) ({drawn.mode})"


def _judge(session: Session, task_id: int, request: dict[str, Any], me: User) -> str:
    """A verdict on one annotation of the task, at the version the reviewer saw."""
    annotation = annotations.get(session, _int(request, "annotation"))
    if annotation.task_id != task_id:
        raise ValidationError(f"annotation #{annotation.id} is not part of this task")
    if annotation.version != _int(request, "version"):
        raise ConflictError(
            f"annotation #{annotation.id} changed while you were reviewing it (you "
            f"saw version {_int(request, 'version')}, it is now version "
            f"{annotation.version}); nothing was recorded. Look at it again"
        )
    verdict = reviews.judge(
        session,
        annotation.id,
        str(request.get("decision")),
        comment=request.get("comment") or "",
        range_ns=_anchor(request),
        by=me,
    )
    return f"annotation #{annotation.id}: {verdict.decision}"


def _anchor(request: dict[str, Any]) -> tuple[int, int] | None:
    """The time range a comment is anchored to, if the request names one."""
    if request.get("start_ns") is None or request.get("end_ns") is None:
        return None
    return (_int(request, "start_ns"), _int(request, "end_ns"))


def found_version(found: Any, annotation_id: int) -> int:
    """The version of annotation ``annotation_id`` among ``found`` (-1 if absent)."""
    return next((a.version for a in found if a.id == annotation_id), -1)


def _int(request: dict[str, Any], key: str) -> int:
    try:
        return int(request[key])
    except (KeyError, TypeError, ValueError):
        raise ValidationError(f"the request needs a whole number {key!r}") from None


def _number(value: Any, what: str = "sample size") -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be a number, got {value!r}") from None


SPEC = Spec(
    name="ReviewForm",
    esm=HERE / "review_form.js",
    css=HERE / "widgets.css",
    controller=ReviewFormController,
    parts=("_episode_view.js",),
    doc="Review a task: full or sampled, pass/reject each annotation with an anchored comment.",
    traits={
        **{k: v for k, v in ANNOTATOR.traits.items() if k not in ("suggestions", "can_edit")},
        "task_name": Trait(str, "", "Name of the task under review."),
        "status": Trait(str, "", "The task's status."),
        "task_version": Trait(int, 0, "The task's version (a pass or fail is for this one)."),
        "round": Trait(int, 0, "The current review round (1 for the first review)."),
        "can_review": Trait(bool, False, "Whether this user may judge and decide now."),
        "sample": Trait(dict, {}, "The round's sample: mode, size, seed, count, total."),
        "policy": Trait(
            dict, {}, "The project's review policy: the sample the form proposes to draw."
        ),
        "verdicts": Trait(dict, {}, "This round's verdicts on the open episode, by annotation."),
        "changes": Trait(list, [], "Changes on this episode since the previous round."),
        "progress": Trait(dict, {}, "Judged, total, rejected and changed in the sample."),
        "disagreement": Trait(
            dict,
            {},
            "On an independently annotated episode: the annotators' lanes, their agreement and "
            "the consensus picked so far.",
        ),
    },
)

ReviewForm = notebook_class(SPEC)
ReviewFormPanel = panel_class(SPEC)
