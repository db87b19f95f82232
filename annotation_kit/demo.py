"""A demo workspace: people, a project, a skill library, episodes and tasks in every status."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .access import logins, projects, users
from .access.workflow import Status
from .data import checks, datasets, synthetic
from .library import dictionaries, guidelines, skills
from .store.models import Task
from .work import annotations, tasks
from .workspace import Workspace, connect

PEOPLE = [
    ("maya", "manager", "Maya (project manager)"),
    ("ann", "annotator", "Ann"),
    ("alex", "annotator", "Alex"),
    ("rita", "reviewer", "Rita"),
    ("vic", "visitor", "Vic"),
]
SKILLS = [
    ("reach", "motion"),
    ("grasp", "gripper"),
    ("pick", "manipulation"),
    ("place", "manipulation"),
    ("release", "gripper"),
    ("push", "manipulation"),
]
OBJECTS = ["red cube", "blue bowl", "mug", "sponge"]
OUTCOMES = ["success", "failure", "partial"]
SECOND = 1_000_000_000
GUIDELINE = """# Kitchen pick and place

Segment **every** skill the robot performs, from the first motion to the last:

- *reach*: from the first arm motion until the gripper is at the object;
- *grasp* / *release*: the gripper closing / opening, nothing more;
- *pick*, *place*: the object leaving / reaching its support.

Label each segment with the object it acts on (the `objects` dictionary). When in doubt, raise
an issue on the task rather than guess.
"""


@dataclass
class DemoSummary:
    """What :func:`build` made: the workspace URL, its people, datasets and tasks per status."""

    url: str
    users: list[str]
    datasets: int
    tasks: dict[str, int]


def demo_password(name: str) -> str:
    """The demo workspace's password of ``name`` (printed by ``annotation-kit demo``; a demo's
    passwords are public: never reuse them)."""
    return f"{name}-demo-pw"


def build(url: str, *, seed: int = 7) -> DemoSummary:
    """Fill an empty workspace at ``url`` with demo content (admin ``ada``, manager ``maya``...)."""
    ws = connect(url, user="ada")
    rng = random.Random(seed)
    with ws.transaction() as s:
        admin = ws.me(s)
        for name, role, display in PEOPLE:
            users.create(s, name, role, display_name=display, by=admin)
        for name in ["ada"] + [p[0] for p in PEOPLE]:  # a demo's passwords are public
            logins.set_password(s, name, demo_password(name), by=admin)
    maya = ws.as_user("maya")
    with maya.transaction() as s:
        me = maya.me(s)
        projects.create(
            s,
            "kitchen-pick",
            description="Pick and place in the demo kitchen",
            members=["ann", "alex", "rita"],
            by=me,
        )
        for name, category in SKILLS:
            skills.create(s, name, category=category, description=f"The robot {name}es.", by=me)
        dictionaries.create(s, "objects", OBJECTS, kind="objects", by=me)
        dictionaries.create(s, "outcomes", OUTCOMES, kind="labels", by=me)
        guidelines.write(s, GUIDELINE, project="kitchen-pick", by=me)
        checks.set_rules(
            s,
            "kitchen-pick",
            [
                {"kind": "required", "streams": ["/robot/joint_states", "/camera/*"]},
                {"kind": "min_rate", "streams": "/camera/*", "hz": 10},
                {"kind": "duration", "min_s": 15, "severity": "warning"},
            ],
            by=me,
        )
    folder = Path(url.removeprefix("sqlite:///")).parent / "episodes"
    paths = [
        synthetic.write_mcap(
            folder / f"kitchen_{i:03d}.mcap",
            duration_s=rng.randint(12, 30),
            seed=i,
            start_ns=1_760_000_000 * SECOND + i * 600 * SECOND,
        )
        for i in range(1, 16)
    ]
    report = maya.import_datasets(paths, project="kitchen-pick", tags=["kitchen"], progress=False)
    with maya.transaction(write=False) as s:
        episodes = [datasets.get(s, i) for i in report.dataset_ids]
    plan = [
        ("Sort the mugs", Status.PENDING),
        ("Wipe the counter", Status.PENDING),
        ("Pick red cubes", Status.IN_PROGRESS),
        ("Bowl stacking", Status.PENDING_REVIEW),
        ("Place in drawer", Status.REVIEW_PASSED),
        ("Sponge pushing", Status.DATA_SUBMITTED),
    ]
    for n, (name, target) in enumerate(plan):
        chunk = episodes[n * 2 : (n + 1) * 2]  # the last three episodes stay unassigned
        annotator = "ann" if n % 2 == 0 else "alex"
        with maya.transaction() as s:
            task = tasks.create(
                s,
                name,
                datasets=[d.id for d in chunk],
                annotators=[annotator],
                reviewers=["rita"],
                project="kitchen-pick",
                description=f"Segment every {name.lower()} episode into skills.",
                by=maya.me(s),
            )
        _advance(ws, task, target, annotator, chunk, rng)
    with ws.transaction(write=False) as s:
        from .work.task_queries import board

        counts = board(s, by=ws.me(s), per_status=1).counts
    ws.close()
    return DemoSummary(
        url=ws.url,
        users=["ada"] + [p[0] for p in PEOPLE],
        datasets=len(episodes),
        tasks={k.label: v for k, v in counts.items()},
    )


def _advance(
    ws: Workspace, task: Task, target: Status, annotator: str, chunk: list, rng: random.Random
) -> None:
    order = [Status.IN_PROGRESS, Status.PENDING_REVIEW, Status.REVIEW_PASSED, Status.DATA_SUBMITTED]
    steps = order[: order.index(target) + 1] if target in order else []
    people = {name: ws.as_user(name) for name in (annotator, "rita", "maya")}
    for status in steps:
        if status == Status.IN_PROGRESS:
            _call(people[annotator], tasks.start, task.id)
            _annotate(people[annotator], task, chunk, rng, all_of_them=target != status)
        elif status == Status.PENDING_REVIEW:
            _call(people[annotator], tasks.submit, task.id)
        elif status == Status.REVIEW_PASSED:
            _call(
                people["rita"],
                tasks.reject,
                task.id,
                comment="The grasp starts earlier.",
                dataset=chunk[0].id,
                range_ns=(SECOND, 3 * SECOND),
            )
            _call(people[annotator], tasks.submit, task.id)
            _call(people["rita"], tasks.approve, task.id, comment="Looks good now.")
        else:
            _call(people["maya"], tasks.submit_data, task.id)


def _annotate(
    person: Workspace, task: Task, chunk: list, rng: random.Random, *, all_of_them: bool
) -> None:
    for dataset in chunk if all_of_them else chunk[:1]:
        t, end = 0, dataset.duration_ns
        for skill in ("reach", "grasp", "pick", "place", "release"):
            length = rng.randint(2, 6) * SECOND
            if t + length > end:
                break
            _call(
                person,
                annotations.add,
                task.id,
                dataset.id,
                start_ns=t,
                end_ns=t + length,
                skill=skill,
                labels=[rng.choice(OBJECTS)],
                description=f"{skill} the {rng.choice(OBJECTS)}",
            )
            t += length
        _call(
            person,
            annotations.add,
            task.id,
            dataset.id,
            labels=["success"],
            description="episode outcome",
        )


def _call(person: Workspace, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with person.transaction() as s, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(s, *args, by=person.me(s), **kwargs)
