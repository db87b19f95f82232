"""Regression tests for what an attack on the store found (issue 14), on SQLite and PostgreSQL."""

import pytest

import annotation_kit as ak
from annotation_kit.data import dataset_queries, synthetic
from annotation_kit.formats import mcap as mcap_format

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "duration", "min_s": "abc"}, "min_s must be a number"),
        ({"kind": "duration", "min_s": 5, "max_s": 2}, "min_s is above max_s"),
        ({"kind": "duration", "max_s": float("nan")}, "nan at 'max_s'"),
        ({"kind": "required", "streams": 5}, "streams must be"),
        ({"kind": "required", "streams": []}, "streams must be"),
        ({"kind": "forbidden", "streams": ["/a", None]}, "streams must be"),
        ({"kind": "min_rate", "hz": "10"}, "hz must be a number"),
        ({"kind": "min_rate", "hz": True}, "hz must be a number"),
        ({"kind": "min_rate", "hz": 0}, "above 0"),
        ({"kind": "required", "streams": "/a", "hz": 3}, "unknown setting 'hz'"),
        ({"kind": "required", "severity": "fatal"}, "severity must be"),
    ],
)
def test_invalid_rules_are_refused_and_imports_go_on(team, tmp_path, rule, message):
    maya = team["maya"]
    maya.projects.create("lab")
    maya.checks.set_rules("lab", [{"kind": "duration", "min_s": 1}])
    with pytest.raises(ak.ValidationError, match=f"(rule 1|rules item 0).*{message}"):
        maya.checks.set_rules("lab", [rule])
    with pytest.raises(ak.ValidationError, match="rules must be a list, got dict"):
        maya.checks.set_rules("lab", {"kind": "duration", "min_s": 1})
    path = synthetic.write_mcap(tmp_path / "ok.mcap", duration_s=2, cameras=())
    report = maya.import_datasets(path, project="lab", progress=False)
    assert len(report.dataset_ids) == 1 and not report.failed  # the stored rules still work


def test_a_reader_failing_its_own_way_is_one_line_and_the_batch_goes_on(
    team, tmp_path, monkeypatch
):
    good = [
        synthetic.write_mcap(tmp_path / f"ok{i}.mcap", duration_s=1, seed=i, cameras=())
        for i in range(2)
    ]
    bad = synthetic.write_mcap(tmp_path / "bad.mcap", duration_s=1, seed=9, cameras=())
    scan = mcap_format.scan

    def flaky(location, **kwargs):
        if location.url.endswith("bad.mcap"):
            raise RuntimeError("zstd: corrupt block")  # not one of the expected error types
        return scan(location, **kwargs)

    monkeypatch.setattr(mcap_format, "scan", flaky)
    report = team["maya"].import_datasets([good[0], bad, good[1]], progress=False)
    assert len(report.dataset_ids) == 2
    [failed] = report.failed
    assert failed.source.endswith("bad.mcap") and "RuntimeError" in failed.error


def test_an_import_error_never_quotes_the_file(team, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    report = team["maya"].import_datasets(secret, progress=False)
    [failed] = report.failed
    assert "hunter2" not in failed.error and "password" not in failed.error
    assert "not an MCAP, HDF5 or LeRobot source" in failed.error


def test_only_managers_and_admins_run_data_checks(team, tmp_path):
    maya = team["maya"]
    maya.projects.create("lab", members=["col"])
    maya.checks.set_rules("lab", [{"kind": "duration", "min_s": 5}])
    path = synthetic.write_mcap(tmp_path / "short.mcap", duration_s=2, cameras=())
    [dataset] = team["col"].import_datasets(path, project="lab", progress=False).dataset_ids
    assert maya.datasets.get(dataset).qc_status == "error"  # checked on import, as the collector
    for who in ("ann", "rita", "vic", "col"):
        with pytest.raises(ak.PermissionDenied, match="run data checks"):
            team[who].checks.run([dataset])
    assert maya.checks.run([dataset]) == {dataset: "error"}


def test_importing_again_into_a_project_moves_unchanged_files_and_refuses_unknown_ones(
    team, tmp_path
):
    maya = team["maya"]
    maya.projects.create("lab")
    path = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=1, cameras=())
    [dataset] = maya.import_datasets(path, progress=False).dataset_ids
    with pytest.raises(ak.NotFound, match="nowhere"):
        maya.import_datasets(path, project="nowhere", progress=False)
    assert maya.datasets.get(dataset).project_id is None
    report = maya.import_datasets(path, project="lab", progress=False)
    assert report.dataset_ids == [dataset]
    assert maya.datasets.get(dataset).project_id == maya.projects.get("lab").id
    again = maya.import_datasets(path, project="lab", progress=False)
    assert again.files[0].unchanged == [dataset]


