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


def test_my_background_jobs_and_my_failed_uploads_are_told_to_me(team, tmp_path, monkeypatch):
    """The worker records the end of a job as its owner's act: the owner, and only they, is
    told; a data check that fails on datasets someone uploaded tells that uploader."""
    from annotation_kit.data import checks, datasets
    from annotation_kit.jobs.worker import execute

    maya, col, ann = team["maya"], team["col"], team["ann"]
    queue = f"sqlite:///{tmp_path / 'queue.db'}"
    task = team.task("review_passed", annotated=True).id
    done = maya.queue_for(queue).enqueue(
        "export", tasks=[task], format="json", destination=str(tmp_path / "out")
    )
    assert execute(done.id, maya.url, queue) == "completed"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/file.txt").write_text("someone else's")
    failed = maya.queue_for(queue).enqueue(
        "export", tasks=[task], format="json", destination=str(tmp_path / "taken")
    )
    assert execute(failed.id, maya.url, queue) == "failed"
    quiet = maya.queue_for(queue).enqueue("noop")  # test jobs tell nobody
    assert execute(quiet.id, maya.url, queue) == "completed"
    bad, good = maya.notifications.list_notifications()[:2]
    assert (bad.kind, good.kind) == ("job_failed", "job_completed")
    assert bad.text.startswith(f"your export job #{failed.id} failed: ValidationError")
    assert "already exists" in bad.text
    assert good.text == f"your export job #{done.id} finished"
    assert [n.kind for n in ann.notifications.list_notifications()] == ["assigned"]

    maya.projects.create("lab")
    maya.checks.set_rules("lab", [{"kind": "duration", "min_s": 100}])
    with col.transaction() as s:  # col uploads two one-minute episodes, maya one
        me = col.me(s)
        mine = [
            datasets.register(
                s,
                name=f"c{i}",
                source_uri=f"test://c{i}",
                format="mcap",
                duration_ns=60 * SECOND,
                project="lab",
                by=me,
            ).id
            for i in range(2)
        ]
    [hers] = team.new_datasets_now(1)
    with maya.transaction() as s:
        checks.run(s, [*mine, hers], by=maya.me(s))
    [told] = col.notifications.list_notifications()
    assert (told.kind, told.actor, told.dataset) == ("qc_failed", "maya", mine[0])
    assert told.text == f"2 of your uploads failed data checks (#{mine[0]}, #{mine[1]})"
    assert "qc_failed" not in [n.kind for n in ann.notifications.list_notifications()]


def test_each_person_chooses_what_they_are_told_of(team):
    maya, ann = team["maya"], team["ann"]
    assert ann.notifications.preferences() == {"muted": [], "email": False}
    [episode] = team.new_datasets_now(1)
    maya.tasks.create("first", datasets=[episode], annotators=["ann"])
    assert ann.notifications.set_preferences(muted=["assigned"]) == {
        "muted": ["assigned"],
        "email": False,
    }
    assert ann.notifications.list_notifications() == [] and ann.notifications.unread_count() == 0
    assert team["ann2"].notifications.preferences()["muted"] == []  # one's own only
    with pytest.raises(ValidationError, match=r"cannot mute \['assign'\]"):
        ann.notifications.set_preferences(muted=["assign"])
    with pytest.raises(ValidationError, match="no e-mail address"):
        ann.notifications.set_preferences(email=True)
    ann.notifications.set_preferences(muted=[])
    assert [n.kind for n in ann.notifications.list_notifications()] == ["assigned"]


def test_a_reviewers_verdicts_in_one_round_come_as_one_notification(team):
    """Five verdicts of rita on ann's annotations in round 1 are one notification, at the
    rejection's place; read, it stays read until a new verdict joins it; round 2 is apart."""
    maya, ann, rita = team["maya"], team["ann"], team["rita"]
    maya.skills.create("pick")
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create(
        "Pick cubes", datasets=[episode], annotators=["ann"], reviewers=["rita"]
    ).id
    ann.tasks.start(task)
    made = [
        ann.annotations.add(task, episode, start_ns=i * SECOND, end_ns=(i + 1) * SECOND)
        for i in range(6)
    ]
    ann.tasks.submit(task)
    ann.notifications.mark_read()
    for a in made[:4]:
        rita.reviews.judge(a.id, "pass")
    rita.reviews.judge(made[4].id, "reject", comment="too short", range_ns=(4 * SECOND, 5 * SECOND))
    [told] = ann.notifications.list_notifications(unread=True)
    assert told.text == "rita passed 4 and sent back 1 of your annotations in 'Pick cubes'"
    assert (told.kind, told.count, told.task) == ("annotation_rejected", 5, task)
    assert (told.dataset, told.start_ns, told.end_ns) == (episode, 4 * SECOND, 5 * SECOND)
    assert ann.notifications.mark_read([told.id]) == 0
    rita.reviews.judge(made[5].id, "pass")  # one more in the same round: told again, as one
    [again] = ann.notifications.list_notifications(unread=True)
    assert (again.count, again.text) == (
        6,
        "rita passed 5 and sent back 1 of your annotations in 'Pick cubes'",
    )
    ann.notifications.set_preferences(muted=["annotation_rejected"])
    [passes] = ann.notifications.list_notifications(unread=True)
    assert passes.text == "rita passed 5 of your annotations in 'Pick cubes'"
