"""The workspace handle: one shared database, acting as one named user.

Every service module is reachable as an attribute (``ws.tasks``, ``ws.annotations``...). Calling
``ws.tasks.submit(12)`` runs :func:`annotation_kit.work.tasks.submit` in its own transaction with
``by=`` the workspace's user, exactly as a widget button or a dashboard handler does. For several
steps in one transaction use :meth:`Workspace.transaction` and the service functions directly.
"""

from __future__ import annotations

import functools
import getpass
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .access import database_logins, users, visibility
from .access._inputs import check_call
from .access.workflow import Role, is_supervisor, require_role
from .data import datasets, imports
from .data.episodes import Episode
from .data.imports import ImportReport
from .errors import NotFound, PermissionDenied, ValidationError
from .store import writes
from .store.database import Database, is_readonly
from .store.models import Annotation, User

if TYPE_CHECKING:
    from . import _service_types

USER_ENV = "ANNOTATION_KIT_USER"
SERVICE_MODULES = {
    "annotations": "work.annotations",
    "checks": "data.checks",
    "consensus": "work.consensus",
    "database_logins": "access.database_logins",
    "datasets": "data.datasets",
    "dictionaries": "library.dictionaries",
    "events": "access.events",
    "feedback": "work.feedback",
    "gold": "quality.gold",
    "guidelines": "library.guidelines",
    "logins": "access.logins",
    "notifications": "work.notifications",
    "progress": "work.progress",
    "projects": "access.projects",
    "reviews": "work.reviews",
    "rules": "work.rules",
    "settings": "library.settings",
    "skills": "library.skills",
    "storage": "library.storage",
    "task_queries": "work.task_queries",
    "tasks": "work.tasks",
    "users": "access.users",
    "workload": "quality.workload",
}
"""Modules whose service functions a workspace exposes as attributes (``ws.tasks``...), by
attribute, with where each lives in the package."""


@functools.cache
def _service_functions(module: ModuleType) -> dict[str, Callable[..., Any]]:
    """The functions ``module`` exports (its ``__all__``) whose first parameter is ``session``:
    a module split in two keeps its services as long as it re-exports them."""
    names = getattr(module, "__all__", None)
    if names is None:
        raise TypeError(f"{module.__name__} declares no __all__, so it has no services")
    return {
        name: fn
        for name in names
        if inspect.isfunction(fn := getattr(module, name))
        and next(iter(inspect.signature(fn).parameters), None) == "session"
    }


@functools.cache
def _own_parameters(fn: Callable[..., Any]) -> inspect.Signature:
    """``fn``'s signature without ``session`` and ``by``, which the workspace supplies."""
    signature = inspect.signature(fn)
    kept = [p for name, p in signature.parameters.items() if name not in ("session", "by")]
    return signature.replace(parameters=kept)


SCOPED = frozenset({"task", "dataset", "annotation_id"})
"""Parameters that name one task, dataset or annotation: a call through a workspace names
only those its user may see (:mod:`annotation_kit.access.visibility`)."""


def _require_seen(
    session: Session,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    me: User,
) -> None:
    """Refuse, as "not found", a task, dataset or annotation named in a service call that
    ``me`` may not see: the one check of visibility at the workspace boundary, before the
    service's own permission checks (managers and admins see everything)."""
    if is_supervisor(me):
        return
    named = inspect.signature(fn).bind_partial(None, *args, **kwargs).arguments
    if (task := named.get("task")) is not None:
        visibility.require_task(session, task, me)
    if isinstance(dataset := named.get("dataset"), int) and "task" not in named:
        visibility.require_dataset(session, dataset, me)
    elif isinstance(dataset, str):
        visibility.require_dataset(session, datasets.get(session, dataset).id, me)
    if isinstance(annotation := named.get("annotation_id"), int):
        found = session.get(Annotation, annotation)
        if found is None or not visibility.may_see_task(session, found.task_id, me):
            raise NotFound(f"no annotation with id {annotation} that {me.name} may see")


