"""Frame grids and feature stats of the frame-based exports (no database)."""

import numpy as np

from annotation_kit.exports import lerobot_stats
from annotation_kit.exports.sampling import Grid


def test_a_duration_rounded_to_whole_ns_keeps_its_last_frame():
    # G1 episode 0: 479 frames at 30 fps, stored as 15,933,333,333 ns (0.33 ns short)
    duration = round(478 * 1e9 / 30)
    assert len(Grid.at(duration, 30).t_ns) == 479
    assert len(Grid.at(duration - 10, 30).t_ns) == 478  # a real shortfall still drops it
    assert len(Grid.at(10**9, 30).t_ns) == 31


def test_stats_carry_lerobots_quantiles_exactly():
    values = np.random.default_rng(0).normal(size=(301, 5))
    stats = lerobot_stats.of(values)
    expected = np.quantile(values, lerobot_stats.QUANTILES, axis=0)
    for key, want in zip(lerobot_stats.KEYS, expected, strict=True):
        assert np.allclose(stats[key], want)
    assert stats["count"] == [301] and np.allclose(stats["std"], values.std(axis=0))
    ramp = lerobot_stats.ramp(301, 2.0, 0.5)
    assert np.allclose(ramp["q50"], np.quantile(2.0 + 0.5 * np.arange(301), 0.5))
    merged = lerobot_stats.aggregate([{"x": stats}, {"x": stats}])["x"]
    assert merged["count"] == [602] and np.allclose(merged["q10"], stats["q10"])
