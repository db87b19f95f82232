"""Agreement between two annotators' time segments on one episode.

Segments are matched one to one by the Hungarian method on temporal IoU (scipy), only pairs
that overlap; the figures are the mean tIoU of the matched pairs, boundary F1 at tolerances
(every start and end a boundary, matched one to one within the tolerance), and the skill-label
agreement of the matched pairs as Krippendorff's alpha (nominal; the ``krippendorff`` package).

Example::

    a = [Segment(0, 2 * S, "pick"), Segment(3 * S, 5 * S, "place")]
    b = [Segment(S // 5, 2 * S, "pick"), Segment(3 * S, 4 * S, "place")]
    compare(a, b).mean_tiou        # 0.7
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TOLERANCES_S",
    "Agreement",
    "Segment",
    "boundary_f1",
    "compare",
    "match",
    "skill_alpha",
    "tiou",
]

TOLERANCES_S = (0.1, 0.5, 1.0)
"""Boundary tolerances reported by default, in seconds."""
SECOND = 1_000_000_000


@dataclass(frozen=True)
class Segment:
    """A time segment on the episode clock (ns) with its skill, if any."""

    start_ns: int
    end_ns: int
    skill: str | None = None


def tiou(a: Segment, b: Segment) -> float:
    """Temporal intersection over union of two segments (0 when they do not overlap)."""
    inter = min(a.end_ns, b.end_ns) - max(a.start_ns, b.start_ns)
    if inter <= 0:
        return 0.0
    union = max(a.end_ns, b.end_ns) - min(a.start_ns, b.start_ns)
    return inter / union


def match(a: Sequence[Segment], b: Sequence[Segment]) -> list[tuple[int, int, float]]:
    """One-to-one pairs ``(i, j, tIoU)`` of overlapping segments, the total tIoU as large as
    possible (Hungarian method)."""
    if not a or not b:
        return []
    from scipy.optimize import linear_sum_assignment

    scores = np.array([[tiou(x, y) for y in b] for x in a])
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return [
        (int(i), int(j), float(scores[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if scores[i, j] > 0
    ]


def boundary_f1(a: Sequence[Segment], b: Sequence[Segment], tolerance_s: float) -> float:
    """F1 of the two annotators' boundaries (starts and ends), matched one to one when at most
    ``tolerance_s`` apart: ``2·matched / (boundaries of a + boundaries of b)``. 1.0 when neither
    has any segment."""
    first = [t for s in a for t in (s.start_ns, s.end_ns)]
    second = [t for s in b for t in (s.start_ns, s.end_ns)]
    if not first and not second:
        return 1.0
    if not first or not second:
        return 0.0
    from scipy.optimize import linear_sum_assignment

    limit = tolerance_s * SECOND
    distance = np.abs(np.subtract.outer(np.array(first, float), np.array(second, float)))
    allowed = distance <= limit + 1e-6
    # matched pairs first (a cost beyond any sum of allowed distances), then the closest
    cost = np.where(allowed, distance, limit * (len(first) + len(second) + 1) + 1)
    rows, cols = linear_sum_assignment(cost)
    matched = int(allowed[rows, cols].sum())
    return 2 * matched / (len(first) + len(second))


def skill_alpha(pairs: Sequence[tuple[str | None, str | None]]) -> float | None:
    """Krippendorff's alpha (nominal) of the skills of matched pairs; None when it is undefined
    (no pairs, or a single skill throughout)."""
    values = [v for pair in pairs for v in pair if v is not None]
    if not pairs or len(set(values)) < 2:
        return None
    import krippendorff

    codes = {name: float(i) for i, name in enumerate(sorted(set(values)))}

    def code(value: str | None) -> float:
        return np.nan if value is None else codes[value]

    data = np.array([[code(p[k]) for p in pairs] for k in (0, 1)])
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


@dataclass(frozen=True)
class Agreement:
    """How far two annotators agree on one episode."""

    segments_a: int
    segments_b: int
    pairs: list[tuple[int, int, float]]
    """Matched segments: index in a, index in b, tIoU."""
    mean_tiou: float | None
    """Mean tIoU of the matched pairs (None without any)."""
    boundary_f1: dict[float, float] = field(default_factory=dict)
    """Boundary F1 per tolerance in seconds."""
    skill_alpha: float | None = None

    @property
    def unmatched(self) -> int:
        """Segments of either annotator without a partner."""
        return self.segments_a + self.segments_b - 2 * len(self.pairs)


def compare(
    a: Sequence[Segment], b: Sequence[Segment], *, tolerances_s: Sequence[float] = TOLERANCES_S
) -> Agreement:
    """Match ``a`` and ``b`` and measure their agreement."""
    pairs = match(a, b)
    return Agreement(
        segments_a=len(a),
        segments_b=len(b),
        pairs=pairs,
        mean_tiou=float(np.mean([p[2] for p in pairs])) if pairs else None,
        boundary_f1={t: boundary_f1(a, b, t) for t in tolerances_s},
        skill_alpha=skill_alpha([(a[i].skill, b[j].skill) for i, j, _ in pairs]),
    )
