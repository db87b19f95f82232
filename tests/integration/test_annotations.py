"""Annotations: segments on the episode clock, skills and labels, invalid marks, conflicts."""

import pytest

import annotation_kit as ak

SECOND = 1_000_000_000


@pytest.fixture
def work(team):
    team["maya"].skills.create("pick", category="manipulation")
    team["maya"].dictionaries.create("objects", ["cube", "bowl"])
    task = team.task("in_progress", n_datasets=1)
    return team, task.id, team["ada"].tasks.task_dataset_ids(task.id)[0]


def test_segment_keeps_nanoseconds_skill_version_and_labels(work):
    team, task, dataset = work
    made = team["ann"].annotations.add(
        task,
        dataset,
        start_ns=1_234_567_891,
        end_ns=59_999_999_999,
        skill="pick",
        labels=["cube"],
        description="pick it",
        attributes={"speed": "slow"},
    )
    team["maya"].skills.edit("pick", description="grasp and lift")
    again = team["ann"].annotations.get(made.id)
    assert (again.start_ns, again.end_ns, again.skill_version) == (1_234_567_891, 59_999_999_999, 1)
    assert (again.labels, again.attributes, again.provenance) == (
        ["cube"],
        {"speed": "slow"},
        "human",
    )
    updated = team["ann"].annotations.update(made.id, expected_version=again.version, skill="pick")
    assert updated.skill_version == 2


@pytest.mark.parametrize(
    ("span", "problem"),
    [
        ((-1, SECOND), "before the episode start"),
        ((2 * SECOND, SECOND), "must be after start_ns"),
        ((0, 61 * SECOND), "past the end of the episode"),
        ((0.5, SECOND), "start_ns must be an integer or None"),
        ((0, None), "give both start_ns and end_ns"),
    ],
)
def test_bad_ranges_are_refused(work, span, problem):
    team, task, dataset = work
    with pytest.raises(ak.ValidationError, match=problem):
        team["ann"].annotations.add(task, dataset, start_ns=span[0], end_ns=span[1])
    assert team["ann"].annotations.list_annotations(task) == []


def test_unknown_skill_label_provenance_or_dataset(work):
    team, task, dataset = work
    add = team["ann"].annotations.add
    with pytest.raises(ak.NotFound, match=r"no skill 'fly'.*known: pick"):
        add(task, dataset, start_ns=0, end_ns=SECOND, skill="fly")
    with pytest.raises(ak.ValidationError, match=r"'spoon'.*in no dictionary"):
        add(task, dataset, start_ns=0, end_ns=SECOND, labels=["cube", "spoon"])
    with pytest.raises(ak.ValidationError, match="needs model_ref"):
        add(task, dataset, start_ns=0, end_ns=SECOND, provenance="model")
    with pytest.raises(ak.ValidationError, match="unknown provenance"):
        add(task, dataset, start_ns=0, end_ns=SECOND, provenance="guess")
    other = team.task("in_progress", n_datasets=1)
    foreign = team["ada"].tasks.task_dataset_ids(other.id)[0]
    with pytest.raises(ak.ValidationError, match="not part of task"):
        add(task, foreign, start_ns=0, end_ns=SECOND)
    made = add(task, dataset, start_ns=0, end_ns=SECOND, provenance="model", model_ref="seg-v3")
    assert (made.provenance, made.model_ref) == ("model", "seg-v3")


def test_stale_save_raises_conflict_and_never_overwrites(work):
    team, task, dataset = work
    made = team["ann"].annotations.add(task, dataset, start_ns=0, end_ns=SECOND)
    team["maya"].annotations.update(made.id, expected_version=made.version, description="mine")
    with pytest.raises(
        ak.ConflictError, match="you edited version 1, the stored version is 2"
    ) as e:
        team["ann"].annotations.update(made.id, expected_version=made.version, description="ann's")
    assert (e.value.expected, e.value.actual) == (1, 2)
    with pytest.raises(ak.ConflictError):
        team["ann"].annotations.delete(made.id, expected_version=1)
    assert team["ann"].annotations.get(made.id).description == "mine"


def test_invalid_marks_and_deletion_are_logged(work):
    team, task, dataset = work
    with pytest.raises(ak.ValidationError, match="invalid reason must not be empty"):
        team["ann"].annotations.mark_invalid(task, dataset, "  ")
    mark = team["ann"].annotations.mark_invalid(task, dataset, "gripper camera frozen")
    assert (mark.kind, mark.valid, mark.invalid_reason) == (
        "episode",
        False,
        "gripper camera frozen",
    )
    seg = team["ann"].annotations.add(task, dataset, start_ns=0, end_ns=SECOND)
    seg = team["ann"].annotations.set_valid(
        seg.id, False, reason="occluded", expected_version=seg.version
    )
    assert [a.id for a in team["ann"].annotations.list_annotations(task, valid=False)] == [
        mark.id,
        seg.id,
    ]
    team["ann"].annotations.delete(seg.id, expected_version=seg.version)
    deleted = team["ann"].events.history("annotation", seg.id)[0]
    assert (deleted.action, deleted.data["start_ns"]) == ("delete", 0)


def test_reviewer_verdicts_per_annotation(work):
    team, task, dataset = work
    seg = team["ann"].annotations.add(task, dataset, start_ns=0, end_ns=10 * SECOND)
    with pytest.raises(ak.InvalidTransition, match="judge"):
        team["rita"].reviews.judge(seg.id, "reject", comment="late")
    team["ann"].tasks.submit(task)
    with pytest.raises(ak.PermissionDenied, match="ann"):
        team["ann"].reviews.judge(seg.id, "pass")
    with pytest.raises(ak.ValidationError, match="comment must not be empty"):
        team["rita"].reviews.judge(seg.id, "reject")
    team["rita"].reviews.judge(seg.id, "reject", comment="starts late", range_ns=(0, SECOND))
    team["rita"].reviews.judge(seg.id, "reject", comment="starts 0.4 s late", range_ns=(0, SECOND))
    [verdict] = team["ann"].reviews.verdicts(task)
    assert (verdict.round, verdict.comment, verdict.range_end_ns) == (
        1,
        "starts 0.4 s late",
        SECOND,
    )


def test_event_log_is_append_only(work):
    team, task, _ = work
    from annotation_kit.access import events

    def tamper(change):
        with team["ada"].transaction() as s:
            entry = events.history(s, "task", task)[0]
            if change == "edit":
                entry.note = "rewritten"
            else:
                s.delete(entry)

    for change in ("edit", "delete"):
        with pytest.raises(RuntimeError, match="append-only"):
            tamper(change)
    assert team["ada"].events.history("task", task)[0].note == ""
