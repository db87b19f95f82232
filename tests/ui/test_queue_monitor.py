"""QueueMonitor in a real browser with a real worker process: the admin pauses and resumes,
clears, cleans up and retries under ``panel serve``; an annotator in JupyterLab sees the queue,
has no controls, and cancels their own job. Every step is read back from the ledger."""

import os
import signal
import subprocess
import sys
import time

import pytest

import annotation_kit as ak
from annotation_kit.store.models import Job
from tests.conftest import make_team
from tests.ui.conftest import app_source, run_all_cells, shot, write_notebook


@pytest.fixture
def queue(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}"
    team = make_team(url)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "annotation_kit.cli",
            "worker",
            "--url",
            url,
            "--queue",
            queue_url,
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "ANNOTATION_KIT_HEARTBEAT": "0.5"},
    )
    yield url, queue_url, team
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=15)
    team["ada"].close()


def job_state(team, job_id):
    with team["ada"].transaction(write=False) as session:
        return session.get(Job, job_id).state


def wait_state(team, job_id, state, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if job_state(team, job_id) == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"job #{job_id} never became {state}: {job_state(team, job_id)}")


def test_admin_controls_the_queue_under_panel(queue, panel_app, page):
    url, queue_url, team = queue
    admin = team["ada"].queue_for(queue_url)
    done = admin.enqueue("noop")
    failed = admin.enqueue("sleep", seconds=0.1, fail=True)
    done.wait(timeout=60, progress=False)
    failed.wait(timeout=60, progress=False)
    app = app_source("QueueMonitorPanel", f"QueueMonitorPanel(ws, queue={queue_url!r})")
    page.goto(panel_app(app, url, "ada").url)
    page.wait_for_selector("[data-testid=queue-monitor] >> text=Running", timeout=30_000)
    page.wait_for_selector("[data-testid=state-failed] >> text=failed 1")
    # the failed job's error, then retry it
    page.click(f"[data-testid=job-{failed.id}]")
    page.wait_for_selector("[data-testid=job-error] >> text=asked to fail")
    assert "Traceback" in page.inner_text("[data-testid=job-error]")
    page.click("[data-testid=retry]")
    page.wait_for_selector(f"[data-testid=notice] >> text=job #{failed.id} queued again")
    wait_state(team, failed.id, "failed")
    assert failed.refresh().attempts == 2
    page.wait_for_selector(f"[data-testid=job-{failed.id}] >> text=2")
    shot(page, "queue_monitor_panel")
    # pause: a job queued now waits; resume: it runs
    page.click("[data-testid=pause]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Paused")
    assert admin.status()["paused"] is True
    held = admin.enqueue("noop")
    time.sleep(1.5)
    assert job_state(team, held.id) == "waiting"
    page.wait_for_selector(f"[data-testid=job-{held.id}] >> text=waiting")  # shown live
    page.click("[data-testid=resume]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Running")
    wait_state(team, held.id, "completed")
    page.wait_for_selector(f"[data-testid=job-{held.id}] >> text=completed")
    # clear needs a confirmation
    page.click("[data-testid=pause]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Paused")
    waiting = [admin.enqueue("noop") for _ in range(3)]
    page.click("[data-testid=clear]")
    assert {job_state(team, j.id) for j in waiting} == {"waiting"}
    page.click("[data-testid=confirm-clear]")
    page.wait_for_selector("[data-testid=notice] >> text=cleared 3")
    assert {job_state(team, j.id) for j in waiting} == {"cancelled"}
    page.click("[data-testid=resume]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Running")
    # clean the history of finished jobs (age 0 h: all of them)
    page.fill("[data-testid=clean-hours]", "0")
    page.click("[data-testid=clean]")
    page.wait_for_selector("[data-testid=notice] >> text=deleted 3 finished job(s)")
    assert admin.status()["counts"]["completed"] == 0


def test_annotator_sees_the_queue_in_jupyterlab(queue, jupyter_lab, page):
    url, queue_url, team = queue
    team["ada"].queue_for(queue_url).pause()
    mine = team["ann"].queue_for(queue_url).enqueue("noop")
    write_notebook(
        jupyter_lab.root / "queue.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.widgets import QueueMonitor",
            f"monitor = QueueMonitor(ak.connect({url!r}, user='ann'), queue={queue_url!r})\n"
            "monitor",
        ],
    )
    page.goto(jupyter_lab.notebook_url("queue.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=queue-monitor] >> text=Paused", timeout=60_000)
    assert page.locator("[data-testid=controls]").count() == 0  # not an admin
    page.click(f"[data-testid=job-{mine.id}]")
    page.click("[data-testid=cancel]")
    page.wait_for_selector(f"[data-testid=notice] >> text=job #{mine.id} cancelled")
    assert job_state(team, mine.id) == "cancelled"
    shot(page, "queue_monitor_jupyterlab")


def test_forged_admin_requests_are_refused(queue):
    from annotation_kit.widgets import QueueMonitor

    url, queue_url, team = queue
    monitor = QueueMonitor(ak.connect(url, user="ann"), queue=queue_url)
    assert monitor.can_admin is False and monitor.status["paused"] is False
    for action in ("pause", "resume", "retry_failed", "clean"):
        monitor._request = {"id": action, "action": action}
        assert "only admins" in monitor._error
    monitor._request = {"id": "c", "action": "clear", "confirm": True}
    assert "only admins" in monitor._error
    assert team["ada"].queue_for(queue_url).status()["paused"] is False
