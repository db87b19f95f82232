"""Annotation rules per project, on SQLite and PostgreSQL: each rule kind finds what breaks it
(with the place on the episode's clock), errors refuse a submit naming the rule and warnings do
not, an invalid episode is not held to them, and bad rules are refused with the reason."""

import pytest

from annotation_kit.errors import InvalidTransition, PermissionDenied, ValidationError
from annotation_kit.work.rules import _Segment, check_episode
from tests.conftest import SECOND


def seg(i, start, end, skill=None, labels=(), description=""):
    return _Segment(i, int(start * SECOND), int(end * SECOND), skill, list(labels), description)


def findings(rules, segments, duration_s=20):
    from annotation_kit.work.rules import validate

    return check_episode(
        validate(rules), segments, dataset_id=1, duration_ns=int(duration_s * SECOND)
    )


def test_each_rule_kind_finds_what_breaks_it():
    episode = [
        seg(1, 0, 4, "reach", ["left"], "reach the cup"),
        seg(2, 3, 5, "reach", [], "again"),  # overlaps #1, no label
        seg(3, 5, 5.2, "grasp", ["left"], "grasp it firmly"),  # 0.2 s
        seg(4, 12, 14, "lift", ["left"], ""),  # 7 s gap before it, 6 s after
    ]
    got = {
        r: [str(f) for f in findings([{"rule": r, **settings}], episode)]
        for r, settings in {
            "required_skills": {"skills": ["reach", "place"]},
            "skill_order": {"skills": ["grasp", "reach"]},
            "segment_length": {"min_s": 0.5, "max_s": 3.5},
            "no_overlap": {},
            "max_gap": {"seconds": 5},
            "description": {"required": True, "vocabulary": ["reach", "the", "cup", "again"]},
            "labels_required": {},
        }.items()
    }
    assert got["required_skills"] == ["required_skills: no segment of the required skill 'place'"]
    assert got["skill_order"] == [
        "skill_order: 'reach' starts before 'grasp' (segment #1) at 0.00–4.00 s"
    ]
    assert got["segment_length"] == [
        "segment_length: 4.00 s is longer than 3.5 s (segment #1) at 0.00–4.00 s",
        "segment_length: 0.20 s is shorter than 0.5 s (segment #3) at 5.00–5.20 s",
    ]
    assert got["no_overlap"] == [
        "no_overlap: overlaps segment #1 of the same skill 'reach' (segment #2) at 3.00–4.00 s"
    ]
    assert got["max_gap"] == [
        "max_gap: 6.80 s without a segment (at most 5 s) at 5.20–12.00 s",
        "max_gap: 6.00 s without a segment (at most 5 s) at 14.00–20.00 s",
    ]
    assert got["description"] == [
        "description: words outside the vocabulary: firmly, grasp, it (segment #3) at 5.00–5.20 s",
        "description: the description is empty (segment #4) at 12.00–14.00 s",
    ]
    assert got["labels_required"] == [
        "labels_required: the segment has no label (segment #2) at 3.00–5.00 s"
    ]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"rule": "required_skills"}, "must be a list"),
        ([{"rule": "colour"}], "unknown kind 'colour'"),
        ([{"rule": "max_gap"}], "needs seconds"),
        ([{"rule": "max_gap", "seconds": -1}], "must not be negative"),
        ([{"rule": "segment_length", "min_s": "1"}], "min_s must be a number .it has the wrong"),
        ([{"rule": "no_overlap", "severity": "fatal"}], "severity must be error or warning"),
        ([{"rule": "no_overlap", "skills": ["a"]}], "unknown setting 'skills'"),
        ([{"rule": "required_skills", "skills": ["levitate"]}], "does not have: levitate"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(team, rules, message):
    maya = team["maya"]
    maya.projects.create("rules")
    with pytest.raises(ValidationError, match=message):
        maya.rules.set_rules("rules", rules)
    assert maya.rules.get_rules("rules") == []


def test_a_submit_that_breaks_a_rule_is_refused_with_the_rule_named(team):
    maya, ann = team["maya"], team["ann"]
    for name in ("reach", "grasp"):
        maya.skills.create(name)
    maya.projects.create("kitchen")
    with pytest.raises(PermissionDenied):
        ann.rules.set_rules("kitchen", [{"rule": "no_overlap"}])
    maya.rules.set_rules(
        "kitchen",
        [
            {"rule": "required_skills", "skills": ["grasp"]},
            {"rule": "segment_length", "min_s": 1, "severity": "warning"},
        ],
    )
    episodes = team.new_datasets_now(2)
    task = maya.tasks.create(
        "t", datasets=episodes, annotators=["ann"], reviewers=["rita"], project="kitchen"
    ).id
    ann.tasks.start(task)
    ann.annotations.add(task, episodes[0], start_ns=0, end_ns=2 * SECOND, skill="reach")
    ann.annotations.mark_invalid(task, episodes[1], "lens covered")  # not held to the rules
    with pytest.raises(InvalidTransition, match=r"required_skills: no segment of the required"):
        ann.tasks.submit(task)
    assert ann.tasks.get(task).status == "in_progress"
    short = ann.annotations.add(
        task, episodes[0], start_ns=3 * SECOND, end_ns=3 * SECOND + SECOND // 2, skill="grasp"
    )
    found = ann.rules.evaluate(task)  # only the warning is left: the submit goes through
    assert [(f.rule, f.severity, f.annotation_id) for f in found] == [
        ("segment_length", "warning", short.id)
    ]
    assert ann.tasks.submit(task).status == "pending_review"


def test_the_annotator_shows_the_open_episodes_findings_after_each_save(team):
    from annotation_kit.widgets import episode_annotator
    from tests.integration.test_controllers import Host

    maya, ann = team["maya"], team["ann"]
    maya.skills.create("reach")
    maya.projects.create("shown")
    maya.rules.set_rules("shown", [{"rule": "segment_length", "min_s": 1}])
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create("t", datasets=[episode], annotators=["ann"], project="shown").id
    ann.tasks.start(task)
    host = Host(episode_annotator.SPEC, ann, set(), task=task, dataset=episode)
    assert host.findings == []
    host.send("add", start_ns=0, end_ns=SECOND // 2, skill="reach")
    assert [(f["rule"], f["severity"]) for f in host.findings] == [("segment_length", "error")]
    assert "0.50 s is shorter than 1 s" in host.findings[0]["text"]
    host.send("undo")
    assert host.findings == []
