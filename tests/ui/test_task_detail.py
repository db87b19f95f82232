"""TaskDetail in a real browser: opened from the board under ``panel serve`` and in JupyterLab.
Annotator, reviewer and manager each click the actions the library offers them; every step is
checked in the database."""

import pytest

import annotation_kit as ak
from tests.conftest import make_team
from tests.ui.conftest import app_source, run_all_cells, shot, write_notebook

SECOND = 1_000_000_000
XSS = '<img src=x onerror="window.__xss=1">Stack <b>cups</b>'
VIEW_APP = app_source("TasksDashboard", package="app")


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    team = make_team(url)
    team["maya"].skills.create("pick")
    team["maya"].skills.create("place")
    team["maya"].dictionaries.create("objects", ["cup"])
    task = team.task("pending", n_datasets=2, name=XSS)
    team["maya"].tasks.edit(task.id, description="<script>window.__xss=1</script> two episodes")
    extra = team.new_datasets_now(2)
    yield url, team, task.id, team["ada"].tasks.task_dataset_ids(task.id), extra
    team["ada"].close()


def status(team, task_id):
    return team["ada"].tasks.get(task_id).status


def open_task(page, url, task_id):
    page.goto(url)
    page.wait_for_selector("[data-testid=task-board]", timeout=30_000)
    page.click(f"[data-testid=open-{task_id}]")
    page.wait_for_selector("[data-testid=task-name]", timeout=10_000)


def actions(page):
    return sorted(
        a.get_attribute("data-testid").removeprefix("action-")
        for a in page.locator("[data-testid^=action-]").all()
    )


def wait_notice(page, text):
    page.wait_for_selector(f"[data-testid=notice] >> text={text}", timeout=10_000)


def test_annotator_and_reviewer_take_the_task_through_review(workspace, panel_app, browser):
    url, team, task, (first, second), _extra = workspace
    ann = browser.new_page(viewport={"width": 1280, "height": 900})
    open_task(ann, panel_app(VIEW_APP, url, "ann").url, task)
    # names and descriptions are text, never markup
    assert ann.inner_text("[data-testid=task-name]") == XSS
    assert "<script>" in ann.inner_text("[data-testid=task-description]")
    assert ann.evaluate("window.__xss") is None
    # the annotator is offered exactly what the library allows: start, no approve, no edit
    assert actions(ann) == ["start"]
    assert ann.locator("[data-testid=edit], [data-testid=delete-task]").count() == 0
    ann.click("[data-testid=action-start]")
    wait_notice(ann, "task is now In Progress")
    assert status(team, task) == "in_progress"
    ann.wait_for_selector("[data-testid=status-in_progress] >> text=In Progress 1")  # board too
    assert actions(ann) == ["submit"]

    # submit is refused while a dataset has nothing; the reason is shown
    ann.click("[data-testid=action-submit]")
    ann.wait_for_selector("[data-testid=error] >> text=have neither an annotation")
    assert status(team, task) == "in_progress"

    # annotate (the EpisodeAnnotator comes next; the service layer stands in), then the
    # Invalid tab takes a bare invalid mark back and the Statistics tab counts the segment
    work = team["ann"]
    work.annotations.add(task, first, start_ns=0, end_ns=2 * SECOND, skill="pick", labels=["cup"])
    work.annotations.mark_invalid(task, second, "camera <i>frozen</i>")
    ann.click("[data-testid=refresh-task]")
    ann.click("[data-testid=tab-invalid]")
    row = ann.locator("[data-testid^=invalid-]")
    assert "camera <i>frozen</i>" in row.inner_text()
    mark_id = int(row.get_attribute("data-testid").removeprefix("invalid-"))
    ann.click(f"[data-testid=reannotate-{mark_id}]")
    wait_notice(ann, "its dataset is to do again")
    assert work.annotations.list_annotations(task, dataset=second) == []
    work.annotations.mark_invalid(task, second, "camera frozen")
    ann.click("[data-testid=tab-statistics]")
    ann.click("[data-testid=refresh-task]")
    ann.wait_for_selector("[data-testid=per-skill] >> text=pick")
    assert "cup" in ann.inner_text("[data-testid=per-label]")
    ann.click("[data-testid=tab-datasets]")
    ann.wait_for_selector(f'[data-testid=dataset-{second}] >> text="invalid"')
    ann.click("[data-testid=action-submit]")
    wait_notice(ann, "task is now Pending Review")
    assert status(team, task) == "pending_review"
    assert actions(ann) == []

    # the reviewer: reject needs a comment; the comment is shown as text to the annotator
    rita = browser.new_page(viewport={"width": 1280, "height": 900})
    open_task(rita, panel_app(VIEW_APP, url, "rita").url, task)
    assert actions(rita) == ["approve", "reject"]
    rita.click("[data-testid=action-reject]")
    rita.wait_for_selector("[data-testid=error] >> text=without a comment")
    assert status(team, task) == "pending_review"
    rita.fill("[data-testid=review-comment]", "<b>cup</b> grasp starts at 0.5 s")
    rita.click("[data-testid=action-reject]")
    wait_notice(rita, "task is now In Progress")
    found = team["ada"].tasks.get(task)
    assert (found.status, found.review_round) == ("in_progress", 2)
    shot(rita, "task_detail_panel")

    ann.click("[data-testid=refresh-task]")
    ann.wait_for_selector("[data-testid=comments] >> text=<b>cup</b> grasp starts at 0.5 s")
    assert ann.evaluate("window.__xss") is None
    ann.click("[data-testid=action-submit]")
    wait_notice(ann, "task is now Pending Review")
    rita.click("[data-testid=refresh-task]")
    rita.click("[data-testid=action-approve]")
    wait_notice(rita, "task is now Review Passed")
    assert status(team, task) == "review_passed"
    # after Review Passed the annotator can change nothing, and is offered nothing
    ann.click("[data-testid=refresh-task]")
    ann.wait_for_selector("[data-testid=task-status] >> text=Review Passed")
    assert actions(ann) == []
    ann.click("[data-testid=tab-invalid]")
    assert ann.locator("[data-testid^=reannotate-]").count() == 0
    history = [e.action for e in team["ada"].events.history("task", task)]
    assert history[:6] == ["approve", "submit", "reject", "submit", "start", "edit_description"]


