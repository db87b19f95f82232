"""Users, their global roles, and bulk import from CSV (``username,role,project``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..store.database import readonly
from ..store.models import EMAIL_MAX, Login, Project, ProjectMember, User, UserStatus
from . import _csv, _text, events
from .workflow import Role, require_role

__all__ = [
    "ImportReport",
    "create",
    "get",
    "get_many",
    "import_csv",
    "list_users",
    "names",
    "parse_role",
    "preference",
    "set_email",
    "set_preference",
    "set_role",
    "set_status",
]


def parse_role(value: object) -> Role:
    """A role from its name (any case); :class:`ValidationError` lists the roles."""
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        known = ", ".join(Role)
        raise ValidationError(f"unknown role {value!r}; roles are: {known}") from None


def get(session: Session, name: str) -> User:
    """The user called ``name``, or :class:`NotFound` listing a few known names."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        known = session.scalars(select(User.name).order_by(User.name).limit(20)).all()
        raise NotFound(f"no user named {name!r}; known users: {', '.join(known) or 'none yet'}")
    return user


def get_many(session: Session, names: Iterable[str]) -> list[User]:
    """Users by name, in the given order; raise :class:`NotFound` naming every unknown one."""
    names = list(dict.fromkeys(names))
    found = {u.name: u for u in session.scalars(select(User).where(User.name.in_(names)))}
    if missing := [n for n in names if n not in found]:
        raise NotFound(f"no user named {', '.join(repr(m) for m in missing)}")
    return [found[n] for n in names]


def create(
    session: Session,
    name: str,
    role: str,
    *,
    display_name: str = "",
    email: str | None = None,
    by: User | None,
) -> User:
    """Create a user. Only admins may (``by=None`` is the bootstrap of an empty workspace).
    ``email`` is how a single sign-on login finds the user."""
    if by is not None:
        require_role(by, {Role.ADMIN}, "create users")
    _text.name(name, "user name")
    _text.optional_name(display_name, "display name")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ValidationError(f"a user named {name!r} already exists")
    address = _email(session, email)
    user = User(name=name, display_name=display_name or name, role=parse_role(role), email=address)
    session.add(user)
    session.flush()
    events.record(
        session,
        by=by,
        object_type="user",
        object_id=user.id,
        action="create",
        to_state=user.role.value,
    )
    return user


def _email(session: Session, value: object, owner: User | None = None) -> str | None:
    """A checked, lower-case e-mail address that no other user has (None clears it)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("an e-mail address must be text")
    address = value.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or len(address) > EMAIL_MAX or " " in address:
        raise ValidationError(f"{value!r} is not an e-mail address")
    holder = session.scalar(select(User).where(User.email == address))
    if holder is not None and holder is not owner:
        raise ValidationError(f"another user ({holder.name}) has the e-mail address {address}")
    return address


def set_email(session: Session, name: str, email: str | None, *, by: User) -> User:
    """Set (or clear, with None) a user's e-mail address: admins for anyone, users for
    themselves. A single sign-on login finds its user by it."""
    user = get(session, name)
    if by.id != user.id:
        require_role(by, {Role.ADMIN}, "set another user's e-mail address")
    address = _email(session, email, owner=user)
    if address != user.email:
        user.email = address
        events.record(
            session,
            by=by,
            object_type="user",
            object_id=user.id,
            action="set_email",
            note="e-mail address cleared" if address is None else "e-mail address changed",
        )
    return user


def set_status(session: Session, name: str, status: str, *, by: User) -> User:
    """Disable or re-enable a user (admins only). Disabled users can take no action."""
    require_role(by, {Role.ADMIN}, "disable or enable users")
    try:
        new = UserStatus(status)
    except ValueError:
        raise ValidationError(f"status must be 'active' or 'disabled', got {status!r}") from None
    user = get(session, name)
    if new == UserStatus.DISABLED:  # every session of the user ends, for good
        session.execute(update(Login).where(Login.user_id == user.id).values(epoch=Login.epoch + 1))
    return _change(session, user, "status", new, by=by)


def set_role(session: Session, name: str, role: str, *, by: User) -> User:
    """Change a user's global role (admins only)."""
    require_role(by, {Role.ADMIN}, "change roles")
    return _change(session, get(session, name), "role", parse_role(role), by=by)


