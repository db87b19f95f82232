"""Projects group datasets, tasks and the people working on them.

A project is ``private`` (its members see it and its tasks) or ``visible`` (everyone sees it,
read-only: seeing is not changing, :mod:`annotation_kit.access.workflow` decides that). An archived
project is kept and readable, but takes no new task. A project may name the skills and
dictionaries its annotators are offered (:func:`annotation_kit.library.skills.use_in_project`,
:func:`annotation_kit.library.dictionaries.use_in_project`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.models import Project, ProjectLibrary, ProjectMember, User, utcnow
from . import _text, events, users
from .workflow import is_supervisor, require_supervisor

__all__ = [
    "VISIBILITIES",
    "add_members",
    "archive",
    "create",
    "edit",
    "get",
    "list_projects",
    "memberships",
    "remove_members",
    "unarchive",
]

VISIBILITIES = ("private", "visible")


def get(session: Session, project: str | int) -> Project:
    """A project by name or id, or :class:`NotFound`."""
    column = Project.id if isinstance(project, int) else Project.name
    found = session.scalar(select(Project).where(column == project))
    if found is None:
        raise NotFound(f"no project {project!r}")
    return found


def create(
    session: Session,
    name: str,
    *,
    description: str = "",
    members: Iterable[str] = (),
    visibility: str = "private",
    by: User,
) -> Project:
    """Create a project (managers and admins) with optional member user names; ``visibility``
    ``private`` (members only) or ``visible`` (everyone, read-only)."""
    require_supervisor(by, "create projects")
    _text.name(name, "project name")
    _text.text(description, "project description")
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise ValidationError(f"a project named {name!r} already exists")
    project = Project(name=name, description=description, visibility=_visibility(visibility))
    session.add(project)
    session.flush()
    events.record(session, by=by, object_type="project", object_id=project.id, action="create")
    add_members(session, project.id, members, by=by)
    return project


def add_members(session: Session, project: str | int, names: Iterable[str], *, by: User) -> Project:
    """Add users to a project (managers and admins); already members are kept."""
    require_supervisor(by, "change project members")
    found = get(session, project)
    for user in users.get_many(session, names):
        if session.get(ProjectMember, (found.id, user.id)) is None:
            session.add(ProjectMember(project_id=found.id, user_id=user.id))
            events.record(
                session,
                by=by,
                object_type="project",
                object_id=found.id,
                action="add_member",
                note=user.name,
            )
    session.flush()
    session.refresh(found)
    return found


def remove_members(
    session: Session, project: str | int, names: Iterable[str], *, by: User
) -> Project:
    """Take users out of a project (managers and admins); non-members are ignored."""
    require_supervisor(by, "change project members")
    found = get(session, project)
    for user in users.get_many(session, names):
        member = session.get(ProjectMember, (found.id, user.id))
        if member is not None:
            session.delete(member)
            events.record(
                session,
                by=by,
                object_type="project",
                object_id=found.id,
                action="remove_member",
                note=user.name,
            )
    session.flush()
    session.refresh(found)
    return found


@readonly
def memberships(session: Session) -> dict[str, list[str]]:
    """Each user's projects by name (users in none are left out), for lists."""
    rows = session.execute(
        select(User.name, Project.name)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .join(Project, Project.id == ProjectMember.project_id)
        .order_by(User.name, Project.name)
    )
    found: dict[str, list[str]] = {}
    for user, project in rows:
        found.setdefault(user, []).append(project)
    return found


def _visibility(value: str) -> str:
    if value not in VISIBILITIES:
        raise ValidationError(f"project visibility is {value!r}; one of: {', '.join(VISIBILITIES)}")
    return value


def edit(
    session: Session,
    project: str | int,
    *,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
    by: User,
) -> Project:
    """Change a project's name, description or visibility (managers and admins)."""
    require_supervisor(by, "edit projects")
    found = get(session, project)
    changed = []
    if name is not None and name != found.name:
        _text.name(name, "project name")
        if session.scalar(select(Project.id).where(Project.name == name)) is not None:
            raise ValidationError(f"a project named {name!r} already exists")
        found.name = name
        changed.append("name")
    if description is not None:
        found.description = _text.text(description, "project description")
        changed.append("description")
    if visibility is not None and visibility != found.visibility:
        found.visibility = _visibility(visibility)
        changed.append(f"visibility {visibility}")
    session.flush()
    events.record(
        session,
        by=by,
        object_type="project",
        object_id=found.id,
        action="edit",
        note=", ".join(changed),
    )
    return found


def archive(session: Session, project: str | int, *, by: User, note: str = "") -> Project:
    """Archive a project (managers and admins): kept and readable, no new task in it."""
    return _archived(session, project, True, by, note)


def unarchive(session: Session, project: str | int, *, by: User) -> Project:
    """Take a project out of the archive."""
    return _archived(session, project, False, by, "")


def _archived(session: Session, project: str | int, value: bool, by: User, note: str) -> Project:
    require_supervisor(by, "archive projects")
    found = get(session, project)
    found.archived_at = utcnow() if value else None
    events.record(
        session,
        by=by,
        object_type="project",
        object_id=found.id,
        action="archive" if value else "unarchive",
        note=_text.text(note, "note"),
    )
    return found


def require_open(found: Project) -> Project:
    """``found``, or :class:`ValidationError` when it is archived (no new work goes in)."""
    if found.archived_at is not None:
        raise ValidationError(
            f"project {found.name!r} is archived; take it out of the archive to add tasks to it"
        )
    return found


@readonly
def list_projects(
    session: Session, *, archived: bool = True, by: User | None = None
) -> Sequence[Project]:
    """The projects, by name: with ``by``, those that person may see (managers and admins:
    all; others: their own and the visible ones); ``archived=False`` leaves archived ones out."""
    query = select(Project).order_by(Project.name)
    if by is not None and not is_supervisor(by):
        mine = select(ProjectMember.project_id).where(ProjectMember.user_id == by.id)
        query = query.where(Project.id.in_(mine) | (Project.visibility == "visible"))
    if not archived:
        query = query.where(Project.archived_at.is_(None))
    return session.scalars(query).all()


def library_ids(session: Session, project_id: int | None, kind: str) -> set[int] | None:
    """The ids of the skills (``kind="skill"``) or dictionaries a project uses; None when it
    names none (its annotators are offered the whole library)."""
    if project_id is None:
        return None
    ids = set(
        session.scalars(
            select(ProjectLibrary.item_id).where(
                ProjectLibrary.project_id == project_id, ProjectLibrary.kind == kind
            )
        )
    )
    return ids or None


def set_library_ids(session: Session, project_id: int, kind: str, ids: Iterable[int]) -> None:
    """Name the skills or dictionaries a project uses (none: the whole library)."""
    session.execute(
        delete(ProjectLibrary).where(
            ProjectLibrary.project_id == project_id, ProjectLibrary.kind == kind
        )
    )
    session.add_all(ProjectLibrary(project_id=project_id, kind=kind, item_id=i) for i in set(ids))
    session.flush()
