"""``annotation-kit serve`` in Chromium, on SQLite and on PostgreSQL: each role logs in and sees
exactly its pages (403 for the others); wrong passwords, disabled users, anonymous clients and
cookies signed with another secret are refused, on pages and on their websockets; nothing the
browser sends chooses the user; an admin pauses and resumes the queue from the Queue page."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import tornado.httpclient
import tornado.websocket
from sqlalchemy import text
from tornado.web import create_signed_value

from annotation_kit.access import events
from annotation_kit.access.workflow import Status
from annotation_kit.data import synthetic
from annotation_kit.jobs.worker import execute
from annotation_kit.store.models import Task
from tests import protocol
from tests.conftest import _empty_database, make_team
from tests.frontends import free_port, stop, wait_http
from tests.ui.conftest import box, shot

SECOND = 1_000_000_000
SECRET = "a cookie secret of the test server, long enough"
PASSWORDS = {name: f"{name}-password-1" for name in ("ada", "maya", "ann", "rita", "vic", "dis")}
PAGES = {
    "ada": {"work", "review", "tasks", "data", "exports", "queue", "statistics", "setup"},
    "maya": {"work", "review", "tasks", "data", "exports", "queue", "statistics", "setup"},
    "ann": {"work", "setup"},
    "rita": {"review", "setup"},
    "vic": {"statistics", "setup"},
}
SERVE = [sys.executable, "-m", "annotation_kit.cli", "serve", "--workers", "0"]  # tests run jobs
EVERY_PAGE = {
    "work",
    "review",
    "tasks",
    "data",
    "exports",
    "queue",
    "statistics",
    "setup",
}


class Served:
    """A running ``annotation-kit serve`` over a small team's workspace."""

    def __init__(
        self,
        url: str,
        folder: Path,
        extra: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.team = make_team(url)
        ada = self.team["ada"]
        ada.users.set_status("dis", "active")
        for name, password in PASSWORDS.items():
            ada.logins.set_password(name, password)
        ada.users.set_status("dis", "disabled")
        maya = self.team["maya"]
        maya.skills.create("pick")
        files = [
            synthetic.write_mcap(folder / f"ep{i}.mcap", duration_s=3, seed=i) for i in range(2)
        ]
        ids = maya.import_datasets(files, progress=False).dataset_ids
        self.task = maya.tasks.create(
            "served", datasets=ids, annotators=["ann"], reviewers=["rita"]
        )
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "serve.log"
        self.folder = folder
        self.queue = f"sqlite:///{folder / 'queue.db'}"
        self.url = url
        self.env = {
            **os.environ,
            "ANNOTATION_KIT_COOKIE_SECRET": SECRET,
            "ANNOTATION_KIT_QUEUE": self.queue,
            **(env or {}),
        }
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [*SERVE, "--url", url, "--port", str(self.port), *(extra or [])],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_http(f"{self.base}/login", self.process, log=self.log)
        protocol.DIAGNOSES.append(self.diagnosis)

    def diagnosis(self) -> str:
        """The server's last log lines and, on PostgreSQL, who waits in the database now."""
        lines = self.log.read_text(errors="replace").splitlines()[-40:]
        said = [f"serve.log of the server on port {self.port} (last lines):", *lines]
        ada = self.team["ada"]
        if ada.db.dialect == "postgresql":
            query = text(
                "SELECT pid, state, wait_event_type, wait_event, "
                "now() - xact_start AS age, left(query, 120) AS query FROM pg_stat_activity "
                "WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
            with ada.db.engine.connect() as conn:
                said += ["PostgreSQL, connections not idle:", *map(str, conn.execute(query))]
        return "\n".join(said)

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            protocol.DIAGNOSES.remove(self.diagnosis)
        stop(self.process)
        self.team["ada"].close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    for url in _empty_database(request.param, tmp_path_factory):
        server = Served(url, tmp_path_factory.mktemp("served"))
        yield server
        server.stop()


def log_in(page, served: Served, name: str, password: str | None = None, then: str = "/"):
    page.goto(f"{served.base}{then}")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name] if password is None else password)
    page.click("[data-testid=login]")


def statuses(context, served: Served) -> dict[str, int]:
    return {
        slug: context.request.get(f"{served.base}/{slug}", max_redirects=0).status
        for slug in EVERY_PAGE
    }


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_sees_exactly_its_pages(served, browser, name):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, served, name)
    page.wait_for_selector("[data-testid=pages]")
    shown = {
        link.get_attribute("data-testid").removeprefix("nav-")
        for link in page.locator("[data-testid^=nav-]").all()
    }
    assert shown == PAGES[name]
    assert page.inner_text("[data-testid=who]").startswith(name)
    got = statuses(context, served)
    assert {s for s, code in got.items() if code == 200} == PAGES[name]
    assert {s for s, code in got.items() if code == 403} == EVERY_PAGE - PAGES[name]
    refused = context.request.get(f"{served.base}/queue")
    if "queue" not in PAGES[name]:
        assert "not open to your role" in refused.text()
    context.close()


