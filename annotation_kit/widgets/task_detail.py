"""TaskDetail: one task with tabs (datasets, batch annotation, invalid marks, statistics) and a
sidebar offering exactly the actions the library says this user may take now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..access import users, visibility
from ..access.workflow import Duty, duties
from ..data import dataset_queries
from ..errors import PermissionDenied, ValidationError
from ..library import skills
from ..work import annotations, feedback, progress, tasks, transitions, views
from ..workspace import Workspace

if TYPE_CHECKING:
    pass
from ._base import HERE, Spec, Trait, notebook_class
from ._panel import panel_class

ANNOTATIONS_PER_PAGE = 50
CANDIDATES = 10
WORKFLOW = {"start", "submit", "approve", "reject", "submit_data"}


class TaskDetailController:
    """One task: its tabs, its workflow actions, its datasets and annotations."""

    watched = ("task", "page", "dataset_search")

    def __init__(self, workspace: Workspace, task: int = 0) -> None:
        self.ws = workspace
        self.initial = int(task)
        self.opened = 0

    def refresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """Everything the tabs show for the open task."""
        task_id = state["task"] or self.initial
        self.initial = 0
        if not task_id:
            return {"task": 0, "info": {}}
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            task = visibility.require_task(session, task_id, me)
            allowed = tasks.permissions(session, task, by=me)
            progressed = self._progress(session, task, me, allowed, state)
            names = {d["id"]: d["name"] for d in progressed["datasets"]}
            parts = views.task_parts(session, task, names)
            candidates = []
            if "datasets" in allowed and state["dataset_search"].strip():
                found = dataset_queries.list_datasets(
                    session,
                    by=me,
                    search=state["dataset_search"].strip(),
                    page_size=CANDIDATES * 2,
                )
                candidates = [
                    {"id": d.id, "name": d.name, "duration_s": d.duration_s}
                    for d in found.items
                    if d.id not in names
                ][:CANDIDATES]
        return (
            progressed
            | parts
            | {
                "task": task_id,
                "allowed": allowed,
                "candidates": candidates,
                "formats": _formats(),
            }
        )

    def progressed(self, state: dict[str, Any]) -> dict[str, Any]:
        """What a save in the annotator or review form below changes here — counts, episode
        statuses, statistics, the annotations listed, whether it may be submitted — read
        without the history, issues, comments and people, which a save leaves as they were."""
        if not state["task"]:
            return {}
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            task = visibility.require_task(session, state["task"], me)
            allowed = tasks.permissions(session, task, by=me)
            return self._progress(session, task, me, allowed, state) | {"allowed": allowed}

    def _progress(
        self, session: Any, task: Any, me: Any, allowed: Any, state: dict[str, Any]
    ) -> dict[str, Any]:
        blocked = (
            {"submit": problems[0]}
            if "submit" in allowed
            and (problems := transitions.submit_problems(session, task.id, by=me))
            else {}
        )
        status = progress.dataset_status(session, task.id)
        stats = progress.statistics(session, task.id)
        done = progress.task_progress(session, task.id)
        # an annotator sees only their own work on independently annotated datasets
        author = me.id if Duty.ANNOTATOR in duties(task, me) else None
        shown = annotations.page_annotations(
            session,
            task.id,
            author=author,
            page=max(1, state["page"]),
            page_size=ANNOTATIONS_PER_PAGE,
        )
        invalid = annotations.list_annotations(session, task.id, valid=False, author=author)
        lookup = {
            "datasets": {d.id: d.name for d in status},
            "skills": skills.names(session),
            "users": users.names(session),
        }
        return {
            "blocked": blocked,
            "counts": {
                "datasets": done.counts.datasets,
                "annotated": done.counts.annotated,
                "annotations": done.counts.annotations,
                "invalid": stats.invalid,
                "completion": round(100 * done.completion),
                "remaining": _remaining(done.remaining),
            },
            "datasets": [
                {
                    "id": d.id,
                    "name": d.name,
                    "duration_s": d.duration_s,
                    "annotations": d.annotations,
                    "invalid": d.invalid,
                    "status": d.status,
                }
                for d in status
            ],
            "per_annotator": [
                {"user": p.user, "annotations": p.annotations, "datasets": p.datasets}
                for p in done.per_annotator
            ],
            "invalid": [views.annotation_json(a, lookup) for a in invalid],
            "annotations": [views.annotation_json(a, lookup) for a in shown.items],
            "page": shown.page,
            "pages": shown.pages,
            "stats": {
                "per_skill": stats.per_skill,
                "per_label": stats.per_label,
                "per_annotator": stats.per_annotator,
                "per_provenance": stats.per_provenance,
                "segments": stats.segments,
            },
        }

    def handle(self, request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        """A browser request: ``refresh``, ``open``, ``annotate``/``review`` (open the work below),
        ``export`` (a background job), a workflow action (``start``, ``submit``, ``approve``,
        ``reject``, ``submit_data``), ``edit``, ``delete``, ``add_datasets``, ``remove_dataset``,
        ``reannotate``, ``delete_annotation``, or feedback: ``raise_issue``, ``reply``,
        ``resolve``."""
        action = str(request.get("action") or "")
        task_id = state["task"]
        if action == "refresh":
            return self.refresh(state)
        if action == "open":
            return self.refresh(state | {"task": int(request["task"]), "page": 1}) | {
                "tab": "datasets",
                "working": {},
            }
        if not task_id:
            raise ValidationError("open a task first")
        if action in ("annotate", "review"):
            return self._work(action, request, task_id)
        if action == "export":
            return self._export(request, task_id)
        note = self._act(action, request, task_id)
        if action == "delete":
            return {"task": 0, "info": {}, "_notice": note}
        return self.refresh(state) | {"_notice": note}

    def _export(self, request: dict[str, Any], task_id: int) -> dict[str, Any]:
        """Queue an export of this task as a background job (managers and admins)."""
        from ..access.workflow import require_supervisor
        from ..exports import exporters

        with self.ws.transaction(write=False) as session:
            require_supervisor(self.ws.me(session), "export training data")
        fmt, destination = request.get("format") or "", (request.get("destination") or "").strip()
        if fmt not in exporters():
            raise ValidationError(f"unknown export format {fmt!r}")
        if not destination:
            raise ValidationError("give a destination folder or URL for the export")
        job = self.ws.export(task_id, fmt, destination, background=True)
        return {
            "_notice": f"queued export job #{job.id} ({fmt} to {destination}); "
            "a worker runs it: watch it in the QueueMonitor"
        }

    def _work(self, action: str, request: dict[str, Any], task_id: int) -> dict[str, Any]:
        """Open an episode to annotate, or the review, of this task (``tasks_view`` and the
        served pages show it below the details; a notebook opens ``EpisodeAnnotator`` or
        ``ReviewForm`` itself)."""
        with self.ws.transaction(write=False) as session:
            me = self.ws.me(session)
            allowed = tasks.permissions(session, task_id, by=me)
            needed = "annotate" if action == "annotate" else "approve"
            if needed not in allowed:
                raise PermissionDenied(
                    f"{me.name} may not {'annotate' if action == 'annotate' else 'review'} "
                    f"task #{task_id} now"
                )
            dataset = 0
            if action == "annotate":
                dataset = int(request.get("dataset") or 0)
                if dataset and dataset not in tasks.task_dataset_ids(session, task_id):
                    raise ValidationError(f"dataset #{dataset} is not part of task #{task_id}")
        self.opened += 1
        return {
            # ``opened`` counts the clicks: opening the same work again shows it afresh
            "working": {"mode": action, "task": task_id, "dataset": dataset, "opened": self.opened},
            "_notice": "the annotator is open below"
            if action == "annotate"
            else "the review is open below",
        }

    def _act(self, action: str, request: dict[str, Any], task_id: int) -> str:
        with self.ws.transaction() as session:
            me = self.ws.me(session)
            if action in WORKFLOW:
                comment = request.get("comment") or None
                task = tasks.transition(
                    session,
                    task_id,
                    action,
                    comment=comment,
                    expected_version=_version(request),
                    by=me,
                )
                return f"{action.replace('_', ' ')}: task is now {task.status.label}"
            if action == "edit":
                deadline = request.get("deadline") or ""
                changes: dict[str, Any] = {
                    "name": request.get("name", ""),
                    "description": request.get("description", ""),
                    "deadline": deadline_of(deadline),
                }
                tasks.edit(session, task_id, expected_version=_version(request), by=me, **changes)
                return "saved"
            if action == "delete":
                tasks.delete(session, [task_id], confirm=bool(request.get("confirm")), by=me)
                return f"deleted task #{task_id}"
            if action == "add_datasets":
                ids = [int(i) for i in request.get("ids", [])]
                tasks.set_datasets(session, task_id, add=ids, by=me)
                return f"added {len(ids)} dataset(s)"
            if action == "remove_dataset":
                tasks.set_datasets(session, task_id, remove=[int(request["dataset"])], by=me)
                return f"removed dataset #{request['dataset']} and its annotations"
            if action == "raise_issue":
                anchor = None
                if request.get("start_ns") is not None and request.get("end_ns") is not None:
                    anchor = (int(request["start_ns"]), int(request["end_ns"]))
                made = feedback.raise_issue(
                    session,
                    task_id,
                    str(request.get("text") or ""),
                    kind=str(request.get("kind") or "question"),
                    dataset=int(request["dataset"]) if request.get("dataset") else None,
                    range_ns=anchor,
                    by=me,
                )
                return f"issue #{made.id} raised: the task's manager and reviewers are told"
            if action == "reply":
                text = str(request.get("text") or "")
                feedback.reply(session, int(request["issue"]), text, by=me)
                return f"replied to issue #{request['issue']}"
            if action == "resolve":
                feedback.resolve(
                    session, int(request["issue"]), note=str(request.get("text") or ""), by=me
                )
                return f"issue #{request['issue']} resolved"
            if action in ("reannotate", "delete_annotation"):
                annotation = annotations.get(session, int(request["annotation"]))
                if annotation.task_id != task_id:
                    raise ValidationError(
                        f"annotation #{annotation.id} is not part of task #{task_id}"
                    )
                version = int(request["version"])
                if action == "delete_annotation":
                    annotations.delete(session, annotation.id, expected_version=version, by=me)
                    return f"deleted annotation #{annotation.id}"
                kept = annotations.reannotate(
                    session, annotation.id, expected_version=version, by=me
                )
                return (
                    f"annotation #{annotation.id} is valid again; fix it in Batch annotation"
                    if kept
                    else f"removed the invalid mark #{annotation.id}; its dataset is to do again"
                )
        raise ValidationError(f"unknown request {action!r}")


def _formats() -> list[str]:
    from ..exports import exporters

    return exporters()


def _version(request: dict[str, Any]) -> int:
    """The version of the task the form was filled in on: a save from a stale form is refused."""
    try:
        return int(request["version"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError("a task edit must say which version of the task it edits") from None


def deadline_of(value: str) -> datetime | None:
    """A deadline typed as a date (the end of that day, UTC); blank is none."""
    if not value.strip():
        return None
    try:
        day = datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"deadline must be a date like 2026-11-23, got {value!r}") from None
    return day.replace(hour=23, minute=59)


def _remaining(left: Any) -> str:
    if left is None or left.total_seconds() <= 0:
        return ""
    hours = left.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


SPEC = Spec(
    name="TaskDetail",
    esm=HERE / "task_detail.js",
    css=HERE / "widgets.css",
    controller=TaskDetailController,
    doc="One task: datasets, batch annotation, invalid marks, statistics; the allowed actions.",
    traits={
        "task": Trait(int, 0, "Id of the task shown (0 = none)."),
        "tab": Trait(str, "datasets", "datasets, batch, invalid or statistics."),
        "page": Trait(int, 1, "Page of the annotation list (Statistics tab)."),
        "dataset_search": Trait(str, "", "Text to find datasets to add."),
        "info": Trait(dict, {}, "Name, description, status, project, deadline, round..."),
        "people": Trait(dict, {}, "Assigned annotators and reviewers."),
        "allowed": Trait(list, [], "What this user may do now, as the library says."),
        "issues": Trait(list, [], "Issues raised on the task, newest first, with replies."),
        "blocked": Trait(
            dict, {}, "Why an allowed action would still be refused now (the submit's reason)."
        ),
        "counts": Trait(dict, {}, "Datasets, annotated, annotations, invalid, completion."),
        "datasets": Trait(list, [], "The task's datasets with their annotation status."),
        "per_annotator": Trait(list, [], "Annotations and datasets per annotator."),
        "invalid": Trait(list, [], "Annotations marked invalid, with reasons."),
        "annotations": Trait(list, [], "The current page of the annotation list."),
        "pages": Trait(int, 1, "Pages of the annotation list."),
        "stats": Trait(dict, {}, "Counts per skill, label, annotator and provenance."),
        "comments": Trait(list, [], "Review decisions and comments, oldest first."),
        "history": Trait(list, [], "The task's latest recorded changes."),
        "candidates": Trait(list, [], "Datasets matching dataset_search not yet in the task."),
        "formats": Trait(list, [], "Export formats (built-in and plug-ins)."),
        "working": Trait(
            dict,
            {},
            "What the user opened to work on: {mode: annotate|review, task, dataset, opened}.",
        ),
    },
)

TaskDetail = notebook_class(SPEC)
TaskDetailPanel = panel_class(SPEC)