def test_manager_edits_datasets_and_submits_data(workspace, panel_app, page):
    url, team, task, (first, second), (extra, _other) = workspace
    team["maya"].tasks.start(task)
    team["maya"].annotations.mark_invalid(task, first, "dark")
    server = panel_app(
        app_source("TaskDetailPanel", f"TaskDetailPanel(ws, task={task})"), url, "maya"
    )
    page.goto(server.url)
    page.wait_for_selector("[data-testid=task-name]", timeout=30_000)
    assert actions(page) == ["submit"]
    assert page.locator("[data-testid=edit]").count() == 1

    # add a dataset found by name, remove one (with confirmation)
    extra_name = team["ada"].datasets.get(extra).name
    page.fill("[data-testid=dataset-search]", extra_name)
    page.click(f"[data-testid=add-{extra}]")
    wait_notice(page, "added 1 dataset(s)")
    assert team["ada"].tasks.task_dataset_ids(task) == sorted([first, second, extra])
    page.click(f"[data-testid=remove-{second}]")
    assert len(team["ada"].tasks.task_dataset_ids(task)) == 3
    page.click(f"[data-testid=confirm-remove-{second}]")
    wait_notice(page, f"removed dataset #{second}")
    assert team["ada"].tasks.task_dataset_ids(task) == sorted([first, extra])

    # edit name and deadline; a bad name is refused with the reason
    page.click("[data-testid=edit]")
    page.fill("[data-testid=edit-name]", "")
    page.click("[data-testid=save-edit]")
    page.wait_for_selector("[data-testid=error] >> text=task name")
    page.click("[data-testid=edit]")
    page.fill("[data-testid=edit-name]", "Stack cups, round 2")
    page.fill("[data-testid=edit-deadline]", "2026-12-24")
    page.click("[data-testid=save-edit]")
    wait_notice(page, "saved")
    found = team["ada"].tasks.get(task)
    assert found.name == "Stack cups, round 2"
    assert found.deadline.date().isoformat() == "2026-12-24"

    team["maya"].annotations.mark_invalid(task, extra, "no gripper")
    page.click("[data-testid=action-submit]")
    wait_notice(page, "Pending Review")
    page.click("[data-testid=action-approve]")
    wait_notice(page, "Review Passed")
    page.click("[data-testid=action-submit_data]")
    wait_notice(page, "Data Submitted")
    assert status(team, task) == "data_submitted"

    page.click("[data-testid=delete-task]")
    page.click("[data-testid=confirm-delete-task]")
    wait_notice(page, f"deleted task #{task}")
    page.wait_for_selector("[data-testid=no-task]")
    with pytest.raises(ak.NotFound):
        team["ada"].tasks.get(task)


def test_reviewer_approves_in_jupyterlab(workspace, jupyter_lab, page):
    url, team, task, _ids, _extra = workspace
    team["maya"].tasks.start(task)
    for dataset in team["ada"].tasks.task_dataset_ids(task):
        team["ann"].annotations.add(task, dataset, start_ns=0, end_ns=SECOND, skill="place")
    team["ann"].tasks.submit(task)
    write_notebook(
        jupyter_lab.root / "detail.ipynb",
        [
            "import annotation_kit as ak\nfrom annotation_kit.app import tasks_view",
            f"view = tasks_view(ak.connect({url!r}, user='rita'))\nview",
        ],
    )
    page.goto(jupyter_lab.notebook_url("detail.ipynb"))
    run_all_cells(page, 2)
    page.wait_for_selector("[data-testid=task-board]", timeout=60_000)
    page.click(f"[data-testid=open-{task}]")
    page.wait_for_selector("[data-testid=task-name]", timeout=20_000)
    assert actions(page) == ["approve", "reject"]
    assert page.evaluate("window.__xss") is None
    page.click("[data-testid=tab-statistics]")
    page.wait_for_selector("[data-testid=per-skill] >> text=place")
    page.fill("[data-testid=review-comment]", "clean segments")
    page.click("[data-testid=action-approve]")
    wait_notice(page, "task is now Review Passed")
    assert status(team, task) == "review_passed"
    assert team["ada"].reviews.task_reviews(task)[-1].comment == "clean segments"
    page.wait_for_selector("[data-testid=status-review_passed] >> text=Review Passed 1")
    shot(page, "task_detail_jupyterlab")


