"""Logins for the served app, on SQLite and PostgreSQL: argon2 hashes only, the same answer for
an unknown name and a wrong password, throttling, disabled users, session epochs, who may set
whose password, the first admin, and acting as someone else (admins only)."""

import pytest
from sqlalchemy import select, text

import annotation_kit as ak
from annotation_kit.access import logins
from annotation_kit.store.models import Login, User

SECRET = "correct horse battery staple"


def attempt(team, name, password):
    with team["ada"].db.transaction() as session:
        return logins.authenticate(session, name, password)


def test_a_password_is_stored_as_a_hash_and_checked(team):
    ada = team["ada"]
    assert ada.logins.has_password("ann") is False
    ada.logins.set_password("ann", SECRET)
    assert ada.logins.has_password("ann") is True
    ok = attempt(team, "ann", SECRET)
    assert (ok.ok, ok.user, ok.epoch) == (True, "ann", 1)
    assert attempt(team, "ann", SECRET.upper()).refused == logins.WRONG
    assert attempt(team, "nobody", SECRET).refused == logins.WRONG  # names are not revealed
    assert attempt(team, "rita", SECRET).refused == logins.WRONG  # a user without a password
    with ada.transaction(write=False) as session:
        stored = session.scalar(select(Login.password_hash).join(User).where(User.name == "ann"))
        everything = " ".join(
            str(row) for row in session.execute(text("SELECT * FROM events")).all()
        )
    assert stored.startswith("$argon2id$") and SECRET not in stored
    assert SECRET not in everything and stored not in everything
    assert "set_password" in everything and "login_failed" in everything
    assert "hash" not in repr(ada.users.get("ann")).lower()


def test_failures_are_recorded_and_never_lock_anyone_out(team):
    """Nobody can lock a person out by typing their name: the library counts failures for the
    audit log; throttling is the server's, by name *and* address (tests/unit/test_throttle)."""
    team["ada"].logins.set_password("ann", SECRET)
    for _ in range(12):
        assert attempt(team, "ann", "guess-guess").refused == logins.WRONG
    assert attempt(team, "ann", SECRET).ok
    failed = list(team["ada"].events.history("user", team["ann"].users.get("ann").id))
    assert sum(e.action == "login_failed" for e in failed) == 12


def test_logging_out_ends_every_session_of_the_user(team):
    ada = team["ada"]
    ada.logins.set_password("ann", SECRET)
    before = attempt(team, "ann", SECRET).epoch
    with ada.db.transaction() as session:
        logins.end_sessions(session, "ann")
    assert ada.logins.epoch("ann") == before + 1  # a cookie of epoch `before` is refused
    assert attempt(team, "ann", SECRET).epoch == before + 1


def test_disabled_users_and_epochs(team):
    ada = team["ada"]
    ada.logins.set_password("ann", SECRET)
    assert ada.logins.epoch("ann") == 1
    ada.users.set_status("ann", "disabled")
    assert attempt(team, "ann", SECRET).refused == "user 'ann' is disabled: ask an admin"
    assert ada.logins.epoch("ann") is None  # open sessions end at their next request
    ada.users.set_status("ann", "active")
    assert ada.logins.epoch("ann") == 2  # enabled again: sessions from before stay ended
    ann = team["ann"]
    with pytest.raises(ak.PermissionDenied, match="current password is wrong"):
        ann.logins.set_password("ann", "a new one, long", current="not it at all")
    ann.logins.set_password("ann", "a new one, long", current=SECRET)
    assert ada.logins.epoch("ann") == 3  # every session of the old password ends
    assert not attempt(team, "ann", SECRET).ok
    assert attempt(team, "ann", "a new one, long").epoch == 3


def test_who_may_set_a_password_and_what_is_accepted(team):
    with pytest.raises(ak.PermissionDenied, match="may not set another user's password"):
        team["maya"].logins.set_password("ann", SECRET)
    with pytest.raises(ak.ValidationError, match="at least 8 characters"):
        team["ada"].logins.set_password("ann", "short")
    team["ada"].users.create("margarethe", "reviewer")
    with pytest.raises(ak.ValidationError, match="must not be the user name"):
        team["ada"].logins.set_password("margarethe", "Margarethe")
    with pytest.raises(ak.ValidationError, match="at most 1024"):
        team["ada"].logins.set_password("ann", "x" * 1025)
    team["maya"].logins.set_password("maya", SECRET)  # a first password needs no current one
    assert attempt(team, "maya", SECRET).ok


def test_the_first_admin(db_url):
    with _database(db_url) as session:
        assert logins.bootstrap_admin(session, "root", SECRET) is True
    with _database(db_url) as session:
        assert logins.bootstrap_admin(session, "other", SECRET) is False  # one exists already
        assert logins.authenticate(session, "root", SECRET).ok
        role = session.scalar(select(User.role).where(User.name == "root"))
    assert role == "admin"


def _database(url):
    from annotation_kit.store.database import Database

    return Database.open(url).transaction()


def test_only_admins_act_as_someone_else(team):
    with pytest.raises(ak.PermissionDenied, match="may not act as another user"):
        team["maya"].as_user("ann")
    assert team["ada"].as_user("ann").user == "ann"


def test_a_single_sign_on_identity_finds_its_user_by_email_then_name(team):
    ada = team["ada"]
    ada.users.set_email("ann", "Ann@Example.org ")
    assert ada.users.get("ann").email == "ann@example.org"
    with pytest.raises(ak.errors.ValidationError, match="another user \\(ann\\) has"):
        ada.users.set_email("rita", "ANN@example.org")
    with pytest.raises(ak.errors.ValidationError, match="is not an e-mail address"):
        ada.users.set_email("rita", "rita at example")
    with pytest.raises(ak.errors.PermissionDenied):
        team["rita"].users.set_email("ann", "x@example.org")
    team["rita"].users.set_email("rita", "rita@example.org")  # anyone may set their own

    with ada.transaction() as session:
        by_email = logins.sign_on(session, "ANN@example.org", provider="idp")
        by_name = logins.sign_on(session, "maya", provider="idp")
        unknown = logins.sign_on(session, "who@example.org", provider="idp")
        disabled = logins.sign_on(session, "dis", provider="idp")
    assert (by_email.user, by_name.user) == ("ann", "maya")
    assert "no user of this workspace" in unknown.refused and not unknown.ok
    assert "disabled" in disabled.refused
    # a user who only signs on has a session epoch but no password that matches anything
    assert ada.logins.has_password("maya") is False
    assert attempt(team, "maya", "").refused == logins.WRONG
    with ada.transaction(write=False) as session:
        assert logins.epoch(session, "maya") == 1
    ada.logins.set_password("maya", SECRET)  # a password can be added later
    assert attempt(team, "maya", SECRET).ok