def _change(session: Session, user: User, field: str, new: StrEnum, *, by: User) -> User:
    old = getattr(user, field)
    if old != new:
        events.record(
            session,
            by=by,
            object_type="user",
            object_id=user.id,
            action=f"set_{field}",
            from_state=old.value,
            to_state=new.value,
        )
        setattr(user, field, new)
    return user


@readonly
def list_users(session: Session) -> Sequence[User]:
    """Every user, by name."""
    return session.scalars(select(User).order_by(User.name)).all()


@readonly
def names(session: Session) -> dict[int, str]:
    """Every user's name by id (what a view needs to show authors and owners)."""
    return dict(session.execute(select(User.id, User.name)).all())  # type: ignore[arg-type]


@dataclass
class ImportReport:
    """What :func:`import_csv` did."""

    created: list[str] = field(default_factory=list)
    role_changed: list[str] = field(default_factory=list)
    memberships_added: list[tuple[str, str]] = field(default_factory=list)


def import_csv(session: Session, source: str | Path | io.TextIOBase, *, by: User) -> ImportReport:
    """Create or update users from CSV rows ``username,role,project`` (admins only).

    All or nothing: every row is checked first, and one bad row (unknown role, unknown project,
    empty name) raises :class:`ValidationError` naming its line, with nothing written. Existing
    users get the listed role; ``project`` may be empty.
    """
    require_role(by, {Role.ADMIN}, "import users")
    rows = _csv.rows(source, {"username", "role"}, "user", "username,role,project")
    projects = {p.name: p for p in session.scalars(select(Project))}
    problems: list[str] = []
    parsed: list[tuple[str, Role, Project | None]] = []
    for line, row in rows:
        try:
            name = _text.name(row.get("username") or "", "username")
            role = parse_role(row.get("role") or "")
        except ValidationError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        project_name = (row.get("project") or "").strip()
        if project_name and project_name not in projects:
            problems.append(f"line {line}: unknown project {project_name!r}")
            continue
        parsed.append((name, role, projects.get(project_name)))
    if problems:
        raise ValidationError("user import refused, nothing was written:\n" + "\n".join(problems))

    report = ImportReport()
    existing = {u.name: u for u in session.scalars(select(User))}
    for name, role, project in parsed:
        user = existing.get(name)
        if user is None:
            user = existing[name] = create(session, name, role, by=by)
            report.created.append(name)
        elif user.role != role:
            set_role(session, name, role, by=by)
            report.role_changed.append(name)
        if project is not None and session.get(ProjectMember, (project.id, user.id)) is None:
            session.add(ProjectMember(project_id=project.id, user_id=user.id))
            session.flush()
            events.record(
                session,
                by=by,
                object_type="project",
                object_id=project.id,
                action="add_member",
                note=name,
            )
            report.memberships_added.append((name, project.name))
    return report


PREFERENCE_MAX = 10_000
"""The most characters one setting may take (as JSON)."""


def set_preference(session: Session, key: str, value: Any, *, by: User) -> None:
    """Keep one setting of one's own (``key`` a short name, ``value`` plain JSON: the overview
    charts keep theirs under ``"overview"``); ``None`` forgets it."""
    _text.name(key, "setting name")
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"setting {key!r} must be plain JSON: {exc}") from None
    if len(encoded) > PREFERENCE_MAX:
        raise ValidationError(f"setting {key!r} is too long ({len(encoded)} > {PREFERENCE_MAX})")
    me = session.get(User, by.id, with_for_update=True)
    assert me is not None
    kept = dict(me.preferences or {})
    if value is None:
        kept.pop(key, None)
    else:
        kept[key] = json.loads(encoded)
    me.preferences = kept
    session.flush()


@readonly
def preference(session: Session, key: str, *, by: User) -> Any:
    """One's own setting ``key`` (None when not kept)."""
    me = session.get(User, by.id)
    return (me.preferences or {}).get(key) if me else None
