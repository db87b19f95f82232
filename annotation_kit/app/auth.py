"""Who is asking: the login page, the session cookie and the check every request passes.

The cookie (``annotation_kit``) is signed with the server's secret and says ``name|epoch``; it
is only good while the user is active and their login epoch (:mod:`annotation_kit.access.logins`) is
the same, so disabling a user or changing their password ends their open sessions at once.
Nothing else a browser sends — query, URL or widget message — names a user.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import os
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tornado.web
from bokeh.server.auth_provider import AuthProvider
from tornado.web import decode_signed_value

from ..access import logins
from ..store.database import Database
from ..store.models import NAME_MAX
from .throttle import FROM_ADDRESS, Throttle

log = logging.getLogger(__name__)

COOKIE = "annotation_kit"
SECRET_ENV = "ANNOTATION_KIT_COOKIE_SECRET"
SECRET_FILE = "cookie-secret"
HERE = Path(__file__).parent


def cookie_secret(folder: Path) -> str:
    """The secret that signs session cookies: ``$ANNOTATION_KIT_COOKIE_SECRET``, else the file
    ``cookie-secret`` in ``folder`` (made with mode 0600 on first use; refused if others may
    read it). Never a command-line argument, which would land in shell history and ``ps``."""
    if from_env := os.environ.get(SECRET_ENV):
        if len(from_env) < 32:
            raise ValueError(f"${SECRET_ENV} must be at least 32 characters long")
        return from_env
    path = folder / SECRET_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(
            f"{path} may be read by other users (mode {mode:o}); run: chmod 600 {path}"
        )
    return path.read_text().strip()


_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="login")
"""Where passwords are checked: one thread, never the event loop, so a flood of logins leaves
pages answering (and at most one core hashing)."""


class Sessions:
    """Issues and checks session cookies against the workspace's logins."""

    def __init__(
        self, db: Database, secret: str, *, hours: float = 12, trusted: tuple[str, ...] = ()
    ) -> None:
        self.db, self.secret, self.hours = db, secret, hours
        self.throttle = Throttle(trusted)

    @property
    def max_age_days(self) -> float:
        """How long a cookie is good for, in days (tornado's unit)."""
        return self.hours / 24

    def user_of(self, value: str | bytes | None) -> str | None:
        """The user a signed cookie value stands for, if it is still good."""
        found = self.login_of(value)
        return found[0] if found else None

    def login_of(self, value: str | bytes | None) -> tuple[str, int] | None:
        """The user and login epoch a signed cookie value stands for, if it is still good."""
        if not value:
            return None
        decoded = decode_signed_value(self.secret, COOKIE, value, max_age_days=self.max_age_days)
        if decoded is None:
            return None
        name, _, epoch = decoded.decode("utf-8").rpartition("|")
        with self.db.transaction(write=False) as session:
            current = logins.epoch(session, name)
        return (name, current) if current is not None and str(current) == epoch else None

    def logout_token(self, value: str | bytes | None) -> str:
        """The token a logout form must send with the session cookie ``value`` (a page of
        another site cannot know it, so it cannot log a person out)."""
        raw = value.encode() if isinstance(value, str) else value or b""
        return hmac.new(self.secret.encode(), b"logout|" + raw, hashlib.sha256).hexdigest()

    async def login(self, handler: tornado.web.RequestHandler, name: str, password: str) -> str:
        """Check a login and set the cookie; the reason if refused ('' when logged in)."""
        request = handler.request
        address = self.throttle.address(request.remote_ip, request.headers.get("X-Forwarded-For"))
        if self.throttle.refused_address(address):
            return FROM_ADDRESS
        name = name[: NAME_MAX + 1]
        if delay := self.throttle.delay(name):
            await asyncio.sleep(delay)
        locked = self.throttle.refused_pair(name, address)
        outcome = await asyncio.get_running_loop().run_in_executor(
            _HASHING, self._authenticate, name, password, locked
        )
        if not outcome.ok:
            self.throttle.failed(name, address)
            log.info("login refused for a user from %s", address)
            return outcome.refused
        self.throttle.succeeded(name, address)
        self._issue(handler, outcome)
        return ""

    def _authenticate(self, name: str, password: str, locked: bool) -> logins.Outcome:
        if locked:  # the same answer, after the same work, as a wrong password
            return logins.refuse(password)
        with self.db.transaction() as session:
            return logins.authenticate(session, name, password)

    def logout(self, value: str | bytes | None) -> None:
        """End every session of the user of cookie ``value`` on the server."""
        found = self.login_of(value)
        if found is not None:
            with self.db.transaction() as session:
                logins.end_sessions(session, found[0])

    def sign_on(self, handler: tornado.web.RequestHandler, identity: str, *, provider: str) -> str:
        """Set the cookie for a single sign-on identity; the reason if refused."""
        with self.db.transaction() as session:
            outcome = logins.sign_on(session, identity, provider=provider)
        if not outcome.ok:
            log.info("single sign-on refused from %s", handler.request.remote_ip)
            return outcome.refused
        self._issue(handler, outcome)
        return ""

    def _issue(self, handler: tornado.web.RequestHandler, outcome: logins.Outcome) -> None:
        handler.set_secure_cookie(
            COOKIE,
            f"{outcome.user}|{outcome.epoch}",
            expires_days=self.max_age_days,
            httponly=True,
            samesite="Lax",
            path="/",
        )
        log.info("%s logged in from %s", outcome.user, handler.request.remote_ip)


