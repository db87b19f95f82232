"""The served app under a team's load, through the real protocol, beside Label Studio.

For each level of people (default 1, 10, 20, 50) it starts ``annotation-kit serve`` on a fresh
workspace (SQLite or PostgreSQL, ``--num-procs``), logs everyone in over HTTP and opens their
pages with the protocol client of ``tests/protocol.py`` (Bokeh's websocket protocol, as BokehJS
speaks it; no browser per person): every annotator saves a segment every 2 s (jittered) for
``--seconds``, one person in ten (from ten people on) is a reviewer judging an annotation
every 2 s in the review form (four passes, then a rejection with a comment), a manager keeps
the Statistics page open (opened afresh every 30 s), and one real Chromium session, an
annotator too, times Enter → the new row shown in its page. Then the same number of
concurrent clients create annotations in Label Studio 1.23.2 over its REST API, one every 2 s
each (installed once in ``~/.cache/annotation-kit-bench/ls``: ``python3.12 -m venv ls &&
ls/bin/pip install label-studio==1.23.2 'sentry-sdk<3'`` — Label Studio's Sentry set-up does
not start with sentry-sdk 3).

Printed per level: saves and verdicts sent, committed (counted in the database), refused
(answered with a reason, e.g. a database that stayed locked), lost (neither); the p50/p95/max
of the protocol writes (send → the answer naming its id; the verdicts' p95 apart) and of the
Chromium session (Enter → row); Label Studio's create p50/p95; server CPU (% of one core) and
memory per session; the load average. Run: ``python bench/served_load.py [--people 1,10,20]
[--seconds 30] [--db sqlite|postgresql] [--num-procs 1] [--no-ls] [--no-browser]
[--no-manager] [--no-reviewers] [--closed] [--flood 4] [--timeline] [--profile FILE]``
(``--closed``: each person saves again as soon as answered, for throughput; ``--flood N``: N
clients post wrong passwords from one address meanwhile; ``--timeline``: the slowest save of
each second; ``--profile``: py-spy's raw stacks of the server during each level, in
FILE.<people> — sampling slows the server, so its latency figures are not the run's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx
import psutil

import annotation_kit as ak
from annotation_kit.data import synthetic
from annotation_kit.store.database import Database

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests.frontends, tests.protocol
from tests.frontends import free_port, launch_chromium, stop, wait_http
from tests.protocol import Page, log_in

warnings.filterwarnings("ignore", message="datasets already in an active task")
PASSWORD = "bench-password-1"
EVERY_S = 2.0
STEP_NS = 250_000_000  # segments 125 ms long, 250 ms apart
EPISODE_S = 240
JUDGED = 60  # annotations waiting for each reviewer (a verdict every 2 s: 30 s needs 15)
REVIEWERS_PER = 10  # one reviewer in ten people (none below ten)
LS_VENV = Path.home() / ".cache" / "annotation-kit-bench" / "ls"
ENTER_JS = """
async () => {
  const all = (root, sel, out = []) => {
    out.push(...root.querySelectorAll(sel));
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) all(el.shadowRoot, sel, out);
    return out;
  };
  const widget = all(document, "[data-testid=episode-annotator]")[0];
  const rows = () => widget.querySelectorAll("[data-testid^=row-]").length;
  const key = (k) => widget.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
  key("q"); key("ArrowRight"); key("r");
  await new Promise((r) => setTimeout(r, 100));
  const before = rows();
  const start = performance.now();
  await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error("no new row 30 s after Enter")), 30000);
    const watch = new MutationObserver(() => {
      if (rows() > before) { watch.disconnect(); resolve(); }
    });
    watch.observe(widget, { childList: true, subtree: true });
    key("Enter");
  });
  key("ArrowRight"); key("ArrowRight");
  return performance.now() - start;
}
"""


def pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Workspace:
    """A fresh workspace with ``people`` annotators (each a task of their own on one long
    episode), an observer annotator for Chromium and a manager."""

    def __init__(self, folder: Path, db: str, people: int, reviewers: int = 0) -> None:
        self.folder = folder
        self.schema = ""
        if db == "sqlite":
            self.url = f"sqlite:///{folder / 'workspace.db'}"
        else:
            self.schema = f"bench_{uuid.uuid4().hex[:8]}"
            base = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
            with Database.open(base, upgrade=False).engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
            self.url = f"{base}?options=-csearch_path%3D{self.schema}"
        ws = self.ws = ak.connect(self.url, user="ada")
        ws.logins.set_password("ada", PASSWORD)
        episode = synthetic.write_mcap(folder / "ep.mcap", duration_s=EPISODE_S, seed=1)
        [self.dataset] = ws.import_datasets(episode, progress=False).dataset_ids
        self.tasks: dict[str, int] = {}
        for name in [f"annotator{i}" for i in range(people)] + ["observer"]:
            ws.users.create(name, "annotator")
            ws.logins.set_password(name, PASSWORD)
            task = ws.tasks.create(f"load {name}", datasets=[self.dataset], annotators=[name])
            ws.as_user(name).tasks.start(task.id)
            self.tasks[name] = task.id
        ws.users.create("manager", "manager")
        ws.logins.set_password("manager", PASSWORD)
        self.reviews: dict[str, int] = {}
        """Reviewer → their task, Pending Review, whose annotations they judge."""
        self.judged: dict[str, list[tuple[int, int]]] = {}
        """Reviewer → the (id, version) of each annotation to judge, in order."""
        if reviewers:
            ws.users.create("author", "annotator")
        author = ws.as_user("author") if reviewers else ws
        for name in [f"reviewer{i}" for i in range(reviewers)]:
            ws.users.create(name, "reviewer")
            ws.logins.set_password(name, PASSWORD)
            task = ws.tasks.create(
                f"review {name}", datasets=[self.dataset], annotators=["author"], reviewers=[name]
            )
            author.tasks.start(task.id)
            made = [
                author.annotations.add(
                    task.id, self.dataset, start_ns=i * STEP_NS, end_ns=i * STEP_NS + STEP_NS // 2
                )
                for i in range(JUDGED)
            ]
            author.tasks.submit(task.id)
            self.reviews[name] = task.id
            self.judged[name] = [(a.id, a.version) for a in made]

    def verdicts(self) -> int:
        """Verdicts stored on the reviewers' tasks."""
        from sqlalchemy import func, select

        from annotation_kit.store.models import AnnotationVerdict

        with self.ws.transaction(write=False) as session:
            return (
                session.scalar(
                    select(func.count()).where(
                        AnnotationVerdict.task_id.in_(list(self.reviews.values()) or [0])
                    )
                )
                or 0
            )

    def committed(self, names: list[str]) -> int:
        return sum(len(self.ws.annotations.list_annotations(self.tasks[n])) for n in names)

    def close(self) -> None:
        self.ws.close()
        if self.schema:
            base = self.url.split("?")[0]
            with Database.open(base, upgrade=False).engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")


