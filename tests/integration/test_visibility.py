"""Who sees what, on SQLite and PostgreSQL: an annotator or a reviewer lists only the tasks they
are on and those of their projects, and the datasets of those, through every list and search
path of the library and through the widgets' own requests; what they may not see is "not
found" when opened by id; managers and admins see everything, collectors every dataset."""

from __future__ import annotations

import pytest

from annotation_kit.access import projects, visibility
from annotation_kit.data import dataset_queries
from annotation_kit.errors import NotFound
from annotation_kit.store.models import Dataset
from annotation_kit.widgets import (
    data_browser,
    episode_annotator,
    review_form,
    task_board,
    task_detail,
)
from annotation_kit.work import task_queries
from tests.conftest import SECOND

from .test_controllers import Host


@pytest.fixture
def world(team):
    """ann's task, ann2's task, and a kitchen-project task of ann2's that ann (a member of the
    project) may see but is not on; one more kitchen dataset in no task."""
    maya = team["maya"]
    d = team.new_datasets_now(5)
    maya.projects.create("kitchen", members=["ann"])
    with maya.transaction() as s:
        kitchen_id = projects.get(s, "kitchen").id
        for dataset_id in d[3:]:
            s.get(Dataset, dataset_id).project_id = kitchen_id
    mine = maya.tasks.create("mine", datasets=d[:2], annotators=["ann"], reviewers=["rita"]).id
    other = maya.tasks.create("other secret", datasets=[d[2]], annotators=["ann2"]).id
    kitchen = maya.tasks.create(
        "kitchen", datasets=[d[3]], annotators=["ann2"], project="kitchen"
    ).id
    return team, d, {"mine": mine, "other": other, "kitchen": kitchen}


def _task_names(ws, **filters):
    return {c.name for c in ws.task_queries.list_tasks(**filters).items}


def test_every_list_and_search_path_shows_only_what_the_library_lets_one_see(world):
    team, d, t = world
    ann, rita, maya, col, vic = (team[n] for n in ("ann", "rita", "maya", "col", "vic"))
    # tasks: lists, searches, "all matching" and the board's counts
    assert _task_names(ann) == {"mine", "kitchen"}
    assert _task_names(ann, search="secret") == set()
    assert _task_names(ann, assignee="ann2") == {"kitchen"}
    assert set(ann.task_queries.matching_ids()) == {t["mine"], t["kitchen"]}
    assert sum(ann.task_queries.board().counts.values()) == 2
    assert _task_names(rita) == {"mine"}
    assert _task_names(vic) == set() and _task_names(col) == set()
    assert _task_names(maya) == {"mine", "other secret", "kitchen"}
    # datasets: the browser's list, "all matching", the facets and the plain list
    seen = {d[0], d[1], d[3], d[4]}
    assert {r.id for r in ann.datasets.list_datasets()} == seen
    with ann.transaction(write=False) as s:
        me = ann.me(s)
        assert {r.id for r in dataset_queries.list_datasets(s, by=me).items} == seen
        assert set(dataset_queries.matching_ids(s, by=me)) == seen
        assert dataset_queries.facets(s, by=me)["formats"] == ["mcap"]
        hidden = s.get(Dataset, d[2]).name
        assert dataset_queries.list_datasets(s, by=me, search=hidden).total == 0
        assert task_queries.list_tasks(s, by=me, search="other").total == 0
    assert {r.id for r in rita.datasets.list_datasets()} == {d[0], d[1]}
    assert len(col.datasets.list_datasets()) == len(maya.datasets.list_datasets()) == 5
    assert vic.datasets.list_datasets() == []
    # a task one may not see is "not found", whichever way it is asked for
    for ask in (
        lambda: ann.annotations.list_annotations(t["other"]),
        lambda: ann.annotations.page_annotations(t["other"]),
        lambda: ann.feedback.list_issues(t["other"]),
    ):
        with pytest.raises(NotFound, match=f"no task with id {t['other']} that ann may see"):
            ask()
    assert ann.annotations.list_annotations(t["kitchen"]) == []  # project visibility
    with ann.transaction(write=False) as s:
        assert visibility.may_see_task(s, t["kitchen"], ann.me(s))
        assert not visibility.may_see_task(s, 10_000, ann.me(s))
        with pytest.raises(NotFound, match="dataset"):
            visibility.require_dataset(s, d[2], ann.me(s))
        assert visibility.require_dataset(s, d[4], ann.me(s)).id == d[4]


