"""Storage connections against a real S3-compatible server the tests start (moto) and a local
root, on SQLite and PostgreSQL: an admin names a bucket; its secrets come from the environment
or a secrets file and never reach the database, the audit log, the job ledger or an export
record (searched for); imports and exports name the connection; episodes read from it lazily;
the CLI's check; who may do what."""

import json
import subprocess
import sys
import uuid

import fsspec
import pytest
from sqlalchemy import text

from annotation_kit.data import synthetic
from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from annotation_kit.jobs.worker import execute
from tests.conftest import SECOND

KEY, SECRET = "lab-key-7d1e", "lab-secret-51c0aa"


def everything_stored(ws) -> str:
    """Every row of every table, as text: where a secret must not be."""
    with ws.db.engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'")
                if ws.db.dialect == "sqlite"
                else text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        ]
        return "\n".join(
            repr(row) for t in tables for row in conn.execute(text(f'SELECT * FROM "{t}"'))
        )


@pytest.fixture
def bucket(s3_endpoint, tmp_path, monkeypatch):
    name = f"lab-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(name)
    for i in range(2):
        made = synthetic.write_mcap(
            tmp_path / f"ep{i}.mcap", duration_s=2, seed=i, cameras=("wrist",)
        )
        fs.put(str(made), f"{name}/robots/day1/ep{i}.mcap")
    monkeypatch.setenv("ANNOTATION_KIT_STORAGE_LAB_KEY", KEY)
    monkeypatch.setenv("ANNOTATION_KIT_STORAGE_LAB_SECRET", SECRET)
    return name, s3_endpoint


def test_an_s3_connection_is_browsed_imported_from_and_exported_to(team, bucket, tmp_path):
    ada, maya, col = team["ada"], team["maya"], team["col"]
    name, endpoint = bucket
    made = ada.storage.create(
        "lab", "s3", {"bucket": name, "prefix": "robots", "endpoint_url": endpoint}
    )
    assert made.options == {"bucket": name, "prefix": "robots", "endpoint_url": endpoint}
    top = col.storage.browse("lab")
    assert [(e.name, e.folder, e.url) for e in top] == [("day1", True, "storage://lab/day1")]
    files = col.storage.browse("lab", "day1")
    assert [e.url for e in files] == ["storage://lab/day1/ep0.mcap", "storage://lab/day1/ep1.mcap"]
    assert files[0].size > 0
    assert "answers: 1 entries" in col.storage.test("lab")

    report = col.import_datasets("storage://lab/day1", progress=False)
    assert not report.failed, str(report)
    stored = sorted(d.source_uri for d in maya.datasets.list_datasets())
    assert stored == ["storage://lab/day1/ep0.mcap", "storage://lab/day1/ep1.mcap"]
    first = report.dataset_ids[0]
    with maya.episode(first) as episode:  # read lazily, through the connection
        assert episode.frame("/camera/wrist/image/compressed", SECOND).mime == "image/jpeg"

    task = maya.tasks.create("s3", datasets=report.dataset_ids, annotators=["ann"]).id
    team["ann"].tasks.start(task)
    team["ann"].annotations.add(task, first, start_ns=0, end_ns=SECOND)
    exported = maya.export([task], "json", "storage://lab/exports/one", any_status=True)
    assert exported.destination == "storage://lab/exports/one"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    written = json.loads(fs.cat(f"{name}/robots/exports/one/annotations.json"))
    assert written

    queue_url = f"sqlite:///{tmp_path / 'queue.db'}"  # an import job: the ledger holds its params
    job = maya.queue_for(queue_url).enqueue("import", sources=["storage://lab/day1/ep0.mcap"])
    assert execute(job.id, maya.url, queue_url) == "completed"

    dump = everything_stored(ada)
    assert "storage://lab" in dump and name in dump  # the search reads what is stored
    assert KEY not in dump and SECRET not in dump