def test_wrong_passwords_and_disabled_users_are_refused(served, page):
    log_in(page, served, "ann", password="not the password")
    page.wait_for_selector("[data-testid=login-error] >> text=wrong user name or password")
    log_in(page, served, "nobody", password="whatever-whatever")
    page.wait_for_selector("[data-testid=login-error] >> text=wrong user name or password")
    log_in(page, served, "dis")
    page.wait_for_selector("[data-testid=login-error] >> text=user 'dis' is disabled")
    shot(page, "served_login_refused")
    assert page.context.cookies() == [] or all(
        c["name"] != "annotation_kit" for c in page.context.cookies()
    )


def _websocket_status(url: str, cookie: str | None) -> int:
    headers = {"Cookie": f"annotation_kit={cookie}"} if cookie else {}
    request = tornado.httpclient.HTTPRequest(url, headers=headers)

    async def connect() -> int:
        try:
            socket = await tornado.websocket.websocket_connect(request)
        except tornado.httpclient.HTTPClientError as exc:
            return exc.code
        socket.close()
        return 101

    with ThreadPoolExecutor(1) as thread:  # Playwright's loop runs in this one
        return thread.submit(asyncio.run, connect()).result()


def test_anonymous_clients_and_foreign_cookies_are_refused(served, browser):
    context = browser.new_context()
    anonymous = statuses(context, served)
    assert set(anonymous.values()) == {302}  # every page sends to the login page
    foreign = create_signed_value("another secret, just as long!!", "annotation_kit", "ada|1")
    context.add_cookies([{"name": "annotation_kit", "value": foreign.decode(), "url": served.base}])
    assert set(statuses(context, served).values()) == {302}
    ws = f"ws://127.0.0.1:{served.port}"
    genuine = create_signed_value(SECRET, "annotation_kit", "ada|1").decode()
    assert _websocket_status(f"{ws}/tasks/ws", None) == 403
    assert _websocket_status(f"{ws}/tasks/ws", foreign.decode()) == 403
    assert _websocket_status(f"{ws}/tasks/ws", genuine) == 101  # the control: it does open
    tampered = genuine.replace("YWRhfDE=", "YW5ufDE=")  # "ada|1" -> "ann|1", signature kept
    assert _websocket_status(f"{ws}/tasks/ws", tampered) == 403
    old_epoch = create_signed_value(SECRET, "annotation_kit", "ada|9").decode()
    assert _websocket_status(f"{ws}/tasks/ws", old_epoch) == 403
    context.close()


def test_nothing_the_browser_sends_chooses_the_user(served, browser):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, served, "ann")
    page.wait_for_selector("[data-testid=pages]")
    context.add_cookies(
        [
            {"name": "user", "value": "ada", "url": served.base},  # Panel's own cookie names
            {"name": "is_guest", "value": "1", "url": served.base},
        ]
    )
    page.goto(f"{served.base}/work?user=ada&username=ada")
    page.wait_for_selector("[data-testid=who]")
    assert page.inner_text("[data-testid=who]") == "ann (annotator)"
    assert context.request.get(f"{served.base}/queue?user=ada").status == 403
    context.close()


def test_an_admin_creates_a_user_who_then_logs_in(served, browser):
    ada = served.team["ada"]
    if "arms" not in {p.name for p in ada.projects.list_projects()}:
        ada.projects.create("arms")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, served, "ada", then="/setup?tab=users")  # the one screen for people
    page.wait_for_selector("[data-testid=users]")
    assert context.request.get(f"{served.base}/admin").status == 404  # the old page is gone
    name = f"newbie{served.port}"
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill("a new password!")
    page.get_by_label("E-mail").fill(f"{name}@Example.org")
    page.get_by_label("Project").select_option("arms")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_selector(f"[data-testid=notice] >> text={name} (annotator) with a pass")
    page.get_by_role("button", name="Add to project").click()
    page.wait_for_selector(f"[data-testid=notice] >> text={name} is a member of arms")
    row = page.locator(f"[data-testid=user-{name}]")
    row.wait_for()
    assert row.inner_text().split("\t")[:6] == [
        name,
        "annotator",
        "active",
        f"{name}@example.org",
        "arms",
        "yes",
    ]
    page.get_by_role("button", name="Create user").click()  # once more: refused, named
    page.wait_for_selector(f"[data-testid=error] >> text=a user named '{name}' already")
    page.get_by_label("E-mail").fill(f"{name}@lab.example.org")
    page.get_by_role("button", name="Set e-mail").click()
    page.wait_for_selector(f"[data-testid=notice] >> text={name}@lab.example.org")
    shot(page, "served_admin_page")

    other = browser.new_context()
    newbie = other.new_page()
    newbie.goto(f"{served.base}/")
    newbie.fill("#username", name)
    newbie.fill("#password", "a new password!")
    newbie.click("[data-testid=login]")
    newbie.wait_for_selector("[data-testid=pages]")
    assert newbie.inner_text("[data-testid=who]") == f"{name} (annotator)"
    page.click(f"[data-testid=status-{name}]")  # Disable, in the user's row
    page.wait_for_selector(f"[data-testid=notice] >> text={name} is disabled")
    assert other.request.get(f"{served.base}/work", max_redirects=0).status == 302
    assert ada.projects.memberships()[name] == ["arms"]
    assert ada.users.get(name).email == f"{name}@lab.example.org"
    page.get_by_role("button", name="Remove from project").click()
    page.wait_for_selector(f"[data-testid=notice] >> text={name} is no longer a member of arms")
    assert name not in ada.projects.memberships()
    other.close()
    context.close()


