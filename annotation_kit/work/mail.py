"""Notifications by e-mail: to each person who asked for it
(``ws.notifications.set_preferences(email=True)``), what they were told of and not mailed yet,
as one message, through the SMTP server the workspace's settings name.

Settings (environment only: a password is never stored in the database or shown):

- ``ANNOTATION_KIT_SMTP``: ``smtp://[user:password@]host[:port]`` (STARTTLS when the server
  offers it) or ``smtps://...`` (TLS from the start). Without it nothing is mailed.
- ``ANNOTATION_KIT_MAIL_FROM``: the sender (default ``annotation-kit@localhost``).

Workers send on their own schedule (:mod:`annotation_kit.jobs.worker`); ``annotation-kit mail``
sends once. Each person's message is sent inside a transaction that holds their row and moves
their mark, so workers on several machines never mail the same notification twice.
"""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from ..errors import Busy, ValidationError
from ..store.locations import scrub
from ..store.models import User
from . import notifications

__all__ = ["send_pending", "smtp_settings"]

SMTP_ENV = "ANNOTATION_KIT_SMTP"
FROM_ENV = "ANNOTATION_KIT_MAIL_FROM"
MARK = "mailed"
"""Where the id of the newest event already mailed is kept, among the person's settings."""
TIMEOUT_S = 20


def smtp_settings(url: str | None = None) -> dict[str, Any] | None:
    """The SMTP server of ``url`` (default: ``$ANNOTATION_KIT_SMTP``), or None when unset."""
    url = url if url is not None else os.environ.get(SMTP_ENV, "")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationError(
            f"{SMTP_ENV} must be smtp://[user:password@]host[:port] or smtps://..., "
            f"not {scrub(url)!r}"
        )
    return {
        "tls": parts.scheme == "smtps",
        "host": parts.hostname,
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def _connect(settings: dict[str, Any]) -> smtplib.SMTP:
    kind = smtplib.SMTP_SSL if settings["tls"] else smtplib.SMTP
    try:
        server = kind(settings["host"], settings["port"], timeout=TIMEOUT_S)
        if not settings["tls"]:
            server.ehlo()
            if server.has_extn("starttls"):
                server.starttls()
                server.ehlo()
        if settings["user"]:
            server.login(settings["user"], settings["password"])
    except (OSError, smtplib.SMTPException) as exc:
        raise Busy(
            f"the mail server {settings['host']}:{settings['port']} did not take the mail "
            f"({type(exc).__name__}: {scrub(str(exc))}); nothing was marked mailed, it is "
            "sent on the next try"
        ) from None
    return server


def _message(sender: str, user: User, told: list[notifications.Notification]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = user.email or ""
    message["Subject"] = (
        f"annotation_kit: {told[0].text}"
        if len(told) == 1
        else f"annotation_kit: {len(told)} new notifications"
    )
    lines = [f"Hello {user.name},", ""]
    lines += [f"- {n.at:%Y-%m-%d %H:%M} UTC  {n.text}" for n in reversed(told)]
    lines += ["", "(You asked to be mailed your notifications; change it in your settings.)"]
    message.set_content("\n".join(lines))
    return message


def send_pending(workspace: Any, *, smtp_url: str | None = None) -> int:
    """Mail each person who asked for it what they have been told of since their last mail;
    returns the number of messages sent (0 without an SMTP server)."""
    settings = smtp_settings(smtp_url)
    if settings is None:
        return 0
    sender = os.environ.get(FROM_ENV, "annotation-kit@localhost")
    with workspace.transaction(write=False) as session:
        wanting = [
            u.id
            for u in session.scalars(select(User).where(User.email.is_not(None)))
            if u.active and ((u.preferences or {}).get(notifications.SETTINGS) or {}).get("email")
        ]
    sent = 0
    server: smtplib.SMTP | None = None
    try:
        for user_id in wanting:
            with workspace.transaction() as session:
                user = session.get(User, user_id, with_for_update=True)  # one sender at a time
                assert user is not None
                mark = int((user.preferences or {}).get(MARK, 0))
                told = [
                    n
                    for n in notifications.list_notifications(session, limit=100, by=user)
                    if n.id > mark
                ]
                if not told:
                    continue
                if server is None:
                    server = _connect(settings)
                try:
                    server.send_message(_message(sender, user, told))
                except (OSError, smtplib.SMTPException) as exc:
                    raise Busy(
                        f"the mail server refused the message to {user.name} "
                        f"({type(exc).__name__}: {scrub(str(exc))}); it is sent on the next try"
                    ) from None
                kept = dict(user.preferences or {}) | {MARK: max(n.id for n in told)}
                user.preferences = kept
                sent += 1
    finally:
        if server is not None:
            server.quit()
    return sent
