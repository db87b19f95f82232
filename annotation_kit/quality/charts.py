"""Overview charts (plotly) from the analytics reports: the same figures on the served app's
Statistics page and in a notebook; each person's choice of charts, project and date range is
kept for them; figures are saved as a self-contained HTML report or PNG images.

Example::

    from annotation_kit import charts
    charts.save_settings(ws, charts=("progress", "volume"), project="kitchen", since="2026-01-01")
    figures = charts.overview(ws)                  # as saved
    charts.export(figures, "report/", formats=("html", "png"))
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..access.workflow import Status
from ..errors import ValidationError
from ..store._plugins import extra

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["CHARTS", "Settings", "export", "overview", "report_html", "save_settings", "settings"]

CHARTS = ("progress", "status", "volume", "skills", "labels", "time", "quality")
"""The overview's charts, in order."""
TITLES = {
    "progress": "Annotated per person",
    "status": "Tasks per status",
    "volume": "Hours of recordings per month",
    "skills": "Segments per skill",
    "labels": "Annotations per label",
    "time": "Active annotation minutes per person",
    "quality": "First-pass rate per month",
}
VOLUME_BY = ("format", "robot", "project")
"""What the volume chart's bars are split by."""
PREFERENCE = "overview"
"""Where a person's chart settings are kept (:func:`annotation_kit.access.users.set_preference`)."""
_LAYOUT = {
    "height": 320,
    "margin": {"l": 40, "r": 10, "t": 50, "b": 40},
    "template": "plotly_white",
}


@dataclass(frozen=True)
class Settings:
    """Which overview charts, for which project, over which dates (ISO ``YYYY-MM-DD``)."""

    charts: tuple[str, ...] = CHARTS
    project: str | None = None
    since: str | None = None
    until: str | None = None
    volume_by: str = "format"


def _settings(
    charts: Iterable[str], project: str | None, since: Any, until: Any, volume_by: str = "format"
) -> Settings:
    from .analytics.base import _day

    if isinstance(charts, str):
        raise ValidationError(f"charts must be a list of chart names, not {charts!r}")
    if volume_by not in VOLUME_BY:
        raise ValidationError(f"volume_by must be one of {', '.join(VOLUME_BY)}, not {volume_by!r}")
    chosen = tuple(dict.fromkeys(charts))
    if unknown := [c for c in chosen if c not in CHARTS]:
        raise ValidationError(f"unknown chart(s) {', '.join(unknown)}: {', '.join(CHARTS)}")
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and last < first:
        raise ValidationError(f"until ({last}) is before since ({first})")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise ValidationError(f"project must be a project's name, not {project!r}")
    return Settings(
        chosen,
        project,
        first.isoformat() if first else None,
        last.isoformat() if last else None,
        volume_by,
    )


def settings(workspace: Workspace) -> Settings:
    """The overview settings this person saved (the defaults when none, or when what was saved
    no longer holds)."""
    kept = workspace.users.preference(PREFERENCE) or {}
    try:
        return _settings(
            kept.get("charts", CHARTS),
            kept.get("project"),
            kept.get("since"),
            kept.get("until"),
            kept.get("volume_by", "format"),
        )
    except ValidationError:
        return Settings()


def save_settings(
    workspace: Workspace,
    *,
    charts: Iterable[str] = CHARTS,
    project: str | None = None,
    since: Any = None,
    until: Any = None,
    volume_by: str = "format",
) -> Settings:
    """Keep this person's overview settings (checked first; an unknown project is refused)."""
    chosen = _settings(charts, project, since, until, volume_by)
    if project is not None:
        workspace.projects.get(project)
    saved = asdict(chosen) | {"charts": list(chosen.charts)}
    workspace.users.set_preference(PREFERENCE, saved)
    return chosen


