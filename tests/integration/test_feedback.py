"""Feedback on tasks, on SQLite and PostgreSQL: an annotator raises an issue on a time range,
the task's manager answers and resolves it, the thread reads back in order, each step reaches
the right people as a notification, and who may do what is the library's call."""

import pytest

from annotation_kit.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from tests.conftest import SECOND


def test_an_issue_raised_on_a_time_range_is_answered_and_resolved(team):
    maya, ann, rita, vic = team["maya"], team["ann"], team["rita"], team["vic"]
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("asked", datasets=[episode], annotators=["ann"], reviewers=["rita"])
    issue = ann.feedback.raise_issue(
        task.id,
        "Is a regrasp its own segment?",
        kind="guideline",
        dataset=episode,
        range_ns=(2 * SECOND, 3 * SECOND),
    )
    [told] = [n for n in maya.notifications.list_notifications() if n.kind == "feedback"]
    assert told.text == "ann raised an issue on 'asked': Is a regrasp its own segment?"
    assert told.dataset == episode and maya.feedback.open_counts([task.id]) == {task.id: 1}
    assert any(n.kind == "feedback" for n in rita.notifications.list_notifications())

    maya.feedback.reply(issue.id, "Yes: a new grasp segment.")
    [answered] = [n for n in ann.notifications.list_notifications() if n.kind == "feedback_reply"]
    assert "a new grasp segment" in answered.text
    with pytest.raises(PermissionDenied):
        vic.feedback.reply(issue.id, "me too")
    with pytest.raises(PermissionDenied):
        team["ann2"].feedback.resolve(issue.id)  # not on the task
    maya.feedback.resolve(issue.id, note="added to the guidelines")
    with pytest.raises(InvalidTransition, match="resolved"):
        ann.feedback.reply(issue.id, "thanks")
    [found] = ann.feedback.list_issues(task.id)
    assert (found.kind, found.author, found.start_ns, found.end_ns) == (
        "guideline",
        "ann",
        2 * SECOND,
        3 * SECOND,
    )
    assert [(who, text) for who, _when, text in found.replies] == [
        ("maya", "Yes: a new grasp segment."),
        ("maya", "added to the guidelines"),
    ]
    assert (found.open, found.resolved_by) == (False, "maya")
    assert ann.feedback.list_issues(task.id, open_only=True) == []
    assert maya.feedback.open_counts([task.id]) == {}


def test_bad_issues_are_refused_with_the_reason(team):
    maya, ann = team["maya"], team["ann"]
    [episode, elsewhere] = team.new_datasets_now(2)
    task = maya.tasks.create("bad", datasets=[episode], annotators=["ann"]).id
    with pytest.raises(ValidationError, match="kind must be one of"):
        ann.feedback.raise_issue(task, "?", kind="rant")
    with pytest.raises(ValidationError, match="issue"):
        ann.feedback.raise_issue(task, "  ")
    with pytest.raises(ValidationError, match="not part of task"):
        ann.feedback.raise_issue(task, "here?", dataset=elsewhere)
    with pytest.raises(ValidationError, match="needs the episode"):
        ann.feedback.raise_issue(task, "when?", range_ns=(0, SECOND))
    with pytest.raises(ValidationError):
        ann.feedback.raise_issue(task, "after the end", dataset=episode, range_ns=(0, 10**15))
    with pytest.raises(NotFound, match="that ann2 may see"):
        team["ann2"].feedback.raise_issue(task, "not mine")
    with pytest.raises(NotFound):
        maya.feedback.reply(10**6, "?")
    assert maya.feedback.list_issues(task) == []
