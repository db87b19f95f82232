"""Every request kind of every widget, sent through the widget's own driver without a browser,
on SQLite and PostgreSQL: what each answer shows, what it refuses (and that a refusal changes
nothing), read back from the services. The browser tests keep what only a browser shows."""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
from typing import Any

from annotation_kit.data import synthetic
from annotation_kit.jobs.worker import execute
from annotation_kit.widgets import (
    data_browser,
    episode_annotator,
    exporter,
    queue_monitor,
    review_form,
    task_board,
    task_detail,
)
from annotation_kit.widgets._base import Spec, _Driver

SECOND = 1_000_000_000
_ids = itertools.count(1)


class Host(_Driver):
    """A widget with no front end: synced state as plain attributes, driven like the browser
    drives it (requests in ``_request``, watched state set then refreshed)."""

    def __init__(self, spec: Spec, workspace: Any, sent: set[str], **options: Any):
        for name, trait in spec.all_traits.items():
            setattr(self, name, copy.deepcopy(trait.default))
        self.sent = sent
        self._start(spec, workspace, options)

    def send(self, action: str, **fields: Any) -> Host:
        self.sent.add(action)
        self._on_request({"id": next(_ids), "action": action, **fields})
        return self

    def set(self, **changes: Any) -> Host:
        for name, value in changes.items():  # as the browser does: one change, one refresh
            setattr(self, name, value)
            if name in self._controller.watched:
                self._on_watched()
        return self

    def ok(self, action: str, **fields: Any) -> str:
        """Send a request that must succeed; its notice."""
        self.send(action, **fields)
        assert not self._error, f"{action} was refused: {self._error}"
        return self._notice

    def refused(self, action: str, **fields: Any) -> str:
        """Send a request that must be refused; the reason shown."""
        before = self._revision
        self.send(action, **fields)
        assert self._revision == before + 1, "the widget did not answer"
        assert self._error, f"{action} {fields} was not refused"
        assert not self._error.startswith("internal error"), self._error
        return self._error

    _error: str
    _notice: str


def request_kinds(module: Any) -> set[str]:
    """The actions a controller's ``handle`` understands, read from its source: every string
    that ``action`` is compared with (directly, in a tuple, or in a module-level set)."""
    tree = ast.parse(inspect.getsource(module))
    constants: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
            constants[node.targets[0].id] = {v for v in found if isinstance(v, str)}
    kinds: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and getattr(node.left, "id", None) == "action":
            for side in node.comparators:
                if isinstance(side, ast.Name):
                    kinds |= constants.get(side.id, set())
                for c in ast.walk(side):
                    if isinstance(c, ast.Constant) and isinstance(c.value, str):
                        kinds.add(c.value)
    return kinds


def every_kind_sent(module: Any, sent: set[str]) -> None:
    assert request_kinds(module) - sent == set(), f"request kinds of {module.__name__} not tested"


