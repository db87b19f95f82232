"""What ``ws.<service>`` offers, for editors and type checkers: written by
``tools/service_types.py`` from the service modules (do not edit; run it again)."""

# ruff: noqa: E501
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .access import events as _access_events
    from .access import logins as _access_logins
    from .access import projects as _access_projects
    from .access import users as _access_users
    from .data import checks as _data_checks
    from .data import datasets as _data_datasets
    from .exports import history as _exports_history
    from .exports import run as _exports_run
    from .library import dictionaries as _library_dictionaries
    from .library import guidelines as _library_guidelines
    from .library import settings as _library_settings
    from .library import storage as _library_storage
    from .library.skills import core as _library_skills_core
    from .library.skills import counts as _library_skills_counts
    from .library.skills import transfer as _library_skills_transfer
    from .quality import gold as _quality_gold
    from .quality import workload as _quality_workload
    from .store import task_refs as _store_task_refs
    from .work import annotation_queries as _work_annotation_queries
    from .work import annotations as _work_annotations
    from .work import consensus as _work_consensus
    from .work import feedback as _work_feedback
    from .work import notifications as _work_notifications
    from .work import progress as _work_progress
    from .work import review_rounds as _work_review_rounds
    from .work import review_sampling as _work_review_sampling
    from .work import reviews as _work_reviews
    from .work import rules as _work_rules
    from .work import task_queries as _work_task_queries
    from .work import tasks as _work_tasks
    from .work import transitions as _work_transitions


class Annotations(Protocol):
    """``ws.annotations``: :mod:`annotation_kit.work.annotations` as the workspace's user."""

    def add(
        self,
        task: int,
        dataset: int,
        *,
        start_ns: int | None = ...,
        end_ns: int | None = ...,
        skill: str | int | None = ...,
        labels: _work_annotations.Sequence[str] = ...,
        description: str = ...,
        attributes: dict[str, _work_annotations.Any] | None = ...,
        provenance: str = ...,
        model_ref: str | None = ...,
    ) -> _work_annotations.Annotation:
        """Add a segment (``start_ns``/``end_ns``) or, with neither, an episode-level annotation."""
        ...

    def copy_segments(
        self,
        task: int,
        source: int,
        *,
        targets: _work_annotations.Sequence[int] | None = ...,
    ) -> dict[int, list[_work_annotations.Annotation]]:
        """Template mode: copy the valid segments of dataset ``source`` onto other datasets of the task, each scaled to the target's duration, for the annotator to review and adjust."""
        ...

    def delete(self, annotation_id: int, *, expected_version: int) -> None:
        """Delete an annotation; the event log keeps a copy of what it said."""
        ...

    def get(self, annotation_id: int) -> _work_annotations.Annotation:
        """The annotation with this id (:class:`NotFound` if there is none)."""
        ...

    def list_annotations(
        self,
        task: int,
        *,
        dataset: int | None = ...,
        valid: bool | None = ...,
        author: int | None = ...,
    ) -> _work_annotation_queries.Sequence[_work_annotation_queries.Annotation]:
        """Annotations of a task (optionally of one dataset, or only valid/invalid), in time order; ``author``: as that annotator sees them (on independently annotated datasets only their own, never the consensus — see :mod:`annotation_kit.work.consensus`). With ``by`` (always, from a workspace), a task ``by`` may not see is not found (:mod:`annotation_kit.access.visibility`)."""
        ...

    def mark_invalid(
        self,
        task: int,
        dataset: int,
        reason: str,
        *,
        start_ns: int | None = ...,
        end_ns: int | None = ...,
    ) -> _work_annotations.Annotation:
        """Mark a whole episode (or a span of it) invalid, with a required reason."""
        ...

    def page_annotations(
        self,
        task: int,
        *,
        dataset: int | None = ...,
        valid: bool | None = ...,
        author: int | None = ...,
        page: int = ...,
        page_size: int = ...,
    ) -> _work_annotation_queries.Page[_work_annotation_queries.Annotation]:
        """One page of :func:`list_annotations` (same order, ``author`` view and ``by`` check), read from the database page by page; a page past the last gives the last page."""
        ...

    def reannotate(
        self,
        annotation_id: int,
        *,
        expected_version: int,
    ) -> _work_annotations.Annotation | None:
        """Take an invalid mark back so the span is annotated again."""
        ...

    def recent_descriptions(self, *, limit: int = ...) -> list[str]:
        """Distinct descriptions written lately, newest first (suggestions while typing)."""
        ...

    def set_valid(
        self,
        annotation_id: int,
        valid: bool,
        *,
        reason: str | None = ...,
        expected_version: int,
    ) -> _work_annotations.Annotation:
        """Mark an existing annotation invalid (a reason is required) or valid again."""
        ...

    def update(
        self,
        annotation_id: int,
        *,
        expected_version: int,
        **changes: _work_annotations.Any,
    ) -> _work_annotations.Annotation:
        """Change ``start_ns``, ``end_ns``, ``skill``, ``labels``, ``description`` or ``attributes``."""
        ...

    def values(
        self,
        annotation: _work_annotation_queries.Annotation,
        keys: _work_annotation_queries.Sequence[str] = ...,
    ) -> dict[str, _work_annotation_queries.Any]:
        """The current ``keys`` of an annotation as plain values: skill by name, labels as a list, ``reason`` for its invalid reason (what event logs, undo and review diffs compare)."""
        ...


