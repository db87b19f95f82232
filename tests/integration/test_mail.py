"""Notifications by e-mail through a real SMTP server (aiosmtpd, started here), on SQLite and
PostgreSQL: only to those who asked, once each, what came after they asked; nothing is lost
when the server is down, and the server's password is never shown."""

from __future__ import annotations

import subprocess
import sys
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from annotation_kit.errors import Busy, ValidationError
from annotation_kit.work.mail import send_pending, smtp_settings
from tests.frontends import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port())
    server.start()
    yield f"smtp://127.0.0.1:{server.port}", inbox
    server.stop()


def test_notifications_are_mailed_once_to_those_who_asked(team, smtp):
    url, inbox = smtp
    ada, maya = team["ada"], team["maya"]
    ada.users.create("mel", "annotator", email="mel@example.org")
    mel = type(maya)(maya.db, "mel")
    [early, later, last] = team.new_datasets_now(3)
    maya.tasks.create("before she asked", datasets=[early], annotators=["mel"])
    assert send_pending(maya, smtp_url=url) == 0  # nobody asked yet
    mel.notifications.set_preferences(email=True)
    assert send_pending(maya, smtp_url=url) == 0  # what came before is not mailed
    task = maya.tasks.create("kitchen", datasets=[later], annotators=["mel", "ann"]).id
    assert send_pending(maya, smtp_url=url) == 1
    [(to, message)] = inbox.messages
    assert to == ["mel@example.org"]
    assert message["Subject"] == "annotation_kit: maya made you annotator of 'kitchen'"
    assert "maya made you annotator of 'kitchen'" in message.get_payload()
    assert send_pending(maya, smtp_url=url) == 0  # mailed once
    # the server is down: nothing is marked mailed, and it goes out once it is back
    maya.tasks.assign(task, reviewers=["rita"])
    maya.tasks.create("third", datasets=[last], annotators=["mel"])
    with pytest.raises(Busy, match="did not take the mail"):
        send_pending(maya, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    assert send_pending(maya, smtp_url=url) == 1
    assert inbox.messages[-1][1]["Subject"] == "annotation_kit: maya made you annotator of 'third'"
    mel.notifications.set_preferences(email=False)
    maya.tasks.assign(task, annotators=["ann"])
    assert send_pending(maya, smtp_url=url) == 0


def test_smtp_settings_are_checked_and_their_password_never_shown(smtp):
    assert smtp_settings("") is None
    assert smtp_settings("smtps://u:p%40ss@mail.example.org")["port"] == 465
    assert smtp_settings("smtp://u:p%40ss@mail.example.org:2525")["password"] == "p@ss"
    with pytest.raises(ValidationError) as refused:
        smtp_settings("http://user:hunter2@mail.example.org")
    assert "hunter2" not in str(refused.value)
    done = subprocess.run(
        [sys.executable, "-m", "annotation_kit.cli", "mail", "--url", "sqlite:///:memory:"],
        capture_output=True,
        text=True,
        env={"PATH": ""},
        check=False,
    )
    assert done.returncode == 1 and "no SMTP server" in done.stderr