def test_data_browser(work, tmp_path):
    team, _task_id, ids = work
    sent: set[str] = set()
    maya = Host(data_browser.SPEC, team["maya"], sent)
    assert (maya.total, maya.can_create) == (3, True)
    assert {r["name"] for r in maya.rows} == {"ep0", "ep1", "ep2"}
    # the create form offers each duty by role: the roles come along with the names
    assert (maya.roles["ann"], maya.roles["rita"], maya.roles["maya"]) == (
        "annotator",
        "reviewer",
        "manager",
    )
    assert "vic" not in maya.roles  # visitors are never assigned
    assert {"mcap"} <= set(maya.facets["formats"])
    maya.set(search="ep1")
    assert [r["id"] for r in maya.rows] == [ids[1]]
    maya.set(min_s="four")
    assert "minimum duration must be a number" in maya._error
    maya.set(min_s="", since="yesterday")
    assert "uploaded since must be a date" in maya._error
    maya.set(since="", search="")
    assert maya.total == 3

    assert maya.ok("select_all") == "3 datasets selected"
    assert sorted(maya.selected) == sorted(ids)
    maya.ok("check", ids=[ids[0], ids[2]])
    assert len(maya.busy) == 1
    assert maya.busy[0].startswith(f"#{ids[0]}: in 'controllers'")

    assert "name" in maya.refused("create", ids=[ids[2]], name="  ")
    assert "deadline must be a date" in maya.refused(
        "create", ids=[ids[2]], name="x", deadline="soon"
    )
    note = maya.ok(
        "create",
        ids=[ids[2]],
        name="from the browser",
        annotators=["ann"],
        reviewers=["rita"],
        deadline="2027-01-31",
    )
    assert note.startswith("created task 'from the browser'")
    made = team["maya"].tasks.get(maya.created)
    assert (made.name, made.deadline.date().isoformat()) == ("from the browser", "2027-01-31")
    assert (maya.selected, maya.busy) == ([], [])
    assert "select one or more datasets first" in maya.refused("create", name="empty")

    # workload-aware assignment: each candidate's load, a balance proposal, then the tasks
    maya.ok("refresh")
    assert maya.loads["ann"]["episodes_to_do"] == 3 and maya.loads["ann2"]["open_tasks"] == 0
    assert maya.loads["ann"]["summary"].startswith("2 open task(s), 3 episode(s)")
    assert "rita" not in maya.loads  # only annotators are candidates
    notice = maya.ok("balance", ids=ids, annotators=["ann", "ann2"])
    assert maya.proposal == {"ann": [], "ann2": sorted(ids)}  # ann has 12 s to do, ann2 none
    assert notice == "proposed: ann 0 dataset(s); ann2 3 dataset(s)"
    assert "leaves out" in maya.refused(
        "create_balanced", ids=ids, plan={"ann2": ids[:2]}, name="spread"
    )
    assert "balance the selection" in maya.refused("create_balanced", ids=ids, plan={}, name="x")
    assert "at least one annotator" in maya.refused("balance", ids=ids, annotators=[])
    note = maya.ok(
        "create_balanced", ids=ids, plan=maya.proposal, name="spread", reviewers=["rita"]
    )
    assert note.startswith("created 1 task(s), one per annotator")
    spread = team["maya"].tasks.get(maya.created)
    assert (spread.name, [u.name for u in spread.annotators]) == ("spread (ann2)", ["ann2"])
    assert (maya.proposal, maya.loads["ann2"]["episodes_to_do"]) == ({}, 3)

    ann = Host(data_browser.SPEC, team["ann"], sent)
    assert ann.loads == {}
    assert "may not" in ann.refused("balance", ids=[ids[0]], annotators=["ann"])
    assert ann.can_create is False
    assert "may not" in ann.refused("create", ids=[ids[0]], name="mine")
    assert team["maya"].task_queries.list_tasks().total == 3  # nothing half-made
    assert "unknown request 'bogus'" in ann.refused("bogus", ids=[ids[0]])
    ann.ok("refresh")
    # a storage connection: browsed, then imported from (ann may do neither)
    root = tmp_path / "shelf"
    synthetic.write_mcap(root / "day" / "new.mcap", duration_s=1, cameras=("wrist",))
    team["ada"].storage.create("shelf", "local", {"root": str(root)})
    maya.ok("refresh")
    assert (maya.connections, ann.connections) == (["shelf"], [])
    maya.ok("browse", connection="shelf", path="day")
    assert [e["name"] for e in maya.browsing["entries"]] == ["new.mcap"]
    assert "choose a storage connection" in maya.refused("browse", connection="")
    assert "tick the files" in maya.refused("import", urls=[])
    assert "only storage connections" in maya.refused("import", urls=["/etc"])
    assert "imported 1 dataset(s)" in maya.ok("import", urls=["storage://shelf/day/new.mcap"])
    assert maya.total == 4
    assert "may not" in ann.refused("browse", connection="shelf")
    every_kind_sent(data_browser, sent)


