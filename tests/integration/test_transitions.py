"""Every transition × role against a real database: the result, the status, the audit event."""

import itertools

import pytest

import annotation_kit as ak
from annotation_kit.access import events
from annotation_kit.work import tasks
from tests.oracle import ACTORS, FLOW, STATUSES, may_edit_annotations, may_see, outcome_for

SECOND = 1_000_000_000


def _events(team, task_id):
    with team["ada"].transaction(write=False) as s:
        return events.history(s, "task", task_id)


@pytest.mark.parametrize(
    ("status", "action", "actor"), list(itertools.product(STATUSES, FLOW, ACTORS))
)
def test_transition_by_role(module_team, status, action, actor):
    task = module_team.task(status, n_datasets=1, annotated=True)
    before = len(_events(module_team, task.id))
    expected = outcome_for(actor, status, action)
    call = module_team[actor].tasks.transition
    if expected == "ok":
        changed = call(task.id, action, comment="fix the grasp start")
        assert changed.status == FLOW[action][1]
        newest = _events(module_team, task.id)[0]
        assert (newest.action, newest.from_state, newest.to_state) == (
            action,
            status,
            FLOW[action][1],
        )
        assert newest.actor.name == actor
    else:
        error = {
            "invalid": ak.InvalidTransition,
            "denied": ak.PermissionDenied,
            "unseen": ak.NotFound,
        }[expected]
        with pytest.raises(error, match=actor):
            call(task.id, action, comment="fix the grasp start")
        assert module_team["ada"].tasks.get(task.id).status == status
        assert len(_events(module_team, task.id)) == before


@pytest.mark.parametrize(("status", "actor"), list(itertools.product(STATUSES, ACTORS)))
def test_annotation_edits_by_role(module_team, status, actor):
    task = module_team.task(status, n_datasets=1)
    dataset = module_team["ada"].tasks.task_dataset_ids(task.id)[0]
    add = module_team[actor].annotations.add
    if may_edit_annotations(actor, status):
        made = add(task.id, dataset, start_ns=0, end_ns=SECOND)
        assert made.author_id is not None
    else:
        error = ak.PermissionDenied if may_see(actor) else ak.NotFound
        with pytest.raises(error, match=actor):
            add(task.id, dataset, start_ns=0, end_ns=SECOND)
        assert module_team["ada"].annotations.list_annotations(task.id) == []


def test_reject_returns_to_in_progress_and_counts_rounds(team):
    task = team.task("pending_review", annotated=True)
    dataset = team["ada"].tasks.task_dataset_ids(task.id)[0]
    rejected = team["rita"].tasks.reject(
        task.id, comment="grasp starts at 1.2 s", dataset=dataset, range_ns=(SECOND, 2 * SECOND)
    )
    assert (rejected.status, rejected.review_round) == ("in_progress", 2)
    team["ann"].tasks.submit(task.id)
    passed = team["rita"].tasks.approve(task.id)
    assert (passed.status, passed.review_round) == ("review_passed", 2)
    reviews = team["ann"].reviews.task_reviews(task.id)
    assert [(r.round, r.decision, r.range_start_ns) for r in reviews] == [
        (1, "reject", SECOND),
        (2, "pass", None),
    ]
    with pytest.raises(ak.PermissionDenied):
        team["ann"].annotations.add(task.id, dataset, start_ns=0, end_ns=SECOND)


def test_submit_refused_until_every_dataset_has_an_annotation_or_invalid_mark(team):
    task = team.task("in_progress", n_datasets=3)
    first, second, third = team["ada"].tasks.task_dataset_ids(task.id)
    team["ann"].annotations.add(task.id, first, start_ns=0, end_ns=SECOND)
    with pytest.raises(ak.InvalidTransition, match="2 of its 3 datasets") as caught:
        team["ann"].tasks.submit(task.id)
    assert f"#{second}" in str(caught.value) and f"#{third}" in str(caught.value)
    team["ann"].annotations.mark_invalid(task.id, second, "camera blacked out")
    team["ann"].annotations.add(task.id, third, labels=[])
    assert team["ann"].tasks.submit(task.id).status == "pending_review"


def test_task_without_datasets_cannot_be_submitted(team):
    task = team.task("in_progress", n_datasets=0)
    with pytest.raises(ak.InvalidTransition, match="no datasets"):
        team["ann"].tasks.submit(task.id)


def test_disabled_user_cannot_connect_or_act(team):
    with pytest.raises(ak.PermissionDenied, match="disabled"):
        ak.connect(team["ada"].url, user="dis")
    task = team.task("pending")
    with pytest.raises(ak.PermissionDenied, match="disabled"):
        team["dis"].tasks.start(task.id)


def test_allowed_actions_is_what_the_ui_offers(team):
    task = team.task("pending_review", annotated=True)
    assert team["ann"].tasks.allowed_actions(task.id) == []
    assert team["rita"].tasks.allowed_actions(task.id) == ["approve", "reject"]
    assert team["maya"].tasks.allowed_actions(task.id) == ["approve", "reject"]
    assert tasks.allowed_actions.__doc__
