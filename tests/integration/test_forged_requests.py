"""Forged widget requests — what a browser could send that no button sends: a missing field,
text where an id belongs, a list where a name belongs. Each gets an answer naming the problem
(never "internal error")."""

from __future__ import annotations

from importlib import import_module

import pytest

from tests.integration.test_controllers import Host, request_kinds

FORGED = [
    {},
    dict.fromkeys(("task", "dataset", "annotation", "ids", "version", "id", "name", "at_ns"), "x"),
    {k: ["x"] for k in ("task", "dataset", "annotation", "ids", "name", "labels", "range_ns")},
    {k: {"a": 1} for k in ("task", "dataset", "annotation", "ids", "name", "start_ns", "end_ns")},
    dict.fromkeys(("task", "dataset", "annotation", "version", "start_ns", "end_ns"), 2**70),
]
WIDGETS = [
    import_module(f"annotation_kit.widgets.{name}")
    for name in (
        "admin",
        "data_browser",
        "episode_annotator",
        "exporter",
        "queue_monitor",
        "review_form",
        "task_board",
        "task_detail",
    )
]


@pytest.mark.parametrize("module", WIDGETS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_forged_requests_are_answered_with_the_problem(work, queue_url, module):
    team, task_id, _ids = work
    name = module.__name__.rsplit(".", 1)[-1]
    options = (
        {"task": task_id} if name in ("episode_annotator", "review_form", "task_detail") else {}
    )
    if name in ("exporter", "queue_monitor"):
        options = {"queue": queue_url}
    internal = []
    for who in ("maya", "ann"):
        host = Host(module.SPEC, team[who], set(), **options)
        for action in sorted(request_kinds(module)):
            for fields in FORGED:
                host.send(action, **fields)
                if host._error.startswith("internal error"):
                    internal.append(f"{who} {action} {sorted(fields)[:2]}: {host._error[:120]}")
    assert internal == []