def test_task_board(work):
    team, task_id, ids = work
    other = team["maya"].tasks.create("second", datasets=[ids[2]], annotators=["ann"]).id
    sent: set[str] = set()
    maya = Host(task_board.SPEC, team["maya"], sent)
    assert maya.counts["pending"] == 2 and maya.can_manage
    assert maya.loads["ann"]["open_tasks"] == 2 and "rita" not in maya.loads  # before reassigning
    assert {c["id"] for c in maya.columns["pending"]} == {task_id, other}
    maya.set(search="second")
    assert [r["id"] for r in maya.rows] == [other]
    assert maya.ok("select_all") == "1 tasks selected"
    assert maya.selected == [other]
    maya.set(search="", status=["in_progress"])
    assert (maya.rows, list(maya.columns)) == ([], ["in_progress"])
    maya.set(status=[])
    maya.ok("open", task=task_id)
    assert maya.opened == task_id

    assert maya.ok("reassign", ids=[task_id], annotators=["ann2"]) == "reassigned 1 task(s)"
    row = next(r for r in maya.rows if r["id"] == task_id)
    assert (row["annotators"], row["reviewers"]) == (["ann2"], ["rita"])
    assert "no user named" in maya.refused("reassign", ids=[task_id], annotators=["nobody"])
    maya.ok("reassign", ids=[task_id, other], reviewers=["rita2"])
    # batch edit from the selection bar: only what the form filled in changes
    team["maya"].projects.create("kitchen")
    notice = maya.ok(
        "edit", ids=[task_id, other], deadline="2030-01-31", project="kitchen", description=""
    )
    assert notice == "changed deadline, project of 2 task(s)" and maya.selected == []
    rows = {r["id"]: r for r in maya.rows}
    assert {(r["deadline"], r["project"], r["reviewers"][0]) for r in rows.values()} == {
        ("2030-01-31", "kitchen", "rita2")
    }
    assert rows[task_id]["description"] == ""  # blank: kept
    maya.ok("edit", ids=[other], clear_deadline=True, project="(no project)", description="d")
    row = next(r for r in maya.rows if r["id"] == other)
    assert (row["deadline"], row["project"], row["description"]) == ("", "", "d")
    assert "fill in" in maya.refused("edit", ids=[other], deadline=" ")
    assert "deadline must be a date" in maya.refused("edit", ids=[other], deadline="soon")
    assert "no project" in maya.refused("edit", ids=[other], project="nowhere")
    maya.ok("reassign", ids=[task_id], reviewers=["rita"])

    ann = Host(task_board.SPEC, team["ann"], sent)
    assert ann.can_manage is False
    # ann is on "second" (the fixture's task went to ann2): her bell says so
    assert ann.unread == 1 and [n["kind"] for n in ann.notifications] == ["assigned"]
    assert {c["creator"] for c in ann.columns["pending"]} == {"maya"}
    [first] = ann.notifications
    ann.ok("read", notification=first["id"], task=first["task"])
    assert (ann.unread, ann.opened, first["task"]) == (0, other, other)
    assert ann.anchor == {"task": other, "dataset": 0, "start_ns": 0, "mode": ""}
    # news of an annotation leads to its place in the annotator; a submit to the review form
    ann.ok(
        "read",
        notification=first["id"],
        task=task_id,
        kind="rejected",
        dataset=ids[0],
        start_ns=1_500_000_000,
    )
    assert ann.anchor == {
        "task": task_id,
        "dataset": ids[0],
        "start_ns": 1_500_000_000,
        "mode": "annotate",
    }
    ann.ok("read", notification=first["id"], task=task_id, kind="submitted")
    assert ann.anchor["mode"] == "review"
    maya.ok("reassign", ids=[task_id], annotators=["ann", "ann2"])
    ann.ok("refresh")
    assert ann.unread == 1
    ann.ok("read")
    assert ann.unread == 0 and all(n["read"] for n in ann.notifications)
    # what she is told of is hers to choose; e-mail needs an address (and a mail server)
    assert ann.notify["muted"] == [] and "qc_failed" in ann.notify["kinds"]
    assert ann.notify["can_email"] is False
    assert ann.ok("notify", muted=["assigned"], email=False) == "notification settings saved"
    maya.ok("reassign", ids=[task_id], annotators=["ann2"])
    maya.ok("reassign", ids=[task_id], annotators=["ann"])  # assigned again: muted
    ann.ok("refresh")
    assert (ann.unread, ann.notify["muted"]) == (0, ["assigned"])
    assert "no e-mail address" in ann.refused("notify", muted=[], email=True)
    assert "cannot mute" in ann.refused("notify", muted=["everything"])
    ann.ok("notify", muted=[])
    assert "may not" in ann.refused("delete", ids=[other], confirm=True)
    assert "may not" in ann.refused("reassign", ids=[other], reviewers=["ann"])
    assert "may not" in ann.refused("edit", ids=[other], description="mine now")
    # a person's page: one's own for everyone, anyone's for managers
    ann.ok("person", name="ann")
    page = ann.profile
    assert (page["name"], page["role"], page["load"]["open_tasks"]) == ("ann", "annotator", 2)
    assert {t["id"] for t in page["tasks"]} == {task_id, other}
    assert "may not read another person's page" in ann.refused("person", name="rita")
    maya.ok("person", name="ann")
    assert maya.profile["activity"] == [] and len(maya.profile["tasks"]) == 2
    maya.ok("person", name="maya")
    assert maya.profile["activity"][0]["action"].startswith(("assign", "edit", "create"))
    assert "no user" in maya.refused("person", name="nobody")
    assert "select one or more tasks first" in ann.refused("delete")

    assert "confirm" in maya.refused("delete", ids=[other])
    assert maya.ok("delete", ids=[other], confirm=True) == "deleted 1 task(s)"
    assert [r["id"] for r in maya.rows] == [task_id]
    assert "unknown request" in maya.refused("archive", ids=[task_id])
    maya.ok("refresh")
    every_kind_sent(task_board, sent)


