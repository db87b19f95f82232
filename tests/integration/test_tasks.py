"""Task operations a manager performs: create, warn about busy datasets, edit, batch reassign,
batch delete, listing with filters, pagination, select-all and the board."""

import warnings

import pytest

import annotation_kit as ak
from annotation_kit.access.workflow import Status
from annotation_kit.work.tasks import DatasetsInActiveTask

SECOND = 1_000_000_000


def _datasets(team, n):
    with team["maya"].transaction() as s:
        return team.new_datasets(s, team["maya"], n)


def test_create_warns_or_refuses_when_datasets_are_in_an_active_task(team):
    ids = _datasets(team, 3)
    first = team["maya"].tasks.create("first", datasets=ids[:2], annotators=["ann"])
    with pytest.warns(DatasetsInActiveTask, match=rf"#{ids[1]} in 'first' \(#{first.id}"):
        team["maya"].tasks.create("second", datasets=ids[1:], annotators=["ann2"])
    with pytest.raises(ak.ValidationError, match="task not created"):
        team["maya"].tasks.create("third", datasets=ids, allow_reassign=False)
    assert team["maya"].task_queries.list_tasks(search="third").total == 0
    busy = team["maya"].tasks.active_tasks_for(ids)
    assert sorted(busy) == ids and len(busy[ids[1]]) == 2


def test_create_refuses_unknown_people_and_datasets(team):
    ids = _datasets(team, 1)
    with pytest.raises(ak.NotFound, match="'nobody'"):
        team["maya"].tasks.create("t", datasets=ids, annotators=["ann", "nobody"])
    with pytest.raises(ak.NotFound, match="no dataset with id 999999"):
        team["maya"].tasks.create("t", datasets=[999999])
    with pytest.raises(ak.ValidationError, match="visitor 'vic' cannot be assigned"):
        team["maya"].tasks.create("t", datasets=ids, reviewers=["vic"])
    with pytest.raises(ak.ValidationError, match="disabled"):
        team["maya"].tasks.create("t", datasets=ids, annotators=["dis"])
    assert team["maya"].task_queries.list_tasks().total == 0


def test_batch_reassign_across_pages_checks_versions(team):
    for i in range(7):
        team.task(name=f"batch {i}")
    page1 = team["maya"].task_queries.list_tasks(search="batch", page_size=3, sort="name")
    page3 = team["maya"].task_queries.list_tasks(search="batch", page_size=3, sort="name", page=3)
    assert (page1.total, page1.pages, [c.name for c in page3.items]) == (7, 3, ["batch 6"])
    everything = team["maya"].task_queries.matching_ids(search="batch")
    assert len(everything) == 7
    changed = team["maya"].tasks.assign(everything, annotators=["ann2"], reviewers=["rita2"])
    assert {tuple(u.name for u in t.annotators) for t in changed} == {("ann2",)}
    assert team["maya"].task_queries.list_tasks(assignee="ann").total == 0
    assert team["maya"].task_queries.list_tasks(assignee="rita2").total == 7
    stale = team["maya"].tasks.get(everything[0])
    team["ada"].tasks.edit(everything[0], description="changed meanwhile")
    with pytest.raises(ak.ConflictError, match=rf"version {stale.version}, the stored version is"):
        team["maya"].tasks.assign(
            [team["maya"].tasks.get(everything[1]), stale], annotators=["ann"]
        )
    assert team["maya"].task_queries.list_tasks(assignee="ann").total == 0, "all or nothing"


def test_batch_edit_logs_each_change(team):
    a, b = team.task(name="a"), team.task(name="b")
    team["maya"].tasks.edit([a.id, b.id], description="new text", project=None)
    history = team["maya"].events.history("task", b.id)
    assert history[0].action == "edit_description" and history[0].to_state == "new text"


