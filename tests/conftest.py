"""Shared fixtures: a fresh workspace on SQLite (a file) and on PostgreSQL (a fresh schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import annotation_kit as ak
from annotation_kit.access.workflow import Status
from annotation_kit.data import datasets
from annotation_kit.store.models import Annotation, AnnotationKind
from annotation_kit.work import tasks

PG = os.environ.get("ANNOTATION_KIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _sample_data() -> Path:
    """``shared/data`` beside the clone (as CI lays it out), or ``$ANNOTATION_KIT_SAMPLE_DATA``."""
    if env := os.environ.get("ANNOTATION_KIT_SAMPLE_DATA"):
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "README.md").exists():
            return parent / "shared" / "data"
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


SAMPLE_DATA = _sample_data()
SECOND = 1_000_000_000


def _pg_schema() -> Iterator[str]:
    schema = f"ak_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:  # a real part is missing: fail, never skip
        pytest.fail(f"PostgreSQL is not reachable at {PG}: {exc}")
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _empty_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('ws') / 'workspace.db'}"
    else:
        yield from _pg_schema()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A URL to an empty database, once per backend."""
    yield from _empty_database(request.param, tmp_path_factory)


TEAM = {
    "maya": "manager",
    "ann": "annotator",
    "ann2": "annotator",
    "rita": "reviewer",
    "rita2": "reviewer",
    "vic": "visitor",
    "col": "collector",
    "dis": "annotator",
}


@dataclass
class Team:
    """Workspace handles for a small team; ``ada`` is the admin."""

    ws: dict[str, ak.Workspace]
    dataset_ids: list[int]

    def __getitem__(self, name: str) -> ak.Workspace:
        return self.ws[name]

    def task(
        self,
        status: Status | str = Status.PENDING,
        *,
        n_datasets: int = 2,
        name: str = "task",
        annotated: bool = False,
    ):
        """A task assigned to ann (annotator) and rita (reviewer), put directly in ``status``.

        ``annotated=True`` gives every dataset an episode-level annotation, so it can be submitted.
        """
        maya = self.ws["maya"]
        with maya.transaction() as s:
            me = maya.me(s)
            ids = self.new_datasets(s, maya, n_datasets)
            task = tasks.create(
                s, name, datasets=ids, annotators=["ann"], reviewers=["rita"], by=me
            )
            if annotated:
                for dataset_id in ids:
                    s.add(
                        Annotation(
                            task_id=task.id,
                            dataset_id=dataset_id,
                            author_id=me.id,
                            kind=AnnotationKind.EPISODE,
                        )
                    )
            task.status = Status(status)
        return tasks_get(maya, task.id)

    def new_datasets_now(self, n: int) -> list[int]:
        """Register ``n`` one-minute datasets (as maya) in their own transaction."""
        maya = self.ws["maya"]
        with maya.transaction() as s:
            return self.new_datasets(s, maya, n)

    def new_datasets(self, session, ws: ak.Workspace, n: int) -> list[int]:
        me = ws.me(session)
        made = []
        for _ in range(n):
            uri = f"test://{uuid.uuid4().hex}.mcap"
            made.append(
                datasets.register(
                    session,
                    name=uri[7:15],
                    source_uri=uri,
                    format="mcap",
                    duration_ns=60 * SECOND,
                    by=me,
                ).id
            )
        return made


def tasks_get(ws: ak.Workspace, task_id: int):
    with ws.transaction(write=False) as s:
        return tasks.get(s, task_id)


def make_team(url: str) -> Team:
    admin = ak.connect(url, user="ada")
    for name, role in TEAM.items():
        admin.users.create(name, role)
    admin.users.set_status("dis", "disabled")
    handles = {"ada": admin} | {name: ak.Workspace(admin.db, name) for name in TEAM}
    return Team(ws=handles, dataset_ids=[])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One team per backend shared by a whole test module (for large parametrised matrices)."""
    for url in _empty_database(request.param, tmp_path_factory):
        made = make_team(url)
        yield made
        made["ada"].close()


@pytest.fixture
def team(db_url: str) -> Iterator[Team]:
    made = make_team(db_url)
    yield made
    leaked = made["ada"].db.engine.pool.checkedout()
    made["ada"].close()
    assert leaked == 0, f"{leaked} database connection(s) left checked out after the test"


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server (moto) on 127.0.0.1, with credentials in the environment only."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    names = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    yield names["AWS_ENDPOINT_URL"]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each tier's marker, from its folder: ``-m "not ui"``, ``-m consumer``..."""
    tiers = {"unit": pytest.mark.unit, "integration": pytest.mark.integration}
    tiers["ui"] = pytest.mark.ui
    tiers["consumers"] = pytest.mark.consumer
    for item in items:
        tier = tiers.get(item.path.parent.name)
        if tier is not None:
            item.add_marker(tier)
