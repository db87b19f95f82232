"""Workers come with the server: ``annotation-kit serve`` on an embedded (SQLite) workspace
starts one worker beside the dashboards, so a job queued from a page (or a notebook) runs
without a second terminal; the worker ends with the server, also when the server is killed."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.ui.test_served_app import Served


def _workers_of(folder: Path) -> list[int]:
    """Processes running ``annotation-kit worker`` on the workspace in ``folder``."""
    return _processes_of(folder, b"worker")


def _servers_of(folder: Path) -> list[int]:
    """Processes running ``annotation-kit serve`` on the workspace in ``folder``."""
    return _processes_of(folder, b"serve")


def _processes_of(folder: Path, command_name: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command_name in command and any(str(folder).encode() in part for part in command):
            found.append(int(entry.name))
    return found


def _connected(ws) -> list[str]:
    return ws.queue.status()["workers"]


def test_serve_starts_a_worker_that_runs_jobs_and_ends_with_it(tmp_path, monkeypatch):
    folder = tmp_path / "ws"
    folder.mkdir()
    served = Served(f"sqlite:///{folder / 'workspace.db'}", folder, ["--workers", "1"])
    try:
        monkeypatch.setenv("ANNOTATION_KIT_QUEUE", served.queue)
        maya = served.team["maya"]
        job = maya.queue.enqueue("noop")
        assert job.wait(timeout=60, progress=False).state == "completed"  # nobody else ran it
        assert len(_workers_of(folder)) >= 1
        assert "a worker runs 1 background job(s) at once" in served.log.read_text()
        assert len(_connected(maya)) == 1  # what the Queue page counts
    finally:
        os.kill(served.process.pid, signal.SIGKILL)  # the server dies without a word
        served.process.wait()
        deadline = time.time() + 30
        while _workers_of(folder) and time.time() < deadline:
            time.sleep(0.2)
        left = _workers_of(folder)
        deadline = time.time() + 30
        while _connected(served.team["maya"]) and time.time() < deadline:
            time.sleep(0.5)
        connected = _connected(served.team["maya"])
        served.team["ada"].close()
    assert left == []
    assert connected == []  # the Queue page says no worker is connected


def test_the_processes_of_num_procs_end_with_the_server(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    served = Served(f"sqlite:///{folder / 'workspace.db'}", folder, ["--num-procs", "2"])
    try:
        deadline = time.time() + 30
        while len(_servers_of(folder)) < 3 and time.time() < deadline:  # the parent and two
            time.sleep(0.2)
        assert len(_servers_of(folder)) == 3
    finally:
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait()
        deadline = time.time() + 30
        while _servers_of(folder) and time.time() < deadline:
            time.sleep(0.2)
        left = _servers_of(folder)
        served.team["ada"].close()
    assert left == []


def _six_saves(served: Served, dataset: int) -> list[str]:
    """Six people's pages (new logins, new connections: both processes) each save once."""
    import asyncio
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from tests.protocol import Page, log_in
    from tests.ui.test_served_app import PASSWORDS

    async def save(i: int) -> str:
        cookies = await log_in(served.base, "ann", PASSWORDS["ann"])
        path = f"/work?task={served.task.id}&dataset={dataset}"
        page = await Page.open(served.base, cookies, path)
        await page.wait(lambda: "EpisodeAnnotator" in str(page.models))
        write = f"w-{uuid.uuid4().hex}"
        message = {"id": write, "action": "add", "skill": "pick"}
        message |= {"start_ns": i * 100_000_000, "end_ns": i * 100_000_000 + 50_000_000}
        await page.send("EpisodeAnnotator", message)
        await page.wait(lambda: write in page.answered)
        page.close()
        return page.refused.get(write, "")

    async def everyone() -> list[str]:
        return list(await asyncio.gather(*(save(i) for i in range(6))))

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(everyone())).result()


def test_num_procs_on_postgresql_logs_people_in_and_saves_in_every_process(tmp_path):
    """The processes tornado forks open their own database connections (sharing the
    parent's broke logins with a 500)."""
    from tests.conftest import _pg_schema

    for url in _pg_schema():
        served = Served(url, tmp_path, ["--num-procs", "2"])
        try:
            [dataset, _other] = served.team["maya"].tasks.task_dataset_ids(served.task.id)
            served.team["ann"].tasks.start(served.task.id)
            assert _six_saves(served, dataset) == [""] * 6
            assert len(served.team["ada"].annotations.list_annotations(served.task.id)) == 6
        finally:
            served.stop()


def test_charts_are_drawn_in_a_process_that_ends_with_the_server(tmp_path):
    """The Statistics page's charts are drawn beside the server (plotly's figure building
    would otherwise hold everyone's saves); that process ends with the server, killed or not."""
    import psutil

    folder = tmp_path / "ws"
    folder.mkdir()
    served = Served(f"sqlite:///{folder / 'workspace.db'}", folder, ["--workers", "0"])
    try:
        deadline = time.time() + 30
        drawing: list[psutil.Process] = []
        while not drawing and time.time() < deadline:
            children = psutil.Process(served.process.pid).children(recursive=True)
            drawing = [c for c in children if "spawn_main" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert len(drawing) == 1
        from annotation_kit.app import _drawing
        from annotation_kit.quality import charts

        maya = served.team["maya"]
        try:  # a drawing process of this test's own, used as a served page uses its own
            drawn = _drawing.overview(maya)
        finally:
            _drawing._forget()
        here = charts.overview(maya)
        assert list(drawn) == list(here)
        for name, figure in here.items():  # the same figures, taken up without a second check
            assert json.loads(drawn[name].to_json()) == json.loads(figure.to_json()), name
    finally:
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait()
        _drawing_gone = psutil.wait_procs(drawing, timeout=30)[1] if drawing else []
        served.team["ada"].close()
    assert _drawing_gone == []