class Checks(Protocol):
    """``ws.checks``: :mod:`annotation_kit.data.checks` as the workspace's user."""

    def on_import(
        self,
        dataset_ids: _data_checks.Iterable[int] | None = ...,
        *,
        project: str | int | None = ...,
    ) -> dict[int, str]:
        """:func:`run` for datasets just imported, as the user who imported them (anyone who may import: the same rules, evaluated the same way)."""
        ...

    def override(self, dataset: int, reason: str) -> _data_checks.Dataset:
        """Accept a dataset despite failed checks, with a reason (managers and admins)."""
        ...

    def run(
        self,
        dataset_ids: _data_checks.Iterable[int] | None = ...,
        *,
        project: str | int | None = ...,
    ) -> dict[int, str]:
        """Evaluate the rules of each dataset's project; returns ``{dataset id: qc_status}``."""
        ...

    def set_rules(
        self,
        project: str | int,
        rules: _data_checks.Iterable[dict[str, _data_checks.Any]],
    ) -> _data_checks.Project:
        """Replace a project's data-check rules (managers and admins)."""
        ...

    def with_status(self, status: str, *, project: str | int | None = ...) -> list[int]:
        """Ids of datasets whose ``qc_status`` is ``status``."""
        ...


class Consensus(Protocol):
    """``ws.consensus``: :mod:`annotation_kit.work.consensus` as the workspace's user."""

    def adopt(
        self,
        task: int,
        dataset: int,
        *,
        annotations: _work_consensus.Sequence[int] | None = ...,
        author: str | None = ...,
    ) -> list[_work_consensus.Annotation]:
        """Make the consensus of an independent dataset: copies of the chosen ``annotations`` (ids, from any annotators' lanes: pick the better segment of each disagreement, or merge lanes) or of one ``author``'s whole lane, replacing any earlier consensus. The task's reviewers while it is Pending Review; managers and admins at any time. Chosen segments may not overlap each other. Each copy keeps its author and names its source in ``attributes`` (``consensus_of``); the event log records who picked what."""
        ...

    def disagreement(self, task: int, dataset: int) -> _work_consensus.Disagreement:
        """The annotators' lanes on an independent dataset, their agreement two by two, and the consensus so far (the task's reviewers, managers and admins)."""
        ...

    def independent(self, task: int) -> list[int]:
        """Ids of the task's datasets annotated independently."""
        ...

    def set_independent(
        self,
        task: int,
        *,
        datasets: _work_consensus.Sequence[int] | None = ...,
        share: float | None = ...,
        seed: int | None = ...,
    ) -> list[int]:
        """Choose the task's datasets each annotator annotates on their own (managers and admins, before the task is submitted): ``datasets`` by id, or a ``share`` between 0 and 1 of them drawn at random (``seed`` repeats a draw; at least one when the share is above 0). The others go back to being shared. Returns the independent datasets' ids."""
        ...

    def without_consensus(self, task: int) -> list[int]:
        """Independent datasets of the task that someone annotated but that have no consensus yet (an episode every annotator marked invalid needs none)."""
        ...


class DatabaseLogins(Protocol):
    """``ws.database_logins``: :mod:`annotation_kit.access.database_logins` as the workspace's user."""

    def current_role(self) -> str:
        """The database login of this session (``session_user``; ``SET ROLE`` does not change it)."""
        ...

    def identify(self) -> str | None:
        """The workspace user this session's database login identifies, or None when the workspace does not identify people by database login (no links, or not PostgreSQL). An unlinked login of a workspace that has links is refused."""
        ...

    def link(self, role: str, user: str) -> None:
        """Link the database login ``role`` to the workspace user ``user`` (admins only). The first link turns identification on, so it must leave the caller's own login linked: otherwise the admin setting it up would lock themselves out."""
        ...

    def links(self) -> dict[str, str]:
        """Each linked database login and the workspace user it identifies."""
        ...

    def unlink(self, role: str) -> None:
        """Remove the link of ``role`` (admins only). Removing the last link turns identification off; removing only your own while others remain is refused (you would be locked out)."""
        ...


class Datasets(Protocol):
    """``ws.datasets``: :mod:`annotation_kit.data.datasets` as the workspace's user."""

    def get(self, dataset: int | str) -> _data_datasets.Dataset:
        """A dataset by id or source URI, or :class:`NotFound`."""
        ...

    def list_datasets(
        self,
        *,
        project: str | int | None = ...,
    ) -> _data_datasets.Sequence[_data_datasets.Dataset]:
        """Every dataset ``by`` may see (optionally of one project), in id order."""
        ...

    def register(
        self,
        *,
        name: str,
        source_uri: str,
        format: str,
        duration_ns: int,
        start_time_ns: int = ...,
        streams: _data_datasets.Sequence[dict[str, _data_datasets.Any]] = ...,
        cameras: _data_datasets.Sequence[dict[str, _data_datasets.Any]] = ...,
        size_bytes: int = ...,
        robot: str = ...,
        tags: _data_datasets.Sequence[str] = ...,
        meta: dict[str, _data_datasets.Any] | None = ...,
        project: str | int | None = ...,
    ) -> _data_datasets.Dataset:
        """Register one episode from its metadata (admins, managers, collectors)."""
        ...

    def require_ids(self, ids: _data_datasets.Sequence[int]) -> list[int]:
        """The given dataset ids, de-duplicated; :class:`NotFound` names any that do not exist."""
        ...


