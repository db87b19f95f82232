"""Logging in to the served app: passwords kept only as argon2 hashes (argon2-cffi), failures
recorded in the audit log, and a session epoch that ends every open session of a user whose
password changes or who logs out.

A refused login says why in words a person can act on, but never whether the user name exists:
an unknown name and a wrong password get the same answer (and take the same time). Throttling
repeated failures is the server's (:mod:`annotation_kit.app.throttle`): by user *and*
address, so nobody can lock another person out by typing their name.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import PermissionDenied, ValidationError
from ..store.database import readonly
from ..store.models import Login, User, utcnow
from . import events, users
from .workflow import Role

__all__ = [
    "Outcome",
    "authenticate",
    "bootstrap_admin",
    "end_sessions",
    "epoch",
    "has_password",
    "password_users",
    "refuse",
    "set_password",
    "sign_on",
]

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
WRONG = "wrong user name or password"
SIGN_ON_ONLY = ""
"""The password hash of a user who only logs in through single sign-on (no password matches)."""

_hasher = PasswordHasher()
_UNKNOWN = _hasher.hash("an unknown user: verified against so that it takes as long")


@dataclass(frozen=True)
class Outcome:
    """What a login attempt came to: the user and session epoch, or why it was refused."""

    user: str | None
    epoch: int = 0
    refused: str = ""

    @property
    def ok(self) -> bool:
        """Whether the user may start a session."""
        return self.user is not None


def _check_password(password: object, name: str) -> str:
    if not isinstance(password, str):
        raise ValidationError("the password must be text")
    if len(password) < PASSWORD_MIN:
        raise ValidationError(f"the password must have at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"the password must have at most {PASSWORD_MAX} characters")
    if password.strip().lower() == name.lower():
        raise ValidationError("the password must not be the user name")
    return password


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(
    session: Session, name: str, password: str, *, current: str | None = None, by: User
) -> None:
    """Set ``name``'s password (admins for anyone; a user for themselves, giving ``current``).
    Every open session of that user ends."""
    user = users.get(session, name)
    login = session.get(Login, user.id)
    if by.role != Role.ADMIN or not by.active:
        if by.id != user.id or not by.active:
            raise PermissionDenied(f"{by.name} may not set another user's password")
        if login is not None and not _verify(login.password_hash, current or ""):
            raise PermissionDenied("the current password is wrong; nothing was changed")
    hashed = _hasher.hash(_check_password(password, user.name))
    if login is None:
        session.add(Login(user_id=user.id, password_hash=hashed, failures=0, epoch=1))
    else:
        login.password_hash, login.changed_at = hashed, utcnow()
        login.failures, login.locked_until, login.epoch = 0, None, login.epoch + 1
    events.record(
        session,
        by=by,
        object_type="user",
        object_id=user.id,
        action="set_password",
        note="password changed" if by.id == user.id else f"password set by {by.name}",
    )


def bootstrap_admin(session: Session, name: str, password: str) -> bool:
    """Give a workspace its first admin who can log in: create ``name`` as admin if needed and
    set the password. Does nothing (returns False) when an admin can already log in."""
    admins = select(User.id).where(User.role == Role.ADMIN)
    if session.scalar(select(Login.user_id).where(Login.user_id.in_(admins)).limit(1)):
        return False
    existing = session.scalar(select(User).where(User.name == name))
    if existing is not None and existing.role != Role.ADMIN:
        raise ValidationError(f"{name!r} exists and is a {existing.role}, not an admin")
    user = existing or users.create(session, name, "admin", by=None)
    session.add(Login(user_id=user.id, password_hash=_hasher.hash(_check_password(password, name))))
    events.record(
        session, by=None, object_type="user", object_id=user.id, action="set_password",
        note="first admin's password",
    )  # fmt: skip
    return True


def authenticate(session: Session, name: str, password: str) -> Outcome:
    """Check a login. Failures are counted and recorded in the audit log (commit the session
    either way); they never lock the user here (see the module)."""
    user = session.scalar(select(User).where(User.name == name)) if isinstance(name, str) else None
    login = session.get(Login, user.id) if user is not None else None
    if user is None or login is None:
        return refuse(password)
    if not isinstance(password, str) or not _verify(login.password_hash, password):
        login.failures += 1
        events.record(
            session,
            by=None,
            object_type="user",
            object_id=user.id,
            action="login_failed",
            note=f"{login.failures} failed in a row",
        )
        return Outcome(None, refused=WRONG)
    if not user.active:
        return Outcome(None, refused=f"user '{user.name}' is disabled: ask an admin")
    login.failures, login.locked_until = 0, None
    if _hasher.check_needs_rehash(login.password_hash):
        login.password_hash = _hasher.hash(password)
    events.record(session, by=user, object_type="user", object_id=user.id, action="login")
    return Outcome(user.name, login.epoch)


def end_sessions(session: Session, name: str) -> None:
    """End every open session of ``name`` (logging out): cookies issued before stop working
    on the server, also a copy someone captured."""
    user = users.get(session, name)
    login = session.get(Login, user.id)
    if login is None:
        return
    login.epoch += 1
    events.record(session, by=user, object_type="user", object_id=user.id, action="logout")


def refuse(password: object) -> Outcome:
    """The answer to an attempt that is not checked (throttled), after the same work as one
    that is: nobody learns from it that a user exists or is being throttled."""
    _verify(_UNKNOWN, password if isinstance(password, str) else "")
    return Outcome(None, refused=WRONG)


@readonly
def epoch(session: Session, name: str) -> int | None:
    """The session epoch a cookie of ``name`` must carry: None when the user cannot log in
    (unknown, disabled, or without a password)."""
    row = session.execute(
        select(User.status, Login.epoch)
        .join(Login, Login.user_id == User.id)
        .where(User.name == name)
    ).first()
    if row is None or row.status != "active":
        return None
    return row.epoch


@readonly
def has_password(session: Session, name: str) -> bool:
    """Whether ``name`` can log in with a password."""
    login = session.get(Login, users.get(session, name).id)
    return login is not None and login.password_hash != SIGN_ON_ONLY


@readonly
def password_users(session: Session) -> set[str]:
    """The names of every user who can log in with a password (one query, for lists)."""
    query = select(User.name).join(Login, Login.user_id == User.id)
    return set(session.scalars(query.where(Login.password_hash != SIGN_ON_ONLY)))


def sign_on(session: Session, identity: str, *, provider: str) -> Outcome:
    """A single sign-on login: ``identity`` is what the identity provider vouched for (an
    e-mail address, or a user name), found as the workspace user with that e-mail address, else
    that name. Refused when there is no such user or they are disabled: a provider's account
    gives no access to a workspace that has not added that person."""
    value = identity.strip() if isinstance(identity, str) else ""
    user = session.scalar(select(User).where(User.email == value.lower())) if value else None
    if user is None and value:
        user = session.scalar(select(User).where(User.name == value))
    if user is None:
        return Outcome(
            None,
            refused=f"no user of this workspace has the e-mail address or name {value!r}: "
            "ask an admin to add you",
        )
    if not user.active:
        return Outcome(None, refused=f"user '{user.name}' is disabled: ask an admin")
    login = session.get(Login, user.id)
    if login is None:  # a person who only ever signs on: no password to log in with
        login = Login(user_id=user.id, password_hash=SIGN_ON_ONLY, failures=0, epoch=1)
        session.add(login)
        session.flush()
    events.record(
        session,
        by=user,
        object_type="user",
        object_id=user.id,
        action="login",
        note=f"single sign-on through {provider}",
    )
    return Outcome(user.name, login.epoch)