def test_exporter(passed, queue_url):
    """Two tasks exported from the export page as a named release, then "only new" as its
    next version, diffed; a re-run; what the form gets wrong is refused before anything runs."""
    team, task_id, ids, _made, tmp = passed
    maya_ws, ann_ws, rita_ws = team["maya"], team["ann"], team["rita"]
    [extra] = maya_ws.import_datasets(
        [synthetic.write_mcap(tmp / "src/ep9.mcap", duration_s=3, seed=9)], progress=False
    ).dataset_ids
    second = maya_ws.tasks.create(
        "second", datasets=[extra], annotators=["ann"], reviewers=["rita"]
    )
    ann_ws.tasks.start(second.id)
    done = ann_ws.annotations.add(second.id, extra, start_ns=0, end_ns=SECOND, skill="pick")
    ann_ws.tasks.submit(second.id)
    rita_ws.reviews.judge(done.id, "pass")
    rita_ws.tasks.approve(second.id)

    sent: set[str] = set()
    assert "may not export" in Host(exporter.SPEC, ann_ws, sent, queue=queue_url)._error
    maya = Host(exporter.SPEC, maya_ws, sent, queue=queue_url)
    assert {r["id"] for r in maya.rows} == {task_id, second.id}  # passed review, by default
    assert "lerobot" in maya.formats and maya.format == "json"
    maya.set(format="hdf5")
    assert "layout" in maya.format_options
    maya.set(format="json", search="second")
    assert maya.ok("select_all") == "1 tasks selected" and maya.selected == [second.id]
    maya.set(search="")
    maya.ok("select_all")
    assert sorted(maya.selected) == sorted([task_id, second.id])
    feed = str(tmp / "feed")
    for fields, reason in (
        ({"destination": ""}, "give a destination"),
        ({"destination": feed, "format": "docx"}, "unknown export format"),
        ({"destination": feed, "options": "{layout"}, "options must be a JSON object"),
        ({"destination": feed, "options": "[1]"}, "options must be a JSON object"),
        ({"destination": feed, "options": '{"speed": 2}'}, "has no option 'speed'"),
        ({"destination": feed, "since": "2026-02-01", "until": "2026-01-01"}, "must come before"),
        ({"destination": feed, "since": "yesterday"}, "must be a date"),
        ({"destination": feed, "datasets": "one, two"}, "datasets must be ids"),
        ({"destination": feed, "tasks": []}, "select one or more tasks"),
    ):
        assert reason in maya.refused("run", **fields)
    assert maya.jobs == []  # nothing was queued by a refused form

    def run_jobs() -> None:
        for job in maya.jobs:
            if job["state"] == "waiting":
                assert execute(job["id"], maya_ws.url, queue_url) == "completed"
        maya.ok("refresh")

    notice = maya.ok("run", destination=feed, release="kitchen")
    assert "queued export job" in notice and "2 task(s) as json as release 'kitchen'" in notice
    run_jobs()
    first = maya.history[0]
    assert (first["release"], first["version"], first["status"], first["who"]) == (
        "kitchen",
        1,
        "completed",
        "maya",
    )
    assert (first["annotations"], first["episodes"]) == (4, 3) and first["size_bytes"] > 0
    assert maya.jobs[0]["export"] == first["id"] and maya.jobs[0]["progress"] == 100
    # a new segment after the release: "only new" into the same feed holds it alone
    maya_ws.annotations.add(task_id, ids[1], start_ns=2 * SECOND, end_ns=3 * SECOND, skill="place")
    maya.ok("run", destination=feed, release="kitchen", only_new=True, overwrite=True)
    run_jobs()
    newer = maya.history[0]
    assert (newer["version"], newer["only_new"], newer["annotations"]) == (2, True, 1)
    assert newer["parent"] == first["id"]
    maya.ok("diff", old=first["id"], new=newer["id"])
    # the feed now holds only the new segment: the first release's four are gone from it
    assert (maya.diff["counts"]["removed"], maya.diff["counts"]["added"]) == (4, 1)
    assert maya.diff["counts"]["episodes_removed"] == 2
    assert "two different exports" in maya.refused("diff", old=first["id"], new=first["id"])
    maya.ok("show", export=newer["id"])
    assert maya.shown["options"]["only_new"] is True
    assert any(path.endswith("annotations.json") for path, _sha in maya.shown["files"])
    # re-run the first release into a new folder: the same tasks and options, the next version
    assert f"export #{first['id']} again" in maya.ok(
        "rerun", export=first["id"], destination=str(tmp / "again")
    )
    run_jobs()
    again = maya.history[0]
    assert (again["version"], again["annotations"], again["tasks"]) == (3, 5, first["tasks"])
    assert "already exists" in maya.refused("rerun", export=first["id"], destination=feed)
    assert "no task with id 10000" in maya.refused(
        "run", destination=str(tmp / "none"), tasks=[10_000]
    )
    assert maya.jobs[0]["state"] == "completed"  # the refusals queued nothing
    assert "no export" in maya.refused("show", export=10_000)
    assert "unknown request" in maya.refused("publish")
    every_kind_sent(exporter, sent)