class Dictionaries(Protocol):
    """``ws.dictionaries``: :mod:`annotation_kit.library.dictionaries` as the workspace's user."""

    def check_labels(
        self,
        labels: _library_dictionaries.Iterable[str],
        *,
        task: int | None = ...,
    ) -> list[str]:
        """Return ``labels`` if every one is an entry of a dictionary (of the task's project, when it names some), else raise naming the rest."""
        ...

    def create(
        self,
        name: str,
        entries: _library_dictionaries.Iterable[str],
        *,
        kind: str = ...,
        description: str = ...,
    ) -> _library_dictionaries.Dictionary:
        """A named list of allowed labels (or objects, targets...), at version 1. Managers and admins."""
        ...

    def edit(
        self,
        dictionary: str | int,
        *,
        entries: _library_dictionaries.Iterable[str] | None = ...,
        name: str | None = ...,
        kind: str | None = ...,
        description: str | None = ...,
    ) -> _library_dictionaries.Dictionary:
        """Change a dictionary: a new version (the old one stays readable with :func:`version`). Labels already on annotations are kept even when an entry is taken out."""
        ...

    def export_csv(self) -> str:
        """Every dictionary as CSV text, one row per entry (``dictionary,kind,entry``): what :func:`import_csv` reads back."""
        ...

    def get(self, dictionary: str | int) -> _library_dictionaries.Dictionary:
        """The dictionary with this name or id; :class:`NotFound` names the known ones."""
        ...

    def import_csv(
        self,
        source: str | _library_dictionaries.Path | _library_dictionaries.io.TextIOBase,
    ) -> _library_dictionaries.DictionaryImport:
        """Create or update dictionaries from CSV rows ``dictionary,kind,entry`` (managers and admins): each dictionary the file names gets exactly the file's entries, in its order."""
        ...

    def list_dictionaries(self) -> _library_dictionaries.Sequence[_library_dictionaries.Dictionary]:
        """Every label dictionary, by name."""
        ...

    def offered(self, task: int) -> list[str]:
        """The labels an annotator of ``task`` is offered: its project's dictionaries' entries (every dictionary's when the project names none), sorted."""
        ...

    def usage(self) -> list[_library_dictionaries.DictionaryUsage]:
        """Each dictionary with its annotations, per-entry counts, projects and last use, by name."""
        ...

    def use_in_project(
        self,
        project: str | int,
        dictionaries: _library_dictionaries.Iterable[str],
    ) -> list[str]:
        """The dictionaries whose labels the project's annotators are offered (none named: all)."""
        ...

    def version(
        self,
        dictionary: str | int,
        number: int,
    ) -> _library_dictionaries.DictionaryVersion:
        """A dictionary as it was at one version."""
        ...


class Events(Protocol):
    """``ws.events``: :mod:`annotation_kit.access.events` as the workspace's user."""

    def history(
        self,
        object_type: str | None = ...,
        object_id: int | None = ...,
        *,
        limit: int = ...,
    ) -> _access_events.Sequence[_access_events.Event]:
        """The newest events first, optionally only those of one object (e.g. ``"task", 12``)."""
        ...


class Exports(Protocol):
    """``ws.exports``: :mod:`annotation_kit.exports.run` as the workspace's user."""

    def abandon(self, job_ids: _exports_run.Sequence[int], reason: str) -> list[int]:
        """Mark the running exports of ``job_ids`` (jobs whose worker died) failed, and remove their staging folders. Returns the export ids."""
        ...

    def diff(self, old: int, new: int) -> dict[str, list[int]]:
        """What changed between two exports (e.g. two releases): annotations added, removed and changed (a different version), and episodes added and removed."""
        ...

    def get_export(self, export_id: int) -> _exports_history.Export:
        """The export record with this id (:class:`NotFound` if there is none)."""
        ...

    def list_exports(
        self,
        *,
        limit: int = ...,
    ) -> _exports_history.Sequence[_exports_history.Export]:
        """Exports, newest first."""
        ...


class Feedback(Protocol):
    """``ws.feedback``: :mod:`annotation_kit.work.feedback` as the workspace's user."""

    def list_issues(self, task: int, *, open_only: bool = ...) -> list[_work_feedback.Issue]:
        """The task's issues with their threads, newest first (``open_only``: unresolved). With ``by`` (always, from a workspace), a task ``by`` may not see is not found."""
        ...

    def open_counts(self, tasks: _work_feedback.Sequence[int]) -> dict[int, int]:
        """Open issues per task, for the given task ids (tasks without any are left out)."""
        ...

    def raise_issue(
        self,
        task: int,
        text: str,
        *,
        kind: str = ...,
        dataset: int | None = ...,
        range_ns: tuple[int, int] | None = ...,
    ) -> _work_feedback.Feedback:
        """Raise an issue on ``task`` (optionally on one ``dataset``, and a ``range_ns`` of its clock): ``kind`` one of :data:`KINDS`; the text is required."""
        ...

    def reply(self, issue: int, text: str) -> _work_feedback.Feedback:
        """Answer an issue (anyone who may discuss its task); a resolved issue takes no replies."""
        ...

    def resolve(self, issue: int, *, note: str = ...) -> _work_feedback.Feedback:
        """Close an issue (the task's reviewers, the manager who created it, managers, admins, and whoever raised it), with an optional last word."""
        ...