def test_the_widgets_requests_are_scoped_by_the_library(world):
    team, d, t = world
    ann = team["ann"]
    sent: set[str] = set()
    # the board opens on one's own tasks; clearing the filter shows what else the library lets
    # one see (the project's task), never the rest
    board = Host(task_board.SPEC, ann, sent)
    assert board.assignee == "ann"
    assert {c["name"] for c in board.rows} == {"mine"}
    board.set(assignee="")
    assert {c["name"] for c in board.rows} == {"mine", "kitchen"}
    board.send("select_all")
    assert set(board.selected) == {t["mine"], t["kitchen"]}
    managers = Host(task_board.SPEC, team["maya"], sent)
    assert managers.assignee == "" and managers.total == 3
    # the data browser
    browser = Host(data_browser.SPEC, ann, sent)
    assert {r["id"] for r in browser.rows} == {d[0], d[1], d[3], d[4]}
    browser.send("select_all")
    assert set(browser.selected) == {d[0], d[1], d[3], d[4]}
    # opening another's task by id: details, annotator, review form
    detail = Host(task_detail.SPEC, ann, sent)
    detail.set(task=t["other"])
    assert "no task with id" in detail._error and detail.info == {}
    detail.set(task=t["mine"])
    assert detail.info["name"] == "mine"
    annotator = Host(episode_annotator.SPEC, ann, sent, task=t["other"], dataset=d[2])
    assert "no task with id" in annotator._error and annotator.segments == []
    form = Host(review_form.SPEC, team["rita"], sent, task=t["kitchen"])
    assert "no task with id" in form._error


def test_every_service_naming_a_task_dataset_or_annotation_checks_it_first(world):
    """Through a workspace, a call naming something one may not see is "not found" — reads and
    writes alike, before the service's own checks; managers see it all."""
    team, d, t = world
    ann, maya = team["ann"], team["maya"]
    secret = maya.annotations.add(t["other"], d[2], start_ns=0, end_ns=SECOND)
    for ask in (
        lambda: ann.tasks.get(t["other"]),
        lambda: ann.tasks.task_dataset_ids(t["other"]),
        lambda: ann.progress.task_progress(t["other"]),
        lambda: ann.reviews.task_reviews(t["other"]),
        lambda: ann.tasks.start(t["other"]),
        lambda: ann.feedback.raise_issue(t["other"], "let me in"),
        lambda: ann.events.history("task", t["other"]),
    ):
        with pytest.raises(NotFound, match=f"no task with id {t['other']} that ann may see"):
            ask()
    with pytest.raises(NotFound, match=f"no dataset with id {d[2]} that ann may see"):
        ann.datasets.get(d[2])
    with pytest.raises(NotFound, match=f"no annotation with id {secret.id} that ann may see"):
        ann.annotations.get(secret.id)
    assert ann.datasets.get(d[4]).id == d[4]  # her project's
    assert ann.tasks.get(t["kitchen"]).name == "kitchen"
    assert maya.tasks.get(t["other"]).name == "other secret"
    assert maya.annotations.get(secret.id).id == secret.id
    # the audit log: a task's history for whoever sees the task; otherwise one's own acts
    ann.tasks.start(t["mine"])
    assert {e.actor.name for e in ann.events.history() if e.actor} == {"ann"}
    assert {e.action for e in ann.events.history("task", t["mine"])} >= {"create", "start"}
    assert any(e.actor and e.actor.name == "maya" for e in maya.events.history())
