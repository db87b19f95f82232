"""``ws.analytics``: DuckDB attached read-only to the workspace (SQLite file, PostgreSQL
schema), on both backends. The reports are compared with a workspace whose answers are known
by construction and with the same figures computed independently through SQLAlchemy; scoping
holds (an annotator reads only their own figures and runs no SQL) and raw SQL reads only the
workspace's tables, only with one SELECT."""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import annotation_kit as ak
from annotation_kit.access.workflow import Status
from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from annotation_kit.store.models import Event, Review, Task
from tests.conftest import SECOND

HOUR = 3600 * SECOND


@pytest.fixture
def reviewed(team):
    """Task A (ann; three one-minute episodes: 2 segments, 1 segment + an episode verdict, an
    invalid mark) rejected in round 1 — its first segment passed, its second rejected, then
    shortened — and passed in round 2; task B (ann and ann2; two episodes, one segment each,
    both passed) passed in round 1."""
    maya, ann, ann2, rita = team["maya"], team["ann"], team["ann2"], team["rita"]
    a_sets, b_sets = team.new_datasets_now(3), team.new_datasets_now(2)
    a = maya.tasks.create("A", datasets=a_sets, annotators=["ann"], reviewers=["rita"]).id
    b = maya.tasks.create("B", datasets=b_sets, annotators=["ann", "ann2"], reviewers=["rita"]).id
    ann.tasks.start(a)
    first = ann.annotations.add(a, a_sets[0], start_ns=0, end_ns=5 * SECOND)
    late = ann.annotations.add(a, a_sets[0], start_ns=6 * SECOND, end_ns=9 * SECOND)
    ann.annotations.add(a, a_sets[1], start_ns=SECOND, end_ns=2 * SECOND)
    ann.annotations.add(a, a_sets[1])  # an episode-level verdict
    ann.annotations.mark_invalid(a, a_sets[2], "camera covered")
    ann.tasks.submit(a)
    rita.reviews.judge(first.id, "pass")
    rita.reviews.judge(late.id, "reject", comment="ends late")
    rita.tasks.reject(a, comment="segment 2 ends late")
    ann.annotations.update(late.id, expected_version=late.version, end_ns=8 * SECOND)
    ann.tasks.submit(a)
    rita.tasks.approve(a)
    ann.tasks.start(b)
    theirs = ann2.annotations.add(b, b_sets[0], start_ns=0, end_ns=SECOND)
    mine = ann.annotations.add(b, b_sets[1], start_ns=0, end_ns=SECOND)
    ann.tasks.submit(b)
    rita.reviews.judge(theirs.id, "pass")
    rita.reviews.judge(mine.id, "pass")
    rita.tasks.approve(b)
    return team, a, b


def test_the_team_report_matches_the_known_answers(reviewed):
    team, _a, _b = reviewed
    got = team["maya"].analytics.team().set_index("annotator")
    assert list(got.index) == ["ann", "ann2"]
    ann, ann2 = got.loc["ann"], got.loc["ann2"]
    assert (ann.tasks, ann.annotations, ann.segments, ann.episodes) == (2, 6, 4, 4)
    assert math.isclose(ann.hours, 4 * 60 / 3600)
    assert (ann.reviewed, ann.rejections) == (2, 1)
    assert math.isclose(ann.first_pass_rate, 0.5)  # A failed round 1, B passed it
    assert (ann2.tasks, ann2.annotations, ann2.segments, ann2.episodes) == (1, 1, 1, 1)
    assert (ann2.reviewed, ann2.first_pass_rate, ann2.rejections) == (1, 1.0, 0)
    # judged: ann's first and late segments in A (pass, reject) and hers in B (pass)
    assert ann.judged == 3 and math.isclose(ann.accuracy, 2 / 3)
    assert ann2.judged == 1 and ann2.accuracy == 1.0
    # the same rows through Arrow
    assert team["maya"].analytics.team(arrow=True).num_rows == 2