class Gold(Protocol):
    """``ws.gold``: :mod:`annotation_kit.quality.gold` as the workspace's user."""

    def list_gold(self) -> _quality_gold.Sequence[_quality_gold.GoldEpisode]:
        """Every gold episode, by dataset id."""
        ...

    def mark(self, task: int, dataset: int) -> _quality_gold.GoldEpisode:
        """Make the annotations of ``dataset`` in ``task`` the reference for that episode (managers and admins; the episode needs valid segments there, and a consensus if it was annotated independently). Marking it again from another task moves the reference."""
        ...

    def mix(self, task: int, *, count: int = ..., seed: int | None = ...) -> list[int]:
        """Add ``count`` gold episodes the task does not have yet (of the task's project, when it has one) to the task, drawn at random (``seed`` repeats a draw); nothing tells its annotators which they are. Returns the added dataset ids."""
        ...

    def unmark(self, dataset: int) -> None:
        """The episode is no longer a reference (managers and admins)."""
        ...


class Guidelines(Protocol):
    """``ws.guidelines``: :mod:`annotation_kit.library.guidelines` as the workspace's user."""

    def for_task(self, task: int) -> list[_library_guidelines.Shown]:
        """The guidelines an annotator of ``task`` reads: its project's, then those of the skills it is offered (in hot-key order), each at its latest version."""
        ...

    def get(
        self,
        *,
        project: str | int | None = ...,
        skill: str | int | None = ...,
        version: int | None = ...,
    ) -> _library_guidelines.Guideline:
        """The guideline of ``project`` or ``skill``: its latest version, or ``version``; with ``by``, only of a project that person may see."""
        ...

    def history(
        self,
        *,
        project: str | int | None = ...,
        skill: str | int | None = ...,
    ) -> _library_guidelines.Sequence[_library_guidelines.Guideline]:
        """Every version of a guideline, the newest first (with ``by``: of a project that person may see)."""
        ...

    def write(
        self,
        body: str,
        *,
        project: str | int | None = ...,
        skill: str | int | None = ...,
    ) -> _library_guidelines.Guideline:
        """A new version of the guideline of ``project`` or of ``skill`` (managers, admins and reviewers); an unchanged text makes no new version."""
        ...


class Logins(Protocol):
    """``ws.logins``: :mod:`annotation_kit.access.logins` as the workspace's user."""

    def authenticate(self, name: str, password: str) -> _access_logins.Outcome:
        """Check a login. Failures are counted and recorded in the audit log (commit the session either way); they never lock the user here (see the module)."""
        ...

    def bootstrap_admin(self, name: str, password: str) -> bool:
        """Give a workspace its first admin who can log in: create ``name`` as admin if needed and set the password. Does nothing (returns False) when an admin can already log in."""
        ...

    def end_sessions(self, name: str) -> None:
        """End every open session of ``name`` (logging out): cookies issued before stop working on the server, also a copy someone captured."""
        ...

    def epoch(self, name: str) -> int | None:
        """The session epoch a cookie of ``name`` must carry: None when the user cannot log in (unknown, disabled, or without a password)."""
        ...

    def has_password(self, name: str) -> bool:
        """Whether ``name`` can log in with a password."""
        ...

    def password_users(self) -> set[str]:
        """The names of every user who can log in with a password (one query, for lists)."""
        ...

    def set_password(self, name: str, password: str, *, current: str | None = ...) -> None:
        """Set ``name``'s password (admins for anyone; a user for themselves, giving ``current``). Every open session of that user ends."""
        ...

    def sign_on(self, identity: str, *, provider: str) -> _access_logins.Outcome:
        """A single sign-on login: ``identity`` is what the identity provider vouched for (an e-mail address, or a user name), found as the workspace user with that e-mail address, else that name. Refused when there is no such user or they are disabled: a provider's account gives no access to a workspace that has not added that person."""
        ...


class Notifications(Protocol):
    """``ws.notifications``: :mod:`annotation_kit.work.notifications` as the workspace's user."""

    def list_notifications(
        self,
        *,
        unread: bool = ...,
        limit: int = ...,
    ) -> list[_work_notifications.Notification]:
        """My notifications, newest first (``unread``: only those not read yet)."""
        ...

    def mark_read(self, ids: list[int] | None = ...) -> int:
        """Mark my notifications ``ids`` read, or every one so far (no ``ids``); returns how many unread are left."""
        ...

    def preferences(self) -> dict[str, _work_notifications.Any]:
        """My notification preferences: ``muted`` (kinds I am not told of) and ``email`` (whether what I am told of is also mailed to me, when the workspace has an SMTP server)."""
        ...

    def set_preferences(
        self,
        *,
        muted: _work_notifications.Sequence[str] | None = ...,
        email: bool | None = ...,
    ) -> dict[str, _work_notifications.Any]:
        """Change my notification preferences (each person their own); returns them."""
        ...

    def unread_count(self) -> int:
        """How many of my (newest 500) notifications I have not read."""
        ...


class Progress(Protocol):
    """``ws.progress``: :mod:`annotation_kit.work.progress` as the workspace's user."""

    def counts(self, task_ids: _work_progress.Iterable[int]) -> dict[int, _work_progress.Counts]:
        """Dataset, annotated-dataset and annotation counts for many tasks in three queries."""
        ...

    def dataset_status(self, task: int) -> list[_work_progress.DatasetStatus]:
        """Each dataset of a task with its annotation and invalid-mark counts, in id order."""
        ...

    def statistics(self, task: int) -> _work_progress.Statistics:
        """Counts of a task's annotations per skill, label, annotator and provenance: each a ``GROUP BY`` in the database (a label set is decoded once per distinct set), so a task's details cost the same at ten annotations and at a million."""
        ...

    def task_progress(self, task: int) -> _work_progress.Progress:
        """Progress of one task, per annotator, and an estimate of the time left."""
        ...


