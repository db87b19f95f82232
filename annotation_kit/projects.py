"""Projects group datasets, tasks and the people working on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import _text, events, users
from .database import readonly
from .errors import NotFound, ValidationError
from .models import Project, ProjectMember, User
from .workflow import require_supervisor

__all__ = [
    "add_members",
    "create",
    "get",
    "list_projects",
    "memberships",
    "remove_members",
]


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
    by: User,
) -> Project:
    """Create a project (managers and admins) with optional member user names."""
    require_supervisor(by, "create projects")
    _text.name(name, "project name")
    _text.text(description, "project description")
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise ValidationError(f"a project named {name!r} already exists")
    project = Project(name=name, description=description)
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


@readonly
def list_projects(session: Session) -> Sequence[Project]:
    """Every project, by name."""
    return session.scalars(select(Project).order_by(Project.name)).all()
