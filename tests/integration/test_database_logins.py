"""People identified by their own PostgreSQL login: real roles on the real server, each
connecting with its own credentials. Once an admin links database logins to users, ``connect()``
acts as the linked user whatever name it is given (admins may still act as others), an unlinked
login is refused, and the worker and the served app act as their own linked service login."""

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from sqlalchemy import text

import annotation_kit as ak
from annotation_kit.app.server import _check_service_login
from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from annotation_kit.jobs import worker
from annotation_kit.store.database import Database
from tests.conftest import PG, _pg_schema, make_team


def _as_role(url: str, role: str) -> str:
    """``url`` with ``role`` as its database login (the test server trusts local logins)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def roles():
    """Logins for ada's service, maya, ann and an unlinked stranger, with the workspace's
    tables granted to each, dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = {who: f"ak_{tag}_{who}" for who in ("service", "maya", "ann", "stranger")}
    schema_url = next(_pg := _pg_schema())
    team = make_team(schema_url)
    schema = schema_url.rsplit("%3D", 1)[1]
    with psycopg.connect(PG, autocommit=True) as conn:
        for role in names.values():
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}")
            conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    urls = {who: _as_role(schema_url, role) for who, role in names.items()}
    try:
        yield team, names, urls | {"owner": schema_url}
    finally:
        team["ada"].close()
        for _ in _pg:  # drops the schema
            pass
        with psycopg.connect(PG, autocommit=True) as conn:
            for role in names.values():
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")


def owner_login(team) -> str:
    with team["ada"].transaction(write=False) as session:
        return str(session.scalar(text("SELECT session_user")))


def test_without_links_connect_acts_as_the_name_given(roles):
    _team, _names, urls = roles
    ws = ak.connect(urls["ann"], user="maya")  # today's behaviour until a team sets links up
    assert ws.user == "maya"
    assert ws.database_logins.links() == {}
    ws.close()


def test_linked_logins_decide_who_connects(roles):
    team, names, urls = roles
    ada = team["ada"]
    with pytest.raises(ValidationError, match="link your own database login"):
        ada.database_logins.link(names["ann"], "ann")  # would lock ada out
    assert ada.database_logins.links() == {}
    ada.database_logins.link(owner_login(team), "ada")
    ada.database_logins.link(names["maya"], "maya")
    ada.database_logins.link(names["ann"], "ann")
    ada.database_logins.link(names["service"], "ada")
    assert ada.database_logins.links()[names["ann"]] == "ann"

    ann = ak.connect(urls["ann"])
    assert ann.user == "ann"
    assert ak.connect(urls["ann"], user="ann").user == "ann"
    with pytest.raises(PermissionDenied, match="identifies you as 'ann'"):
        ak.connect(urls["ann"], user="maya")
    with pytest.raises(PermissionDenied, match="only an admin may act as 'ada'"):
        ak.connect(urls["maya"], user="ada")  # a manager is not an admin
    assert ak.connect(urls["owner"], user="ann").user == "ann"  # the admin may act as others
    with pytest.raises(PermissionDenied, match=f"login '{names['stranger']}' is not linked"):
        ak.connect(urls["stranger"], user="ann")

    # what ann does is recorded as ann, and she cannot relink herself through the library
    ann.users.list_users()
    with pytest.raises(PermissionDenied):
        ann.database_logins.link(names["ann"], "maya")
    with pytest.raises(PermissionDenied):
        ann.as_user("maya")

    ada.users.set_status("ann", "disabled")
    with pytest.raises(PermissionDenied, match="'ann' is disabled"):
        ak.connect(urls["ann"])
    ann.close()


def test_links_are_checked_and_recorded(roles):
    team, names, urls = roles
    ada = team["ada"]
    own = owner_login(team)
    with pytest.raises(ValidationError, match="has no login 'nobody_here'"):
        ada.database_logins.link("nobody_here", "ann")
    with pytest.raises(NotFound, match="no-such-user"):
        ada.database_logins.link(names["ann"], "no-such-user")
    ada.database_logins.link(own, "ada")
    ada.database_logins.link(names["ann"], "ann")
    with pytest.raises(ValidationError, match="would lock you out"):
        ada.database_logins.unlink(own)
    ada.database_logins.unlink(names["ann"])
    ada.database_logins.unlink(own)  # the last link: identification is off again
    assert ak.connect(urls["ann"], user="maya").user == "maya"
    actions = [e.action for e in ada.events.history("user")]
    assert actions.count("link_database_login") == 2
    assert actions.count("unlink_database_login") == 2


def test_the_worker_and_the_server_act_as_their_linked_service_login(roles):
    team, names, urls = roles
    ada = team["ada"]
    ada.database_logins.link(owner_login(team), "ada")
    ada.database_logins.link(names["service"], "ada")
    ada.database_logins.link(names["maya"], "maya")
    assert worker._system_user(urls["service"]) == "ada"
    _check_service_login(ak.connect(urls["service"]).db)  # linked to an admin: may serve
    with pytest.raises(PermissionDenied, match="not an admin"):
        _check_service_login(ak.connect(urls["maya"]).db)
    with pytest.raises(PermissionDenied, match="is not linked"):
        _check_service_login(Database.open(urls["stranger"]))


def test_an_sqlite_workspace_has_no_database_logins(tmp_path):
    ws = ak.connect(f"sqlite:///{tmp_path / 'w.db'}", user="ada")
    with pytest.raises(ValidationError, match="only a PostgreSQL workspace"):
        ws.database_logins.link("postgres", "ada")
    assert ws.database_logins.links() == {}
    ws.close()