def test_the_tag_filter_finds_non_ascii_tags(team, tmp_path):
    maya = team["maya"]
    path = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=1, cameras=())
    [dataset] = maya.import_datasets(path, tags=["küche", "東京"], progress=False).dataset_ids
    with maya.transaction(write=False) as session:
        me = maya.me(session)
        for tag in ("küche", "東京"):
            found = dataset_queries.list_datasets(session, by=me, tag=tag)
            assert [d.id for d in found.items] == [dataset]
        assert dataset_queries.list_datasets(session, by=me, tag="kuche").items == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET note = 'nothing happened'",
        "DELETE FROM events",
        "orm-update",
        "orm-delete",
    ],
)
def test_the_audit_log_cannot_be_rewritten_even_with_plain_sql(team, statement):
    from sqlalchemy import delete, func, select, text, update
    from sqlalchemy.exc import DBAPIError

    from annotation_kit.store.models import Event

    ada = team["ada"]
    with ada.transaction(write=False) as session:
        before = session.execute(select(Event.id, Event.note).order_by(Event.id)).all()
    assert before
    sql = {
        "orm-update": update(Event).values(note="forged"),
        "orm-delete": delete(Event).where(Event.id > 0),
    }.get(statement, text(statement))
    with pytest.raises(DBAPIError, match="append-only"), ada.transaction() as session:
        session.execute(sql)
    if ada.url.startswith("postgresql"):
        with pytest.raises(DBAPIError, match="append-only"), ada.transaction() as session:
            session.execute(text("TRUNCATE events"))
    with ada.transaction(write=False) as session:
        assert session.execute(select(Event.id, Event.note).order_by(Event.id)).all() == before
        assert session.scalar(select(func.count()).select_from(Event)) == len(before)


def test_a_stale_task_edit_form_overwrites_nothing(team):
    from annotation_kit.widgets.task_detail import TaskDetailController

    task = team.task(name="edit me")
    state = {"task": task.id, "page": 1, "dataset_search": ""}
    maya, ada = TaskDetailController(team["maya"], task.id), TaskDetailController(team["ada"])
    loaded = maya.refresh(state)["info"]["version"]
    edit = {"action": "edit", "name": "by ada", "description": "", "deadline": ""}
    ada.handle(edit | {"version": loaded}, state)  # another manager saves first
    with pytest.raises(ak.ConflictError, match="changed since you loaded it"):
        maya.handle(edit | {"name": "by maya", "version": loaded}, state)
    with pytest.raises(ak.ValidationError, match="which version"):
        maya.handle(edit | {"name": "by maya"}, state)  # a forged request without one
    assert team["maya"].tasks.get(task.id).name == "by ada"


def test_overwrite_replaces_only_a_previous_export_of_ours(passed, monkeypatch):
    team, task, _ids, _made, tmp = passed
    maya = team["maya"]
    maya.export(task, "json", tmp / "ours")
    maya.export(task, "json", tmp / "ours", overwrite=True)  # a previous export: replaced
    precious = tmp / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    (tmp / "notes.txt").write_text("keep me")
    (tmp / "link").symlink_to(tmp / "ours")
    monkeypatch.chdir(precious)
    for destination, why in [
        (precious, "no manifest.json of ours"),
        (".", "no manifest.json of ours"),
        (tmp / "notes.txt", "it is a file"),
        (tmp / "link", "symbolic link"),
    ]:
        with pytest.raises(ak.ValidationError, match=why):
            maya.export(task, "json", destination, overwrite=True)
    assert (precious / "thesis.tex").read_text() == "years of work"
    assert (tmp / "notes.txt").read_text() == "keep me"
    assert (tmp / "ours/manifest.json").exists() and (tmp / "link").is_symlink()