def test_forged_approve_from_an_annotator_is_refused(workspace):
    url, team, task, _ids, _extra = workspace
    from annotation_kit.widgets import TaskDetail

    team["maya"].tasks.start(task)
    detail = TaskDetail(ak.connect(url, user="ann"), task=task)
    assert detail.allowed == ["submit", "annotate"]
    version = detail.info["version"]
    detail._request = {"id": 1, "action": "approve", "comment": "ok", "version": version}
    assert "may not approve" in detail._error or "cannot approve" in detail._error
    detail._request = {"id": 3, "action": "submit", "version": version - 1}  # a stale form
    assert "you have version" in detail._error
    detail._request = {"id": 2, "action": "delete", "confirm": True}
    assert "may not delete tasks" in detail._error
    assert status(team, task) == "in_progress"


def test_annotate_and_review_open_below_the_details(workspace, panel_app, browser, tmp_path):
    from annotation_kit.data import synthetic

    url, team, _task, _ids, _extra = workspace
    maya = team["maya"]
    files = [synthetic.write_mcap(tmp_path / f"v{i}.mcap", duration_s=6, seed=i) for i in (1, 2)]
    ids = maya.import_datasets(files, progress=False).dataset_ids
    task = maya.tasks.create("episodes", datasets=ids, annotators=["ann"], reviewers=["rita"]).id
    team["ann"].tasks.start(task)
    ann = browser.new_page(viewport={"width": 1280, "height": 900})
    open_task(ann, panel_app(VIEW_APP, url, "ann").url, task)
    ann.click("[data-testid=tab-batch]")
    ann.click(f"[data-testid=annotate-{ids[1]}]")
    ann.wait_for_selector("[data-testid=episode-annotator] img", timeout=30_000)
    assert ann.input_value("[data-testid=episode]") == str(ids[1])
    ann.focus("[data-testid=episode-annotator]")
    for key in ("q", "Shift+ArrowRight", "r", "1", "Enter"):
        ann.keyboard.press(key)
    ann.wait_for_selector("[data-testid=batch-progress] >> text=1 of 2 datasets done")
    [made] = team["ada"].annotations.list_annotations(task, dataset=ids[1])
    assert (made.start_ns, made.end_ns) == (0, SECOND)
    assert ann.locator("[data-testid=open-review]").count() == 0  # not a reviewer
    team["ann"].annotations.add(task, ids[0], start_ns=0, end_ns=SECOND, skill="pick")
    team["ann"].tasks.submit(task)

    rita = browser.new_page(viewport={"width": 1280, "height": 900})
    open_task(rita, panel_app(VIEW_APP, url, "rita").url, task)
    assert rita.locator("[data-testid=open-annotator]").count() == 0
    rita.click("[data-testid=open-review]")
    rita.wait_for_selector("[data-testid=review-form] >> text=No sample chosen yet", timeout=20_000)
    rita.click("[data-testid=draw-sample]")  # full review
    rita.wait_for_selector("[data-testid=sample] >> text=Reviewing 2 of 2 dataset(s)")
    rita.wait_for_selector("[data-testid=review-form] img", timeout=30_000)
    rita.click("[data-testid=pass-task]")
    rita.wait_for_selector("[data-testid=task-status] >> text=Review Passed", timeout=10_000)
    assert status(team, task) == "review_passed"
    for page in (ann, rita):
        page.close()


def test_manager_queues_an_export_from_the_statistics_tab(workspace, panel_app, page, tmp_path):
    from annotation_kit.store.models import Job

    url, team, task, _ids, _extra = workspace
    open_task(page, panel_app(VIEW_APP, url, "maya").url, task)
    page.click("[data-testid=tab-statistics]")
    page.select_option("[data-testid=export-format]", "lerobot")
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=error] >> text=destination")
    destination = str(tmp_path / "training-data")
    page.fill("[data-testid=export-destination]", destination)
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=notice] >> text=queued export job #1")
    with team["ada"].transaction(write=False) as session:
        job = session.get(Job, 1)
        assert (job.kind, job.state) == ("export", "waiting")
        assert job.params == {"tasks": [task], "format": "lerobot", "destination": destination}
    # the annotator is offered no export, and a forged request is refused
    from annotation_kit.widgets import TaskDetail

    detail = TaskDetail(ak.connect(url, user="ann"), task=task)
    detail._request = {"id": 1, "action": "export", "format": "json", "destination": destination}
    assert "may not export training data" in detail._error
