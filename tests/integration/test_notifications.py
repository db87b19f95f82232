"""Notifications derived from the audit log, on SQLite and PostgreSQL: each person is told what
concerns them — and only that — with the reviewer's comment and its place on the episode; what
they read stays read."""

import pytest

from annotation_kit.errors import ValidationError
from tests.conftest import SECOND


def kinds(ws, **options):
    return [(n.kind, n.read) for n in ws.notifications.list_notifications(**options)]


def test_each_person_is_told_what_concerns_them(team):
    maya, ann, ann2, rita = team["maya"], team["ann"], team["ann2"], team["rita"]
    maya.skills.create("pick")
    [episode, other] = team.new_datasets_now(2)
    task = maya.tasks.create(
        "told", datasets=[episode, other], annotators=["ann"], reviewers=["rita"]
    ).id
    assert kinds(ann) == [("assigned", False)] and kinds(rita) == [("assigned", False)]
    assert kinds(ann2) == [] and kinds(maya) == []  # not theirs; maya did it herself
    ann.tasks.start(task)
    made = ann.annotations.add(task, episode, start_ns=0, end_ns=2 * SECOND, skill="pick")
    ann.annotations.add(task, other)
    ann.tasks.submit(task)
    [submitted, _assigned] = rita.notifications.list_notifications()
    assert (submitted.kind, submitted.actor, submitted.task) == ("submitted", "ann", task)
    assert kinds(ann) == [("assigned", False)]  # her own start and submit tell her nothing

    rita.reviews.judge(made.id, "reject", comment="starts late", range_ns=(SECOND, 2 * SECOND))
    rita.tasks.reject(task, comment="see the pick", dataset=episode, range_ns=(SECOND // 2, SECOND))
    sent_back, verdict, assigned = ann.notifications.list_notifications()
    assert (sent_back.kind, sent_back.dataset, sent_back.start_ns, sent_back.end_ns) == (
        "rejected",
        episode,
        SECOND // 2,
        SECOND,
    )
    assert sent_back.text == "rita sent 'told' back: see the pick"
    assert (verdict.kind, verdict.start_ns, verdict.end_ns) == (
        "annotation_rejected",
        SECOND,
        2 * SECOND,
    )
    assert "starts late" in verdict.text and assigned.kind == "assigned"
    assert ann.notifications.unread_count() == 3

    assert ann.notifications.mark_read([verdict.id]) == 2
    assert kinds(ann, unread=True) == [("rejected", False), ("assigned", False)]
    assert ann.notifications.mark_read() == 0
    assert kinds(ann) == [("rejected", True), ("annotation_rejected", True), ("assigned", True)]
    ann.tasks.submit(task)
    rita.tasks.approve(task)
    assert kinds(ann, unread=True) == [("approved", False)]
    assert rita.notifications.unread_count() == 3  # assigned, submitted twice
    with pytest.raises(ValidationError, match="limit"):
        ann.notifications.list_notifications(limit=0)
    with pytest.raises(ValidationError, match="ids"):
        ann.notifications.mark_read(["all"])
