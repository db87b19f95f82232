"""Workspace-wide settings, on SQLite and PostgreSQL: defaults until an admin changes one; every
value checked; each change and reset in the audit log; where they apply (the Export page's
format, projects without a review policy, the queue's clean-up)."""

from datetime import timedelta

import pytest

from annotation_kit.errors import NotFound, PermissionDenied, ValidationError
from annotation_kit.jobs.worker import execute
from annotation_kit.store.models import Job, utcnow
from annotation_kit.widgets import exporter
from tests.integration.test_controllers import Host


def test_defaults_changes_checks_and_the_audit_log(team):
    ada, maya = team["ada"], team["maya"]
    assert maya.settings.values() == {
        "export_format": "json",
        "review_policy": {},
        "job_retention_hours": 24.0,
        "export_rate_hz": None,
        "upload_formats": None,
    }
    assert ada.settings.change("export_format", "lerobot") == "lerobot"
    assert ada.settings.change("review_policy", {"percent": 20}) == {"percent": 20}
    assert ada.settings.change("job_retention_hours", 48) == 48.0
    assert maya.settings.get("export_format") == "lerobot"
    for key, bad, reason in (
        ("export_format", "docx", "export_format must be one of"),
        ("review_policy", {"percent": 200}, "at most 100"),
        ("review_policy", {"sample": 3}, "has no sample"),
        ("review_policy", [20], "must be an object"),
        ("job_retention_hours", "a day", "number of hours"),
        ("job_retention_hours", 0, "above 0"),
        ("job_retention_hours", float("nan"), "number of hours"),
        ("export_rate_hz", 12.5, "whole number of frames"),
        ("export_rate_hz", 0, "from 1 to 1000"),
        ("upload_formats", [], "must be a list of formats"),
        ("upload_formats", ["mcap", "zip"], "zip unknown"),
    ):
        with pytest.raises(ValidationError, match=reason):
            ada.settings.change(key, bad)
    with pytest.raises(NotFound, match="no setting 'theme'; settings: export_format"):
        ada.settings.change("theme", "dark")
    with pytest.raises(PermissionDenied, match="maya"):
        maya.settings.change("export_format", "csv")
    assert maya.settings.get("export_format") == "lerobot"  # the refusals changed nothing
    assert ada.settings.reset("export_format") == "json"
    assert maya.settings.get("export_format") == "json"
    logged = [(e.action, e.note, e.to_state) for e in ada.events.history("setting")]
    assert logged[0] == ("reset", "export_format", "json")
    assert ("change", "job_retention_hours", "48.0") in logged
    assert len(logged) == 4


def test_where_the_settings_apply(team, tmp_path, monkeypatch):
    ada, maya = team["ada"], team["maya"]
    # projects without a policy take the workspace's; a project's own policy wins
    task = team.task("pending_review", annotated=True).id
    assert maya.reviews.review_policy(task) == {}
    ada.settings.change("review_policy", {"count": 1})
    assert maya.reviews.review_policy(task) == {"count": 1}
    assert len(team["rita"].reviews.draw_by_policy(task, seed=1).datasets) == 1
    # the Export page opens on the workspace's format
    ada.settings.change("export_format", "csv")
    monkeypatch.setenv("ANNOTATION_KIT_QUEUE", f"sqlite:///{tmp_path / 'queue.db'}")
    page = Host(exporter.SPEC, maya, set())
    assert page.format == "csv"
    page.set(format="hdf5")
    assert page.format == "hdf5"  # then it is the user's choice
    # the queue's clean-up keeps finished jobs for the retention the workspace says
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}"
    queue = ada.queue_for(queue_url)
    done = queue.enqueue("noop")
    assert execute(done.id, ada.url, queue_url) == "completed"
    with ada.transaction() as s:  # it finished 90 minutes ago
        s.get(Job, done.id).finished_at = utcnow() - timedelta(minutes=90)
    assert queue.clean() == 0  # kept: the default is 24 h
    ada.settings.change("job_retention_hours", 1)
    assert queue.clean(timedelta(hours=2)) == 0  # told otherwise
    assert queue.clean() == 1  # the workspace's hour


def test_export_rate_and_upload_formats(team, tmp_path):
    ada, maya = team["ada"], team["maya"]
    from annotation_kit.data import synthetic

    files = [
        synthetic.write_mcap(tmp_path / "a.mcap", duration_s=2, seed=1, cameras=("wrist",)),
        synthetic.write_aloha_hdf5(tmp_path / "b.hdf5", duration_s=2, seed=2),
    ]
    ada.settings.change("upload_formats", ["mcap"])
    report = maya.import_datasets(files, progress=False)
    assert len(report.dataset_ids) == 1
    [refused] = [f for f in report.files if f.error]
    assert "hdf5 sources are not accepted in this workspace" in refused.error
    ada.settings.reset("upload_formats")

    task = maya.tasks.create("rate", datasets=report.dataset_ids, annotators=["ann"]).id
    ada.settings.change("export_rate_hz", 10)
    made = maya.export([task], "hdf5", tmp_path / "ten", any_status=True)
    assert made.options["writer"] == {"rate_hz": 10}
    made = maya.export([task], "hdf5", tmp_path / "five", any_status=True, options={"rate_hz": 5})
    assert made.options["writer"] == {"rate_hz": 5}  # the export's own rate wins
    assert maya.export([task], "json", tmp_path / "json", any_status=True).options["writer"] == {}