def test_queue_monitor(team, queue_url):
    ada = team["ada"]
    admin_queue = ada.queue_for(queue_url)
    waiting = admin_queue.enqueue("noop")
    failed = admin_queue.enqueue("sleep", seconds=0, fail=True)
    assert execute(failed.id, ada.url, queue_url) == "failed"
    sent: set[str] = set()
    admin = Host(queue_monitor.SPEC, ada, sent, queue=queue_url)
    assert admin.can_admin and admin.status["counts"]["failed"] == 1
    assert {j["id"]: j["state"] for j in admin.jobs} == {waiting.id: "waiting", failed.id: "failed"}
    admin.set(selected=failed.id)
    assert admin.detail["id"] == failed.id and "asked to fail" in admin.detail["error"]
    admin.set(state="waiting")
    assert [j["id"] for j in admin.jobs] == [waiting.id]
    admin.set(state="")

    assert admin.ok("retry", job=failed.id) == f"job #{failed.id} queued again"
    assert failed.refresh().state == "waiting"
    assert execute(failed.id, ada.url, queue_url) == "failed"
    assert admin.ok("retry_failed") == "queued 1 failed job(s) again"
    assert admin.ok("cancel", job=waiting.id).startswith(f"job #{waiting.id} cancelled")
    assert waiting.refresh().state == "cancelled"

    admin.ok("pause")
    assert admin.status["paused"] is True
    assert admin.ok("resume").startswith("queue resumed")
    assert admin.status["paused"] is False
    assert "needs a confirmation" in admin.refused("clear")
    assert admin.ok("clear", confirm=True) == "cleared 1 waiting or delayed job(s)"
    assert "hours" in admin.refused("clean", hours="a day")
    done = admin_queue.enqueue("noop")
    assert execute(done.id, ada.url, queue_url) == "completed"
    assert admin.ok("clean", hours=0) == "deleted 1 finished job(s)"  # cancelled ones are kept
    assert {j["state"] for j in admin.jobs} == {"cancelled"}

    ann = Host(queue_monitor.SPEC, team["ann"], sent, queue=queue_url)
    assert ann.can_admin is False
    for action in ("pause", "clear", "retry_failed"):
        assert "admin" in ann.refused(action, confirm=True)
    assert admin.status["paused"] is False
    assert "unknown request" in ann.refused("explode")
    ann.ok("refresh")
    every_kind_sent(queue_monitor, sent)


def test_episode_annotator(work):
    team, task_id, ids = work
    team["ann"].tasks.start(task_id)
    sent: set[str] = set()
    ann = Host(episode_annotator.SPEC, team["ann"], sent, task=task_id)
    assert (ann.dataset, ann.can_edit, ann.segments) == (ids[0], True, [])
    assert ann.cameras and set(ann.frames) == set(ann.shown_cameras)
    # the encoded image itself (sent as a binary buffer), not base64 text
    assert all(f["mime"].startswith("image/") for f in ann.frames.values())
    assert all(isinstance(f["data"], bytes) and f["data"] for f in ann.frames.values())
    assert [w["name"] for w in ann.windows] == ann.shown_signals
    assert (ann.skills, ann.labels) == (["pick", "place"], ["bowl", "cup"])
    ann.set(playhead=SECOND)
    assert {f["at"] for f in ann.frames.values()} == {SECOND}
    assert ann.prefetch["at"], "frames near the playhead were not sent ahead"
    assert all(isinstance(f["data"], bytes) for f in ann.prefetch["src"].values())

    note = ann.ok("add", start_ns=SECOND, end_ns=2 * SECOND, skill="pick", labels=["cup"])
    [segment] = ann.segments
    assert note == f"added segment #{segment['id']}"
    assert (segment["skill"], segment["labels"]) == ("pick", ["cup"])
    assert "end" in ann.refused("add", start_ns=3 * SECOND, end_ns=SECOND)
    assert "no skill 'fly'" in ann.refused("add", start_ns=0, end_ns=SECOND, skill="fly")

    ann.ok(
        "update",
        annotation=segment["id"],
        version=segment["version"],
        changes={"end_ns": 3 * SECOND, "description": "<b>grab</b> it"},
    )
    [saved] = ann.segments
    assert (saved["end_ns"], saved["description"]) == (3 * SECOND, "<b>grab</b> it")
    ann.ok(  # edited in place: skill, labels, description; "" is "(no skill)"
        "update",
        annotation=saved["id"],
        version=saved["version"],
        changes={"skill": "", "labels": [], "description": "<b>grab</b> it"},
    )
    [cleared] = ann.segments
    assert (cleared["skill"], cleared["labels"]) == ("", [])
    assert ann.ok("undo").endswith("restored")
    [saved] = ann.segments
    assert (saved["skill"], saved["labels"]) == ("pick", ["cup"])
    stale = ann.refused("update", annotation=segment["id"], version=1, changes={"end_ns": 1})
    assert "version" in stale and ann.segments == [saved]
    assert "must name an annotation" in ann.refused("delete", annotation="first")

    ann.ok("invalid", annotation=saved["id"], version=saved["version"], reason="occluded")
    assert (ann.segments[0]["valid"], ann.segments[0]["reason"]) == (False, "occluded")
    assert ann.ok("undo").endswith("is valid again")
    assert ann.ok("undo").endswith("restored")
    assert ann.segments[0]["end_ns"] == 2 * SECOND
    assert ann.ok("undo").endswith("removed")
    assert ann.segments == []
    assert "nothing to undo" in ann.refused("undo")

    ann.ok("add", start_ns=0, end_ns=SECOND, skill="place")
    [kept] = ann.segments
    ann.ok("delete", annotation=kept["id"], version=kept["version"])
    assert ann.segments == []
    assert ann.ok("undo").startswith("undone: segment restored as #")
    [restored] = ann.segments
    assert (restored["start_ns"], restored["end_ns"], restored["skill"]) == (0, SECOND, "place")

    assert ann.ok("template") == "copied 1 segment(s) onto 1 other episode(s)"
    ann.ok("open", dataset=ids[1])
    assert ann.dataset == ids[1] and [s["skill"] for s in ann.segments] == ["place"]
    assert ann.ok("invalid", reason="camera dark") == "marked the episode invalid"
    assert [s["reason"] for s in ann.segments if not s["valid"]] == ["camera dark"]
    assert "not part of task" in ann.refused("open", dataset=ids[2])
    elsewhere = ann.segments[0]
    ann.ok("open", dataset=ids[0])
    assert "not on this episode" in ann.refused(
        "delete", annotation=elsewhere["id"], version=elsewhere["version"]
    )
    assert "unknown request" in ann.refused("redo")

    rita = Host(episode_annotator.SPEC, team["rita"], sent, task=task_id)
    assert rita.can_edit is False
    assert "may not" in rita.refused("add", start_ns=0, end_ns=SECOND)
    assert len(team["ann"].annotations.list_annotations(task_id)) == 3
    rita.ok("refresh")
    every_kind_sent(episode_annotator, sent)


