"""Single sign-on through an OpenID Connect provider, with Panel's OAuth login handler.

Optional: ``annotation-kit serve --oidc-issuer URL`` with the client's id and secret in
``$ANNOTATION_KIT_OIDC_CLIENT_ID`` / ``$ANNOTATION_KIT_OIDC_CLIENT_SECRET`` (never on the command
line). The login page then offers "Log in with …"; the provider's answer (the ``email`` claim by
default) is mapped to the workspace user with that e-mail address or name
(:func:`annotation_kit.access.logins.sign_on`) and refused when there is none. The session that
follows is the same signed cookie as a password login; the provider's tokens are not kept.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from panel.auth import GenericLoginHandler

from ..errors import ValidationError
from .auth import Sessions, SignOn, page

__all__ = ["CLIENT_ID_ENV", "CLIENT_SECRET_ENV", "Oidc", "discover", "handler", "sign_on"]

CLIENT_ID_ENV = "ANNOTATION_KIT_OIDC_CLIENT_ID"
CLIENT_SECRET_ENV = "ANNOTATION_KIT_OIDC_CLIENT_SECRET"
ENDPOINT = "/oidc"
PANEL_COOKIES = ("user", "access_token", "id_token", "refresh_token", "oauth_expiry", "is_guest")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Oidc:
    """An OpenID Connect provider as discovered, and this server's client at it."""

    issuer: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    claim: str = "email"
    name: str = "single sign-on"

    def __repr__(self) -> str:  # never the secret
        return f"<Oidc {self.issuer} client {self.client_id!r} claim {self.claim!r}>"


def discover(issuer: str, *, claim: str = "email", name: str = "") -> Oidc:
    """Read the provider's discovery document (``/.well-known/openid-configuration``) and the
    client's credentials from the environment; a clear error names what is missing."""
    client_id = os.environ.get(CLIENT_ID_ENV, "")
    client_secret = os.environ.get(CLIENT_SECRET_ENV, "")
    if not client_id or not client_secret:
        raise ValidationError(
            f"single sign-on needs ${CLIENT_ID_ENV} and ${CLIENT_SECRET_ENV} (the client this "
            "server is registered as at the provider)"
        )
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            document = json.load(answer)
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"cannot read the OpenID provider's configuration at {url}: {exc}"
        ) from None
    missing = [
        key
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint")
        if not isinstance(document.get(key), str)
    ]
    if missing:
        raise ValidationError(f"{url} does not name the provider's {', '.join(missing)}")
    return Oidc(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=document["authorization_endpoint"],
        token_url=document["token_endpoint"],
        userinfo_url=document["userinfo_endpoint"],
        claim=claim,
        name=name or document.get("issuer", issuer),
    )


class _Refused(Exception):
    """The provider vouched for someone this workspace does not let in."""


def handler(oidc: Oidc, sessions: Sessions, prefix: str) -> type:
    """The ``/oidc`` handler: sends the browser to the provider, and on its way back exchanges
    the code (Panel's handler), maps the identity to a user and sets the session cookie."""

    class SignOn(GenericLoginHandler):
        # Panel's handler reads these as properties of its global config; ours are per server
        _login_endpoint = ENDPOINT
        _OAUTH_AUTHORIZE_URL = oidc.authorize_url  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]
        _OAUTH_ACCESS_TOKEN_URL = oidc.token_url  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]
        _OAUTH_USER_URL = oidc.userinfo_url  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]
        _OAUTH_LOGOUT_URL = None  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]
        _USER_KEY = oidc.claim  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]
        _SCOPE = ["openid", "email", "profile"]  # pyright: ignore[reportAssignmentType, reportIncompatibleMethodOverride]

        @property
        def _redirect_uri(self) -> str:
            return f"{self.request.protocol}://{self.request.host}{prefix}{ENDPOINT}"

        async def get(self) -> None:
            try:
                await super().get()
            except _Refused as refused:
                self.redirect(f"{prefix}/login?error={quote(str(refused))}", status=303)

        async def get_authenticated_user(  # type: ignore[override]
            self,
            redirect_uri: str,
            client_id: str,
            state: str,
            client_secret: str | None = None,
            code: str | None = None,
        ) -> Any:
            identity = await super().get_authenticated_user(
                redirect_uri, oidc.client_id, state, client_secret=oidc.client_secret, code=code
            )
            if code is None:  # the browser was sent to the provider
                return None
            for name in PANEL_COOKIES:  # the provider's tokens are not kept in the browser
                self.clear_cookie(name)
            refused = sessions.sign_on(self, str(identity or ""), provider=oidc.name)
            if refused:
                raise _Refused(refused)
            return identity

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            error = kwargs.get("exc_info", (None, None))[1]
            reason = getattr(error, "log_message", None) or "the provider refused the login"
            log.info("single sign-on failed (%s): %s", status_code, reason)
            self.set_header("Content-Type", "text/html")
            self.write(
                page(
                    "login.html",
                    error=f"single sign-on failed: {reason}",
                    next=f"{prefix}/",
                    action=f"{prefix}/login",
                    xsrf=self.xsrf_token.decode(),
                    sso_url="",
                    sso_name="",
                )
            )

    return SignOn


def sign_on(oidc: Oidc, sessions: Sessions, prefix: str) -> SignOn:
    """What the login page offers for ``oidc``: its name and the ``/oidc`` route."""
    return SignOn(oidc.name, ENDPOINT, handler(oidc, sessions, prefix))
