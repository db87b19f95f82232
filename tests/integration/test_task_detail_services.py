"""What TaskDetail shows, from the services: permissions, dataset status, statistics and taking
invalid marks back. Runs on SQLite and PostgreSQL."""

import pytest

import annotation_kit as ak

SECOND = 1_000_000_000


@pytest.fixture
def work(team):
    team["maya"].skills.create("pick")
    team["maya"].skills.create("place")
    team["maya"].dictionaries.create("objects", ["cube", "bowl"])
    task = team.task("in_progress", n_datasets=3)
    return team, task.id, team["ada"].tasks.task_dataset_ids(task.id)


def test_permissions_are_the_library_decision(team):
    pending = team.task("pending").id
    review = team.task("pending_review", annotated=True).id
    assert team["ann"].tasks.permissions(pending) == ["start"]
    assert team["rita"].tasks.permissions(pending) == []
    assert team["rita"].tasks.permissions(review) == ["approve", "reject"]
    assert team["ann"].tasks.permissions(review) == []
    assert team["maya"].tasks.permissions(review) == [
        "approve",
        "reject",
        "annotate",
        "datasets",
        "edit",
        "delete",
    ]
    started = team.task("in_progress").id
    assert team["ann"].tasks.permissions(started) == ["submit", "annotate"]
    with pytest.raises(ak.NotFound):  # not on it: the task is not there for ann2
        team["ann2"].tasks.permissions(started)


def test_dataset_status_and_statistics(work):
    team, task, (first, second, third) = work
    ann = team["ann"]
    ann.annotations.add(task, first, start_ns=0, end_ns=SECOND, skill="pick", labels=["cube"])
    ann.annotations.add(task, first, start_ns=SECOND, end_ns=2 * SECOND, skill="place")
    ann.annotations.add(
        task, first, start_ns=2 * SECOND, end_ns=3 * SECOND, skill="pick", labels=["cube", "bowl"]
    )
    ann.annotations.mark_invalid(task, second, "camera frozen")
    status = {d.id: d for d in ann.progress.dataset_status(task)}
    assert [status[i].status for i in (first, second, third)] == ["annotated", "invalid", "to do"]
    assert (status[first].annotations, status[second].invalid) == (3, 1)
    assert status[first].duration_s == 60.0

    stats = ann.progress.statistics(task)
    assert (stats.annotations, stats.segments, stats.invalid) == (4, 3, 1)
    assert stats.per_skill == {"pick": 2, "place": 1}
    assert stats.per_label == {"cube": 2, "bowl": 1}
    assert stats.per_annotator == {"ann": 4}
    assert stats.per_provenance == {"human": 4}


def test_reannotate_brings_back_content_and_drops_bare_marks(work):
    team, task, (first, second, _third) = work
    ann = team["ann"]
    made = ann.annotations.add(task, first, start_ns=0, end_ns=SECOND, skill="pick")
    bad = ann.annotations.set_valid(
        made.id, False, reason="wrong skill", expected_version=made.version
    )
    kept = ann.annotations.reannotate(bad.id, expected_version=bad.version)
    assert kept.valid and kept.invalid_reason is None
    with pytest.raises(ak.ValidationError, match="not marked invalid"):
        ann.annotations.reannotate(kept.id, expected_version=kept.version)

    mark = ann.annotations.mark_invalid(task, second, "motion blur")
    assert ann.annotations.reannotate(mark.id, expected_version=mark.version) is None
    assert ann.annotations.list_annotations(task, dataset=second) == []
    with pytest.raises(ak.ConflictError):
        ann.annotations.reannotate(made.id, expected_version=made.version)


def test_reannotate_follows_the_workflow(work):
    team, task, (first, *_rest) = work
    mark = team["ann"].annotations.mark_invalid(task, first, "blurred")
    with pytest.raises(ak.PermissionDenied):
        team["rita"].annotations.reannotate(mark.id, expected_version=mark.version)


def test_template_copies_segments_scaled_to_each_duration(team):
    team["maya"].skills.create("pick")
    maya = team["maya"]
    with maya.transaction() as s:
        from annotation_kit.store.models import Dataset

        ids = team.new_datasets(s, maya, 3)
        for dataset_id, seconds in zip(ids, (10, 20, 5), strict=True):
            s.get(Dataset, dataset_id).duration_ns = seconds * SECOND
    task = maya.tasks.create("t", datasets=ids, annotators=["ann"]).id
    ann = team["ann"]
    ann.tasks.start(task)
    ann.annotations.add(
        task, ids[0], start_ns=SECOND, end_ns=4 * SECOND, skill="pick", description="reach"
    )
    bad = ann.annotations.add(task, ids[0], start_ns=5 * SECOND, end_ns=6 * SECOND)
    ann.annotations.set_valid(bad.id, False, reason="blur", expected_version=bad.version)
    made = ann.annotations.copy_segments(task, ids[0])
    assert sorted(made) == [ids[1], ids[2]]
    [long] = made[ids[1]]
    [short] = made[ids[2]]
    assert (long.start_ns, long.end_ns) == (2 * SECOND, 8 * SECOND)
    assert (short.start_ns, short.end_ns) == (SECOND // 2, 2 * SECOND)
    assert long.description == "reach" and long.attributes == {"template": ids[0]}
    # datasets already annotated are left alone unless named
    assert ann.annotations.copy_segments(task, ids[0]) == {}
    with pytest.raises(ak.ValidationError, match="not part of task"):
        ann.annotations.copy_segments(task, ids[0], targets=[999_999])
    ann.annotations.set_valid(short.id, False, reason="wrong", expected_version=short.version)
    with pytest.raises(ak.ValidationError, match="no valid segments"):
        ann.annotations.copy_segments(task, ids[2])
    assert ann.annotations.recent_descriptions()[0] == "reach"
    with pytest.raises(ak.NotFound):
        team["rita"].annotations.copy_segments(task, ids[0])