def test_reading_a_source_damaged_after_import_names_the_episode(team, tmp_path):
    maya = team["maya"]
    path = synthetic.write_mcap(tmp_path / "ep.mcap", duration_s=3, cameras=("wrist",))
    lerobot = synthetic.write_lerobot_v30(tmp_path / "lr", episodes=1, frames=30)
    [mcap_id] = maya.import_datasets(path, progress=False).dataset_ids
    [lerobot_id] = maya.import_datasets(lerobot, progress=False).dataset_ids
    data = bytearray(path.read_bytes())
    data[len(data) // 4 : len(data) // 2] = bytes(len(data) // 2 - len(data) // 4)  # zeroed
    path.write_bytes(bytes(data))
    (lerobot / "data/chunk-000/file-000.parquet").write_bytes(b"PAR1 not parquet PAR1")
    for dataset, stream in ((mcap_id, "/robot/joint_states"), (lerobot_id, "observation.state")):
        name = maya.datasets.get(dataset).name
        with (
            pytest.raises(ak.AnnotationKitError, match=f"episode '{name}'"),
            maya.episode(dataset) as episode,
        ):
            episode.signal(stream)


def test_every_queue_and_export_state_change_is_logged(passed, tmp_path):
    team, task, _ids, _made, tmp = passed
    ada = team["ada"]
    queue = ada.queue_for(f"sqlite:///{tmp_path / 'queue.db'}")
    queue.pause()
    job = queue.enqueue("noop")
    queue.enqueue_many("noop", [{}, {}])
    queue.cancel(job.id)
    queue.retry(job.id)
    queue.clear()
    queue.retry_failed()
    queue.clean()
    queue.resume()
    record = team["maya"].export(task, "json", tmp / "logged")
    seen = [(e.object_type, e.action, e.actor and e.actor.name) for e in ada.events.history()]
    for expected in [
        ("queue", "pause", "ada"),
        ("job", "enqueue", "ada"),
        ("queue", "enqueue", "ada"),
        ("job", "cancel", "ada"),
        ("job", "retry", "ada"),
        ("queue", "clear", "ada"),
        ("queue", "retry", "ada"),
        ("queue", "clean", "ada"),
        ("queue", "resume", "ada"),
        ("export", "export", "maya"),
        ("export", "complete", "maya"),
    ]:
        assert expected in seen, expected
    [started, done] = list(ada.events.history("export", record.id))[::-1]
    assert (started.to_state, done.from_state, done.to_state) == ("running", "running", "completed")


FULL_DISK = """
import gc, sys
import annotation_kit as ak
maya = ak.connect(sys.argv[1], user="maya")
for layout in ("io", "robomimic"):
    try:
        maya.export(
            int(sys.argv[2]), "hdf5", sys.argv[3] + "/" + layout, any_status=True,
            options={"layout": layout},
        )
    except OSError as exc:
        print("refused:", exc)
    gc.collect()
print("exports:", [e.status for e in maya.exports.list_exports()])
maya.tasks.get(int(sys.argv[2]))
gc.collect()
print("alive")
"""


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MB tmpfs: writes fail with ENOSPC part-way through an export."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode:  # a real part is missing: fail, never skip
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test: {made.stderr}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_an_hdf5_export_into_a_full_disk_fails_cleanly_and_the_process_lives(passed, full_disk):
    """HDF5 cannot recover from a failed write (the process used to die with SIGSEGV at the
    next garbage collection): the export fails with the disk's error, leaves nothing behind,
    and the process goes on and exits normally."""
    import subprocess
    import sys

    from annotation_kit.data import synthetic as make

    team, task, _ids, _made, tmp = passed
    maya = team["maya"]
    big = [make.write_mcap(tmp / f"big{i}.mcap", duration_s=8, seed=i) for i in range(2)]
    ids = maya.import_datasets(big, progress=False).dataset_ids
    bulky = maya.tasks.create("bulky", datasets=ids)
    ran = subprocess.run(
        [sys.executable, "-c", FULL_DISK, maya.url, str(bulky.id), str(full_disk)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.count("refused: [Errno 28] could not write") == 2, ran.stdout
    assert "exports: ['failed', 'failed']" in ran.stdout and "alive" in ran.stdout
    assert list(full_disk.iterdir()) == []
    maya.export(task, "hdf5", tmp / "fine")  # the same writer still writes where there is room
    assert (tmp / "fine" / "episodes_000.hdf5").stat().st_size > 0


def test_every_table_whose_ids_are_never_reused_keeps_autoincrement_after_all_migrations(
    tmp_path,
):
    import annotation_kit as ak
    from annotation_kit.store.models import Base

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    ws = ak.connect(url, user="ada")
    with ws.db.engine.connect() as conn:
        declared = {
            row[0]: row[1]
            for row in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type='table'"
            )
        }
    ws.close()
    wanted = {
        t.name for t in Base.metadata.sorted_tables if t.dialect_kwargs.get("sqlite_autoincrement")
    }
    assert wanted >= {"users", "projects", "tasks", "annotations"}
    lost = sorted(name for name in wanted if "AUTOINCREMENT" not in declared[name])
    assert lost == [], f"migrations rebuilt {lost} without AUTOINCREMENT"


def test_ids_are_never_reused_and_history_stays_with_its_object(team):
    maya, ann = team["maya"], team["ann"]
    old = team.task("in_progress", name="old")
    dataset = maya.tasks.task_dataset_ids(old.id)[0]
    note = ann.annotations.add(old.id, dataset, start_ns=0, end_ns=SECOND)
    ann.annotations.delete(note.id, expected_version=note.version)
    maya.tasks.delete(old.id, confirm=True)
    new = maya.tasks.create("new", datasets=[dataset], annotators=["ann"])
    assert new.id > old.id
    history = [e.action for e in maya.events.history("task", new.id)]
    assert history == ["assign_annotators", "create"]
    ann.tasks.start(new.id)
    again = ann.annotations.add(new.id, dataset, start_ns=0, end_ns=SECOND)
    assert again.id > note.id
    assert [e.action for e in maya.events.history("annotation", again.id)] == ["create"]


def test_the_migration_keeps_every_number_the_audit_log_ever_named(tmp_path):
    """An SQLite workspace made before AUTOINCREMENT: the rebuilt tables keep their rows,
    constraints and indexes, and count on from the highest id the audit log names."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from annotation_kit.store.database import _MIGRATIONS, Database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database.open(url, upgrade=False)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.write_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        conn.execute(
            text(
                "INSERT INTO users (id, name, display_name, role, status, created_at) "
                "VALUES (1, 'ada', 'ada', 'admin', 'active', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO events (at, actor_id, object_type, object_id, action, "
                "note, data) VALUES ('2026-01-01', 1, 'task', 7, 'delete', '', '{}')"
            )
        )
    db.upgrade()
    ws = ak.Workspace(db, "ada")
    task = ws.tasks.create("after the migration")
    assert task.id == 8  # task 7 was deleted before the migration: its number stays retired
    with db.transaction(write=False) as session:
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        sql = session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'tasks'")).scalar()
        indexes = session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'")
        ).scalars()
    assert "AUTOINCREMENT" in sql and "REFERENCES projects" in sql
    assert {"ix_tasks_status_created_at", "ix_tasks_created_at"} <= set(indexes)
    with pytest.raises(Exception, match="append-only"), db.transaction() as session:
        session.execute(text("DELETE FROM events"))
    db.dispose()


def test_a_write_race_is_a_conflict_naming_both_versions(team):
    """Two managers save the same version at the same moment: the second one waits for the
    first, then is told which version it had and which is stored (on PostgreSQL the rows are
    locked when loaded for a change; SQLite has one writer at a time)."""
    import threading

    from annotation_kit.work import annotations as annotation_service
    from annotation_kit.work import tasks as task_service

    maya, ada = team["maya"], team["ada"]
    task = team.task("pending")
    note_task = team.task("in_progress")
    dataset = maya.tasks.task_dataset_ids(note_task.id)[0]
    note = team["ann"].annotations.add(note_task.id, dataset, start_ns=0, end_ns=SECOND)
    for first, second in [
        (
            lambda s: task_service.edit(
                s, task.id, name="first", expected_version=task.version, by=maya.me(s)
            ),
            lambda: ada.tasks.edit(task.id, name="second", expected_version=task.version),
        ),
        (
            lambda s: annotation_service.update(
                s,
                note.id,
                expected_version=note.version,
                description="first",
                by=team["ann"].me(s),
            ),
            lambda: team["ann"].annotations.update(
                note.id, expected_version=note.version, description="second"
            ),
        ),
    ]:
        outcome = []

        def late(second=second, outcome=outcome):
            try:
                second()
                outcome.append("saved")
            except ak.ConflictError as exc:
                outcome.append(str(exc))

        with maya.transaction() as session:
            first(session)
            racer = threading.Thread(target=late)
            racer.start()
            racer.join(timeout=1.0)  # it waits for this transaction (PostgreSQL) or its lock
        racer.join(timeout=30)
        assert len(outcome) == 1
        assert "version 1, the stored version is 2. Nothing was" in outcome[0], outcome
    assert maya.tasks.get(task.id).name == "first"
    assert team["ann"].annotations.get(note.id).description == "first"


def test_imports_and_exports_of_non_admins_stay_inside_the_configured_roots(passed, monkeypatch):
    team, task, _ids, _made, tmp = passed
    maya, col, ada = team["maya"], team["col"], team["ada"]
    allowed, outside = tmp / "allowed", tmp / "outside"
    inside = synthetic.write_mcap(allowed / "in.mcap", duration_s=1, cameras=())
    away = synthetic.write_mcap(outside / "away.mcap", duration_s=1, seed=3, cameras=())
    (allowed / "sneaky.mcap").symlink_to(away)
    (allowed / "elsewhere").symlink_to(outside, target_is_directory=True)
    monkeypatch.setenv("ANNOTATION_KIT_ROOTS", f"{allowed},s3://lab-bucket/episodes")
    before = len(maya.datasets.list_datasets())
    for who, source in [
        (col, "/etc/passwd"),
        (maya, away),
        (maya, allowed / "sneaky.mcap"),  # resolved: where the link points
        (maya, allowed),  # a folder inside, holding a link to a file outside
        (col, "s3://other-bucket/x.mcap"),
        (col, "s3://lab-bucket/episodes-evil/x.mcap"),
    ]:
        with pytest.raises(ak.PermissionDenied, match="outside the folders and storage"):
            who.import_datasets(source, progress=False)
    assert len(maya.datasets.list_datasets()) == before
    assert len(maya.import_datasets(inside, progress=False).dataset_ids) == 1
    assert len(ada.import_datasets(away, progress=False).dataset_ids) == 1  # admins may
    for destination in [outside / "out", allowed / "elsewhere" / "out", "/"]:
        with pytest.raises(ak.PermissionDenied, match="export destination"):
            maya.export(task, "json", destination)
    assert not (outside / "out").exists()
    maya.export(task, "json", allowed / "out")
    ada.export(task, "json", outside / "out")
    assert (allowed / "out/manifest.json").exists() and (outside / "out/manifest.json").exists()


def test_services_show_their_own_parameters_and_the_audit_log_is_not_one(team):
    import inspect

    vic = team["vic"]
    assert list(inspect.signature(vic.tasks.reject).parameters) == [
        "task",
        "comment",
        "dataset",
        "range_ns",
        "expected_version",
    ]
    assert "history" in dir(vic.events) and "record" not in dir(vic.events)
    with pytest.raises(AttributeError, match="no service function 'record'"):
        vic.events.record(object_type="task", object_id=1, action="approve")


def test_a_new_workspace_and_its_queue_are_readable_by_their_owner_only(tmp_path):
    """People's work, logins and the audit log are nobody else's on a shared machine: the
    SQLite file (and the -wal/-shm SQLite gives the same mode) and the job queue are 0600."""
    import os
    import stat

    from annotation_kit.jobs import broker

    ws = ak.connect(f"sqlite:///{tmp_path / 'team/workspace.db'}", user="ada")
    ws.users.create("ann", "annotator")  # a write: the -wal file exists now
    broker.engine(f"sqlite:///{tmp_path / 'team/queue.db'}")
    made = sorted(p.name for p in (tmp_path / "team").iterdir())
    assert {"workspace.db", "workspace.db-wal", "queue.db"} <= set(made)
    for name in made:
        mode = stat.S_IMODE(os.stat(tmp_path / "team" / name).st_mode)
        assert mode & 0o077 == 0, f"{name} is {mode:o}"
    ws.close()
