"""Agreement on time segments against examples worked by hand (in the comments)."""

import math

from annotation_kit.work.agreement import Segment, boundary_f1, compare, match, skill_alpha, tiou

S = 1_000_000_000


def seg(start: float, end: float, skill: str | None = None) -> Segment:
    return Segment(round(start * S), round(end * S), skill)


A = [seg(0, 2, "pick"), seg(3, 5, "place"), seg(6, 8, "pick")]
B = [seg(0.2, 2, "pick"), seg(3, 4, "place"), seg(8.5, 9, "pick")]


def test_tiou_by_hand():
    assert math.isclose(tiou(A[0], B[0]), 1.8 / 2.0)  # overlap 0.2–2, union 0–2
    assert math.isclose(tiou(A[1], B[1]), 1 / 2)  # overlap 3–4, union 3–5
    assert tiou(A[2], B[2]) == 0.0  # 6–8 and 8.5–9 do not meet
    assert tiou(seg(0, 1), seg(1, 2)) == 0.0  # touching is not overlapping


def test_segments_are_matched_one_to_one_for_the_largest_total_tiou():
    assert [(i, j) for i, j, _ in match(A, B)] == [(0, 0), (1, 1)]
    # greedy would pair the long segment with its best partner; Hungarian gives the better sum
    long, short = [seg(0, 10), seg(0, 4)], [seg(0, 5), seg(5, 10)]
    pairs = match(long, short)
    assert sorted((i, j) for i, j, _ in pairs) == [(0, 1), (1, 0)]
    assert math.isclose(sum(t for *_, t in pairs), 0.5 + 0.8)


def test_boundary_f1_by_hand():
    # boundaries: a 0 2 3 5 6 8, b 0.2 2 3 4 8.5 9 (six each)
    assert math.isclose(boundary_f1(A, B, 0.1), 2 * 2 / 12)  # 2=2, 3=3
    assert math.isclose(boundary_f1(A, B, 0.5), 2 * 4 / 12)  # and 0~0.2, 8~8.5
    assert math.isclose(boundary_f1(A, B, 1.0), 2 * 5 / 12)  # and 5~4 (8 takes one of 8.5/9)
    assert boundary_f1([], [], 0.5) == 1.0 and boundary_f1(A, [], 0.5) == 0.0


def test_skill_alpha_by_hand():
    # pairs (a,a) (a,b) (b,b) (b,b): coincidences o_aa=2 o_ab=o_ba=1 o_bb=4, n_a=3 n_b=5 n=8
    # alpha = 1 - (n-1) * (o_ab+o_ba) / (2 * n_a * n_b) = 1 - 7*2/30
    got = skill_alpha([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")])
    assert got is not None and math.isclose(got, 1 - 14 / 30)
    assert skill_alpha([("a", "a"), ("b", "b")]) == 1.0
    assert skill_alpha([("a", "a")]) is None  # one skill throughout: undefined
    assert skill_alpha([]) is None


def test_compare_puts_it_together():
    got = compare(A, B)
    assert (got.segments_a, got.segments_b, len(got.pairs), got.unmatched) == (3, 3, 2, 2)
    assert got.mean_tiou is not None and math.isclose(got.mean_tiou, (0.9 + 0.5) / 2)
    assert {t: round(f, 4) for t, f in got.boundary_f1.items()} == {
        0.1: 0.3333,
        0.5: 0.6667,
        1.0: 0.8333,
    }
    assert got.skill_alpha == 1.0
    assert compare([], []).mean_tiou is None
