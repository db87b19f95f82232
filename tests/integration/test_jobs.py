"""Background jobs with real huey workers (separate processes) in both deployments — SQLite
workspace with the SQLite queue file, PostgreSQL workspace with Redis: pause with jobs in
flight, clear, clean-up, batch retry, a worker killed mid-export, two workers never running the
same job, imports, data checks and delayed jobs, and admin-only operations."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import redis

import annotation_kit as ak
from annotation_kit import jobs as ledger
from annotation_kit.store.models import Job

SECOND = 1_000_000_000


@pytest.fixture
def queue_url(team, tmp_path):
    """The two deployments: the embedded one (SQLite workspace, SQLite queue file) and a
    team's (PostgreSQL workspace, Redis queue)."""
    if team["ada"].db.dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
        return
    db = 1 + uuid.uuid4().int % 14  # a Redis database of its own, emptied after
    url = f"redis://127.0.0.1:6379/{db}"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


class Workers:
    """``annotation-kit worker`` processes, stopped (or killed) at the end."""

    def __init__(self, url, queue, tmp_path):
        self.url, self.queue, self.tmp = url, queue, tmp_path
        self.processes = []

    def start(self, n=1, threads=2):
        for _ in range(n):
            log = open(self.tmp / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "annotation_kit.cli",
                        "worker",
                        "--url",
                        self.url,
                        "--queue",
                        self.queue,
                        "--workers",
                        str(threads),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={
                        **os.environ,
                        "ANNOTATION_KIT_HEARTBEAT": "0.5",
                        "ANNOTATION_KIT_LOST_AFTER": "3",  # reap on their own every 1 s
                    },
                    start_new_session=True,  # the worker and the processes it runs jobs in
                )
            )
        return self.processes[-n:]

    def stop(self):
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


@pytest.fixture
def setup(team, queue_url, tmp_path):
    workers = Workers(team["ada"].url, queue_url, tmp_path)
    yield team, team["ada"].queue_for(queue_url), team["ann"].queue_for(queue_url), workers
    workers.stop()


