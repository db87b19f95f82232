"""Identifying people by their PostgreSQL login.

By default :func:`annotation_kit.connect` acts as the name it is given, which is enough for one
person's SQLite file and for a team that trusts everyone holding the database credentials. A
team on PostgreSQL that gives each person their own database login can link each login to a
workspace user; from the first link on, ``connect()`` asks the server who the session is
(``session_user``) and acts as the linked user. A name given to ``connect()`` must then be that
user, unless the linked user is an admin (the service login of the served app and the workers
is linked to an admin, since they act for others).

Links are kept in the workspace (``database_logins``) and changed by admins only; the database's
own privileges decide who may write that table behind the library's back (see the README's
trust model).
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..errors import PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import DatabaseLogin, User
from . import events, users
from .workflow import Role, require_role

__all__ = ["current_role", "identify", "link", "links", "unlink"]

ROLE_MAX = 63
"""PostgreSQL truncates identifiers to 63 bytes."""


def _require_postgresql(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        raise ValidationError(
            "only a PostgreSQL workspace has database logins to identify people by "
            "(an SQLite file has no logins)"
        )


@readonly
def current_role(session: Session) -> str:
    """The database login of this session (``session_user``; ``SET ROLE`` does not change it)."""
    _require_postgresql(session)
    return str(session.scalar(text("SELECT session_user")))


@readonly
def links(session: Session) -> dict[str, str]:
    """Each linked database login and the workspace user it identifies."""
    rows = session.execute(
        select(DatabaseLogin.role, User.name)
        .join(User, User.id == DatabaseLogin.user_id)
        .order_by(DatabaseLogin.role)
    )
    return {str(role): str(name) for role, name in rows}


def link(session: Session, role: str, user: str, *, by: User) -> None:
    """Link the database login ``role`` to the workspace user ``user`` (admins only). The first
    link turns identification on, so it must leave the caller's own login linked: otherwise
    the admin setting it up would lock themselves out."""
    require_role(by, {Role.ADMIN}, "link database logins to users")
    _require_postgresql(session)
    if not isinstance(role, str) or not role or len(role.encode()) > ROLE_MAX:
        raise ValidationError(f"a database login is a role name of 1 to {ROLE_MAX} bytes")
    exists = session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        raise ValidationError(f"the database has no login {role!r}")
    target = users.get(session, user)
    row = session.get(DatabaseLogin, role)
    before = None
    if row is None:
        row = DatabaseLogin(role=role, user_id=target.id)
        session.add(row)
    else:
        before, row.user_id = row.user_id, target.id
    session.flush()
    own = current_role(session)
    if session.get(DatabaseLogin, own) is None:
        raise ValidationError(
            f"link your own database login {own!r} first (to an admin): once any login is "
            "linked, unlinked logins are refused"
        )
    events.record(
        session,
        by=by,
        object_type="user",
        object_id=target.id,
        action="link_database_login",
        note=f"database login {role!r}" + (" (moved from another user)" if before else ""),
    )


def unlink(session: Session, role: str, *, by: User) -> None:
    """Remove the link of ``role`` (admins only). Removing the last link turns identification
    off; removing only your own while others remain is refused (you would be locked out)."""
    require_role(by, {Role.ADMIN}, "unlink database logins")
    _require_postgresql(session)
    row = session.get(DatabaseLogin, role)
    if row is None:
        raise ValidationError(f"the database login {role!r} is not linked")
    user_id = row.user_id
    session.delete(row)
    session.flush()
    remaining = session.scalar(select(DatabaseLogin.role).limit(1))
    if remaining is not None and session.get(DatabaseLogin, current_role(session)) is None:
        raise ValidationError(
            f"{role!r} is your own database login: unlinking it while others stay linked "
            "would lock you out"
        )
    events.record(
        session,
        by=by,
        object_type="user",
        object_id=user_id,
        action="unlink_database_login",
        note=f"database login {role!r}",
    )


@readonly
def identify(session: Session) -> str | None:
    """The workspace user this session's database login identifies, or None when the workspace
    does not identify people by database login (no links, or not PostgreSQL). An unlinked login
    of a workspace that has links is refused."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    if session.scalar(select(DatabaseLogin.role).limit(1)) is None:
        return None
    role = current_role(session)
    name = session.scalar(
        select(User.name)
        .join(DatabaseLogin, DatabaseLogin.user_id == User.id)
        .where(DatabaseLogin.role == role)
    )
    if name is None:
        raise PermissionDenied(
            f"the database login {role!r} is not linked to a workspace user: this workspace "
            "identifies people by their database login; ask an admin to link it"
        )
    return name