class Projects(Protocol):
    """``ws.projects``: :mod:`annotation_kit.access.projects` as the workspace's user."""

    def add_members(
        self,
        project: str | int,
        names: _access_projects.Iterable[str],
    ) -> _access_projects.Project:
        """Add users to a project (managers and admins); already members are kept."""
        ...

    def archive(self, project: str | int, *, note: str = ...) -> _access_projects.Project:
        """Archive a project (managers and admins): kept and readable, no new task in it."""
        ...

    def create(
        self,
        name: str,
        *,
        description: str = ...,
        members: _access_projects.Iterable[str] = ...,
        visibility: str = ...,
    ) -> _access_projects.Project:
        """Create a project (managers and admins) with optional member user names; ``visibility`` ``private`` (members only) or ``visible`` (everyone, read-only)."""
        ...

    def edit(
        self,
        project: str | int,
        *,
        name: str | None = ...,
        description: str | None = ...,
        visibility: str | None = ...,
    ) -> _access_projects.Project:
        """Change a project's name, description or visibility (managers and admins)."""
        ...

    def get(self, project: str | int) -> _access_projects.Project:
        """A project by name or id, or :class:`NotFound`."""
        ...

    def list_projects(
        self,
        *,
        archived: bool = ...,
    ) -> _access_projects.Sequence[_access_projects.Project]:
        """The projects, by name: with ``by``, those that person may see (managers and admins: all; others: their own and the visible ones); ``archived=False`` leaves archived ones out."""
        ...

    def memberships(self) -> dict[str, list[str]]:
        """Each user's projects by name (users in none are left out), for lists."""
        ...

    def remove_members(
        self,
        project: str | int,
        names: _access_projects.Iterable[str],
    ) -> _access_projects.Project:
        """Take users out of a project (managers and admins); non-members are ignored."""
        ...

    def unarchive(self, project: str | int) -> _access_projects.Project:
        """Take a project out of the archive."""
        ...


class Reviews(Protocol):
    """``ws.reviews``: :mod:`annotation_kit.work.reviews` as the workspace's user."""

    def changes_since_last_round(self, task: int) -> list[_work_review_rounds.Change]:
        """What the annotators changed since the previous review round sent the task back (empty in the first round), read from the event log."""
        ...

    def comments(self, task: int, *, dataset: int | None = ...) -> list[_work_reviews.Comment]:
        """Review comments of a task (or of one of its datasets): per-annotation rejections and comments first, then task-level comments, each oldest first."""
        ...

    def current_sample(self, task: int) -> _work_review_sampling.Sample | None:
        """The sample of the task's current review round, or None while none was chosen."""
        ...

    def draw_by_policy(self, task: int, *, seed: int | None = ...) -> _work_review_sampling.Sample:
        """Draw the current round's sample as the task's project says (:func:`set_review_policy`)."""
        ...

    def draw_sample(
        self,
        task: int,
        *,
        count: int | None = ...,
        percent: float | None = ...,
        seed: int | None = ...,
        per_annotator: int | None = ...,
        risky: bool = ...,
    ) -> _work_review_sampling.Sample:
        """Choose what the current review round looks at: every dataset (neither ``count`` nor ``percent``), ``count`` datasets, or ``percent`` % of them (rounded up, at least one), drawn at random. Policies add to a drawn sample: ``per_annotator=k`` makes sure each annotator of the task has at least ``k`` of the episodes they annotated in it; ``risky=True`` adds every episode the project's rules find anything on, independent episodes where annotators agree little (:data:`annotation_kit.work.consensus.LOW_AGREEMENT`), and those annotated by someone new (no task of theirs passed review yet) or often rejected (fewer than half of their reviewed tasks passed first time). Only those who may decide the review may, while the task is Pending Review. The draw and why each episode is in it are recorded in the event log; drawing again in the same round replaces it."""
        ...

    def judge(
        self,
        annotation_id: int,
        decision: str,
        *,
        comment: str = ...,
        range_ns: tuple[int, int] | None = ...,
    ) -> _work_reviews.AnnotationVerdict:
        """Pass or reject one annotation in the task's current review round."""
        ...

    def review_policy(self, task: int) -> dict[str, _work_review_sampling.Any]:
        """The review policy of the task's project, else the workspace's (the ``review_policy`` setting, :mod:`annotation_kit.library.settings`); empty: a full review."""
        ...

    def set_review_policy(
        self,
        project: str | int,
        *,
        count: int | None = ...,
        percent: float | None = ...,
        per_annotator: int | None = ...,
        risky: bool = ...,
    ) -> dict[str, _work_review_sampling.Any]:
        """How reviewers of the project's tasks draw their sample unless they choose otherwise (managers and admins): the :func:`draw_sample` settings, kept on the project; neither ``count`` nor ``percent`` is a full review. :func:`draw_by_policy` applies it; the review form starts from it."""
        ...

    def task_reviews(self, task: int) -> _work_reviews.Sequence[_work_reviews.Review]:
        """Task-level review decisions, oldest first."""
        ...

    def verdicts(
        self,
        task: int,
        *,
        round: int | None = ...,
    ) -> _work_reviews.Sequence[_work_reviews.AnnotationVerdict]:
        """Per-annotation verdicts of a task (optionally of one round), oldest first."""
        ...