def test_the_task_and_reviewer_reports_match_the_store(reviewed):
    team, a, b = reviewed
    maya = team["maya"]
    tasks = maya.analytics.tasks().set_index("task")
    assert tasks.loc[a, "status"] == "review_passed" and tasks.loc[a, "round"] == 2
    assert (tasks.loc[a, "episodes"], tasks.loc[a, "annotated"], tasks.loc[a, "annotations"]) == (
        3,
        3,
        5,
    )
    assert (tasks.loc[b, "episodes"], tasks.loc[b, "annotated"], tasks.loc[b, "annotations"]) == (
        2,
        2,
        2,
    )
    assert math.isclose(tasks.loc[a, "hours"], 3 * 60 / 3600)
    assert tasks.loc[b, "progress"] == 1.0

    rita = maya.analytics.reviewers().set_index("reviewer").loc["rita"]
    assert (rita.reviews, rita.passes, rita.rejections) == (3, 2, 1)
    # turnaround, independently: each review's time minus the last submission before it
    with maya.transaction(write=False) as session:
        reviews = session.scalars(select(Review).order_by(Review.id)).all()
        sent = session.execute(
            select(Event.object_id, Event.at).where(
                Event.object_type == "task", Event.to_state == "pending_review"
            )
        ).all()
    hours = [
        (
            r.created_at - max(at for task, at in sent if task == r.task_id and at <= r.created_at)
        ).total_seconds()
        / 3600
        for r in reviews
    ]
    assert math.isclose(rita.turnaround_hours_mean, statistics.fmean(hours), abs_tol=1e-9)
    assert math.isclose(rita.turnaround_hours_median, statistics.median(hours), abs_tol=1e-9)


def test_each_person_reads_only_their_own_figures(reviewed):
    team, _a, _b = reviewed
    mine = team["ann2"].analytics.personal()
    assert list(mine.annotator) == ["ann2"] and mine.annotations.iloc[0] == 1
    assert list(team["rita"].analytics.reviewer().reviewer) == ["rita"]
    for name in ("ann", "rita", "vic"):
        analytics = team[name].analytics
        for report in (analytics.team, analytics.reviewers, analytics.tasks):
            with pytest.raises(PermissionDenied, match="managers and admins"):
                report()
        with pytest.raises(PermissionDenied, match="may not run SQL"):
            analytics.sql("SELECT count(*) FROM tasks")


def test_raw_sql_is_one_select_over_the_workspace_tables(reviewed):
    team, a, _b = reviewed
    analytics = team["maya"].analytics
    counts = analytics.sql(
        "SELECT task_id, count(*) AS n FROM annotations WHERE task_id = ? GROUP BY task_id",
        [a],
    )
    assert counts.n.tolist() == [5]
    assert analytics.sql("WITH x AS (SELECT 1 AS one) SELECT one FROM x").one.tolist() == [1]
    refused = {
        "SELECT * FROM logins": "'logins' is not one of the tables",
        "SELECT * FROM ws.logins": "'logins' is not one of the tables",
        "SELECT * FROM sqlite_scan('x.db', 'logins')": "sqlite_scan",
        "SELECT * FROM read_csv('/etc/passwd')": "read_csv",
        "SELECT * FROM '/etc/passwd'": "is not one of the tables",
    }
    for query, message in refused.items():
        with pytest.raises(PermissionDenied, match=message):
            analytics.sql(query)
    for query in ("DELETE FROM tasks", "SELECT 1; SELECT 2", "ATTACH 'x.db' AS x"):
        with pytest.raises(ValidationError, match="only one SELECT"):
            analytics.sql(query)
    with pytest.raises(ValidationError, match="not valid SQL"):
        analytics.sql("SELEC nothing")
    with pytest.raises(ValidationError, match="email"):
        analytics.sql("SELECT email FROM users")  # addresses are not analytics' business


def test_active_editing_time_comes_from_the_event_log(reviewed):
    team, a, b = reviewed
    maya = team["maya"]
    # worked out here from the raw events: gaps of at most 5 minutes between ann's edits of
    # annotations of her tasks (reviewers' verdicts are not editing)
    with maya.transaction(write=False) as s:
        from annotation_kit.store.models import Annotation, User

        ann_id = s.scalar(select(User.id).where(User.name == "ann"))
        tasks_of = dict(s.execute(select(Annotation.id, Annotation.task_id)).all())
        times = sorted(
            e.at
            for e in s.scalars(
                select(Event).where(Event.object_type == "annotation", Event.actor_id == ann_id)
            )
            if not e.action.startswith("review_")
            and tasks_of.get(e.object_id, e.data.get("task")) in (a, b)
        )
    gaps = [(t2 - t1).total_seconds() for t1, t2 in itertools.pairwise(times)]
    expected = sum(g for g in gaps if g <= 300) / 3600
    got = maya.analytics.team().set_index("annotator").loc["ann"]
    assert len(times) == 8 and math.isclose(got.active_hours, expected, rel_tol=1e-6)
    assert math.isclose(got.active_per_episode_hour, expected / got.hours, rel_tol=1e-6)


def test_rejections_status_times_and_burn_down_match_the_store(reviewed):
    team, a, _b = reviewed
    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    [rejected] = ann.analytics.rejections().to_dict("records")
    assert (rejected["task"], rejected["comment"], rejected["reviewer"], rejected["round"]) == (
        a,
        "ends late",
        "rita",
        1,
    )
    assert ann2.analytics.rejections().empty
    assert len(maya.analytics.rejections(annotator="ann")) == 1
    with pytest.raises(PermissionDenied):
        ann2.analytics.rejections(annotator="ann")

    # hours in each status, worked out from the raw events
    with maya.transaction(write=False) as s:
        changes = [
            (e.to_state, e.at)
            for e in s.scalars(
                select(Event)
                .where(Event.object_type == "task", Event.object_id == a)
                .order_by(Event.at, Event.id)
            )
            if e.to_state in {s.value for s in Status}  # not assignments (to_state: a name)
        ]
        created, passed = s.execute(
            select(Task.created_at, Task.passed_at).where(Task.id == a)
        ).one()
    spent: dict[str, float] = {}
    for (state, since), (_next, until) in itertools.pairwise(changes):
        spent[state] = spent.get(state, 0.0) + (until - since).total_seconds() / 3600
    row = maya.analytics.status_times().set_index("task").loc[a]
    assert [c[0] for c in changes] == [
        "pending", "in_progress", "pending_review", "in_progress", "pending_review", "review_passed"
    ]  # fmt: skip
    for state in ("pending", "in_progress", "pending_review"):
        assert math.isclose(row[state], spent[state], rel_tol=1e-6, abs_tol=1e-9)
    assert math.isclose(row.cycle_hours, (passed - created).total_seconds() / 3600, rel_tol=1e-6)
    assert row.data_submitted == 0.0
    with pytest.raises(PermissionDenied):
        ann.analytics.status_times()

    # every episode of A and B is done today: nothing remains, at a pace of 5 over 7 days
    today = maya.analytics.burndown().iloc[-1]
    assert (today.episodes, today.done, today.remaining) == (5, 5, 0)
    assert math.isclose(today.pace, 5 / 7) and today.days_left == 0
    with pytest.raises(ValidationError, match="window_days"):
        maya.analytics.burndown(window_days=0)


def test_completeness_counts_episodes_done_rule_findings_and_open_consensus(team):
    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    maya.skills.create("reach")
    maya.projects.create("complete")
    maya.rules.set_rules(
        "complete",
        [
            {"rule": "segment_length", "min_s": 1},
            {"rule": "labels_required", "severity": "warning"},
        ],
    )
    episodes = team.new_datasets_now(4)
    task = maya.tasks.create(
        "c", datasets=episodes, annotators=["ann", "ann2"], project="complete"
    ).id
    maya.consensus.set_independent(task, datasets=[episodes[3]])
    ann.tasks.start(task)
    ann.annotations.add(task, episodes[0], start_ns=0, end_ns=SECOND // 2, skill="reach")
    ann.annotations.mark_invalid(task, episodes[1], "dark")
    for who in (ann, ann2):
        who.annotations.add(task, episodes[3], start_ns=0, end_ns=2 * SECOND, skill="reach")
    row = maya.analytics.completeness(project="complete").set_index("task").loc[task]
    assert (row.episodes, row.done, row.completeness) == (4, 3, 0.75)
    # episode 0: one error (0.5 s) and one warning (no label); episode 3, once per annotator:
    # two warnings
    assert (row.rule_errors, row.rule_warnings, row.without_consensus) == (1, 3, 1)
    with pytest.raises(PermissionDenied):
        ann.analytics.completeness()


def test_the_quality_summary_of_a_project_with_known_answers(team):
    maya, ann, ann2, rita = team["maya"], team["ann"], team["ann2"], team["rita"]
    maya.skills.create("reach")
    maya.projects.create("q")
    e1, e2, e3 = team.new_datasets_now(3)
    t1 = maya.tasks.create(
        "t1", datasets=[e1, e2], annotators=["ann", "ann2"], reviewers=["rita"], project="q"
    ).id
    maya.tasks.create("t2", datasets=[e3], annotators=["ann"], project="q")
    maya.consensus.set_independent(t1, datasets=[e1])
    ann.tasks.start(t1)
    ann.annotations.add(t1, e1, start_ns=0, end_ns=2 * SECOND, skill="reach")
    theirs = ann2.annotations.add(t1, e1, start_ns=SECOND, end_ns=2 * SECOND, skill="reach")
    mine = ann.annotations.add(t1, e2, start_ns=0, end_ns=SECOND, skill="reach")
    ann.tasks.submit(t1)
    rita.reviews.judge(mine.id, "pass")
    rita.reviews.judge(theirs.id, "reject", comment="starts late")
    rita.tasks.reject(t1, comment="see e1")
    row = maya.analytics.quality_summary().set_index("project").loc["q"]
    assert (row.tasks, row.reviewed, row.first_pass_rate, row.mean_rounds) == (2, 1, 0.0, 1.0)
    assert row.accuracy == 0.5 and row.consistency == pytest.approx(0.5)  # tIoU 1 s / 2 s
    assert row.completeness == pytest.approx(2 / 3) and row.gold_tiou is None
    assert (row.rule_errors, row.rule_warnings) == (0, 0)
    with pytest.raises(PermissionDenied):
        ann.analytics.quality_summary()


def test_risky_sampling_adds_independent_episodes_where_annotators_disagree(team):
    maya, ann, ann2, rita = team["maya"], team["ann"], team["ann2"], team["rita"]
    episodes = team.new_datasets_now(6)
    task = maya.tasks.create(
        "r", datasets=episodes, annotators=["ann", "ann2"], reviewers=["rita"]
    ).id
    maya.consensus.set_independent(task, datasets=episodes[:2])
    ann.tasks.start(task)
    for episode in episodes[2:]:  # shared episodes: an episode-level verdict each
        ann.annotations.add(task, episode)
    ann.annotations.add(task, episodes[0], start_ns=0, end_ns=4 * SECOND)
    ann2.annotations.add(task, episodes[0], start_ns=0, end_ns=SECOND)  # tIoU 0.25: low
    ann.annotations.add(task, episodes[1], start_ns=0, end_ns=4 * SECOND)
    ann2.annotations.add(task, episodes[1], start_ns=0, end_ns=4 * SECOND)  # 1.0: agree
    ann.tasks.submit(task)
    drawn = rita.reviews.draw_sample(task, count=1, seed=1, risky=True)
    assert episodes[0] in drawn.datasets
    [sampled] = [e for e in maya.events.history("task", task) if e.action == "review_sample"]
    why = sampled.data["why"]  # both are new here too: the first reason found is kept
    assert why[str(episodes[0])] == "low agreement between annotators (mean tIoU 0.25)"
    assert "low agreement" not in why.get(str(episodes[1]), "")


def test_a_projects_review_policy_is_what_the_reviewer_draws_by_default(team):
    maya, ann, rita = team["maya"], team["ann"], team["rita"]
    maya.projects.create("policy")
    with pytest.raises(PermissionDenied):
        ann.reviews.set_review_policy("policy", count=2)
    with pytest.raises(ValidationError, match="count or as a percent, not both"):
        maya.reviews.set_review_policy("policy", count=2, percent=10)
    with pytest.raises(ValidationError, match="per_annotator"):
        maya.reviews.set_review_policy("policy", count=2, per_annotator=0)
    policy = maya.reviews.set_review_policy("policy", count=2, per_annotator=1)
    assert policy == {"count": 2, "per_annotator": 1}
    episodes = team.new_datasets_now(6)
    task = maya.tasks.create(
        "p", datasets=episodes, annotators=["ann"], reviewers=["rita"], project="policy"
    ).id
    ann.tasks.start(task)
    for episode in episodes:
        ann.annotations.add(task, episode)
    ann.tasks.submit(task)
    assert rita.reviews.review_policy(task) == policy
    drawn = rita.reviews.draw_by_policy(task, seed=3)
    assert (drawn.mode, drawn.size, len(drawn.datasets)) == ("count", 2.0, 2)


def test_analytics_reads_what_was_just_written(team):
    maya, ann = team["maya"], team["ann"]
    before = maya.analytics.sql("SELECT count(*) AS n FROM tasks").n.iloc[0]
    assert maya.analytics.ready(timeout=60)  # the columnar copy is current: reports read it
    assert maya.analytics.sql("SELECT count(*) AS n FROM tasks").n.iloc[0] == before
    maya.tasks.create("fresh", datasets=team.new_datasets_now(1), annotators=["ann"])
    # right after the write (the copy is stale): the same answer as the store gives
    assert maya.analytics.sql("SELECT count(*) AS n FROM tasks").n.iloc[0] == before + 1
    assert ann.analytics.ready(timeout=60)  # one copy for every handle on the database
    assert maya.analytics.sql("SELECT count(*) AS n FROM tasks").n.iloc[0] == before + 1
    store = maya.analytics._store
    assert store._copy_db is not None and store._copied == store._change_mark()


def test_agreement_between_two_annotators_of_one_episode(team):
    maya, ann, ann2 = team["maya"], team["ann"], team["ann2"]
    for name in ("pick", "place"):
        maya.skills.create(name)
    [episode] = team.new_datasets_now(1)
    task = maya.tasks.create(
        "overlap", datasets=[episode], annotators=["ann", "ann2"], reviewers=["rita"], overlap=1.0
    ).id
    ann.tasks.start(task)
    # ann2's boundaries are off by a controlled 0.3 s and 0.2 s
    ann.annotations.add(task, episode, start_ns=0, end_ns=5 * SECOND, skill="pick")
    ann.annotations.add(task, episode, start_ns=6 * SECOND, end_ns=9 * SECOND, skill="place")
    ann2.annotations.add(task, episode, start_ns=3 * SECOND // 10, end_ns=5 * SECOND, skill="pick")
    ann2.annotations.add(
        task, episode, start_ns=6 * SECOND, end_ns=88 * SECOND // 10, skill="place"
    )
    got = team["rita"].analytics.agreement(task)  # the task's reviewer may read it
    assert len(got) == 1
    row = got.iloc[0]
    assert (row.annotator_a, row.annotator_b, row.matched) == ("ann", "ann2", 2)
    # tIoU 4.7/5 and 2.8/3; boundaries 0 5 6 9 against 0.3 5 6 8.8
    assert math.isclose(row.mean_tiou, (4.7 / 5 + 2.8 / 3) / 2)
    assert math.isclose(row["boundary_f1_0.1s"], 2 * 2 / 8)
    assert math.isclose(row["boundary_f1_0.5s"], 1.0)
    assert row.skill_alpha == 1.0
    # per skill: each annotator's segment of it, matched to the other's, with its tIoU
    skills = team["rita"].analytics.agreement(task, by="skill").set_index("skill")
    assert skills.loc["pick"].to_dict() == pytest.approx(
        {"segments": 2, "matched": 2, "mean_tiou": 4.7 / 5, "same_skill_share": 1.0}
    )
    assert skills.loc["place", "mean_tiou"] == pytest.approx(2.8 / 3)
    with pytest.raises(ValidationError, match="by must be"):
        team["rita"].analytics.agreement(task, by="robot")
    with pytest.raises(PermissionDenied, match="its reviewers, managers and admins"):
        team["rita2"].analytics.agreement(task)
    with pytest.raises(PermissionDenied):
        ann.analytics.agreement(task)


def test_agreement_with_nothing_to_compare_says_why(team):
    from annotation_kit.errors import EmptyResult

    maya, ann = team["maya"], team["ann"]
    [alone, overlapped] = team.new_datasets_now(2)
    plain = maya.tasks.create("alone", datasets=[alone], annotators=["ann"]).id
    with pytest.warns(EmptyResult, match="none of its episodes is annotated independently"):
        assert maya.analytics.agreement(plain).empty
    both = maya.tasks.create(
        "two", datasets=[overlapped], annotators=["ann", "ann2"], overlap=1.0
    ).id
    ann.tasks.start(both)
    ann.annotations.add(both, overlapped, start_ns=0, end_ns=SECOND)
    with pytest.warns(EmptyResult, match="valid segments from two annotators"):
        assert maya.analytics.agreement(both, by="skill").empty


def test_volume_and_skill_usage(reviewed):
    team, _a, _b = reviewed
    analytics = team["maya"].analytics
    volume = analytics.volume(by="format", period="month")
    assert volume.format.tolist() == ["mcap"] and volume.episodes.tolist() == [5]
    assert math.isclose(volume.hours.iloc[0], 5 / 60)
    assert analytics.volume(by="project").project.tolist() == ["(none)"]
    with pytest.raises(ValidationError, match="by must be one of"):
        analytics.volume(by="colour")
    used = analytics.skills()
    assert used.skill.tolist() == ["(no skill)"] and used.segments.tolist() == [5]
    assert math.isclose(used.mean_seconds.iloc[0], (5 + 2 + 1 + 1 + 1) / 5)  # 6–9 s became 6–8
    assert math.isclose(used.passed_share.iloc[0], 3 / 4)  # four judged, the late one rejected
    assert used.annotators.tolist() == [2]
    for report in (team["vic"].analytics.volume, team["ann"].analytics.skills):
        with pytest.raises(PermissionDenied):
            report()


def test_the_quality_report_gives_rejections_by_skill(reviewed):
    team, _a, _b = reviewed
    got = team["maya"].analytics.quality()
    # four segments judged (none has a skill); the late one's latest verdict is a rejection
    assert got.skill.tolist() == ["(no skill)"]
    assert (got.judged.iloc[0], got.rejected.iloc[0]) == (4, 1)
    assert math.isclose(got.rejection_rate.iloc[0], 1 / 4)
    assert list(got.comments.iloc[0]) == ["ends late"]
    with pytest.raises(PermissionDenied):
        team["rita"].analytics.quality()


def test_unknown_tasks_and_projects_are_named(team):
    analytics = team["maya"].analytics
    with pytest.raises(NotFound, match="no task with id 999"):
        analytics.agreement(999)
    with pytest.raises(ValidationError, match="task must be a task id"):
        analytics.agreement("1")
    for report in (analytics.team, analytics.tasks):
        with pytest.raises(NotFound, match="no project 'nowhere'"):
            report(project="nowhere")


def test_label_usage_and_the_quality_trend(reviewed):
    team, _a, _b = reviewed
    maya, ann = team["maya"], team["ann"]
    maya.dictionaries.create("objects", ["cup", "plate"])
    maya.dictionaries.create("colours", ["red", "cup"])
    task = maya.tasks.create("labelled", datasets=team.new_datasets_now(1), annotators=["ann"])
    ann.tasks.start(task.id)
    [episode] = maya.tasks.task_dataset_ids(task.id)
    ann.annotations.add(task.id, episode, start_ns=0, end_ns=SECOND, labels=["cup", "red"])
    ann.annotations.add(task.id, episode, start_ns=SECOND, end_ns=2 * SECOND, labels=["cup"])
    used = maya.analytics.labels().set_index("label")
    assert used.loc["cup"].to_dict() == {
        "dictionaries": "colours, objects",
        "annotations": 2,
        "annotators": 1,
    }
    assert used.loc["red", "annotations"] == 1 and "plate" not in used.index
    # A: rejected in round 1 then passed; B: passed first time — both first reviewed now
    [month] = maya.analytics.quality_trend().to_dict("records")
    assert (month["first_reviews"], month["first_pass_rate"], month["rejections"]) == (2, 0.5, 1)
    with pytest.raises(PermissionDenied):
        ann.analytics.labels()


def test_chart_settings_are_kept_per_person_and_the_charts_export_as_html_and_png(
    reviewed, tmp_path
):
    from PIL import Image

    from annotation_kit.quality import charts

    team, _a, _b = reviewed
    maya, ada = team["maya"], team["ada"]
    assert charts.settings(maya) == charts.Settings()
    with pytest.raises(ValidationError, match="unknown chart"):
        charts.save_settings(maya, charts=("pie",))
    with pytest.raises(ValidationError, match=r"until .* is before since"):
        charts.save_settings(maya, since="2026-05-01", until="2026-04-01")
    with pytest.raises(NotFound):
        charts.save_settings(maya, project="nowhere")
    with pytest.raises(ValidationError, match="plain JSON"):
        maya.users.set_preference("overview", {1, 2})
    with pytest.raises(ValidationError, match="volume_by"):
        charts.save_settings(maya, volume_by="colour")
    every = charts.overview(maya, charts.CHARTS, volume_by="robot")  # every chart draws
    assert list(every) == list(charts.CHARTS)
    assert every["volume"].layout.legend.title.text == "robot"
    kept = charts.save_settings(maya, charts=["skills", "status"], since="2000-01-01")
    assert charts.settings(maya) == kept and charts.settings(ada) == charts.Settings()
    figures = charts.overview(maya)  # as saved: two charts, in the order chosen
    assert list(figures) == ["skills", "status"]
    statuses = list(figures["status"].data[0].x)  # as people read them, in the workflow's order
    assert statuses and all("_" not in s for s in statuses)
    known = [s.label for s in ak.Status]
    assert statuses == sorted(statuses, key=known.index)
    # a date range past everything leaves the skill chart empty
    empty = charts.overview(maya, ["skills"], since="2999-01-01")["skills"]
    assert all(len(trace.x) == 0 for trace in empty.data if trace.x is not None)
    written = charts.export(figures, tmp_path / "report", formats=("html", "png"))
    assert [p.name for p in written] == ["overview.html", "skills.png", "status.png"]
    page = written[0].read_text()
    assert page.count("Segments per skill") >= 1 and "Plotly.newPlot" in page
    with Image.open(written[1]) as image:
        assert image.size == (900, 480)
    with pytest.raises(ValidationError, match="unknown format"):
        charts.export(figures, tmp_path, formats=("svg",))


def test_duckdb_reads_snapshots_of_an_sqlite_workspace_never_the_live_file(team):
    """Two SQLite libraries in one process (Python's and the one DuckDB's scanner bundles) do
    not see each other's locks: DuckDB must never open the workspace file itself."""
    from annotation_kit.quality.analytics import store_for

    maya = team["maya"]
    if maya.db.dialect != "sqlite":
        assert maya.analytics.team() is not None  # PostgreSQL: read through libpq, as it is
        return
    live = Path(make_url(maya.url).database or "").resolve()

    def attached() -> Path:
        con = store_for(maya.db).connection()
        try:
            [(path,)] = con.execute(
                "SELECT path FROM duckdb_databases() WHERE database_name = 'ws'"
            ).fetchall()
        except Exception:  # the columnar copy attaches nothing any more
            return Path()
        finally:
            con.close()
        return Path(path).resolve()

    first = attached()
    assert first.exists() and first != live and first.parent != live.parent
    team.new_datasets_now(1)  # a change: the next report reads a new snapshot
    second = attached()
    assert second.exists() and second not in (first, live)
    assert maya.analytics.ready(60)
    opened = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(5):  # snapshot after snapshot: no file is left open, none piles up
        team.new_datasets_now(1)
        attached()
    assert len(list(Path("/proc/self/fd").iterdir())) <= opened + 2
    assert len(list(second.parent.glob("*.db"))) <= 4
    folder = second.parent
    maya.analytics.close()
    assert not folder.exists()  # snapshots go with the store


def test_segments_that_came_with_the_data_are_nobodys_work(team):
    """A LeRobot source's task strings join a task as ``import`` segments: before anyone
    annotates, reports, progress, the task card's counts and the statistics show 0 human
    annotations and 0 episodes annotated, and the imported segments apart; a person's first
    segment is theirs."""
    from tests.conftest import SAMPLE_DATA

    maya, ann = team["maya"], team["ann"]
    ids = maya.import_datasets(
        SAMPLE_DATA / "lerobot/synthetic_v30_image", progress=False
    ).dataset_ids
    task = maya.tasks.create("from lerobot", datasets=ids, annotators=["ann", "maya"]).id
    stats = maya.progress.statistics(task)
    imported = stats.per_provenance.get("import", 0)
    assert imported >= len(ids) and stats.per_annotator == {}
    counts = maya.progress.task_progress(task).counts
    assert (counts.annotated, counts.annotations, counts.imported) == (0, 0, imported)
    assert all(p.annotations == 0 for p in maya.progress.task_progress(task).per_annotator)
    assert {d.status for d in maya.progress.dataset_status(task)} == {"to do"}
    assert sum(d.imported for d in maya.progress.dataset_status(task)) == imported
    [card] = maya.task_queries.list_tasks(search="from lerobot").items  # the board's card
    assert (card.counts.annotated, card.counts.imported) == (0, imported)
    reports = maya.analytics
    tasks = reports.tasks().set_index("task")
    assert (tasks.loc[task, "annotated"], tasks.loc[task, "annotations"]) == (0, 0)
    assert tasks.loc[task, "imported"] == imported
    team_rows = reports.team().set_index("annotator")
    for person in ("ann", "maya"):
        assert team_rows.loc[person, "annotations"] == 0 and team_rows.loc[person, "episodes"] == 0
    assert reports.completeness().set_index("task").loc[task, "done"] == 0

    ann.tasks.start(task)
    ann.annotations.add(task, ids[0], start_ns=0, end_ns=100_000_000)
    assert maya.progress.task_progress(task).counts.annotated == 1
    assert reports.team().set_index("annotator").loc["ann", "annotations"] == 1
    assert maya.progress.statistics(task).per_annotator == {"ann": 1}
