"""The working day in JupyterLab, on the same widgets the served app shows: an annotator's
notebook (``tasks_view``) tells her of a rejection, opens the annotator at the comment's place,
where she fixes the segment in place and resubmits, then raises an issue on a time range that
the manager answers; a manager's ``Exporter`` in the same notebook exports two tasks as the
next version of a release with "only new" and diffs it with the previous one."""

from __future__ import annotations

import pytest

from annotation_kit.access.workflow import Status
from annotation_kit.data import synthetic
from annotation_kit.jobs.worker import execute
from annotation_kit.store.models import Task
from tests.conftest import SECOND, make_team
from tests.ui.conftest import run_all_cells, shot, write_notebook


@pytest.fixture
def day(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    maya, ann, rita = team["maya"], team["ann"], team["rita"]
    maya.skills.create("pick")
    maya.skills.create("place")
    files = [synthetic.write_mcap(tmp_path / f"ep{i}.mcap", duration_s=3, seed=i) for i in range(3)]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("rework", datasets=[ids[0]], annotators=["ann"], reviewers=["rita"])
    ann.tasks.start(task.id)
    segment = ann.annotations.add(task.id, ids[0], start_ns=SECOND, end_ns=2 * SECOND, skill="pick")
    ann.tasks.submit(task.id)
    rita.reviews.draw_sample(task.id)
    rita.reviews.judge(
        segment.id, "reject", comment="this is a place", range_ns=(3 * SECOND // 2, 2 * SECOND)
    )
    rita.tasks.reject(task.id, comment="fix the skill")
    released = []
    for i in (1, 2):
        made = maya.tasks.create(f"weekly-{i}", datasets=[ids[i]], annotators=["ann2"])
        maya.annotations.add(made.id, ids[i], start_ns=0, end_ns=SECOND, skill="pick")
        with maya.transaction() as s:
            s.get(Task, made.id).status = Status.REVIEW_PASSED
        released.append(made.id)
    feed = tmp_path / "feed"
    first = maya.export(released, "json", feed, release="weekly")
    added = maya.annotations.add(released[0], ids[1], start_ns=SECOND, end_ns=2 * SECOND)
    queue = f"sqlite:///{tmp_path / 'queue.db'}"
    yield team, url, queue, task.id, ids, segment, feed, first, added
    team["ada"].close()


def test_the_working_day_in_jupyterlab(day, jupyter_lab, page):
    team, url, queue, task, ids, segment, feed, first, added = day
    ann_ws, maya_ws, rita_ws = team["ann"], team["maya"], team["rita"]
    write_notebook(
        jupyter_lab.root / "day.ipynb",
        [
            "import annotation_kit as ak\n"
            "from annotation_kit.app import tasks_view\n"
            "from annotation_kit.widgets import Exporter\n"
            f"ann, maya = ak.connect({url!r}, user='ann'), ak.connect({url!r}, user='maya')",
            "tasks_view(ann)",
            f"Exporter(maya, queue={queue!r})",
        ],
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(jupyter_lab.notebook_url("day.ipynb"))
    run_all_cells(page, 3)
    board = page.locator("[data-testid=task-board]")
    board.wait_for(timeout=60_000)
    [told] = [
        n for n in ann_ws.notifications.list_notifications() if n.kind == "annotation_rejected"
    ]
    board.locator("[data-testid=bell]").click()
    board.locator(f"[data-testid=notification-{told.id}]").click()
    annotator = page.locator("[data-testid=episode-annotator]")
    annotator.wait_for(timeout=60_000)
    annotator.locator("[data-testid=time] >> text=1.500 /").wait_for(timeout=30_000)
    annotator.locator(f"[data-testid=segment-{segment.id}]").click()
    annotator.locator("[data-testid=skill]").select_option("place")
    annotator.locator("[data-testid=description]").fill("put it down")
    annotator.locator("[data-testid=apply-edit]").click()
    annotator.locator("[data-testid=notice] >> text=saved").wait_for(timeout=30_000)
    fixed = ann_ws.annotations.get(segment.id)
    assert (fixed.description, maya_ws.skills.names()[fixed.skill_id]) == ("put it down", "place")
    detail = page.locator("[data-testid=task-detail]")
    detail.locator("[data-testid=refresh-task]").click()
    detail.locator("[data-testid=action-submit]").click()
    detail.locator("[data-testid=notice] >> text=task is now Pending Review").wait_for()
    assert rita_ws.notifications.list_notifications()[0].kind == "submitted"
    # an issue on a time range; the manager answers it
    detail.locator("[data-testid=raise-form] summary").click()
    detail.locator("[data-testid=issue-dataset]").select_option(str(ids[0]))
    detail.locator("[data-testid=issue-from]").fill("0.5")
    detail.locator("[data-testid=issue-to]").fill("1")
    detail.locator("[data-testid=issue-text]").fill("is a slide a place?")
    detail.locator("[data-testid=raise-issue]").click()
    detail.locator("[data-testid=issues] >> text=is a slide a place?").wait_for(timeout=30_000)
    [issue] = maya_ws.feedback.list_issues(task)
    assert (issue.start_ns, issue.end_ns) == (SECOND // 2, SECOND)
    maya_ws.feedback.reply(issue.id, "yes, slides are place")
    detail.locator("[data-testid=refresh-task]").click()
    detail.locator(f"[data-testid=issue-{issue.id}] >> text=yes, slides are place").wait_for()
    assert ann_ws.notifications.list_notifications()[0].kind == "feedback_reply"

    # the manager's export: the next version of the release, only what is new
    exporter = page.locator("[data-testid=exporter]")
    exporter.locator("[data-testid=filter-search]").fill("weekly-")
    exporter.locator("[data-testid=selected-count] >> text=of 2 matching").wait_for(timeout=30_000)
    exporter.locator("[data-testid=select-all]").click()
    exporter.locator("[data-testid=selected-count] >> text=2 task(s) selected").wait_for()
    exporter.locator("[data-testid=export-destination]").fill(str(feed))
    exporter.locator("[data-testid=export-release]").fill("weekly")
    exporter.locator("[data-testid=export-only-new]").check()
    exporter.locator("[data-testid=export-overwrite]").check()
    exporter.locator("[data-testid=run-export]").click()
    queued = exporter.locator("[data-testid=notice] >> text=queued export job")
    queued.wait_for(timeout=30_000)
    job = int(queued.inner_text().split("#")[1].split(":")[0])
    assert execute(job, url, queue) == "completed"
    exporter.locator(f"[data-testid=export-job-{job}] >> text=completed").wait_for(timeout=30_000)
    [second] = [e for e in maya_ws.exports.list_exports(limit=3) if e.release == "weekly"][:1]
    assert (second.release_version, second.counts["annotations"]) == (2, 1)
    exporter.locator(f"[data-testid=compare-{first.id}]").check()
    exporter.locator(f"[data-testid=compare-{second.id}]").check()
    exporter.locator("[data-testid=diff]").click()
    exporter.locator(
        f"[data-testid=diff-added] >> text=1 annotations added: #{added.id}"
    ).wait_for()
    shot(page, "working_day_jupyterlab")
