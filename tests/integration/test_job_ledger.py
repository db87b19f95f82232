"""The job ledger's fast paths on SQLite and PostgreSQL, without worker processes: jobs recorded
in multi-row inserts, a worker's claim / park / finish / heartbeat statements, two workers
racing for the same jobs."""

import threading
from datetime import UTC

import pytest

import annotation_kit as ak
from annotation_kit import jobs


@pytest.fixture
def ledger(team):
    found = jobs.Ledger(team["ada"].db.engine)
    yield found
    found.close()


def create(ws, n, kind="noop"):
    with ws.transaction() as session:
        return jobs.create_many(session, kind, [{"i": i} for i in range(n)], by=ws.me(session))


def job(ws, job_id):
    return ws.queue.job(job_id).refresh()


def test_create_many_records_every_job_in_order(team):
    ann = team["ann"]
    ids = create(ann, 250)  # three inserts: 100 + 100 + 50
    assert len(ids) == 250 and ids == sorted(ids) and len(set(ids)) == 250
    for position in (0, 99, 100, 249):
        found = job(ann, ids[position])
        assert (found.kind, found.params, found.state) == ("noop", {"i": position}, "waiting")
        assert (found.log, found.attempts, found.parked, found.progress) == ([], 0, False, 0.0)
        assert found.created_at.tzinfo is not None
    with ann.transaction() as session:
        assert jobs.create_many(session, "noop", [], by=ann.me(session)) == []
        with pytest.raises(ak.ValidationError, match="unknown job kind 'paint'"):
            jobs.create_many(session, "paint", [{}], by=ann.me(session))


def test_a_worker_claims_once_parks_while_paused_and_finishes(team, ledger):
    ada, ann = team["ada"], team["ann"]
    first, second, third = create(ann, 3)

    outcome, found = ledger.claim(first, "host:1")
    assert outcome == "run"
    assert found["kind"] == "noop" and found["params"] == {"i": 0}
    assert ledger.owner(found["owner"]) == "ann"
    assert ledger.claim(first, "host:2") == ("skip", None)
    running = job(ann, first)
    assert (running.state, running.worker, running.attempts) == ("running", "host:1", 1)
    assert running.started_at.tzinfo == UTC and running.heartbeat_at == running.started_at

    ada.queue.pause()
    assert ledger.claim(second, "host:1") == ("parked", None)
    parked = job(ann, second)
    assert (parked.state, parked.parked) == ("waiting", True)
    assert ada.queue.resume() == 1  # the parked job is sent again
    assert ledger.claim(second, "host:1")[0] == "run"

    ledger.finish(first, result={"rows": 3})
    ledger.finish(second, error="Traceback...\nRuntimeError: boom")
    done, failed = job(ann, first), job(ann, second)
    assert (done.state, done.result, done.progress) == ("completed", {"rows": 3}, 1.0)
    assert done.finished_at >= done.started_at
    assert (failed.state, failed.result) == ("failed", None)
    assert failed.error.endswith("RuntimeError: boom")
    ledger.finish(first, error="late")  # a finished job is not finished again
    assert job(ann, first).state == "completed"

    ann.queue.cancel(third)
    assert ledger.claim(third, "host:1") == ("skip", None)
    with pytest.raises(ak.NotFound):
        job(ann, 10**9)
    assert ledger.claim(10**9, "host:1") == ("skip", None)


def test_heartbeat_and_cancel_of_a_running_job(team, ledger):
    ann = team["ann"]
    (running,) = create(ann, 1)
    ledger.claim(running, "host:1")
    before = job(ann, running).heartbeat_at
    ledger.beat([running])
    assert job(ann, running).heartbeat_at > before
    ann.queue.cancel(running)  # asks the running job to stop
    with ann.transaction() as session:
        assert jobs.beat(session, running, progress=0.5, line="halfway") is True
    ledger.finish(running, cancelled=True)
    found = job(ann, running)
    assert (found.state, found.progress) == ("cancelled", 0.5)
    assert found.log[-1].endswith("halfway")


def test_two_workers_racing_for_the_same_jobs_run_each_once(team):
    ann = team["ann"]
    ids = create(ann, 200)
    ledgers = [jobs.Ledger(team["ada"].db.engine) for _ in range(2)]
    won: list[list[int]] = [[], [], [], []]

    def worker(n):
        ledger = ledgers[n % 2]
        for job_id in ids:
            if ledger.claim(job_id, f"host:{n}")[0] == "run":
                won[n].append(job_id)
                ledger.finish(job_id, result={})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.close()
    claimed = sorted(j for runs in won for j in runs)
    assert claimed == ids
    assert ann.queue.status()["counts"]["completed"] == 200


def test_bad_job_parameters_are_refused_before_anything_is_written(team, tmp_path):
    ann = team["ann"]
    queue = ann.queue_for(f"sqlite:///{tmp_path / 'queue.db'}")
    with pytest.raises(ak.ValidationError, match="a list of dicts"):
        queue.enqueue_many("noop", "noop")
    with pytest.raises(ak.ValidationError, match="job 1: parameters must be a dict, got int"):
        queue.enqueue_many("noop", [{}, 1])
    with pytest.raises(ak.ValidationError, match="job 2: parameters are not JSON"):
        queue.enqueue_many("noop", [{}, {}, {"x": object()}])
    with pytest.raises(ak.ValidationError, match="parameters are not JSON"):
        queue.enqueue("noop", x={1, 2})
    assert sum(queue.status()["counts"].values()) == 0