def wait_for(check, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def states(admin):
    return admin.status()["counts"]


def test_jobs_run_and_report(setup):
    _team, _admin, ann, workers = setup
    workers.start(1)
    done = ann.enqueue("sleep", seconds=0.3)
    failing = ann.enqueue("sleep", seconds=0.1, fail=True)
    finished = done.wait(timeout=60, progress=False)
    assert (finished.state, finished.result, finished.progress) == (
        "completed",
        {"slept": 0.3},
        1.0,
    )
    assert finished.attempts == 1 and finished.worker
    broken = failing.wait(timeout=60, progress=False)
    assert broken.state == "failed" and "RuntimeError: asked to fail" in broken.error
    assert "Traceback" in broken.error
    with pytest.raises(ak.ValidationError, match="unknown job kind 'paint'"):
        ann.enqueue("paint")


def test_pause_is_airtight_with_jobs_in_flight(setup):
    _team, admin, _ann, workers = setup
    workers.start(2, threads=2)
    long = [admin.enqueue("sleep", seconds=2.0) for _ in range(2)]
    wait_for(lambda: states(admin)["running"] == 2, "two running jobs")
    admin.pause()
    waiting = [admin.enqueue("noop") for _ in range(6)]
    for handle in long:  # running jobs finish
        assert handle.wait(timeout=60, progress=False).state == "completed"
    time.sleep(2.0)  # idle workers fetch the waiting jobs and must put them back
    assert {h.state for h in waiting} == {"waiting"}
    assert states(admin)["running"] == 0 and admin.status()["paused"] is True
    assert admin.resume() >= 1
    for handle in waiting:
        assert handle.wait(timeout=60, progress=False).state == "completed"
    # no job ran twice, whatever the number of workers and deliveries
    assert {h.refresh().attempts for h in waiting + long} == {1}


def test_clear_clean_and_counts(setup):
    team, admin, ann, workers = setup
    queued = [ann.enqueue("noop") for _ in range(5)]
    assert admin.clear() == 5
    assert {h.state for h in queued} == {"cancelled"}
    workers.start(1)
    late = ann.enqueue("noop")
    assert late.wait(timeout=60, progress=False).state == "completed"
    assert all(h.state == "cancelled" for h in queued)  # cleared jobs never run
    with team["ada"].transaction() as session:  # age the history
        for row in session.query(Job).filter(Job.state == "completed"):
            row.finished_at -= timedelta(hours=25)
    assert admin.clean() == 1
    assert admin.clean(older_than=timedelta(0)) == 0  # cancelled ones are kept
    counts = states(admin)
    assert counts["completed"] == 0 and counts["cancelled"] == 5
    assert admin.status()["completed_last_hour"] == 0


def test_batch_retry_of_more_than_a_thousand_failed_jobs(setup):
    team, admin, _ann, workers = setup
    with team["ada"].transaction() as session:
        me = team["ada"].me(session)
        ids = ledger.create_many(session, "noop", [{}] * 1200, by=me)
        session.query(Job).filter(Job.id.in_(ids)).update(
            {"state": "failed", "error": "boom", "attempts": 1}, synchronize_session=False
        )
    with pytest.raises(ak.ValidationError, match="1 to 1000"):
        admin.retry_failed(limit=1001)
    assert admin.retry_failed() == 1000  # the oldest thousand
    assert states(admin)["failed"] == 200
    workers.start(1, threads=4)
    wait_for(lambda: states(admin)["completed"] == 1000, "1,000 retried jobs", timeout=240)
    assert admin.retry_failed() == 200
    wait_for(lambda: states(admin)["completed"] == 1200, "the rest", timeout=120)
    with team["ada"].transaction(write=False) as session:
        assert {a for (a,) in session.query(Job.attempts)} == {2}


def test_a_worker_killed_mid_export_leaves_it_retryable_and_absent(setup, tmp_path):
    from annotation_kit.data import synthetic

    team, admin, _ann, workers = setup
    maya = team["maya"]
    files = [synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=30, seed=i) for i in (1, 2)]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("t", datasets=ids, annotators=["ann"])
    queue = maya.queue_for(admin.url)
    [worker] = workers.start(1, threads=1)
    target = tmp_path / "out"
    job = queue.enqueue(  # video encoding: seconds per episode
        "export", tasks=[task.id], format="lerobot", destination=str(target), any_status=True
    )
    wait_for(lambda: job.state == "running", "the export to start")
    wait_for(lambda: list(tmp_path.glob(".out.partial-*")), "the export to write its staging")
    assert job.state == "running"
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its job processes, no goodbye
    worker.wait()
    [killed] = maya.exports.list_exports()
    assert killed.status == "running" and list(tmp_path.glob(".out.partial-*"))
    workers.start(1)  # another worker reaps the lost job on its own schedule (nobody asks)
    wait_for(lambda: job.state == "failed", "the lost job to be failed", timeout=30)
    assert not target.exists()
    assert "stopped answering" in job.refresh().error
    killed = maya.exports.get_export(killed.id)
    assert killed.status == "failed" and "killed or lost" in killed.error
    assert not list(tmp_path.glob(".out.partial-*"))  # its staging went with it
    history = [(e.action, e.to_state) for e in maya.events.history("job", job.id)]
    assert ("reap", "failed") in history
    admin.retry(job.id)
    assert job.wait(timeout=120, progress=False).state == "completed"
    assert (target / "manifest.json").exists() and (target / "meta/info.json").exists()
    assert not list(tmp_path.glob(".out.partial-*"))
    assert [e.status for e in maya.exports.list_exports()] == ["completed", "failed"]


def _reaped(team, job_id):
    with team["ada"].transaction() as session:
        ledger.reap(session, lost_after=timedelta(seconds=1.5))
        return session.get(Job, job_id).state == "failed"


def test_a_quiet_running_job_is_kept_alive_by_its_worker(setup):
    """A job that reports no progress still beats (the worker process beats for all its jobs),
    so it is not taken for lost."""
    team, _admin, ann, workers = setup
    workers.start(1)  # heartbeat every 0.5 s
    job = ann.enqueue("sleep", seconds=3.0, quiet=True)
    wait_for(lambda: job.state == "running", "the job to start")
    time.sleep(2.2)
    assert _reaped(team, job.id) is False  # lost after 1.5 s without a beat
    running = job.refresh()
    assert (running.heartbeat_at - running.started_at).total_seconds() >= 1.0
    assert running.progress == 0.0 and running.log == []
    assert job.wait(timeout=30, progress=False).state == "completed"