class Rules(Protocol):
    """``ws.rules``: :mod:`annotation_kit.work.rules` as the workspace's user."""

    def evaluate(
        self,
        task: int,
        *,
        dataset: int | None = ...,
        author: int | None = ...,
    ) -> list[_work_rules.Finding]:
        """Every finding of the task's project rules on its annotated episodes (episodes marked invalid, and episodes without annotations, are left out); ``dataset``: on that one only. An independently annotated episode is checked once per annotator, on their own segments (``author``: only that annotator's); the consensus is not checked."""
        ...

    def get_rules(self, project: str | int) -> list[dict[str, _work_rules.Any]]:
        """A project's annotation rules."""
        ...

    def set_rules(
        self,
        project: str | int,
        rules: _work_rules.Iterable[dict[str, _work_rules.Any]],
    ) -> _work_rules.Project:
        """Replace a project's annotation rules (managers and admins); skills they name must be in the skill library."""
        ...

    def task_rules(self, task: int) -> list[dict[str, _work_rules.Any]]:
        """The rules of the task's project (none without a project), and the skill library's dependencies (``skill_requires``: every task's, project or not)."""
        ...


class Settings(Protocol):
    """``ws.settings``: :mod:`annotation_kit.library.settings` as the workspace's user."""

    def change(self, key: str, value: _library_settings.Any) -> _library_settings.Any:
        """Set one setting (admins): checked first, then kept and recorded; returns the value."""
        ...

    def get(self, key: str) -> _library_settings.Any:
        """One setting's value (its default unless an admin changed it)."""
        ...

    def reset(self, key: str) -> _library_settings.Any:
        """Put one setting back to its default (admins); returns the default."""
        ...

    def values(self) -> dict[str, _library_settings.Any]:
        """Every setting with its value, defaults filled in."""
        ...


class Skills(Protocol):
    """``ws.skills``: :mod:`annotation_kit.library.skills` as the workspace's user."""

    def create(
        self,
        name: str,
        *,
        category: str = ...,
        description: str = ...,
        tags: _library_skills_core.Iterable[str] = ...,
        requires: _library_skills_core.Iterable[str] = ...,
    ) -> _library_skills_core.Skill:
        """Add a skill to the library (managers and admins); it starts at version 1. ``requires`` names skills that must come before it in an episode."""
        ...

    def deprecate(self, skill: str | int, *, note: str = ...) -> _library_skills_core.Skill:
        """Stop offering a skill: the annotations that use it keep it, no new one may."""
        ...

    def edit(
        self,
        skill: str | int,
        *,
        name: str | None = ...,
        category: str | None = ...,
        description: str | None = ...,
        tags: _library_skills_core.Iterable[str] | None = ...,
        requires: _library_skills_core.Iterable[str] | None = ...,
    ) -> _library_skills_core.Skill:
        """Change a skill; its version goes up and annotations keep pointing at the old version."""
        ...

    def export_csv(self) -> str:
        """The skill library as CSV text (``name,category,description,tags,requires,deprecated``; lists joined by ``;``), in hot-key order: what :func:`import_csv` reads back."""
        ...

    def get(self, skill: str | int) -> _library_skills_core.Skill:
        """The skill with this name or id; :class:`NotFound` names some known ones."""
        ...

    def import_csv(
        self,
        source: str | _library_skills_transfer.Path | _library_skills_transfer.io.TextIOBase,
    ) -> _library_skills_transfer.SkillImport:
        """Create or update skills from CSV rows ``name,category,description,tags,requires, deprecated`` (managers and admins; lists joined by ``;``; only ``name`` is required, and a column left out changes nothing)."""
        ...

    def list_skills(
        self,
        *,
        deprecated: bool = ...,
    ) -> _library_skills_core.Sequence[_library_skills_core.Skill]:
        """The skill library in hot-key order: the order set with :func:`reorder`, then the skills without a place in the order they were added (a fresh library's keys 1, 2... are its skills as they were created); ``deprecated=False`` leaves out the deprecated ones."""
        ...

    def merge(self, skill: str | int, into: str | int) -> int:
        """Merge ``skill`` into ``into``: its annotations point at ``into`` (its current version; each annotation's change is recorded), and ``skill`` is deprecated for good. Returns the number of annotations re-pointed."""
        ...

    def names(self) -> dict[int, str]:
        """Every skill's name by id (what a view needs to show annotations' skills)."""
        ...

    def offered(self, task: int) -> list[_library_skills_core.Skill]:
        """The skills an annotator of ``task`` is offered, in hot-key order: its project's (the whole library when the project names none), none deprecated."""
        ...

    def reorder(self, order: _library_skills_core.Sequence[str]) -> list[str]:
        """Set the hot-key order: ``order`` names the skills that get keys 1, 2...; the rest follow in the order they were added. Returns the library's names in the new order."""
        ...

    def requirements(self) -> dict[str, list[str]]:
        """Each skill that requires others, by name: the names of those it requires."""
        ...

    def restore(self, skill: str | int) -> _library_skills_core.Skill:
        """Offer a deprecated skill again."""
        ...

    def usage(self) -> list[_library_skills_counts.Usage]:
        """Each skill of the library with its annotations, episodes and annotators, and when it was last used (unused skills too, with zeros), in the library's order."""
        ...

    def use_in_project(
        self,
        project: str | int,
        skills: _library_skills_core.Iterable[str],
    ) -> list[str]:
        """The skills the project's annotators are offered (none named: the whole library)."""
        ...

    def version(self, skill: str | int, number: int) -> _library_skills_core.SkillVersion:
        """A skill as it was at one version (annotations made then point at it)."""
        ...


