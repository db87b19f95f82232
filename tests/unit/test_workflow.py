"""The status machine on its own (no database): every transition × role, messages, edits."""

import itertools

import pytest

from annotation_kit.access.workflow import (
    Action,
    Duty,
    Role,
    Status,
    allowed_actions,
    check,
    check_annotation_edit,
)
from annotation_kit.errors import InvalidTransition, PermissionDenied, ValidationError
from annotation_kit.store.models import Task, TaskMember, User, UserStatus
from tests.oracle import ACTORS, FLOW, STATUSES, may_edit_annotations, outcome


def _world(status: str) -> tuple[Task, dict[str, User]]:
    people = {
        name: User(id=i, name=name, role=Role(role), status=UserStatus.ACTIVE)
        for i, (name, (role, _duty, _active)) in enumerate(ACTORS.items(), start=1)
    }
    task = Task(id=7, name="Pick <cube>", status=Status(status))
    task.members = [
        TaskMember(user_id=people[n].id, duty=Duty(duty), user=people[n])
        for n, (_r, duty, _a) in ACTORS.items()
        if duty
    ]
    return task, people


@pytest.mark.parametrize(
    ("status", "action", "actor"), list(itertools.product(STATUSES, FLOW, ACTORS))
)
def test_every_transition_for_every_role(status, action, actor):
    task, people = _world(status)
    expected = outcome(actor, status, action)
    if expected == "ok":
        step = check(task, people[actor], Action(action), comment="because")
        assert step.target == Status(FLOW[action][1])
        assert Action(action) in allowed_actions(task, people[actor])
    else:
        error = InvalidTransition if expected == "invalid" else PermissionDenied
        with pytest.raises(error) as caught:
            check(task, people[actor], Action(action), comment="because")
        message = str(caught.value)
        assert actor in message and "#7" in message and Status(status).label in message
        assert "Allowed now for" in message
        assert Action(action) not in allowed_actions(task, people[actor])


@pytest.mark.parametrize(("status", "actor"), list(itertools.product(STATUSES, ACTORS)))
def test_who_may_change_annotations(status, actor):
    task, people = _world(status)
    if may_edit_annotations(actor, status):
        check_annotation_edit(task, people[actor])
    else:
        with pytest.raises(PermissionDenied, match=actor):
            check_annotation_edit(task, people[actor])


def test_reject_needs_a_comment():
    task, people = _world("pending_review")
    for empty in (None, "", "   \n"):
        with pytest.raises(ValidationError, match="without a comment"):
            check(task, people["rita"], Action.REJECT, comment=empty)


def test_disabled_users_can_do_nothing():
    task, people = _world("pending")
    people["maya"].status = UserStatus.DISABLED
    people["ann"].status = UserStatus.DISABLED
    assert allowed_actions(task, people["maya"]) == []
    with pytest.raises(PermissionDenied):
        check(task, people["ann"], Action.START)
    with pytest.raises(PermissionDenied, match="disabled"):
        check_annotation_edit(task, people["ann"])


def test_denial_names_who_would_be_allowed():
    task, people = _world("pending_review")
    with pytest.raises(PermissionDenied, match=r"assigned reviewers \(rita\)"):
        check(task, people["ann"], Action.APPROVE)


def test_status_labels_read_like_the_spec():
    assert [s.label for s in Status] == [
        "Pending",
        "In Progress",
        "Pending Review",
        "Review Passed",
        "Data Submitted",
    ]


def test_nobody_reviews_their_own_work():
    task, people = _world("pending_review")
    ann = people["ann"]
    task.members.append(TaskMember(user_id=ann.id, duty=Duty.REVIEWER, user=ann))
    for action in (Action.APPROVE, Action.REJECT):
        with pytest.raises(PermissionDenied, match="nobody reviews their own work"):
            check(task, ann, action, comment="fine by me")
        assert action not in allowed_actions(task, ann)
    assert check(task, people["rita"], Action.APPROVE).target == Status.REVIEW_PASSED
