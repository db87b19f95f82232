"""The served app's doors, spoken to over plain HTTP as a script or an attacker would: login
and logout carry CSRF tokens, logout ends the session on the server (a captured cookie
replayed is refused), a forged ``next`` is a bad request, the login pages cannot be framed,
and throttling by name *and* address: a name typed wrong from one address is stopped there
only, with the same answer as an unknown name, and the person logs in from their own address.
The server sits behind a "proxy" (``--forwarded-allow-ips``) so each test client has its own
address."""

from __future__ import annotations

import re

import httpx
import pytest

from annotation_kit.app import throttle
from tests.ui.test_served_app import PASSWORDS, Served


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("doors")
    server = Served(f"sqlite:///{folder / 'ws.db'}", folder, ["--forwarded-allow-ips", "127.0.0.1"])
    yield server
    server.stop()


def client(served: Served, address: str) -> httpx.Client:
    return httpx.Client(
        base_url=served.base, headers={"X-Forwarded-For": address}, follow_redirects=False
    )


def form_token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def log_in(http: httpx.Client, name: str, password: str, next_: str = "/") -> httpx.Response:
    page = http.get("/login")
    return http.post(
        "/login",
        data={
            "username": name,
            "password": password,
            "next": next_,
            "_xsrf": form_token(page.text, "_xsrf"),
        },
    )


def error_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303
    return httpx.URL(answer.headers["location"]).params.get("error", "")


def test_login_needs_its_token_and_cannot_be_framed(served):
    with client(served, "10.9.0.1") as http:
        page = http.get("/login")
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        forged = http.post("/login", data={"username": "ann", "password": PASSWORDS["ann"]})
        assert forged.status_code == 403 and "annotation_kit" not in forged.cookies
        other = http.post(
            "/login",
            data={"username": "ann", "password": PASSWORDS["ann"], "_xsrf": "2|00|00|00"},
        )
        assert other.status_code == 403
        assert log_in(http, "ann", PASSWORDS["ann"]).status_code == 303
        assert http.get("/work").status_code == 200


def test_a_control_character_in_next_is_a_bad_request(served):
    with client(served, "10.9.0.2") as http:
        assert http.get("/login", params={"next": "/work\r\nSet-Cookie: x=1"}).status_code == 400
        answer = log_in(http, "ann", PASSWORDS["ann"], next_="/work\r\nX-Evil: 1")
        assert answer.status_code == 400 and "x-evil" not in answer.headers


def test_logout_ends_the_session_on_the_server(served):
    with client(served, "10.9.0.3") as http:
        log_in(http, "rita", PASSWORDS["rita"])
        captured = http.cookies["annotation_kit"]
        assert http.get("/review").status_code == 200
        assert http.post("/logout").status_code == 403  # no token: another site's form
        assert http.get("/review").status_code == 200  # still logged in
        confirm = http.get("/logout")  # a GET only asks
        assert http.get("/review").status_code == 200
        token = form_token(confirm.text, "token")
        assert http.post("/logout", data={"token": token}).status_code == 200
    with client(served, "10.9.0.3") as replay:
        replay.cookies.set("annotation_kit", captured)
        answer = replay.get("/review")
        assert answer.status_code == 302 and "/login" in answer.headers["location"]
    with client(served, "10.9.0.3") as http:  # a new login works
        assert log_in(http, "rita", PASSWORDS["rita"]).status_code == 303
        assert http.get("/review").status_code == 200


def test_throttling_locks_a_name_at_one_address_only_and_reveals_nothing(served):
    with client(served, "10.9.1.1") as attacker:
        for _ in range(throttle.PAIR_FAILURES):
            assert error_of(log_in(attacker, "vic", "not-the-password")) == (
                "wrong user name or password"
            )
        locked = error_of(log_in(attacker, "vic", PASSWORDS["vic"]))
        unknown = error_of(log_in(attacker, "nobody-here", "not-the-password"))
        wrong = error_of(log_in(attacker, "maya", "not-the-password"))
        assert locked == unknown == wrong == "wrong user name or password"
        assert "annotation_kit" not in attacker.cookies
    with client(served, "10.9.1.2") as vic:  # vic herself, from her own address
        assert log_in(vic, "vic", PASSWORDS["vic"]).status_code == 303
        assert vic.get("/statistics").status_code == 200


def test_an_address_that_fails_often_waits_and_others_do_not(served):
    with client(served, "10.9.2.1") as flood:
        for n in range(throttle.ADDRESS_FAILURES):
            log_in(flood, f"guess{n}", "not-the-password")
        assert "from this address" in error_of(log_in(flood, "ann", PASSWORDS["ann"]))
    with client(served, "10.9.2.2") as other:
        assert log_in(other, "ann", PASSWORDS["ann"]).status_code == 303


def test_serve_says_when_no_roots_confine_managers(served):
    said = served.log.read_text()
    assert "no $ANNOTATION_KIT_ROOTS: managers may import from and export to any path" in said