class Server:
    def __init__(self, workspace: Workspace, procs: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workspace.folder / "serve.log"
        command = [sys.executable, "-m", "annotation_kit.cli", "serve", "--workers", "0"]
        command += ["--url", workspace.url, "--port", str(self.port), "--num-procs", str(procs)]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.base}/login", self.process, log=self.log)
        self.ps = psutil.Process(self.process.pid)

    def usage(self) -> tuple[float, float]:
        """CPU seconds and resident MB of the server and its processes."""
        cpu, rss = 0.0, 0.0
        for proc in [self.ps, *self.ps.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                cpu += times.user + times.system
                rss += proc.memory_info().rss / 2**20
        return cpu, rss

    def stop(self) -> None:
        stop(self.process)


async def annotator(
    base: str,
    name: str,
    task: int,
    dataset: int,
    clock: Clock,
    out: dict[str, Any],
    closed: bool = False,
) -> None:
    """Saves every 2 s (jittered); ``closed``: each save as soon as the last was answered."""
    cookies = await log_in(base, name, PASSWORD)
    page = await Page.open(base, cookies, f"/work?task={task}&dataset={dataset}")
    await page.wait(lambda: "EpisodeAnnotator" in _kinds(page), timeout=120)
    until = await clock.ready()
    sent: dict[str, float] = {}
    step = 0
    if not closed:
        await asyncio.sleep(random.uniform(0, EVERY_S))
    while time.perf_counter() < until:
        write_id = f"w-{uuid.uuid4().hex}"
        sent[write_id] = time.perf_counter()
        await page.send(
            "EpisodeAnnotator",
            {
                "id": write_id,
                "action": "add",
                "start_ns": step * STEP_NS,
                "end_ns": step * STEP_NS + STEP_NS // 2,
                "skill": "",
            },
        )
        step += 1
        if closed:
            with contextlib.suppress(TimeoutError):
                await page.wait(lambda w=write_id: w in page.answered, timeout=60)
        else:
            await asyncio.sleep(EVERY_S * random.uniform(0.8, 1.2))
    with contextlib.suppress(TimeoutError):  # what is still coming
        await page.wait(lambda: all(i in page.answered for i in sent), timeout=60)
    out["sent"] += len(sent)
    out["refused"] += [page.refused[i] for i in sent if i in page.refused]
    out["times"] += [(page.answered[i] - t) * 1000 for i, t in sent.items() if i in page.answered]
    out["timeline"].extend(
        (t - clock.began, (page.answered[i] - t) * 1000)
        for i, t in sent.items()
        if i in page.answered
    )
    page.close()


async def reviewer(
    base: str,
    name: str,
    task: int,
    dataset: int,
    judged: list[tuple[int, int]],
    clock: Clock,
    out: dict[str, Any],
) -> None:
    """Judges the next annotation every 2 s (jittered): four passes, then a rejection with a
    comment, anchored to the annotation's time, as the review form sends them."""
    cookies = await log_in(base, name, PASSWORD)
    page = await Page.open(base, cookies, f"/review?task={task}&dataset={dataset}")
    await page.wait(lambda: "ReviewForm" in _kinds(page), timeout=120)
    until = await clock.ready()
    sent: dict[str, float] = {}
    await asyncio.sleep(random.uniform(0, EVERY_S))
    for step, (annotation, version) in enumerate(judged):
        if time.perf_counter() >= until:
            break
        write_id = f"w-{uuid.uuid4().hex}"
        sent[write_id] = time.perf_counter()
        message = {"id": write_id, "action": "judge", "annotation": annotation}
        message |= {"version": version, "decision": "pass"}
        if step % 5 == 4:
            message |= {"decision": "reject", "comment": "ends too early"}
            message |= {"start_ns": step * STEP_NS, "end_ns": step * STEP_NS + STEP_NS // 2}
        await page.send("ReviewForm", message)
        await asyncio.sleep(EVERY_S * random.uniform(0.8, 1.2))
    with contextlib.suppress(TimeoutError):
        await page.wait(lambda: all(i in page.answered for i in sent), timeout=60)
    out["judged"] += len(sent)
    out["refused"] += [page.refused[i] for i in sent if i in page.refused]
    out["judge_times"] += [
        (page.answered[i] - t) * 1000 for i, t in sent.items() if i in page.answered
    ]
    page.close()


def _kinds(page: Page) -> set[str]:
    return {attrs.get("_kind", "") for attrs in page.models.values()}


class Clock:
    """The run starts once every page is open (logging 50 people in takes a while)."""

    def __init__(self, pages: int, seconds: float) -> None:
        self.waiting, self.seconds = pages, seconds
        self.started = threading.Event()
        self.began = self.until = 0.0
        self._opened: asyncio.Event | None = None

    async def ready(self) -> float:
        if self._opened is None:
            self._opened = asyncio.Event()
        self.waiting -= 1
        if self.waiting == 0:
            self.began = time.perf_counter()
            self.until = self.began + self.seconds
            self.started.set()
            self._opened.set()
        await self._opened.wait()
        return self.until


async def manager(base: str, clock: Clock) -> None:
    """A manager with the Statistics page open, opening it afresh every 30 s."""
    cookies = await log_in(base, "manager", PASSWORD)
    until = await clock.ready()
    while time.perf_counter() < until:
        page = await Page.open(base, cookies, "/statistics")
        await asyncio.sleep(min(30, max(0.0, until - time.perf_counter())))
        page.close()


async def flood(base: str, clock: Clock, tried: list[int]) -> None:
    """Wrong passwords for the admin's name from one address, as fast as answers come."""
    await clock.ready()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.perf_counter() < clock.until:
            form = await http.get("/login")
            found = re.search(r'name="_xsrf" value="([^"]*)"', form.text)
            data = {"username": "ada", "password": "wrong-password-1", "next": "/"}
            await http.post("/login", data=data | {"_xsrf": found.group(1) if found else ""})
            tried[0] += 1


def observer(base: str, task: int, dataset: int, clock: Clock, out: list[float]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/work?task={task}&dataset={dataset}")
        page.fill("#username", "observer")
        page.fill("#password", PASSWORD)
        page.click("[data-testid=login]")
        page.wait_for_selector("[data-testid=episode-annotator] img", timeout=120_000)
        clock.started.wait(600)
        while time.perf_counter() < clock.until:
            began = time.perf_counter()
            out.append(page.evaluate(ENTER_JS))
            time.sleep(max(0.0, EVERY_S - (time.perf_counter() - began)))
        browser.close()


def profile(path: str, server: Server, people: int, clock: Clock) -> subprocess.Popen[bytes]:
    """py-spy on the server for the rest of the run, into ``path.<people>`` (raw: a stack a
    line; without pausing the server, though sampling still slows it)."""
    seconds = max(1, int(clock.until - time.perf_counter()))
    command = [Path(sys.executable).parent / "py-spy", "record", "--pid", str(server.process.pid)]
    command += ["--subprocesses", "--threads", "--nonblocking", "-r", "100", "-f", "raw"]
    command += ["-o", f"{path}.{people}", "-d", str(seconds)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_timeline(timeline: list[tuple[float, float]]) -> None:
    """The slowest write answered in each second of the run (``second:ms``)."""
    buckets: dict[int, list[float]] = {}
    for at, ms in timeline:
        buckets.setdefault(int(at), []).append(ms)
    print(" ".join(f"{k}:{max(v):.0f}" for k, v in sorted(buckets.items())))


def team(
    args: argparse.Namespace,
    base: str,
    workspace: Workspace,
    names: list[str],
    clock: Clock,
    out: dict[str, Any],
    tried: list[int],
) -> list[Any]:
    """Everyone's coroutine: annotators, reviewers, the manager, the flood."""
    jobs: list[Any] = [
        annotator(base, n, workspace.tasks[n], workspace.dataset, clock, out, args.closed)
        for n in names
    ]
    jobs += [
        reviewer(base, n, workspace.reviews[n], workspace.dataset, workspace.judged[n], clock, out)
        for n in workspace.reviews
    ]
    if args.manager:
        jobs.append(manager(base, clock))
    else:
        clock.waiting -= 1
    for _ in range(args.flood):
        clock.waiting += 1
        jobs.append(flood(base, clock, tried))
    return jobs


def run_level(args: argparse.Namespace, people: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        reviewers = people // REVIEWERS_PER if args.reviewers else 0
        workspace = Workspace(Path(tmp), args.db, people - reviewers, reviewers)
        server = Server(workspace, args.num_procs)
        names = [f"annotator{i}" for i in range(people - reviewers)]
        out: dict[str, Any] = {"sent": 0, "times": [], "refused": []}
        out |= {"judged": 0, "judge_times": [], "timeline": []}
        seen: list[float] = []
        try:
            clock = Clock(people + 1, args.seconds)  # annotators, reviewers, the observer
            tried = [0]
            watcher = None
            if args.browser:
                watcher = threading.Thread(
                    target=observer,
                    args=(server.base, workspace.tasks["observer"], workspace.dataset, clock, seen),
                )
                watcher.start()

            async def everyone() -> None:
                jobs = team(args, server.base, workspace, names, clock, out, tried)
                await asyncio.gather(*jobs, measure())

            usage: dict[str, float] = {}

            async def measure() -> None:  # the server's CPU during the run, not the logins
                while not clock.started.is_set():
                    await asyncio.sleep(0.05)
                usage["cpu0"], _ = server.usage()
                spy = profile(args.profile, server, people, clock) if args.profile else None
                await asyncio.sleep(max(0.0, clock.until - time.perf_counter()))
                usage["cpu1"], usage["rss"] = server.usage()
                if spy is not None:
                    await asyncio.to_thread(spy.wait)

            asyncio.run(everyone())
            if watcher is not None:
                watcher.join()
            wall = clock.until - clock.began
            committed = workspace.committed(names)
            verdicts = workspace.verdicts()
            if args.timeline:
                print_timeline(out["timeline"])
        finally:
            server.stop()
            workspace.close()
    return {
        "people": people,
        "sent": out["sent"] + out["judged"],
        "committed": committed + verdicts,
        "lost": out["sent"] + out["judged"] - len(out["refused"]) - committed - verdicts,
        "reviewers": reviewers,
        "judged": out["judged"],
        "judge_p95": pct(out["judge_times"], 95),
        "refused": out["refused"],
        "p50": pct(out["times"] + out["judge_times"], 50),
        "p95": pct(out["times"] + out["judge_times"], 95),
        "max": max(out["times"] + out["judge_times"], default=float("nan")),
        "seen": seen,
        "cpu": 100 * (usage["cpu1"] - usage["cpu0"]) / wall,
        "mb_per_session": usage["rss"] / (people + 2),
        "load": os.getloadavg()[0],
        "per_s": (committed + verdicts) / wall,
        "flood": tried[0],
    }


class LabelStudio:
    """Label Studio 1.23.2 on SQLite, one text project with a task per client."""

    TOKEN = "0123456789abcdef0123456789abcdef01234567"

    def __init__(self, folder: Path, clients: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "LABEL_STUDIO_USERNAME": "bench@example.org",
            "LABEL_STUDIO_PASSWORD": PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": self.TOKEN,
            "LABEL_STUDIO_BASE_DATA_DIR": str(folder),
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        }
        command = [str(LS_VENV / "bin" / "label-studio"), "start", "--no-browser"]
        command += ["--port", str(self.port), "--data-dir", str(folder)]
        self.log = folder / "ls.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.base}/health", self.process, timeout=300, log=self.log)
        # Label Studio 1.23 turns the legacy token off by default: on, for this benchmark only
        with sqlite3.connect(folder / "label_studio.sqlite3") as db:
            db.execute("UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = 1")
        self.headers = {"Authorization": f"Token {self.TOKEN}"}
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as http:
            config = (
                '<View><Text name="text" value="$text"/><Labels name="label" toName="text">'
                '<Label value="pick"/></Labels></View>'
            )
            project = http.post("/api/projects", json={"title": "bench", "label_config": config})
            project.raise_for_status()
            self.project = project.json()["id"]
            tasks = [{"data": {"text": "x" * 400}} for _ in range(clients)]
            http.post(f"/api/projects/{self.project}/import", json=tasks).raise_for_status()
            listed = http.get("/api/tasks", params={"project": self.project, "page_size": 1000})
            body = listed.json()
            self.tasks = [t["id"] for t in (body["tasks"] if isinstance(body, dict) else body)]

    async def client(self, task: int, until: float, times: list[float]) -> None:
        async with httpx.AsyncClient(base_url=self.base, headers=self.headers, timeout=60) as http:
            await asyncio.sleep(random.uniform(0, EVERY_S))
            step = 0
            while time.perf_counter() < until:
                result = [
                    {
                        "from_name": "label",
                        "to_name": "text",
                        "type": "labels",
                        "value": {"start": step % 390, "end": step % 390 + 5, "labels": ["pick"]},
                    }
                ]
                began = time.perf_counter()
                answer = await http.post(f"/api/tasks/{task}/annotations", json={"result": result})
                answer.raise_for_status()
                times.append((time.perf_counter() - began) * 1000)
                step += 1
                await asyncio.sleep(max(0.0, EVERY_S * random.uniform(0.8, 1.2)))

    def stop(self) -> None:
        stop(self.process)


def run_label_studio(clients: int, seconds: float) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = LabelStudio(Path(tmp), clients)
        times: list[float] = []
        try:
            until = time.perf_counter() + seconds

            async def everyone() -> None:
                await asyncio.gather(
                    *(
                        server.client(server.tasks[i % len(server.tasks)], until, times)
                        for i in range(clients)
                    )
                )

            asyncio.run(everyone())
        finally:
            server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default="1,10,20,50")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--num-procs", type=int, default=1)
    parser.add_argument("--no-ls", dest="ls", action="store_false")
    parser.add_argument("--no-browser", dest="browser", action="store_false")
    parser.add_argument("--no-manager", dest="manager", action="store_false")
    parser.add_argument("--no-reviewers", dest="reviewers", action="store_false")
    parser.add_argument(
        "--flood", type=int, default=0, help="clients posting wrong passwords meanwhile"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="the slowest save per second of each run"
    )
    parser.add_argument(
        "--profile", default="", help="py-spy the server into PROFILE.<people> (raw stacks)"
    )
    parser.add_argument(
        "--closed", action="store_true", help="each person saves again as soon as answered"
    )
    args = parser.parse_args()
    pace = "saving again once answered" if args.closed else f"a save every {EVERY_S:.0f} s"
    print(
        f"{args.db}, --num-procs {args.num_procs}, {args.seconds:.0f} s per level, {pace} "
        f"per person, {os.cpu_count()} cores"
    )
    for people in [int(p) for p in args.people.split(",")]:
        row = run_level(args, people)
        seen = row["seen"]
        line = (
            f"{people:3d} people: sent {row['sent']:5d} committed {row['committed']:5d} "
            f"lost {row['lost']:3d} refused {len(row['refused']):3d} | "
            f"protocol save p50 {row['p50']:7.1f} p95 {row['p95']:7.1f} "
            f"max {row['max']:7.1f} ms"
        )
        if row["reviewers"]:
            line += (
                f" (of which {row['judged']} verdicts by {row['reviewers']} reviewers, "
                f"p95 {row['judge_p95']:.1f} ms)"
            )
        if seen:
            line += f" | Chromium Enter->row p50 {pct(seen, 50):6.1f} p95 {pct(seen, 95):6.1f} ms"
        line += (
            f" | {row['per_s']:5.1f} writes/s | server CPU {row['cpu']:5.1f}%, "
            f"{row['mb_per_session']:5.1f} MB/session, "
            f"load {row['load']:.2f}"
        )
        if args.flood:
            line += f" | {row['flood']} wrong logins meanwhile"
        print(line, flush=True)
        for reason in sorted(set(row["refused"])):
            print(f"    refused {row['refused'].count(reason)}x: {reason}")
        if args.ls and LS_VENV.exists():
            ls = run_label_studio(people, args.seconds)
            print(
                f"    Label Studio 1.23.2, {people} clients: create p50 {pct(ls, 50):7.1f} "
                f"p95 {pct(ls, 95):7.1f} max {max(ls, default=float('nan')):7.1f} ms "
                f"({len(ls)} creates), load {os.getloadavg()[0]:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