def test_two_workers_never_run_the_same_job(setup):
    team, admin, ann, workers = setup
    workers.start(2, threads=3)
    handles = [ann.enqueue("noop") for _ in range(200)]
    # deliver every job a second time, as a broker may after a network hiccup
    from annotation_kit.jobs.broker import send

    send(admin.url, team["ada"].url, [h.id for h in handles])
    wait_for(lambda: states(admin)["completed"] == 200, "200 jobs", timeout=120)
    time.sleep(1.0)
    with team["ada"].transaction(write=False) as session:
        rows = session.query(Job.attempts, Job.worker).all()
    assert {a for a, _w in rows} == {1}
    assert len({w for _a, w in rows}) >= 2  # both workers took part


def test_admin_operations_are_for_admins(setup):
    team, admin, ann, _workers = setup
    for operation in (ann.pause, ann.resume, ann.clear, ann.clean, ann.retry_failed):
        with pytest.raises(ak.PermissionDenied, match="only admins"):
            operation()
    mine = ann.enqueue("noop")
    ann.cancel(mine.id)  # one's own job: allowed
    assert mine.state == "cancelled"
    theirs = admin.enqueue("noop")
    with pytest.raises(ak.PermissionDenied):
        ann.cancel(theirs.id)
    with pytest.raises(ak.PermissionDenied):
        team["maya"].queue_for(admin.url).pause()  # managers neither


def test_imports_checks_and_delayed_jobs(setup, tmp_path):
    from datetime import UTC, datetime

    from annotation_kit.data import synthetic

    team, admin, _ann, workers = setup
    maya = team["maya"].queue_for(admin.url)
    source = synthetic.write_mcap(tmp_path / "new" / "ep.mcap", duration_s=2, cameras=("wrist",))
    later = datetime.now(UTC) + timedelta(seconds=2)
    delayed = maya.enqueue("noop", eta=later)
    assert delayed.state == "delayed"
    workers.start(1)
    imported = maya.enqueue("import", sources=[str(source.parent)])
    result = imported.wait(timeout=60, progress=False)
    assert result.state == "completed" and len(result.result["dataset_ids"]) == 1
    assert team["ada"].datasets.get(result.result["dataset_ids"][0]).name == "ep"
    checked = maya.enqueue("check", datasets=result.result["dataset_ids"])
    assert checked.wait(timeout=60, progress=False).state == "completed"
    assert delayed.wait(timeout=60, progress=False).state == "completed"
    assert delayed.refresh().started_at >= later


def test_a_batch_goes_to_the_broker_in_one_write_and_in_order(team, queue_url):
    """``send`` of many ids writes the messages at once (huey enqueues one at a time); the
    workers get them first in, first out, on the SQLite queue and on Redis."""
    from annotation_kit.jobs import broker as queue

    huey, _run = queue.engine(queue_url)
    huey.flush()
    queue.send(queue_url, team["ada"].url, list(range(1, 2501)))
    assert huey.pending_count() == 2500
    got = [huey.dequeue().args[0] for _ in range(2500)]
    assert got == list(range(1, 2501)) and huey.dequeue() is None
    assert huey.is_revoked(_run.s(1, team["ada"].url)) is False  # cancelling is the ledger's


@pytest.mark.parametrize("broker", ["sqlite", "redis"])
def test_queue_messages_never_carry_the_database_password(tmp_path, broker):
    """A PostgreSQL URL with a (planted) password: messages name the workspace without it, and
    a worker started with the full URL still runs the job."""
    from tests.conftest import PG, _pg_schema, make_team

    schemas = _pg_schema()
    url = next(schemas).replace("postgres@", "postgres:planted-s3cret@")
    try:
        team = make_team(url)
        if broker == "sqlite":
            queue = f"sqlite:///{tmp_path / 'queue.db'}"
        else:
            queue = f"redis://127.0.0.1:6379/{15}"
            redis.Redis.from_url(queue).flushdb()
        admin = team["ada"].queue_for(queue)
        admin.pause()
        job = admin.enqueue("noop")
        if broker == "sqlite":
            raw = b"".join(p.read_bytes() for p in tmp_path.glob("queue.db*"))
        else:
            client = redis.Redis.from_url(queue)
            raw = b"".join(client.dump(k) or b"" for k in client.keys("*"))
        assert raw and b"planted-s3cret" not in raw
        assert PG.split("@")[1].split("/")[0].encode() in raw or broker == "redis"
        workers = Workers(url, queue, tmp_path)
        workers.start(1)
        try:
            admin.resume()
            assert job.wait(timeout=60, progress=False).state == "completed"
        finally:
            workers.stop()
        logs = "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
        assert "planted-s3cret" not in logs
    finally:
        if broker == "redis":
            redis.Redis.from_url(queue).flushdb()
        next(schemas, None)