def test_review_form(work):
    team, task_id, ids = work
    ann_ws = team["ann"]
    ann_ws.tasks.start(task_id)
    made = [
        ann_ws.annotations.add(task_id, d, start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
        for d in ids[:2]
    ]
    ann_ws.tasks.submit(task_id)
    sent: set[str] = set()
    rita = Host(review_form.SPEC, team["rita"], sent, task=task_id)
    assert (rita.dataset, rita.sample, rita.can_review) == (0, {}, True)
    assert "sample mode must be one of" in rita.refused("sample", mode="some")
    assert "whole number" in rita.refused("sample", mode="count", size=1.5)
    assert "must be a number" in rita.refused("sample", mode="percent", size="half")
    assert rita.ok("sample", mode="full") == "reviewing 2 dataset(s) (full)"
    assert (rita.dataset, rita.sample["count"], rita.progress["total"]) == (ids[0], 2, 2)
    assert [s["id"] for s in rita.segments] == [made[0].id]
    assert rita.disagreement == {}  # a shared episode: nothing to settle
    assert "not annotated independently" in rita.refused("consensus", author="ann")

    changed = rita.refused("judge", annotation=made[0].id, version=99, decision="pass")
    assert "changed while you were reviewing" in changed and rita.verdicts == {}
    assert "comment" in rita.refused(
        "judge", annotation=made[0].id, version=made[0].version, decision="reject"
    )
    rita.ok(
        "judge",
        annotation=made[0].id,
        version=made[0].version,
        decision="reject",
        comment="starts too early",
        start_ns=SECOND,
        end_ns=SECOND + SECOND // 2,
    )
    verdict = rita.verdicts[str(made[0].id)]
    assert (verdict["decision"], verdict["start_ns"]) == ("reject", SECOND)
    assert rita.progress == {"judged": 1, "total": 2, "rejected": 1, "changed": 0}
    rita.ok("open", dataset=ids[1])
    assert rita.dataset == ids[1]
    assert "needs a whole number 'version'" in rita.refused("fail_task", comment="x")
    note = rita.ok("fail_task", comment="the grasp is missing", version=rita.task_version)
    assert note.startswith("task failed")
    assert (rita.status, rita.can_review) == ("in_progress", False)

    # the annotator sees both comments, each where it belongs
    ann = Host(episode_annotator.SPEC, ann_ws, set(), task=task_id, dataset=ids[0])
    assert [(c["annotation"], c["comment"], c["start_ns"]) for c in ann.comments] == [
        (made[0].id, "starts too early", SECOND)
    ]
    ann.ok("open", dataset=ids[1])
    assert [(c["annotation"], c["comment"]) for c in ann.comments] == [(0, "the grasp is missing")]

    ann_ws.tasks.submit(task_id)
    rita.ok("refresh")
    assert (rita.round, rita.sample) == (2, {})
    rita.ok("sample", mode="count", size=1)
    assert rita.sample["count"] == 1
    mine = Host(review_form.SPEC, ann_ws, sent, task=task_id)
    assert mine.can_review is False
    assert "may not" in mine.refused("pass_task", version=rita.task_version)
    assert "stale" not in rita.refused("pass_task", version=rita.task_version - 1)
    assert rita.ok("pass_task", version=rita.task_version, comment="good") == "task passed"
    assert team["maya"].tasks.get(task_id).status == "review_passed"
    assert "open a task to review first" in Host(review_form.SPEC, team["rita"], sent).refused(
        "judge", annotation=made[0].id, version=1, decision="pass"
    )
    assert "unknown request" in rita.refused("shrug")
    every_kind_sent(review_form, sent)


def test_task_detail(work, queue_url, tmp_path):
    team, task_id, ids = work
    sent: set[str] = set()
    maya = Host(task_detail.SPEC, team["maya"], sent, task=task_id)
    assert (maya.info["name"], maya.info["status"]) == ("controllers", "pending")
    assert [d["id"] for d in maya.datasets] == ids[:2]
    assert {"json", "csv", "lerobot"} <= set(maya.formats)
    assert maya.people == {"annotators": ["ann"], "reviewers": ["rita"]}

    maya.set(dataset_search="ep")
    assert [c["id"] for c in maya.candidates] == [ids[2]]
    assert maya.ok("add_datasets", ids=[ids[2]]) == "added 1 dataset(s)"
    assert len(maya.datasets) == 3 and maya.candidates == []
    maya.ok("remove_dataset", dataset=ids[2])
    assert [d["id"] for d in maya.datasets] == ids[:2]
    maya.set(dataset_search="")

    version = maya.info["version"]
    assert maya.ok("edit", name="renamed", description="<i>new</i>", version=version) == "saved"
    assert (maya.info["name"], maya.info["description"]) == ("renamed", "<i>new</i>")
    assert "version" in maya.refused("edit", name="lost", version=version)
    assert "deadline" in maya.refused("edit", name="x", deadline="soon", version=version + 1)
    assert maya.info["name"] == "renamed"

    ann_ws = team["ann"]
    ann = Host(task_detail.SPEC, ann_ws, sent, task=task_id)
    assert "may not" in ann.refused("edit", name="mine", version=maya.info["version"])
    assert "may not" in ann.refused("export", format="json", destination=str(tmp_path))
    assert "may not review" in ann.refused("review")
    assert ann.ok("start", version=ann.info["version"]).endswith("In Progress")
    ann.ok("annotate", dataset=ids[1])
    assert ann.working == {"mode": "annotate", "task": task_id, "dataset": ids[1], "opened": 1}
    assert "not part of task" in ann.refused("annotate", dataset=ids[2])

    for i in range(task_detail.ANNOTATIONS_PER_PAGE + 5):  # two pages
        ann_ws.annotations.add(task_id, ids[0], start_ns=i * 1000, end_ns=i * 1000 + 500)
    marked = ann_ws.annotations.mark_invalid(task_id, ids[1], "blurry")
    ann.set(page=2)
    assert (ann.page, ann.pages, len(ann.annotations)) == (2, 2, 6)
    assert ann.annotations[-1]["id"] == marked.id
    ann.set(page=9)
    assert ann.page == 2
    assert [a["id"] for a in ann.invalid] == [marked.id]

    assert "Pending Review" in ann.ok("submit", version=ann.info["version"])
    rita = Host(task_detail.SPEC, team["rita"], sent, task=task_id)
    assert rita.ok("review")
    assert rita.working == {"mode": "review", "task": task_id, "dataset": 0, "opened": 1}
    rita.ok("reject", comment="redo the marks", version=rita.info["version"])
    assert rita.info["status"] == "in_progress"
    assert [c["comment"] for c in rita.comments] == ["redo the marks"]
    assert [h["action"] for h in rita.history][:1] == ["reject"]

    ann.ok("refresh")
    note = ann.ok("reannotate", annotation=marked.id, version=marked.version)
    assert note.startswith(f"removed the invalid mark #{marked.id}")
    assert ann.invalid == []
    first = ann_ws.annotations.list_annotations(task_id)[0]
    assert ann.ok("delete_annotation", annotation=first.id, version=first.version)
    assert "no annotation with id" in ann.refused("delete_annotation", annotation=0, version=1)
    elsewhere = team["maya"].tasks.create("elsewhere", datasets=[ids[2]], annotators=["ann"])
    ann_ws.tasks.start(elsewhere.id)
    theirs = ann_ws.annotations.add(elsewhere.id, ids[2], start_ns=0, end_ns=SECOND)
    assert f"not part of task #{task_id}" in ann.refused(
        "delete_annotation", annotation=theirs.id, version=theirs.version
    )
    again = ann_ws.annotations.mark_invalid(task_id, ids[1], "blurry again")
    assert "Pending Review" in ann.ok("submit", version=ann.info["version"])
    assert "changed since you loaded it" in rita.refused("approve", version=rita.info["version"])
    rita.ok("refresh")
    rita.ok("approve", comment="fine", version=rita.info["version"])
    ann.ok("refresh")  # after Review Passed the annotator can no longer change it
    assert "may not" in ann.refused("reannotate", annotation=again.id, version=again.version)

    maya.ok("refresh")
    assert "unknown export format" in maya.refused("export", format="xlsx", destination="out")
    assert "destination" in maya.refused("export", format="json", destination=" ")
    note = maya.ok("export", format="json", destination=str(tmp_path / "out"))
    assert note.startswith("queued export job #")
    [job] = team["ada"].queue_for(queue_url).jobs()
    assert (job.kind, job.state) == ("export", "waiting")
    assert maya.ok("submit_data", version=maya.info["version"]).endswith("Data Submitted")

    assert "confirm" in maya.refused("delete")
    assert maya.ok("delete", confirm=True) == f"deleted task #{task_id}"
    assert (maya.task, maya.info) == (0, {})
    assert "open a task first" in maya.refused("edit", name="gone", version=1)
    maya.ok("open", task=elsewhere.id)
    assert (maya.info["name"], maya.tab, maya.working) == ("elsewhere", "datasets", {})
    assert "unknown request" in maya.refused("publish")
    # feedback: ann raises an issue on a time range, maya answers and resolves it
    asked = team["maya"].tasks.create("asked", datasets=[ids[0]], annotators=["ann"]).id
    maya.ok("open", task=asked)
    ann = Host(task_detail.SPEC, team["ann"], sent, task=asked)
    assert "kind must be one of" in ann.refused("raise_issue", text="?", kind="rant")
    note = ann.ok(
        "raise_issue", text="Is a regrasp its own segment?", kind="guideline",
        dataset=ids[0], start_ns=SECOND, end_ns=2 * SECOND,
    )  # fmt: skip
    [issue] = ann.issues
    assert note.startswith(f"issue #{issue['id']} raised")
    assert (issue["kind"], issue["start_s"], issue["end_s"], issue["open"]) == (
        "guideline", 1.0, 2.0, True,
    )  # fmt: skip
    maya.ok("reply", issue=issue["id"], text="Yes, a new grasp.")
    assert maya.ok("resolve", issue=issue["id"], text="") == f"issue #{issue['id']} resolved"
    ann.ok("refresh")
    [done] = ann.issues
    assert (done["open"], done["resolved_by"], done["replies"][0]["text"]) == (
        False, "maya", "Yes, a new grasp.",
    )  # fmt: skip
    every_kind_sent(task_detail, sent)


def test_the_details_say_why_a_submit_would_be_refused_before_anyone_clicks(work):
    team, task_id, _ids = work
    ann_ws = team["ann"]
    ann_ws.tasks.start(task_id)
    ann = Host(task_detail.SPEC, ann_ws, set(), task=task_id)
    assert "submit" in ann.allowed
    mine = ann_ws.tasks.task_dataset_ids(task_id)
    assert f"{len(mine)} of its {len(mine)} datasets have neither" in ann.blocked["submit"]
    for dataset in mine:
        ann_ws.annotations.add(task_id, dataset)
    ann.ok("refresh")
    assert ann.blocked == {}
    assert ann.ok("submit", version=ann.info["version"]).endswith("task is now Pending Review")


def test_the_annotator_opens_at_an_anchor(work):
    """A notification's place: the first episode opens with the playhead there (clamped to the
    episode), the view around it; the next episode opens at its start."""
    team, task_id, ids = work
    sent: set[str] = set()
    at = Host(
        episode_annotator.SPEC, team["ann"], sent, task=task_id, dataset=ids[1], at=3 * SECOND
    )
    assert (at.dataset, at.playhead) == (ids[1], 3 * SECOND)
    assert at.view[0] <= 3 * SECOND <= at.view[1] and at.view[1] - at.view[0] == at.duration_ns
    far = Host(episode_annotator.SPEC, team["ann"], sent, task=task_id, dataset=ids[0], at=10**12)
    assert far.playhead == far.duration_ns
    far.set(dataset=ids[1])
    assert far.playhead == 0


def test_a_widget_says_what_it_is_as_text(team):
    """Where a saved notebook (or a terminal) shows a widget as text: what it is, not an object
    address."""
    from annotation_kit.widgets import EpisodeAnnotator, TaskBoard

    [episode] = team.new_datasets_now(1)
    task = team["maya"].tasks.create("shown", datasets=[episode], annotators=["ann"]).id
    board = TaskBoard(team["ann"])
    annotator = EpisodeAnnotator(team["ann"], task=task, dataset=episode)
    assert repr(board) == "TaskBoard: as ann"
    assert repr(annotator) == f"EpisodeAnnotator: task #{task}, dataset #{episode}, as ann"
    bundle = annotator._repr_mimebundle_()
    plain = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/plain"]
    assert plain == repr(annotator)