class Services:
    """A service module bound to a workspace: each public function runs in its own transaction."""

    def __init__(self, workspace: Workspace, module: ModuleType) -> None:
        self._workspace = workspace
        self._module = module
        self._functions = _service_functions(module)

    def __dir__(self) -> list[str]:
        return sorted(self._functions)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = self._functions.get(name)
        if fn is None:
            raise AttributeError(f"{self._module.__name__} has no service function {name!r}")
        parameters = inspect.signature(fn).parameters
        wants_user = "by" in parameters
        scoped = bool(SCOPED & set(parameters))
        workspace = self._workspace

        @functools.wraps(fn, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def call(*args: Any, **kwargs: Any) -> Any:
            check_call(fn, args, kwargs)
            with workspace.transaction(write=not is_readonly(fn)) as session:
                if wants_user or scoped:
                    me = workspace.me(session)
                    if scoped:
                        _require_seen(session, fn, args, kwargs, me)
                    if wants_user:
                        kwargs.setdefault("by", me)
                return fn(session, *args, **kwargs)

        call.__signature__ = _own_parameters(fn)  # type: ignore[attr-defined]
        return call

    def __repr__(self) -> str:
        return f"<{self._module.__name__} as {self._workspace.user!r}: {', '.join(dir(self))}>"


class Workspace:
    """A connection to the shared workspace acting as ``user``. Made by :func:`connect`."""

    def __init__(self, db: Database, user: str) -> None:
        self.db = db
        self.user = user
        for name, where in SERVICE_MODULES.items():
            setattr(self, name, Services(self, import_module(f".{where}", __package__)))
        # typed as the protocols of _service_types: what each service offers, checked
        setattr(self, "exports", Services(self, import_module(".exports.run", __package__)))  # noqa: B010

    annotations: _service_types.Annotations
    checks: _service_types.Checks
    consensus: _service_types.Consensus
    """Independent annotation: ``set_independent``, ``disagreement``, ``adopt`` (the consensus)."""
    database_logins: _service_types.DatabaseLogins
    """PostgreSQL logins that identify people: ``link(role, user)``, ``links()``, ``unlink``."""
    exports: _service_types.Exports
    """Export records: ``list_exports()``, ``get_export(id)``, ``diff(old, new)``."""
    datasets: _service_types.Datasets
    dictionaries: _service_types.Dictionaries
    """Versioned label dictionaries: ``create``, ``edit``, ``use_in_project``, ``usage``, CSV."""
    events: _service_types.Events
    feedback: _service_types.Feedback
    """Issues raised on tasks: ``raise_issue``, ``reply``, ``resolve``, ``list_issues``."""
    gold: _service_types.Gold
    """Gold episodes, the reference annotators are measured against: ``mark``, ``unmark``."""
    guidelines: _service_types.Guidelines
    """Markdown guidelines per project and skill: ``write``, ``get``, ``history``,
    ``for_task``."""
    notifications: _service_types.Notifications
    """What concerns me, from the audit log: ``list_notifications``, ``unread_count``,
    ``mark_read``."""
    logins: _service_types.Logins
    """Passwords for the served app: ``set_password(name, password)``, ``has_password(name)``."""
    progress: _service_types.Progress
    projects: _service_types.Projects
    reviews: _service_types.Reviews
    rules: _service_types.Rules
    """Annotation rules per project: ``set_rules(project, rules)``, ``evaluate(task)``."""
    settings: _service_types.Settings
    """Workspace-wide defaults (admins change them): ``values()``, ``change(key, value)``."""
    skills: _service_types.Skills
    storage: _service_types.Storage
    """Named storage connections (secrets never stored): ``create``, ``browse``, ``test``."""
    task_queries: _service_types.TaskQueries
    tasks: _service_types.Tasks
    users: _service_types.Users
    workload: _service_types.Workload
    """Before assigning: ``load(names)`` (open work and pace), ``balance(datasets, names)``."""

    @property
    def url(self) -> str:
        """The database URL the workspace was opened with."""
        return self.db.url

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction (committed at the end of the block, rolled back on error)."""
        with self.db.transaction(write=write) as session:
            if write:
                writes.record(session)  # a re-sent write is refused here, before it is applied
            yield session

    def me(self, session: Session) -> User:
        """This workspace's user, loaded in ``session`` (refused when disabled)."""
        user = users.get(session, self.user)
        if not user.active:
            raise PermissionDenied(f"user '{user.name}' is disabled")
        return user

    def as_user(self, name: str) -> Workspace:
        """The same database, acting as another (existing) user: for admins only."""
        with self.transaction(write=False) as session:
            require_role(self.me(session), {Role.ADMIN}, "act as another user")
            users.get(session, name)
        return Workspace(self.db, name)

    def import_datasets(
        self,
        sources: str | Path | Iterable[str | Path],
        *,
        project: str | int | None = None,
        tags: Sequence[str] = (),
        progress: bool = True,
        probe_cameras: bool = True,
    ) -> ImportReport:
        """Index MCAP/HDF5 files and LeRobot folders (local or ``s3://``) as datasets."""
        return imports.import_datasets(
            self,
            sources,
            project=project,
            tags=tags,
            progress=progress,
            probe_cameras=probe_cameras,
        )

    def export(
        self,
        tasks: int | Sequence[int],
        format: str | Callable[..., Any],
        destination: str | Path,
        **options: Any,
    ) -> Any:
        """Export ``tasks`` as ``format`` (``json``, ``csv``, ``mcap``, ``hdf5``, ``lerobot``, a
        plugin's name, or a callable) into the folder ``destination`` (local or fsspec URL); see
        :func:`annotation_kit.exports.run.export` for the options. Managers and admins only.
        ``background=True`` queues it as a job and returns its handle (``handle.wait()``)."""
        from .exports.run import export

        if options.pop("background", False):  # a job on the queue; returns its handle
            return self.queue.enqueue(
                "export", tasks=tasks, format=format, destination=destination, **options
            )
        return export(self, tasks, format, destination, **options)

    @functools.cached_property
    def analytics(self) -> Any:
        """Reports and read-only SQL through DuckDB (see
        :mod:`annotation_kit.quality.analytics`)."""
        from .quality.analytics import Analytics

        return Analytics(self)

    @property
    def queue(self) -> Any:
        """Background jobs on the default queue (``$ANNOTATION_KIT_QUEUE``, else ``queue.db``
        beside an SQLite workspace): see :class:`annotation_kit.jobs.Queue`."""
        return self.queue_for(None)

    def queue_for(self, queue_url: str | None) -> Any:
        """Background jobs on the queue at ``queue_url`` (``sqlite:///file`` or ``redis://``)."""
        from .jobs.queue import Queue

        return Queue(self, queue_url)

    def episode(self, dataset: int | str) -> Episode:
        """Lazy access to one dataset's signals and frames (a context manager)."""
        from .data.datasets import get

        with self.transaction(write=False) as session:
            return Episode(get(session, dataset))

    def close(self) -> None:
        """Close the workspace's database connections."""
        from .quality.analytics import close_store

        close_store(self.db)  # DuckDB's side of this database, shared by its handles
        self.db.dispose()

    def __repr__(self) -> str:
        return f"<Workspace {self.db.engine.url.render_as_string()} as {self.user!r}>"


def connect(url: str | None = None, *, user: str | None = None) -> Workspace:
    """Open the shared workspace at ``url`` and act as ``user``.

    With no URL: ``$ANNOTATION_KIT_URL``, else an SQLite file ``workspace.db`` in
    ``$ANNOTATION_KIT_HOME`` or the platform's user data folder. Any SQLAlchemy URL works;
    ``postgresql://host/db`` is the team backend. The schema is migrated on first connect. The
    user defaults to ``$ANNOTATION_KIT_USER`` or the login name; the first user of an empty
    workspace becomes its admin.

    On a PostgreSQL workspace whose admins linked database logins to users
    (:mod:`annotation_kit.access.database_logins`), the session's database login decides who you
    are: ``user`` must then be that person, unless they are an admin.

    Example::

        import annotation_kit as ak
        ws = ak.connect(user="maya")
        ws.task_queries.board().counts
    """
    asked = user or os.environ.get(USER_ENV)
    db = Database.open(url)
    with db.transaction(write=False) as session:
        person = database_logins.identify(session)
        if person is not None:
            return Workspace(db, _acting(session, person, asked))
    name = asked or getpass.getuser()
    try:
        _bootstrap(db, name)
    except (IntegrityError, ValidationError):
        # another process made the first user at the same moment: its row either collided with
        # ours (IntegrityError) or was already visible to our name check (ValidationError); the
        # second try finds a workspace with users and checks ``name`` the ordinary way
        _bootstrap(db, name)
    return Workspace(db, name)


def _acting(session: Session, person: str, asked: str | None) -> str:
    """Who a handle identified by its database login as ``person`` acts as: ``person``, or, for
    an admin, the user ``asked`` for."""
    me = users.get(session, person)
    if not me.active:
        raise PermissionDenied(f"user '{person}' is disabled")
    if asked is None or asked == person:
        return person
    if me.role != Role.ADMIN:
        raise PermissionDenied(
            f"your database login identifies you as '{person}'; only an admin may act as '{asked}'"
        )
    return users.get(session, asked).name


def _bootstrap(db: Database, name: str) -> None:
    with db.transaction() as session:
        if not session.scalar(select(func.count(User.id))):
            users.create(session, name, Role.ADMIN, by=None)
        else:
            Workspace(db, name).me(session)