class Storage(Protocol):
    """``ws.storage``: :mod:`annotation_kit.library.storage` as the workspace's user."""

    def browse(self, name: str, path: str = ...) -> list[_library_storage.Entry]:
        """What is in a connection's folder ``path`` (folders first, then files, by name)."""
        ...

    def create(
        self,
        name: str,
        kind: str,
        options: dict[str, _library_storage.Any],
    ) -> _library_storage.StorageConnection:
        """Name a place recordings live (admins); ``options`` hold no secret (see the module)."""
        ...

    def get(self, name: str) -> _library_storage.StorageConnection:
        """One connection by name, or :class:`NotFound` naming the known ones."""
        ...

    def list_connections(self) -> _library_storage.Sequence[_library_storage.StorageConnection]:
        """The connections, by name (collectors, managers and admins)."""
        ...

    def remove(self, name: str) -> None:
        """Forget a connection (admins). Datasets imported through it keep their ``storage://`` URLs and are read again once a connection of that name exists."""
        ...

    def test(self, name: str) -> str:
        """Check a connection: list its root; returns what was found, or raises naming why not (the secret's value never appears)."""
        ...


class TaskQueries(Protocol):
    """``ws.task_queries``: :mod:`annotation_kit.work.task_queries` as the workspace's user."""

    def board(
        self,
        *,
        project: str | int | None = ...,
        assignee: str | None = ...,
        search: str | None = ...,
        per_status: int = ...,
        sort: str = ...,
    ) -> _work_task_queries.Board:
        """Counts per status and the first ``per_status`` cards of each column, of the tasks ``by`` may see."""
        ...

    def cards(
        self,
        found: _work_task_queries.Sequence[_work_task_queries.Task],
    ) -> list[_work_task_queries.TaskCard]:
        """Board cards for already-loaded tasks, with their counts."""
        ...

    def list_tasks(
        self,
        *,
        status: _work_task_queries.Status
        | str
        | _work_task_queries.Sequence[_work_task_queries.Status | str]
        | None = ...,
        project: str | int | None = ...,
        assignee: str | None = ...,
        search: str | None = ...,
        sort: str = ...,
        page: int = ...,
        page_size: int = ...,
    ) -> _work_task_queries.Page:
        """One page of tasks matching the filters. ``search`` matches name or description, any case."""
        ...

    def matching_ids(
        self,
        *,
        status: _work_task_queries.Status
        | str
        | _work_task_queries.Sequence[_work_task_queries.Status | str]
        | None = ...,
        project: str | int | None = ...,
        assignee: str | None = ...,
        search: str | None = ...,
    ) -> list[int]:
        """Ids of every task ``by`` may see matching the filters, across all pages ("select all matching")."""
        ...


class Tasks(Protocol):
    """``ws.tasks``: :mod:`annotation_kit.work.tasks` as the workspace's user."""

    def active_tasks_for(
        self,
        dataset_ids: _work_tasks.Iterable[int],
    ) -> dict[int, list[_work_tasks.Task]]:
        """For each dataset id that is in an active task, the tasks it is in."""
        ...

    def allowed_actions(self, task: _work_transitions.TaskRef) -> list[str]:
        """The workflow actions ``by`` may take on the task now (what a UI should offer)."""
        ...

    def approve(
        self,
        task: _work_transitions.TaskRef,
        *,
        comment: str = ...,
        expected_version: int | None = ...,
    ) -> _work_transitions.Task:
        """Pending Review → Review Passed (assigned reviewers, managers, admins)."""
        ...

    def assign(
        self,
        tasks: _work_tasks.TaskRef | _work_tasks.Iterable[_work_tasks.TaskRef],
        *,
        annotators: _work_tasks.Sequence[str] | None = ...,
        reviewers: _work_tasks.Sequence[str] | None = ...,
    ) -> list[_work_tasks.Task]:
        """(Batch) reassign: replace the annotators and/or reviewers of one or many tasks."""
        ...

    def create(
        self,
        name: str,
        *,
        datasets: _work_tasks.Sequence[int] = ...,
        annotators: _work_tasks.Sequence[str] = ...,
        reviewers: _work_tasks.Sequence[str] = ...,
        project: str | int | None = ...,
        description: str = ...,
        deadline: _work_tasks.datetime | None = ...,
        allow_reassign: bool = ...,
        overlap: float = ...,
    ) -> _work_tasks.Task:
        """Create a task over ``datasets`` (ids) and assign people to it (managers and admins)."""
        ...

    def delete(
        self,
        tasks: _work_tasks.TaskRef | _work_tasks.Iterable[_work_tasks.TaskRef],
        *,
        confirm: bool = ...,
    ) -> int:
        """Delete tasks with their annotations and dataset links; the datasets stay."""
        ...

    def edit(
        self,
        tasks: _work_tasks.TaskRef | _work_tasks.Iterable[_work_tasks.TaskRef],
        *,
        name: str = ...,
        description: str = ...,
        deadline: _work_tasks.datetime | None = ...,
        project: str | int | None = ...,
        expected_version: int | None = ...,
    ) -> list[_work_tasks.Task]:
        """Change attributes of one task or a batch (managers and admins); each change is logged."""
        ...

    def get(self, task: _store_task_refs.TaskRef) -> _store_task_refs.Task:
        """The task with this id (or the stored copy of this :class:`Task`), or :class:`NotFound`."""
        ...

    def permissions(self, task: _work_transitions.TaskRef) -> list[str]:
        """All ``by`` may do to the task now: workflow actions, then ``annotate``, ``datasets``, ``edit``, ``delete`` (see :func:`annotation_kit.access.workflow.permissions`)."""
        ...

    def reject(
        self,
        task: _work_transitions.TaskRef,
        *,
        comment: str,
        dataset: int | None = ...,
        range_ns: tuple[int, int] | None = ...,
        expected_version: int | None = ...,
    ) -> _work_transitions.Task:
        """Pending Review → In Progress with a required comment; the review round goes up."""
        ...

    def resolve(
        self,
        refs: _store_task_refs.Iterable[_store_task_refs.TaskRef],
    ) -> list[_store_task_refs.Task]:
        """Load tasks to change them, checking the version of every :class:`Task` object passed in. The rows stay locked until the transaction ends (PostgreSQL; SQLite has one writer), so a concurrent change is seen here, as a version, rather than lost at the write."""
        ...

    def set_datasets(
        self,
        task: _work_tasks.TaskRef,
        *,
        add: _work_tasks.Sequence[int] = ...,
        remove: _work_tasks.Sequence[int] = ...,
    ) -> _work_tasks.Task:
        """Add datasets to a task or remove them (annotations of removed datasets are deleted)."""
        ...

    def start(self, task: _work_transitions.TaskRef) -> _work_transitions.Task:
        """Pending → In Progress (assigned annotators, managers, admins)."""
        ...

    def submit(self, task: _work_transitions.TaskRef) -> _work_transitions.Task:
        """In Progress → Pending Review; refused while a dataset has no annotation nor invalid mark."""
        ...

    def submit_data(self, task: _work_transitions.TaskRef) -> _work_transitions.Task:
        """Review Passed → Data Submitted (managers and admins)."""
        ...

    def task_dataset_ids(self, task: _work_tasks.TaskRef) -> list[int]:
        """Ids of the task's datasets, in order."""
        ...

    def transition(
        self,
        task: _work_transitions.TaskRef,
        action: _work_transitions.Action | str,
        *,
        comment: str | None = ...,
        dataset: int | None = ...,
        range_ns: tuple[int, int] | None = ...,
        expected_version: int | None = ...,
    ) -> _work_transitions.Task:
        """Take one workflow action on a task; the library decides whether ``by`` may."""
        ...


class Users(Protocol):
    """``ws.users``: :mod:`annotation_kit.access.users` as the workspace's user."""

    def create(
        self,
        name: str,
        role: str,
        *,
        display_name: str = ...,
        email: str | None = ...,
    ) -> _access_users.User:
        """Create a user. Only admins may (``by=None`` is the bootstrap of an empty workspace). ``email`` is how a single sign-on login finds the user."""
        ...

    def get(self, name: str) -> _access_users.User:
        """The user called ``name``, or :class:`NotFound` listing a few known names."""
        ...

    def get_many(self, names: _access_users.Iterable[str]) -> list[_access_users.User]:
        """Users by name, in the given order; raise :class:`NotFound` naming every unknown one."""
        ...

    def import_csv(
        self,
        source: str | _access_users.Path | _access_users.io.TextIOBase,
    ) -> _access_users.ImportReport:
        """Create or update users from CSV rows ``username,role,project`` (admins only)."""
        ...

    def list_users(self) -> _access_users.Sequence[_access_users.User]:
        """Every user, by name."""
        ...

    def names(self) -> dict[int, str]:
        """Every user's name by id (what a view needs to show authors and owners)."""
        ...

    def preference(self, key: str) -> _access_users.Any:
        """One's own setting ``key`` (None when not kept)."""
        ...

    def set_email(self, name: str, email: str | None) -> _access_users.User:
        """Set (or clear, with None) a user's e-mail address: admins for anyone, users for themselves. A single sign-on login finds its user by it."""
        ...

    def set_preference(self, key: str, value: _access_users.Any) -> None:
        """Keep one setting of one's own (``key`` a short name, ``value`` plain JSON: the overview charts keep theirs under ``"overview"``); ``None`` forgets it."""
        ...

    def set_role(self, name: str, role: str) -> _access_users.User:
        """Change a user's global role (admins only)."""
        ...

    def set_status(self, name: str, status: str) -> _access_users.User:
        """Disable or re-enable a user (admins only). Disabled users can take no action."""
        ...


class Workload(Protocol):
    """``ws.workload``: :mod:`annotation_kit.quality.workload` as the workspace's user."""

    def balance(
        self,
        datasets: _quality_workload.Sequence[int],
        annotators: _quality_workload.Sequence[str],
    ) -> dict[str, list[int]]:
        """A proposal (managers and admins; nothing is written): ``datasets`` spread over ``annotators`` so that each one's hours to do — what they have open plus what they get — end as even as they can, the longest episodes placed first, each to whoever has least."""
        ...

    def load(self, names: _quality_workload.Sequence[str]) -> list[_quality_workload.Load]:
        """Each named person's load (managers and admins): open tasks they annotate, the episodes of those nobody annotated yet and their hours, and their recent pace."""
        ...

    def person(self, name: str) -> _quality_workload.Person:
        """``name``'s page: managers and admins read anyone's, everyone else their own."""
        ...