def test_a_waiting_job_whose_message_was_lost_is_sent_again(setup):
    """The broker lost the messages (a flushed Redis, a deleted queue file): the workers find
    the waiting jobs with no message on their own schedule and send them again; ``retry`` of
    a waiting job sends it at once."""
    from annotation_kit.jobs.broker import engine

    team, admin, ann, workers = setup
    lost = ann.enqueue("noop")
    retried = ann.enqueue("noop")
    engine(admin.url)[0].storage.flush_queue()
    assert admin.job(lost.id).state == "waiting" and not engine(admin.url)[0].pending_count()
    admin.retry(retried.id)  # resent now, still one job
    assert engine(admin.url)[0].pending_count() == 1
    workers.start(1)
    assert retried.wait(timeout=30, progress=False).state == "completed"
    assert lost.wait(timeout=30, progress=False).state == "completed"  # the worker resent it
    assert lost.refresh().attempts == 1
    history = team["ada"].events.history("job", lost.id)
    assert "resend" in [e.action for e in history]
    with pytest.raises(ak.PermissionDenied):
        ann.reconcile()
    assert admin.reconcile() == 0


def _everything_stored(team, queue_url, tmp_path, s3, bucket) -> str:
    """Every row of every table, every queue message, every log and every exported file."""
    from sqlalchemy import select

    from annotation_kit.store.models import Base

    parts = []
    with team["ada"].transaction(write=False) as session:
        for table in Base.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in session.execute(select(table))]
    if queue_url.startswith("redis://"):
        client = redis.Redis.from_url(queue_url)
        parts += [repr(client.dump(k)) for k in client.keys("*")]
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".mcap")]
    parts += [p.read_bytes().decode("latin-1") for p in files]  # queue.db, logs, exports
    parts += [s3.cat(path).decode("latin-1") for path in s3.find(bucket)]
    return "\n".join(parts)


def test_a_planted_secret_is_stored_sent_logged_and_exported_nowhere(setup, tmp_path, s3_endpoint):
    """Credentials in the database URL, in HTTP sources and in an S3 destination: the work
    is done, and the secret is in no table, queue message, worker log or exported file; a
    background job that would have to carry one is refused."""
    import functools
    import http.server
    import threading

    import s3fs
    from sqlalchemy import make_url

    from annotation_kit.data import synthetic

    team, _admin, _ann, _workers = setup
    secret = f"PLANTED-{uuid.uuid4().hex[:8]}"
    url = team["ada"].url
    if url.startswith("postgresql"):  # trust authentication: the password is never checked
        url = make_url(url).set(password=secret).render_as_string(hide_password=False)
    maya = ak.connect(url, user="maya")
    served = tmp_path / "served"
    for i in range(2):
        synthetic.write_mcap(served / f"ep{i}.mcap", duration_s=2, seed=i, cameras=())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=served)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://reader:{secret}@127.0.0.1:{server.server_address[1]}"
    s3 = s3fs.S3FileSystem()
    bucket = f"exports-{uuid.uuid4().hex[:8]}"
    s3.mkdir(bucket)
    workers = Workers(url, setup[1].url, tmp_path)
    try:
        report = maya.import_datasets([f"{base}/ep0.mcap", f"{base}/ep1.mcap"], progress=False)
        assert len(report.dataset_ids) == 2, str(report)
        task = maya.tasks.create("secret", datasets=report.dataset_ids, annotators=["ann"])
        queue = maya.queue_for(setup[1].url)
        for kind, params in [
            ("import", {"sources": [f"{base}/ep0.mcap"]}),
            ("export", {"tasks": [task.id], "format": "json", "destination": f"{base}/x"}),
        ]:
            with pytest.raises(ak.ValidationError, match="never stores or sends secrets"):
                queue.enqueue(kind, **params)
        workers.start(1)
        job = queue.enqueue(
            "export",
            tasks=[task.id],
            format="mcap",
            destination=str(tmp_path / "bg"),
            any_status=True,
        )
        assert job.wait(timeout=120, progress=False).state == "completed"
        maya.export(task.id, "json", f"s3://KEY:{secret}@{bucket}/fg", any_status=True)
        with pytest.raises(ak.ValidationError, match=f"s3://{bucket}/fg already exists"):
            maya.export(task.id, "json", f"s3://KEY:{secret}@{bucket}/fg", any_status=True)
        assert [e.status for e in maya.exports.list_exports()] == ["completed", "completed"]
    finally:
        workers.stop()
        server.shutdown()
    everything = _everything_stored(team, setup[1].url, tmp_path, s3, bucket)
    assert "127.0.0.1" in everything and f"{bucket}/fg" in everything
    assert secret not in everything
    maya.close()


