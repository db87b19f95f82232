"""Single sign-on in Chromium against a real ``annotation-kit serve --oidc-issuer`` and a real
OpenID Connect provider (oidc-provider-mock, an authlib server for tests), on SQLite and on
PostgreSQL: the provider's e-mail claim finds the workspace user, who then has the same session
as a password login; an identity the workspace does not know, a disabled user and an answer
without the claim are refused with a clear message; the provider's tokens never reach the
browser and the client secret never reaches the log."""

from __future__ import annotations

import oidc_provider_mock
import pytest

from tests.conftest import _empty_database
from tests.ui.conftest import shot
from tests.ui.test_served_app import PAGES, Served

CLIENT_SECRET = "the client secret the provider issued"
PEOPLE = {
    "maya-at-idp": {"email": "Maya@Example.org"},  # the case differs from the workspace's
    "stranger-at-idp": {"email": "stranger@example.org"},
    "dis-at-idp": {"email": "dis@example.org"},
    "no-email-at-idp": {"name": "Nobody"},
}


@pytest.fixture(scope="module")
def provider():
    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in PEOPLE.items()]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory, provider):
    for url in _empty_database(request.param, tmp_path_factory):
        server = Served(
            url,
            tmp_path_factory.mktemp("sso"),
            extra=["--oidc-issuer", provider, "--oidc-name", "Test SSO"],
            env={
                "ANNOTATION_KIT_OIDC_CLIENT_ID": "annotation-kit",
                "ANNOTATION_KIT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            },
        )
        ada = server.team["ada"]
        ada.users.set_email("maya", "maya@example.org")
        ada.users.set_status("dis", "active")
        ada.users.set_email("dis", "dis@example.org")
        ada.users.set_status("dis", "disabled")
        yield server
        server.stop()


def sign_on(page, served: Served, subject: str) -> None:
    page.goto(f"{served.base}/login")
    page.click("[data-testid=sso] >> text=Log in with Test SSO")
    page.click(f"button[value='{subject}']")  # the provider's own authorization form


def test_a_provider_identity_logs_in_as_the_user_with_that_email(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_on(page, served, "maya-at-idp")
    page.wait_for_selector("[data-testid=pages]")
    assert page.inner_text("[data-testid=who]").startswith("maya")
    shown = {
        link.get_attribute("data-testid").removeprefix("nav-")
        for link in page.locator("[data-testid^=nav-]").all()
    }
    assert shown == PAGES["maya"]
    assert context.request.get(f"{served.base}/admin").status == 404  # no such page
    cookies = {c["name"] for c in context.cookies()}
    assert "annotation_kit" in cookies
    assert not cookies & {"access_token", "id_token", "refresh_token", "user"}
    shot(page, "served_single_sign_on")
    notes = [e.note for e in served.team["ada"].events.history("user") if e.action == "login"]
    assert "single sign-on through Test SSO" in notes
    context.close()


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("stranger-at-idp", "no user of this workspace has the e-mail address or name"),
        ("dis-at-idp", "user 'dis' is disabled"),
        ("no-email-at-idp", "single sign-on failed"),
    ],
)
def test_identities_the_workspace_does_not_let_in_are_refused(served, page, subject, message):
    sign_on(page, served, subject)
    page.wait_for_selector(f"[data-testid=login-error] >> text={message}")
    assert all(c["name"] != "annotation_kit" for c in page.context.cookies())
    assert page.context.request.get(f"{served.base}/work", max_redirects=0).status == 302


def test_the_client_secret_is_not_logged(served):
    assert CLIENT_SECRET not in served.log.read_text()