def test_secrets_file_local_roots_and_refusals(team, tmp_path, monkeypatch):
    ada, ann, col = team["ada"], team["ann"], team["col"]
    root = tmp_path / "recordings"
    (root / "a").mkdir(parents=True)
    synthetic.write_mcap(root / "a" / "ep.mcap", duration_s=1, cameras=("wrist",))
    ada.storage.create("disk", "local", {"root": str(root)})
    assert [e.name for e in col.storage.browse("disk", "a")] == ["ep.mcap"]
    assert not col.import_datasets("storage://disk/a", progress=False).failed
    for options, reason in (
        ({"bucket": "b", "secret": "x"}, "looks like a secret"),
        ({"bucket": "b", "aws_access_key_id": "x"}, "looks like a secret"),
        ({"bucket": "b", "endpoint_url": "http://u:pw@minio:9000"}, "without credentials"),
        ({"prefix": "p"}, "s3 storage needs bucket"),
        ({"bucket": "b", "colour": "red"}, "takes bucket, prefix"),
    ):
        with pytest.raises(ValidationError, match=reason):
            ada.storage.create("other", "s3", options)
    with pytest.raises(ValidationError, match="kinds: s3, gcs, local"):
        ada.storage.create("other", "ftp", {})
    with pytest.raises(ValidationError, match="absolute folder"):
        ada.storage.create("other", "local", {"root": "relative/path"})
    with pytest.raises(ValidationError, match="lower-case letters"):
        ada.storage.create("Bad Name", "local", {"root": str(root)})
    with pytest.raises(ValidationError, match="already exists"):
        ada.storage.create("disk", "local", {"root": str(root)})
    with pytest.raises(PermissionDenied):
        team["maya"].storage.create("mine", "local", {"root": str(root)})
    with pytest.raises(PermissionDenied):
        ann.storage.browse("disk")
    with pytest.raises(NotFound, match="no storage connection 'nope'; known: disk"):
        col.storage.browse("nope")
    with pytest.raises(NotFound, match="not a folder"):
        col.storage.browse("disk", "a/ep.mcap")

    secrets = tmp_path / "secrets.toml"  # outside the database, read when a connection is used
    secrets.write_text(f'[storage.lab]\nkey = "{KEY}"\nsecret = "{SECRET}"\n')
    monkeypatch.setenv("ANNOTATION_KIT_SECRETS", str(secrets))
    ada.storage.create("lab", "s3", {"bucket": "nowhere", "endpoint_url": "http://127.0.0.1:9"})
    from annotation_kit.library.storage import filesystem

    fs, path = filesystem("lab")
    assert (fs.key, fs.secret, path) == (KEY, SECRET, "nowhere")
    with pytest.raises(ValidationError) as refused:
        ada.storage.test("lab")
    assert "cannot be listed" in str(refused.value) and SECRET not in str(refused.value)
    ada.storage.remove("disk")
    with pytest.raises(NotFound):
        ada.storage.get("disk")
    assert [e.action for e in ada.events.history(object_type="storage")][:1] == ["remove"]
    assert SECRET not in everything_stored(ada)


def test_the_cli_checks_a_connection(team, bucket):
    ada = team["ada"]
    name, endpoint = bucket
    ada.storage.create("lab", "s3", {"bucket": name, "endpoint_url": endpoint})
    cli = [sys.executable, "-m", "annotation_kit.cli", "storage"]
    done = subprocess.run(
        [*cli, "test", "lab", "--url", ada.url, "--user", "ada"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "storage 'lab' (s3) answers: 1 entries at its root" in done.stdout
    listed = subprocess.run(
        [*cli, "list", "--url", ada.url, "--user", "ada"], capture_output=True, text=True
    )
    assert f"lab\ts3\tbucket={name}, endpoint_url={endpoint}" in listed.stdout
    refused = subprocess.run(
        [*cli, "test", "nope", "--url", ada.url, "--user", "ada"], capture_output=True, text=True
    )
    assert refused.returncode == 1 and "no storage connection 'nope'" in refused.stderr


TRAVERSALS = (
    "..",
    "a/../..",
    "%2e%2e",
    "%2E%2E/%2e%2e/outside",
    "%252e%252e",
    "a/..%2f..",
    "link",  # a symbolic link inside the root pointing out of it
    "link/ep.mcap",
    "a\\..\\..",
)


def test_no_path_leaves_its_connection_root(team, passed, tmp_path):
    """``..`` as written, percent-encoded (once or twice), behind a symbolic link or with
    backslashes: refused for every role that may use storage, in browse, import, export and a
    lazy read; an absolute part stays inside the root."""
    _team, task, _ids, _made, _tmp = passed
    ada = team["ada"]
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    synthetic.write_mcap(outside / "ep.mcap", duration_s=1, cameras=("wrist",))
    (root / "link").symlink_to(outside)
    ada.storage.create("disk", "local", {"root": str(root)})
    before = len(ada.datasets.list_datasets())
    for who in ("ada", "maya", "col"):
        ws = team[who]
        for path in TRAVERSALS:
            with pytest.raises(ValidationError, match=r"climbs out|leads out of the root|NUL or"):
                ws.storage.browse("disk", path)
            url = f"storage://disk/{path}"
            with pytest.raises(ValidationError, match=r"climbs out|leads out of the root|NUL or"):
                ws.import_datasets(url, progress=False)
            if who != "col":
                with pytest.raises(ValidationError, match=r"climbs out|leads out|NUL or"):
                    ws.export(task, "json", f"{url}/export")
        with pytest.raises(NotFound, match="not a folder"):
            ws.storage.browse("disk", "/etc")  # absolute: root/etc, which is not there
    assert len(ada.datasets.list_datasets()) == before
    assert sorted(p.name for p in outside.iterdir()) == ["ep.mcap"]  # nothing written there
    forged = ada.datasets.register(
        name="forged", source_uri="storage://disk/../outside/ep.mcap", format="mcap",
        duration_ns=SECOND,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="climbs out"):
        ada.episode(forged.id).reader  # noqa: B018  (opening it reads the file)
