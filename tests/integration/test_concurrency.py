"""Several processes writing to one workspace at once: no lost update, no 'database is locked'."""

import multiprocessing
import os
import traceback

import annotation_kit as ak
from tests.conftest import _pg_schema, make_team

WORKERS = 4
ROUNDS = 40
SECOND = 1_000_000_000


def _worker(url: str, worker: int, task_id: int, dataset_id: int, shared_id: int, out) -> None:
    try:
        ws = ak.connect(url, user="ann")
        conflicts = 0
        for i in range(ROUNDS):
            # a blind insert ...
            ws.annotations.add(
                task_id,
                dataset_id,
                start_ns=i * SECOND,
                end_ns=(i + 1) * SECOND,
                description=f"w{worker}-{i}",
            )
            # ... and a read-modify-write of one shared row, retried on conflict as a UI would
            while True:
                current = ws.annotations.get(shared_id)
                try:
                    ws.annotations.update(
                        shared_id,
                        expected_version=current.version,
                        description=current.description + f" w{worker}-{i}",
                    )
                    break
                except ak.ConflictError:
                    conflicts += 1
        out.put(("ok", worker, conflicts))
    except Exception:
        out.put(("error", worker, traceback.format_exc()))


def test_four_processes_lose_no_update(team):
    task = team.task("in_progress", n_datasets=1)
    dataset = team["ada"].tasks.task_dataset_ids(task.id)[0]
    shared = team["ann"].annotations.add(task.id, dataset, description="start")
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    procs = [
        context.Process(target=_worker, args=(team["ada"].url, w, task.id, dataset, shared.id, out))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    errors = [r[2] for r in results if r[0] == "error"]
    assert not errors, "\n".join(errors)
    final = team["ada"].annotations.get(shared.id)
    tokens = final.description.split()[1:]
    assert sorted(tokens) == sorted(f"w{w}-{i}" for w in range(WORKERS) for i in range(ROUNDS))
    assert final.version == 1 + WORKERS * ROUNDS
    assert len(team["ada"].annotations.list_annotations(task.id)) == 1 + WORKERS * ROUNDS
    updates = [
        e
        for e in team["ada"].events.history("annotation", shared.id, limit=1000)
        if e.action == "update"
    ]
    assert len(updates) == WORKERS * ROUNDS


def _open(url: str, out) -> None:
    try:
        ws = ak.connect(url, user="ada")
        out.put(("ok", ws.users.list_users()[0].name))
    except Exception:
        out.put(("error", traceback.format_exc()))


def test_processes_opening_an_empty_database_at_once_migrate_it_once(db_url):
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    procs = [context.Process(target=_open, args=(db_url, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [r for r in results if r[0] == "error"] == []
    assert {r[1] for r in results} == {"ada"}
    assert [u.name for u in ak.connect(db_url, user="ada").users.list_users()] == ["ada"]


def test_a_first_user_made_by_another_process_between_count_and_create(monkeypatch):
    """The interleaving CI met once on PostgreSQL: this process counts no users, another makes
    the same first user and commits, then our name check sees it. The connect tries again and
    finds a workspace with users — no "already exists" error reaches the person. (On SQLite a
    writer holds the database from its first statement: the other process waits, no race.)"""
    for db_url in _pg_schema():
        _first_user_race(db_url, monkeypatch)


def _first_user_race(db_url: str, monkeypatch) -> None:
    from annotation_kit.access import users
    from annotation_kit.access.workflow import Role
    from annotation_kit.store.database import Database

    other = Database.open(db_url)  # the other process: its own connections
    create = users.create
    raced = []

    def create_after_the_other(session, name, role, **kwargs):
        if not raced:
            raced.append(name)
            with other.transaction() as theirs:
                create(theirs, name, Role.ADMIN, by=None)
        return create(session, name, role, **kwargs)

    monkeypatch.setattr(users, "create", create_after_the_other)
    ws = ak.connect(db_url, user="ada")
    assert raced == ["ada"]
    assert [(u.name, u.role) for u in ws.users.list_users()] == [("ada", Role.ADMIN)]
    other.dispose()


STRESS_S = float(os.environ.get("ANNOTATION_KIT_STRESS_S", "60"))


def _writer(url: str, worker: int, task_id: int, dataset_id: int, seconds: float, out) -> None:
    """Writes for ``seconds``: every failure that is not the library's own is reported."""
    import time

    try:
        ws = ak.connect(url, user="ann")
        writes = busy = 0
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            try:
                ws.annotations.add(task_id, dataset_id, description=f"w{worker}-{writes}")
                writes += 1
            except ak.Busy:
                busy += 1
        out.put(("ok", worker, writes, busy))
    except Exception:
        out.put(("error", worker, traceback.format_exc(), 0))


def test_eight_sqlite_writers_for_a_minute_never_see_database_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    task = team.task("in_progress", n_datasets=1)
    dataset = team["ada"].tasks.task_dataset_ids(task.id)[0]
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    procs = [
        context.Process(target=_writer, args=(url, w, task.id, dataset, STRESS_S, out))
        for w in range(8)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=STRESS_S + 180) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    errors = [r[2] for r in results if r[0] == "error"]
    assert not errors, "\n".join(errors)
    writes = sum(r[2] for r in results)
    assert sum(r[3] for r in results) == 0  # no writer waited past the bound either
    stored = team["ada"].annotations.list_annotations(task.id, dataset=dataset)
    assert len(stored) == writes > 8 * STRESS_S  # every write that returned is there