def test_batch_delete_needs_confirmation_and_keeps_datasets(team):
    doomed = [team.task(name=f"old {i}", status="in_progress") for i in range(3)]
    dataset = team["ada"].tasks.task_dataset_ids(doomed[0].id)[0]
    team["ann"].annotations.add(doomed[0].id, dataset, start_ns=0, end_ns=SECOND)
    ids = [t.id for t in doomed]
    with pytest.raises(ak.ValidationError, match="3 task"):
        team["maya"].tasks.delete(ids)
    assert team["maya"].task_queries.list_tasks().total == 3
    assert team["maya"].tasks.delete(ids, confirm=True) == 3
    assert team["maya"].task_queries.list_tasks().total == 0
    assert team["maya"].datasets.get(dataset).id == dataset
    logged = team["maya"].events.history("task", ids[0])[0]
    assert (logged.action, logged.data["annotations"], logged.data["datasets"]) == ("delete", 1, 2)
    with pytest.raises(ak.NotFound):
        team["maya"].tasks.get(ids[0])


def test_filters_sorting_and_board(team):
    team["maya"].projects.create("kitchen")
    team.task(name="Pick cube", status="in_progress")
    team.task(name="Place cube", status="pending_review")
    team.task(name="Wipe table")
    other = team.task(name="100% done_ish")
    team["maya"].tasks.edit(other.id, project="kitchen", description="pick again")
    q = team["maya"].task_queries
    assert {c.name for c in q.list_tasks(search="CUBE").items} == {"Pick cube", "Place cube"}
    assert [c.name for c in q.list_tasks(search="pick", sort="name").items] == [
        "100% done_ish",
        "Pick cube",
    ]
    assert [c.name for c in q.list_tasks(search="%").items] == ["100% done_ish"]
    assert [c.name for c in q.list_tasks(search="_").items] == ["100% done_ish"]
    assert q.list_tasks(status=["in_progress", "pending_review"]).total == 2
    assert q.list_tasks(project="kitchen").total == 1
    assert q.list_tasks(sort="-name").items[0].name == "Wipe table"
    board = q.board(search="cube")
    assert board.counts[Status.IN_PROGRESS] == 1 and board.counts[Status.PENDING] == 0
    assert [c.name for c in board.columns[Status.PENDING_REVIEW]] == ["Place cube"]
    card = board.columns[Status.IN_PROGRESS][0]
    assert (card.counts.datasets, card.annotators, card.reviewers) == (2, ["ann"], ["rita"])
    with pytest.raises(ak.ValidationError, match="cannot sort by"):
        q.list_tasks(sort="password")
    with pytest.raises(ak.ValidationError, match="unknown status"):
        q.list_tasks(status="done")


def test_progress_per_task_and_annotator(team):
    task = team.task("in_progress", n_datasets=4)
    first, second, *_ = team["ada"].tasks.task_dataset_ids(task.id)
    team["ann"].annotations.add(task.id, first, start_ns=0, end_ns=SECOND)
    team["ann"].annotations.add(task.id, first, start_ns=SECOND, end_ns=2 * SECOND)
    team["maya"].annotations.mark_invalid(task.id, second, "robot fell over")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = team["maya"].progress.task_progress(task.id)
    assert (report.counts.datasets, report.counts.annotated, report.counts.annotations) == (4, 2, 3)
    assert report.completion == 0.5
    per = {p.user: (p.annotations, p.datasets) for p in report.per_annotator}
    assert per == {"ann": (2, 1), "maya": (1, 1)}


def test_remaining_time_from_throughput(team):
    task = team.task("pending", n_datasets=4)
    team["ann"].tasks.start(task.id)
    dataset = team["ada"].tasks.task_dataset_ids(task.id)[0]
    team["ann"].annotations.add(task.id, dataset, start_ns=0, end_ns=SECOND)
    report = team["ann"].progress.task_progress(task.id)
    assert report.remaining is not None and report.remaining.total_seconds() >= 0


def test_datasets_can_be_added_and_removed(team):
    task = team.task("in_progress", n_datasets=2)
    keep, drop = team["ada"].tasks.task_dataset_ids(task.id)
    team["ann"].annotations.add(task.id, drop, start_ns=0, end_ns=SECOND)
    extra = _datasets(team, 1)
    team["maya"].tasks.set_datasets(task.id, add=extra, remove=[drop])
    assert team["maya"].tasks.task_dataset_ids(task.id) == sorted([keep, *extra])
    assert team["maya"].annotations.list_annotations(task.id) == []
