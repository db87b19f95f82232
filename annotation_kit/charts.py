"""Overview charts (plotly) from the analytics reports: the same figures on the served app's
Statistics page and in a notebook, and saved as HTML (``fig.write_html``) for a report.

Example::

    from annotation_kit import charts
    charts.overview(ws)["progress"].show()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["CHARTS", "overview"]

CHARTS = ("progress", "status", "volume", "skills")
"""The overview's charts, in order."""
_LAYOUT = {
    "height": 320,
    "margin": {"l": 40, "r": 10, "t": 50, "b": 40},
    "template": "plotly_white",
}


def overview(workspace: Workspace, charts: tuple[str, ...] = CHARTS) -> dict[str, Any]:
    """The overview charts a manager sees (managers and admins): per-person progress, tasks
    per status, data volume per month and format, and skill usage."""
    import plotly.express as px

    unknown = set(charts) - set(CHARTS)
    if unknown:
        raise ValueError(f"unknown chart(s) {', '.join(sorted(unknown))}: {', '.join(CHARTS)}")
    analytics = workspace.analytics
    out: dict[str, Any] = {}
    if "progress" in charts:
        team = analytics.team()
        out["progress"] = px.bar(
            team, x="annotator", y=["segments", "episodes"], barmode="group",
            title="Annotated per person",
        )  # fmt: skip
    if "status" in charts:
        per = analytics.tasks().groupby("status", as_index=False).size()
        out["status"] = px.bar(per, x="status", y="size", title="Tasks per status")
    if "volume" in charts:
        volume = analytics.volume(by="format", period="month")
        volume["month"] = volume["period"].dt.strftime("%Y-%m")  # one bar per month, not a day
        out["volume"] = px.bar(
            volume, x="month", y="hours", color="format", title="Hours of recordings per month"
        )
        out["volume"].update_xaxes(type="category")
    if "skills" in charts:
        used = analytics.skills()
        out["skills"] = px.bar(used, x="skill", y="segments", title="Segments per skill")
    for figure in out.values():
        figure.update_layout(**_LAYOUT)
    return out