def test_the_statistics_page_shows_the_overview_charts_to_managers(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    log_in(page, served, "maya", then="/statistics")
    for name in ("progress", "status", "volume", "skills"):
        page.wait_for_selector(f".chart-{name} .main-svg", timeout=30_000)
    titles = page.locator(".gtitle").all_text_contents()
    assert "Tasks per status" in titles and "Hours of recordings per month" in titles
    assert page.title() == "Statistics · annotation_kit"  # each page's tab says which it is
    shot(page, "served_statistics_charts")
    with page.expect_download() as got:  # the report: every chart in one page that opens offline
        page.get_by_role("button", name="Download report (HTML)").click()
    report = Path(got.value.path()).read_text()
    assert "Tasks per status" in report and "Plotly.newPlot" in report

    # the view is kept per person: a bad date is refused, a good one saved and read back
    page.get_by_label("Since (YYYY-MM-DD)").fill("2026-02-30")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_selector("[data-testid=charts-error] >> text=since must be a date")
    page.get_by_label("Since (YYYY-MM-DD)").fill("2000-01-01")
    page.get_by_label("Project").select_option("(all)")
    page.get_by_role("button", name="Save view").click()
    page.wait_for_selector("[data-testid=charts-saved]")
    maya = served.team["maya"]
    from annotation_kit.quality import charts

    assert charts.settings(maya).since == "2000-01-01"
    charts.save_settings(maya, charts=("status", "skills"), since="2000-01-01")
    page.reload()
    page.wait_for_selector(".chart-skills .main-svg", timeout=30_000)
    assert page.locator(".chart-volume").count() == 0
    assert page.get_by_label("Since (YYYY-MM-DD)").input_value() == "2000-01-01"
    maya.users.set_preference("overview", None)  # back to the defaults for the other tests
    context.close()
    visitor = browser.new_context()
    page = visitor.new_page()
    log_in(page, served, "vic", then="/statistics")
    page.wait_for_selector("[data-testid=progress]")
    assert page.locator(".main-svg").count() == 0  # the tables only: no team figures
    seen = served.team["vic"].task_queries.list_tasks().total
    said = page.locator("[data-testid=nothing-seen]")  # an empty page says why
    assert said.count() == (0 if seen else 1)
    if not seen:
        assert "ask a manager to add you to a project" in said.inner_text()
    visitor.close()


def test_an_admin_pauses_and_resumes_the_queue(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, served, "ada", then="/queue")
    page.wait_for_selector("[data-testid=queue-monitor] >> text=Running", timeout=30_000)
    # this server runs no worker (the tests run jobs themselves): the page says so
    page.wait_for_selector("[data-testid=workers] >> text=no worker connected")
    page.wait_for_selector("[data-testid=no-worker] >> text=annotation-kit worker")
    page.click("[data-testid=pause]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Paused")
    page.click("[data-testid=resume]")
    page.wait_for_selector("[data-testid=queue-state] >> text=Running")
    with served.team["ada"].transaction(write=False) as session:
        actions = [e.action for e in events.history(session, "queue", 0, limit=5)]
    assert actions[:2] == ["resume", "pause"]
    shot(page, "served_queue")
    context.close()


def test_a_page_left_open_ends_with_a_password_change_or_a_disabled_user(served, browser):
    ada = served.team["ada"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    task = served.task.id
    for change, undo, said in [
        (
            lambda: ada.logins.set_password("ann", "changed-by-the-admin"),
            lambda: ada.logins.set_password("ann", PASSWORDS["ann"]),
            "your session has ended",
        ),
        (
            lambda: ada.users.set_status("ann", "disabled"),
            lambda: ada.users.set_status("ann", "active"),
            "user 'ann' is disabled",
        ),
    ]:
        log_in(page, served, "ann", then="/work")
        page.click(f"[data-testid=open-{task}]")
        page.wait_for_selector("[data-testid=action-start]")
        change()
        page.click("[data-testid=action-start]")  # the page is still open: its next action
        page.wait_for_selector(f"[data-testid=error] >> text={said}")
        assert ada.tasks.get(task).status == "pending"
        undo()
        page.goto(f"{served.base}/work")  # and a reload asks for a login again
        page.wait_for_selector("#username")
    context.close()


def test_a_submit_that_breaks_a_project_rule_is_refused_in_the_page(served, browser):
    maya = served.team["maya"]
    if "place" not in {s.name for s in maya.skills.list_skills()}:
        maya.skills.create("place")
    project = f"ruled{served.port}"
    maya.projects.create(project)
    maya.rules.set_rules(project, [{"rule": "required_skills", "skills": ["place"]}])
    [first, _second] = maya.tasks.task_dataset_ids(served.task.id)
    task = maya.tasks.create(
        "ruled", datasets=[first], annotators=["ann"], reviewers=["rita"], project=project
    )
    served.team["ann"].tasks.start(task.id)
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(page, served, "ann", then="/work")
    page.click(f"[data-testid=open-{task.id}]", timeout=30_000)
    page.click("[data-testid=open-annotator]")
    page.wait_for_selector("[data-testid=episode-annotator] img", timeout=30_000)

    def segment(skill_key: str) -> None:
        page.focus("[data-testid=episode-annotator]")
        for key in (skill_key, "q", "Shift+ArrowRight", "r", "Enter"):
            page.keyboard.press(key)
        page.wait_for_selector("[data-testid=notice] >> text=added segment")

    segment("1")  # a pick: the rule wants a place, and the annotator says so at once
    page.wait_for_selector(
        "[data-testid=findings] >> text=error: required_skills: no segment of the required"
    )
    page.click("[data-testid=refresh-task]")
    page.click("[data-testid=action-submit]")
    page.wait_for_selector(
        "[data-testid=error] >> text=required_skills: no segment of the required skill 'place'"
    )
    shot(page, "served_rule_refused")
    assert maya.tasks.get(task.id).status == "in_progress"
    segment("2")  # a place
    page.wait_for_selector("[data-testid=findings]", state="detached")
    page.click("[data-testid=refresh-task]")
    page.click("[data-testid=action-submit]")
    page.wait_for_selector("[data-testid=notice] >> text=task is now Pending Review")
    page.context.close()


def test_the_reviewer_settles_a_disagreement_on_an_independent_episode(served, browser):
    maya, ann_ws, ann2_ws = served.team["maya"], served.team["ann"], served.team["ann2"]
    [first, _second] = maya.tasks.task_dataset_ids(served.task.id)
    task = maya.tasks.create(
        "twice", datasets=[first], annotators=["ann", "ann2"], reviewers=["rita"], overlap=1.0
    ).id
    ann_ws.tasks.start(task)
    mine = ann_ws.annotations.add(task, first, start_ns=0, end_ns=2 * SECOND, skill="pick")
    theirs = ann2_ws.annotations.add(
        task, first, start_ns=SECOND // 2, end_ns=2 * SECOND, skill="pick"
    )
    # ann, in her page, sees her own segment and not ann2's
    ann = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(ann, served, "ann", then="/work")
    ann.click(f"[data-testid=open-{task}]", timeout=30_000)
    ann.click("[data-testid=open-annotator]")
    ann.wait_for_selector(f"[data-testid=edge-start-{mine.id}]", timeout=30_000)
    assert ann.locator(f"[data-testid=edge-start-{theirs.id}]").count() == 0
    ann.context.close()
    ann_ws.tasks.submit(task)

    rita = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(rita, served, "rita", then="/review")
    rita.click(f"[data-testid=open-{task}]", timeout=30_000)
    rita.click("[data-testid=open-review]")
    rita.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet", timeout=30_000)
    rita.select_option("[data-testid=sample-mode]", "full")
    rita.click("[data-testid=draw-sample]")
    rita.wait_for_selector("[data-testid=disagreement]")
    assert rita.locator("[data-testid=lane]").count() == 2
    # tIoU 1.5 / 2 = 0.75; of the four boundaries the two 2 s ends agree at every tolerance
    rita.wait_for_selector("[data-testid=pair] >> text=ann × ann2: 1 matched, 0 unmatched")
    rita.wait_for_selector("[data-testid=pair] >> text=mean tIoU 0.75")
    rita.wait_for_selector("[data-testid=pair] >> text=0.50 @0.1 s")
    rita.wait_for_selector("[data-testid=no-consensus]")
    rita.click("[data-testid=pass-task]")  # no pass without a consensus
    rita.wait_for_selector("[data-testid=error] >> text=pick the consensus")
    rita.click(f"[data-testid=lane-seg-{theirs.id}]")
    rita.click("[data-testid=adopt-picked]")
    rita.wait_for_selector("[data-testid=notice] >> text=consensus: 1 segment(s)")
    rita.wait_for_selector("[data-testid=consensus-seg]")
    shot(rita, "served_disagreement")
    rita.click("[data-testid=pass-task]")
    rita.wait_for_selector("[data-testid=notice] >> text=task passed")
    view = maya.consensus.disagreement(task, first)
    assert [(c.start_ns, c.end_ns) for c in view.consensus] == [(SECOND // 2, 2 * SECOND)]
    rita.context.close()


def test_the_bell_tells_an_annotator_what_concerns_her_and_opens_it(served, browser):
    maya, ann_ws = served.team["maya"], served.team["ann"]
    [first, _second] = maya.tasks.task_dataset_ids(served.task.id)
    task = maya.tasks.create("rung", datasets=[first], annotators=["ann"], reviewers=["rita"])
    [told, *_] = ann_ws.notifications.list_notifications()
    assert (told.kind, told.task) == ("assigned", task.id)
    unread = ann_ws.notifications.unread_count()
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(page, served, "ann", then="/work")
    page.wait_for_selector(f"[data-testid=bell] >> text=Notifications · {unread}", timeout=30_000)
    page.click("[data-testid=bell]")
    page.wait_for_selector(f"[data-testid=notification-{told.id}] >> text=maya made you annotator")
    page.click(f"[data-testid=notification-{told.id}]")
    page.wait_for_selector(f"[data-testid=bell] >> text=Notifications · {unread - 1}")
    page.wait_for_selector("[data-testid=task-detail] >> text=rung", timeout=30_000)
    assert ann_ws.notifications.unread_count() == unread - 1
    shot(page, "served_bell")
    page.context.close()


def test_review_round_trip_between_two_people_logged_in_at_once(served, browser):
    maya, ann_ws = served.team["maya"], served.team["ann"]
    [first, _second] = maya.tasks.task_dataset_ids(served.task.id)
    task = maya.tasks.create("round trip", datasets=[first], annotators=["ann"], reviewers=["rita"])
    ann_ws.tasks.start(task.id)
    segment = ann_ws.annotations.add(
        task.id, first, start_ns=SECOND, end_ns=2 * SECOND, skill="pick"
    )
    ann_ws.tasks.submit(task.id)
    rita = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    ann = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    log_in(ann, served, "ann", then="/work")
    ann.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    log_in(rita, served, "rita", then="/review")
    rita.wait_for_selector(f"[data-testid=open-{task.id}]", timeout=30_000)
    rita.click(f"[data-testid=open-{task.id}]")
    rita.click("[data-testid=open-review]")
    rita.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet", timeout=30_000)
    rita.select_option("[data-testid=sample-mode]", "full")
    rita.click("[data-testid=draw-sample]")
    rita.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{segment.id}")
    rita.wait_for_selector("[data-testid=time] >> text=1.000 /")
    rita.focus("[data-testid=review-form]")
    rita.keyboard.press("q")
    rita.keyboard.press("Shift+ArrowRight")
    rita.keyboard.press("r")
    rita.fill("[data-testid=verdict-comment]", "the pick starts too early")
    rita.click("[data-testid=reject-annotation]")
    rita.wait_for_selector(f"[data-testid=verdict-{segment.id}] >> text=reject")
    rita.fill("[data-testid=task-comment]", "see the anchored comment")
    rita.click("[data-testid=fail-task]")
    rita.wait_for_selector("[data-testid=notice] >> text=task failed")
    [verdict] = maya.reviews.verdicts(task.id)
    assert (verdict.range_start_ns, verdict.range_end_ns) == (SECOND, 2 * SECOND)

    # ann, logged in all along elsewhere, sees it on her page, fixes and resubmits
    ann.goto(f"{served.base}/work")
    ann.click(f"[data-testid=open-{task.id}]")
    ann.click("[data-testid=open-annotator]")
    ann.wait_for_selector(
        "[data-testid=comments] >> text=the pick starts too early", timeout=30_000
    )
    ann.wait_for_selector("[data-testid=episode-annotator] img", timeout=30_000)
    ann.locator("[data-testid=timeline]").scroll_into_view_if_needed()
    edge, bar = (
        box(ann, f"[data-testid=edge-start-{segment.id}]"),
        box(ann, "[data-testid=timeline]"),
    )
    ann.mouse.move(edge["x"] + 3, edge["y"] + 5)
    ann.mouse.down()
    ann.mouse.move(edge["x"] + bar["width"] / 12, edge["y"] + 5, steps=5)
    ann.mouse.up()
    ann.wait_for_selector("[data-testid=notice] >> text=saved segment")
    assert ann_ws.annotations.get(segment.id).start_ns > SECOND
    ann.click("[data-testid=refresh-task]")
    ann.click("[data-testid=action-submit]")
    ann.wait_for_selector("[data-testid=notice] >> text=task is now Pending Review")

    # rita passes it in round 2
    rita.click("[data-testid=refresh-task]")
    rita.click("[data-testid=open-review]")
    rita.wait_for_selector("[data-testid=round] >> text=round 2", timeout=30_000)
    rita.select_option("[data-testid=sample-mode]", "full")
    rita.click("[data-testid=draw-sample]")
    rita.wait_for_selector(f"[data-testid=judging] >> text=Annotation #{segment.id}")
    rita.focus("[data-testid=review-form]")
    rita.keyboard.press("a")
    rita.wait_for_selector(f"[data-testid=verdict-{segment.id}] >> text=pass")
    rita.click("[data-testid=pass-task]")
    rita.wait_for_selector("[data-testid=notice] >> text=task passed")
    assert maya.tasks.get(task.id).status == "review_passed"
    shot(rita, "served_review_passed")
    rita.context.close()
    ann.context.close()


def test_a_rejection_is_told_opened_at_its_place_fixed_in_place_and_resubmitted(served, browser):
    """The working day, end to end: rita rejects a segment with a comment anchored at 1.5 s;
    ann's bell tells her; the notification opens the annotator on that episode at 1.5 s; she
    changes the segment's skill and description in place and resubmits; rita is told. Then ann
    raises an issue on a time range, and maya answers it."""
    maya, ann_ws, rita_ws = (served.team[n] for n in ("maya", "ann", "rita"))
    if "place" not in {s.name for s in maya.skills.list_skills()}:
        maya.skills.create("place")
    [first] = maya.import_datasets(
        [synthetic.write_mcap(served.folder / "day.mcap", duration_s=3, seed=31)], progress=False
    ).dataset_ids
    task = maya.tasks.create(
        "working day", datasets=[first], annotators=["ann"], reviewers=["rita"]
    )
    ann_ws.tasks.start(task.id)
    segment = ann_ws.annotations.add(
        task.id, first, start_ns=SECOND, end_ns=2 * SECOND, skill="pick", description="grab"
    )
    ann_ws.tasks.submit(task.id)
    rita_ws.reviews.draw_sample(task.id)  # the whole task
    rita_ws.reviews.judge(
        segment.id, "reject", comment="this is a place", range_ns=(SECOND + SECOND // 2, 2 * SECOND)
    )
    rita_ws.tasks.reject(task.id, comment="fix the skill")
    [told] = [
        n for n in ann_ws.notifications.list_notifications() if n.kind == "annotation_rejected"
    ][:1]

    ann = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
    log_in(ann, served, "ann", then="/work")
    ann.wait_for_selector("[data-testid=bell]", timeout=30_000)
    ann.click("[data-testid=bell]")
    ann.click(f"[data-testid=notification-{told.id}]")
    # the annotator opens on that episode, at the comment's place
    ann.wait_for_selector("[data-testid=episode-annotator]", timeout=30_000)
    ann.wait_for_selector("[data-testid=time] >> text=1.500 /", timeout=30_000)
    ann.wait_for_selector("[data-testid=comments] >> text=this is a place")
    ann.click(f"[data-testid=segment-{segment.id}]")
    ann.select_option("[data-testid=skill]", "place")
    ann.fill("[data-testid=description]", "put the cup down")
    ann.click("[data-testid=apply-edit]")
    ann.wait_for_selector("[data-testid=notice] >> text=saved", timeout=30_000)
    fixed = ann_ws.annotations.get(segment.id)
    assert (fixed.description, fixed.version) == ("put the cup down", segment.version + 1)
    assert maya.skills.names()[fixed.skill_id] == "place"
    ann.click("[data-testid=refresh-task]")
    ann.click("[data-testid=action-submit]")
    ann.wait_for_selector("[data-testid=notice] >> text=task is now Pending Review")
    resubmitted = rita_ws.notifications.list_notifications()[0]
    assert (resubmitted.kind, resubmitted.actor, resubmitted.task) == ("submitted", "ann", task.id)

    # an issue on a time range, answered by the manager
    ann.click("[data-testid=raise-form] summary")  # a <details>: open it first
    ann.select_option("[data-testid=issue-kind]", "question")
    ann.select_option("[data-testid=issue-dataset]", str(first))
    ann.fill("[data-testid=issue-from]", "0.5")
    ann.fill("[data-testid=issue-to]", "1")
    ann.fill("[data-testid=issue-text]", "is a slide a place?")
    ann.click("[data-testid=raise-issue]")
    ann.wait_for_selector("[data-testid=issues] >> text=is a slide a place?", timeout=30_000)
    [issue] = ann_ws.feedback.list_issues(task.id)
    assert (issue.dataset_id, issue.start_ns, issue.end_ns) == (first, SECOND // 2, SECOND)
    manager = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
    log_in(manager, served, "maya", then="/tasks")
    manager.wait_for_selector("[data-testid=bell]", timeout=30_000)
    [raised] = [n for n in maya.notifications.list_notifications() if n.kind == "feedback"][:1]
    manager.click("[data-testid=bell]")
    manager.click(f"[data-testid=notification-{raised.id}]")
    manager.wait_for_selector(f"[data-testid=issue-{issue.id}]", timeout=30_000)
    manager.fill(f"[data-testid=reply-text-{issue.id}]", "yes: slides count as place")
    manager.click(f"[data-testid=reply-{issue.id}]")
    manager.wait_for_selector(f"[data-testid=issue-{issue.id}] >> text=yes: slides count")
    answer = [n for n in ann_ws.notifications.list_notifications() if n.kind == "feedback_reply"]
    assert answer and "answered an issue" in answer[0].text
    shot(ann, "served_working_day")
    ann.context.close()
    manager.context.close()


def test_a_manager_exports_two_tasks_as_a_release_with_only_new_and_diffs_it(served, browser):
    """The Export page: two passed tasks, the release's first version made earlier; a new
    segment since; "only new" into the same feed as the release's next version, run by a
    worker while the page shows its progress; then the diff of the two versions."""
    maya = served.team["maya"]
    files = [
        synthetic.write_mcap(served.folder / f"rel{i}.mcap", duration_s=3, seed=20 + i)
        for i in range(2)
    ]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    made = []
    for i, dataset in enumerate(ids):
        task = maya.tasks.create(f"weekly-{i}", datasets=[dataset], annotators=["ann"])
        maya.annotations.add(task.id, dataset, start_ns=0, end_ns=SECOND, skill="pick")
        with maya.transaction() as s:
            s.get(Task, task.id).status = Status.REVIEW_PASSED
        made.append(task.id)
    feed = served.folder / "weekly-feed"
    first = maya.export(made, "json", feed, release="weekly")
    added = maya.annotations.add(made[0], ids[0], start_ns=SECOND, end_ns=2 * SECOND, skill="pick")

    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    log_in(page, served, "maya", then="/exports")
    page.wait_for_selector("[data-testid=exporter]", timeout=30_000)
    assert page.title().startswith("Exports")
    page.locator("[data-testid=filter-search]").fill("weekly-")
    # the search has reached the server (other tests' tasks passed review too)
    page.wait_for_selector("[data-testid=selected-count] >> text=of 2 matching")
    page.click("[data-testid=select-all]")
    page.wait_for_selector("[data-testid=selected-count] >> text=2 task(s) selected")
    page.locator("[data-testid=export-destination]").fill(str(feed))
    page.locator("[data-testid=export-release]").fill("weekly")
    page.locator("[data-testid=export-only-new]").check()
    page.locator("[data-testid=export-overwrite]").check()
    page.click("[data-testid=run-export]")
    notice = page.locator("[data-testid=notice] >> text=queued export job")
    notice.wait_for()
    job = int(notice.inner_text().split("#")[1].split(":")[0])
    assert "2 task(s) as json as release 'weekly'" in notice.inner_text()
    page.wait_for_selector(f"[data-testid=export-job-{job}] >> text=waiting")
    assert execute(job, maya.url, served.queue) == "completed"  # a worker runs it
    page.wait_for_selector(f"[data-testid=export-job-{job}] >> text=completed", timeout=30_000)
    [second] = [e for e in maya.exports.list_exports(limit=5) if e.release == "weekly"][:1]
    assert (second.release_version, second.parent_id, second.counts["annotations"]) == (
        2,
        first.id,
        1,
    )
    row = page.locator(f"[data-testid=export-{second.id}]")
    assert "weekly v2" in row.inner_text() and "(only new)" in row.inner_text()
    page.locator(f"[data-testid=compare-{first.id}]").check()
    page.locator(f"[data-testid=compare-{second.id}]").check()
    page.click("[data-testid=diff]")
    page.wait_for_selector(f"[data-testid=diff-added] >> text=1 annotations added: #{added.id}")
    assert page.inner_text("[data-testid=diff-removed]").startswith("2 annotations removed")
    shot(page, "served_exports")
    page.context.close()


def test_no_password_hash_or_secret_is_logged_or_recorded(served):
    """Runs last in this module: after every login, refusal and page above."""
    said = served.log.read_text()
    assert "logged in from" in said and "login refused" in said  # the log does say things
    with served.team["ada"].transaction(write=False) as session:
        hashes = [h for (h,) in session.execute(text("SELECT password_hash FROM logins"))]
        recorded = " ".join(str(row) for row in session.execute(text("SELECT * FROM events")))
        ledger = " ".join(str(row) for row in session.execute(text("SELECT * FROM jobs")))
    for secret in [SECRET, *PASSWORDS.values(), *hashes]:
        assert secret not in said and secret not in recorded and secret not in ledger


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_twenty_sessions_opened_and_closed_give_their_memory_back(tmp_path, browser):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    server = Served(url, tmp_path, extra=["--unused-session-seconds", "1"])
    try:

        def visit() -> None:
            context = browser.new_context()
            page = context.new_page()
            log_in(page, server, "maya", then="/tasks")
            page.wait_for_selector(f"[data-testid=open-{server.task.id}]", timeout=30_000)
            context.close()

        for _ in range(3):  # what stays for the life of the process: imports, caches
            visit()
        page_closed = "maya closed a page"
        wait_for_log(server, page_closed, 3)
        before = _rss_mb(server.process.pid)
        for _ in range(20):
            visit()
        wait_for_log(server, page_closed, 23)  # every session was freed
        after = _rss_mb(server.process.pid)
        assert after - before < 8, f"{before:.1f} MB -> {after:.1f} MB after 20 sessions"
    finally:
        server.stop()


def wait_for_log(server: Served, line: str, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while server.log.read_text().count(line) < count:
        assert time.time() < deadline, f"{line!r} logged fewer than {count} times"
        time.sleep(0.2)


def test_the_launcher_card_opens_the_dashboards_through_jupyters_proxy(
    tmp_path_factory, browser, monkeypatch
):
    from tests.ui.conftest import JupyterLab

    folder = tmp_path_factory.mktemp("launcher")
    url = f"sqlite:///{folder / 'workspace.db'}"
    team = make_team(url)
    team["ada"].logins.set_password("ann", PASSWORDS["ann"])
    team["ada"].logins.set_password("ada", PASSWORDS["ada"])
    monkeypatch.setenv("ANNOTATION_KIT_URL", url)
    monkeypatch.setenv("ANNOTATION_KIT_COOKIE_SECRET", SECRET)
    lab = JupyterLab(tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("home"))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{lab.port}/lab?token={lab.token}")
        card = page.locator(".jp-LauncherCard", has_text="Annotation dashboards")
        card.wait_for(timeout=60_000)
        shot(page, "jupyterlab_launcher_card")
        with context.expect_page(timeout=90_000) as opened:
            card.click()
        tab = opened.value
        tab.wait_for_selector("#username", timeout=90_000)  # the login page, through the proxy
        assert "/annotation-dashboards/" in tab.url
        tab.fill("#username", "ann")
        tab.fill("#password", PASSWORDS["ann"])
        tab.click("[data-testid=login]")
        tab.wait_for_selector("[data-testid=pages]", timeout=30_000)
        assert tab.inner_text("[data-testid=who]") == "ann (annotator)"
        assert "/annotation-dashboards/" in tab.url
        tab.click("[data-testid=nav-work]")
        tab.wait_for_selector("[data-testid=task-board]", timeout=30_000)  # widgets work too
        shot(tab, "served_through_jupyter_proxy")
    finally:
        context.close()
        lab.stop()
        team["ada"].close()


def test_an_admin_sets_up_a_project_that_a_visitor_reads_and_nobody_else_sees(served, browser):
    """The Setup page: an admin creates a visible and a private project, users from CSV, the
    skill library from CSV and a guideline; a visitor sees the visible project read-only and
    nothing of the private one."""
    ada = served.team["ada"]
    tag = served.port
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, served, "ada", then="/setup")
    panel = page.locator("[data-testid=admin-panel]")
    panel.wait_for()
    for name, visibility in ((f"open{tag}", "visible"), (f"closed{tag}", "private")):
        panel.get_by_label("New project name").fill(name)
        panel.get_by_label("New project visibility").select_option(visibility)
        panel.get_by_label("New project members").fill("ann")
        panel.get_by_role("button", name="Create project").click()
        panel.locator(f"[data-testid=notice] >> text=created project {name}").wait_for()
    panel.get_by_role("button", name="Users").click()
    panel.get_by_label("users CSV").fill(f"username,role,project\nnew{tag},annotator,open{tag}\n")
    panel.get_by_role("button", name="Import users CSV").click()
    panel.locator("[data-testid=notice] >> text=users imported: 1 created").wait_for()
    assert ada.projects.memberships()[f"new{tag}"] == [f"open{tag}"]

    panel.get_by_role("button", name="Skill library").click()
    bad = "name,category,requires\nsweep,clean,nothing\n"
    panel.get_by_label("skills CSV").fill(bad)
    panel.get_by_role("button", name="Import skills CSV").click()
    panel.locator("[data-testid=error] >> text=line 2: requires 'nothing'").wait_for()
    good = f"name,category,requires\nreach{tag},arm,\ngrab{tag},arm,reach{tag}\n"
    panel.get_by_label("skills CSV").fill(good)
    panel.get_by_role("button", name="Import skills CSV").click()
    panel.locator("[data-testid=notice] >> text=skills imported: 2 created").wait_for()
    row = panel.locator(f"[data-testid=skill-grab{tag}]")
    assert f"reach{tag}" in row.inner_text() and "offered" in row.inner_text()
    shot(page, "served_skill_library")

    panel.get_by_role("button", name="Guidelines").click()
    panel.get_by_label("Guideline name").select_option(f"open{tag}")
    panel.get_by_role("button", name="Open").click()
    panel.locator("text=(none yet)").wait_for()
    panel.get_by_label("Guideline (Markdown)").fill(
        "## Grabbing\nClose **slowly**. <script>window.__xss=1</script>"
    )
    panel.get_by_role("button", name="Save a new version").click()
    panel.locator("[data-testid=notice] >> text=version 1").wait_for()
    assert panel.locator("[data-testid=guideline-preview] strong").inner_text() == "slowly"
    assert page.evaluate("window.__xss") is None
    assert ada.guidelines.get(project=f"open{tag}").body.startswith("## Grabbing")
    shot(page, "served_setup_guidelines")
    context.close()

    visitor = browser.new_context(viewport={"width": 1280, "height": 900})
    page = visitor.new_page()
    log_in(page, served, "vic", then="/setup")
    panel = page.locator("[data-testid=admin-panel]")
    panel.locator(f"[data-testid=project-open{tag}]").wait_for()
    assert panel.locator(f"[data-testid=project-closed{tag}]").count() == 0
    assert panel.get_by_role("button", name="Create project").count() == 0
    assert panel.locator("text=Read only").count() == 1
    tabs = [t.inner_text() for t in panel.locator("[data-testid^=tab-]").all()]
    assert tabs == ["Projects", "Skill library", "Dictionaries", "Guidelines"]
    panel.get_by_role("button", name="Guidelines").click()
    panel.get_by_label("Guideline name").select_option(f"open{tag}")
    panel.get_by_role("button", name="Open").click()
    panel.locator("[data-testid=guideline-preview] strong").wait_for()
    assert panel.get_by_label("Guideline (Markdown)").count() == 0  # read, not written
    visitor.close()