def _next(value: str, prefix: str) -> str:
    """Where to go after logging in: a path on this server, never another site; a control
    character (a forged header line) is a bad request."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise tornado.web.HTTPError(400, "a control character in 'next'")
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return prefix + "/"
    return value


@dataclass(frozen=True)
class SignOn:
    """A single sign-on route the login page offers: its name, path and request handler."""

    name: str
    path: str
    handler: type


class Provider(AuthProvider):
    """The Bokeh auth provider of ``annotation-kit serve``: our login page, our cookie."""

    def __init__(self, sessions: Sessions, prefix: str = "", sign_on: SignOn | None = None) -> None:
        self.sessions, self.prefix, self.sign_on = sessions, prefix, sign_on
        super().__init__()

    @property
    def endpoints(self) -> list[tuple[str, type]]:
        """The login and logout pages, and the single sign-on handler when there is one."""
        routes = list(super().endpoints)
        if self.sign_on is not None:
            routes.append((self.sign_on.path, self.sign_on.handler))
        return routes

    @property
    def get_user(self) -> Any:
        """The logged-in user of a request (its cookie), or None: pages redirect to the login
        page and websockets are refused."""
        sessions = self.sessions

        def get_user(handler: tornado.web.RequestHandler) -> str | None:
            return sessions.user_of(handler.get_cookie(COOKIE))

        return get_user

    @property
    def login_url(self) -> str:
        """The login page."""
        return "/login"

    @property
    def login_handler(self) -> type:
        """Serves the login page and checks what it posts."""
        sessions, prefix, sso = self.sessions, self.prefix, self.sign_on

        class Login(PageHandler):
            def get(self) -> None:
                target = _next(self.get_argument("next", ""), prefix)
                self.write(
                    page(
                        "login.html",
                        error=self.get_argument("error", ""),
                        next=target,
                        action=f"{prefix}/login",
                        xsrf=self.xsrf_token.decode(),
                        sso_url=f"{prefix}{sso.path}?next={quote(target)}" if sso else "",
                        sso_name=sso.name if sso else "",
                    )
                )

            async def post(self) -> None:
                self.check_xsrf_cookie()  # the form's token and this browser's cookie agree
                name = self.get_argument("username", "")
                password = self.get_argument("password", "")
                target = _next(self.get_argument("next", ""), prefix)
                refused = await sessions.login(self, name, password)
                if refused:
                    self.redirect(
                        f"{prefix}/login?error={quote(refused)}&next={quote(target)}", status=303
                    )
                else:
                    self.redirect(target, status=303)

        return Login

    @property
    def logout_url(self) -> str:
        """Ends the session."""
        return "/logout"

    @property
    def logout_handler(self) -> type:
        """Ends the session on the server (POST, with the token the pages' logout button
        sends), clears the cookie and shows a page to log in again. A GET asks first."""
        sessions, prefix = self.sessions, self.prefix

        class Logout(PageHandler):
            def get(self) -> None:
                cookie = self.get_cookie(COOKIE)
                if sessions.login_of(cookie) is None:
                    self.write(page("logout.html", action=f"{prefix}/login"))
                    return
                self.write(
                    page(
                        "confirm_logout.html",
                        action=f"{prefix}/logout",
                        token=sessions.logout_token(cookie),
                    )
                )

            def post(self) -> None:
                cookie = self.get_cookie(COOKIE)
                if not hmac.compare_digest(
                    self.get_argument("token", ""), sessions.logout_token(cookie)
                ):
                    raise tornado.web.HTTPError(403, "a logout without this session's token")
                sessions.logout(cookie)
                self.clear_cookie(COOKIE, path="/")
                self.write(page("logout.html", action=f"{prefix}/login"))

        return Logout


class PageHandler(tornado.web.RequestHandler):
    """Our own pages (login, logout): never cached, never inside another site's frame."""

    def set_default_headers(self) -> None:
        """Headers on every answer, errors included."""
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", "frame-ancestors 'none'")


def page(name: str, **values: str) -> str:
    """One of the package's HTML pages with ``{key}`` filled in (escaped)."""
    text = (HERE / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", html.escape(value, quote=True))
    return text