def test_bad_input_to_the_queue_is_a_library_error(setup):
    _team, admin, ann, _workers = setup
    for call, problem in [
        (lambda: admin.jobs(bogus=1), "unexpected keyword argument 'bogus'"),
        (lambda: admin.jobs(limit=-1), "limit must be an integer of at least 0"),
        (lambda: admin.jobs(state="\x00"), "state contains a NUL"),
        (lambda: admin.retry(2**63), "outside the 64-bit integer range"),
        (lambda: admin.cancel("1"), "job must be an integer"),
        (lambda: admin.retry_failed(limit=1.5), "limit must be an integer"),
        (lambda: ann.enqueue("bogus"), "unknown job kind 'bogus'"),
        (lambda: ann.enqueue("noop", x=float("nan")), "parameters are not JSON"),
    ]:
        with pytest.raises(ak.ValidationError, match=problem):
            call()
    assert admin.jobs() == []


def test_an_export_kind_encodes_its_own_parameters(setup, tmp_path):
    """What ``ws.export(..., background=True)`` is given (a single task id, a tuple of aware
    datetimes, a Path) is turned into JSON by the export kind and read back by it."""
    from datetime import UTC, datetime

    from annotation_kit.jobs import kinds

    team, admin, _ann, workers = setup
    task = team.task("review_passed", annotated=True)
    since = datetime(2020, 1, 1, tzinfo=UTC)
    stored = kinds.encode(
        "export",
        {
            "tasks": task.id,
            "format": "json",
            "destination": tmp_path / "x",
            "changed_between": (since, None),
            "datasets": (1, 2),
        },
    )
    assert stored == {
        "tasks": [task.id],
        "format": "json",
        "destination": str(tmp_path / "x"),
        "changed_between": [since.isoformat(), None],
        "datasets": [1, 2],
    }
    with pytest.raises(ak.ValidationError, match="needs a format name"):
        kinds.encode("export", {"tasks": 1, "format": print, "destination": "x"})
    workers.start(1)
    job = (
        team["maya"]
        .queue_for(admin.url)
        .enqueue(
            "export",
            tasks=task.id,
            format="json",
            destination=tmp_path / "out",
            changed_between=(since, None),
        )
    )
    done = job.wait(timeout=60, progress=False)
    assert done.state == "completed", done.error
    assert (tmp_path / "out" / "annotations.json").exists()


def test_a_worker_stops_on_sigterm_to_its_consumer_alone(setup):
    """What a notebook does (``worker.terminate()``): the consumer alone gets SIGTERM, and it
    stops with every process it forked. The consumer runs no thread of ours when huey forks
    its workers (a fork taken while a thread holds SQLite's lock left a worker hung forever in
    ``sqlite3.connect``, and the consumer waiting for it on exit)."""
    _team, _admin, ann, workers = setup
    started = workers.start(3)
    jobs = [ann.enqueue("sleep", seconds=0.1) for _ in range(6)]
    for job in jobs:
        assert job.wait(timeout=60, progress=False).state == "completed"
    for p in started:
        assert len(os.listdir(f"/proc/{p.pid}/task")) == 1, "the consumer runs a thread"
        children = subprocess.run(
            ["pgrep", "-P", str(p.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) >= 3  # two workers and the housekeeping
        p.terminate()
    for p in started:
        p.wait(timeout=20)
    leftovers = subprocess.run(
        ["pgrep", "-f", f"--url {workers.url}"], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == []
