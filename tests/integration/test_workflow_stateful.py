"""Random action sequences by random users; the database must always agree with the rules."""

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import annotation_kit as ak
from annotation_kit.access import events
from tests.oracle import ACTORS, FLOW, may_edit_annotations, may_see, outcome_for

SECOND = 1_000_000_000


def machine_for(team):
    class TaskLife(RuleBasedStateMachine):
        @initialize()
        def new_task(self):
            task = team.task("pending", n_datasets=2)
            self.task_id = task.id
            self.datasets = team["ada"].tasks.task_dataset_ids(task.id)
            self.status, self.round, self.changes = "pending", 1, 0
            self.annotated: set[int] = set()
            self.passed_once = False

        @rule(
            actor=st.sampled_from(sorted(ACTORS)),
            action=st.sampled_from(sorted(FLOW)),
            comment=st.sampled_from([None, "", "grasp too late"]),
        )
        def act(self, actor, action, comment):
            expected = outcome_for(actor, self.status, action)
            if expected == "ok" and action == "reject" and not comment:
                expected = "denied"
            if expected == "ok" and action == "submit" and len(self.annotated) < 2:
                expected = "invalid"
            unseen = False
            try:
                team[actor].tasks.transition(self.task_id, action, comment=comment)
            except ak.NotFound:
                refused = unseen = True
            except (ak.InvalidTransition, ak.PermissionDenied, ak.ValidationError):
                refused = True  # a rejection without a comment: ValidationError
            else:
                refused = False
            assert unseen == (expected == "unseen"), f"{actor} saw (or not) task {self.task_id}"
            if refused:
                assert expected != "ok", f"{actor} {action} from {self.status} was refused"
                return
            assert expected == "ok", f"{actor} {action} from {self.status} was allowed"
            if self.status == "review_passed" or self.passed_once:
                assert ACTORS[actor][0] in ("admin", "manager")
            self.status = FLOW[action][1]
            self.passed_once |= self.status == "review_passed"
            self.round += action == "reject"
            self.changes += 1

        @rule(actor=st.sampled_from(sorted(ACTORS)), which=st.integers(0, 1))
        def annotate(self, actor, which):
            dataset = self.datasets[which]
            try:
                team[actor].annotations.add(self.task_id, dataset, start_ns=0, end_ns=SECOND)
            except ak.NotFound:
                assert not may_see(actor)
                return
            except ak.PermissionDenied:
                assert may_see(actor)
                assert not may_edit_annotations(actor, self.status)
                return
            assert may_edit_annotations(actor, self.status)
            self.annotated.add(dataset)

        @invariant()
        def database_agrees(self):
            task = team["ada"].tasks.get(self.task_id)
            assert (task.status, task.review_round) == (self.status, self.round)
            with team["ada"].transaction(write=False) as s:
                transitions = [
                    e for e in events.history(s, "task", self.task_id) if e.action in FLOW
                ]
            assert len(transitions) == self.changes
            assert all(e.from_state != e.to_state for e in transitions)

    return TaskLife


def test_random_action_sequences_keep_the_invariants(module_team):
    machine = machine_for(module_team)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
        # no "explain" phase: it traces every line again, and a failure found late in a long
        # run then ran past the test's timeout instead of being reported
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    )
    machine.TestCase().runTest()


@pytest.mark.parametrize("actor", ["ann", "rita", "ann2", "vic", "col"])
def test_only_supervisors_manage_tasks(team, actor):
    task = team.task("pending")
    ws = team[actor]
    with pytest.raises(ak.PermissionDenied, match=actor):
        ws.tasks.create("mine", datasets=[])
    with pytest.raises(ak.PermissionDenied, match=actor):
        ws.tasks.edit(task.id, name="renamed")
    with pytest.raises(ak.PermissionDenied, match=actor):
        ws.tasks.assign([task.id], annotators=[actor])
    with pytest.raises(ak.PermissionDenied, match=actor):
        ws.tasks.delete([task.id], confirm=True)
    assert team["ada"].tasks.get(task.id).name == "task"