def overview(
    workspace: Workspace,
    charts: Iterable[str] | None = None,
    *,
    project: str | None = None,
    since: Any = None,
    until: Any = None,
    volume_by: str | None = None,
) -> dict[str, Any]:
    """The overview charts a manager sees (managers and admins): per-person progress, tasks
    per status, data volume per month (by format, robot or project), skill and label usage,
    active annotation time per person and the first-pass rate per month. Without arguments,
    as this person saved them (:func:`save_settings`); otherwise as given."""
    px = extra("charts", "plotly.express", "charts")

    given = (charts, project, since, until, volume_by)
    if all(v is None for v in given):
        chosen = settings(workspace)
    else:
        chosen = _settings(
            charts if charts is not None else CHARTS, project, since, until, volume_by or "format"
        )
    analytics = workspace.analytics
    window = {"since": chosen.since, "until": chosen.until}
    out: dict[str, Any] = {}
    for name in chosen.charts:
        title = TITLES[name] + (f" · {chosen.project}" if chosen.project else "")
        if name == "progress":
            team = analytics.team(project=chosen.project)
            out[name] = px.bar(
                team, x="annotator", y=["segments", "episodes"], barmode="group", title=title
            )
        elif name == "status":
            per = analytics.tasks(project=chosen.project).groupby("status", as_index=False).size()
            order = [s.value for s in Status]  # the workflow's order, as people read it
            per = per.sort_values("status", key=lambda c: c.map(order.index))
            per["status"] = per["status"].map(lambda v: Status(v).label)
            out[name] = px.bar(per, x="status", y="size", title=title, labels={"size": "tasks"})
        elif name == "volume":
            split = chosen.volume_by
            volume = analytics.volume(by=split, period="month", project=chosen.project, **window)
            volume["month"] = volume["period"].dt.strftime("%Y-%m")  # one bar per month
            out[name] = px.bar(volume, x="month", y="hours", color=split, title=title)
            out[name].update_xaxes(type="category")
        elif name == "skills":
            used = analytics.skills(project=chosen.project, **window)
            out[name] = px.bar(used, x="skill", y="segments", title=title)
        elif name == "labels":
            held = analytics.labels(project=chosen.project)
            out[name] = px.bar(
                held, x="label", y="annotations", hover_data=["dictionaries"], title=title
            )
        elif name == "time":
            team = analytics.team(project=chosen.project)
            team["active_minutes"] = team["active_hours"] * 60
            out[name] = px.bar(team, x="annotator", y="active_minutes", title=title)
        else:
            trend = analytics.quality_trend(period="month", project=chosen.project)
            trend["month"] = trend["period"].dt.strftime("%Y-%m")
            out[name] = px.line(trend, x="month", y="first_pass_rate", markers=True, title=title)
            out[name].update_yaxes(range=[0, 1.05])
            out[name].update_xaxes(type="category")
    for figure in out.values():
        figure.update_layout(**_LAYOUT)
    return out


def report_html(figures: dict[str, Any], *, title: str = "Overview") -> str:
    """One self-contained HTML page with every figure (plotly.js inlined once: it opens
    offline)."""
    parts = [
        figure.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, figure in enumerate(figures.values())
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{''.join(parts)}</body></html>"
    )


def export(
    figures: dict[str, Any],
    folder: str | Path,
    *,
    formats: Iterable[str] = ("html",),
    title: str = "Overview",
) -> list[Path]:
    """Save ``figures`` into ``folder``: ``html`` writes one report page (``overview.html``),
    ``png`` one image per chart (``<name>.png``, drawn by kaleido in the machine's Chromium).
    Returns the files written."""
    wanted = tuple(formats)
    if unknown := [f for f in wanted if f not in ("html", "png")]:
        raise ValidationError(f"unknown format(s) {', '.join(unknown)}: html, png")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "html" in wanted:
        page = target / "overview.html"
        page.write_text(report_html(figures, title=title), encoding="utf-8")
        written.append(page)
    if "png" in wanted:
        for name, figure in figures.items():
            image = target / f"{name}.png"
            try:
                figure.write_image(image, width=900, height=480)
            except Exception as exc:  # kaleido drives the machine's Chrome or Chromium
                raise RuntimeError(
                    f"could not draw {name}.png: PNG export needs Chrome or Chromium on this "
                    f"machine (Debian: apt-get install chromium) — {exc}"
                ) from exc
            written.append(image)
    return written
