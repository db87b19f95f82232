"""Feature statistics as LeRobot keeps them: ``min max mean std count`` and the quantiles
``q01 q10 q50 q90 q99`` per episode, aggregated over the dataset the way lerobot does (means,
variances and quantiles weighted by counts). Policies that normalise by quantiles (pi0.5's
default) need the quantiles."""

from __future__ import annotations

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
KEYS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)
IMAGE_SIDE = 150  # images are strided down to about this size first, as lerobot does


def of(values: np.ndarray) -> dict[str, list]:
    """Per-column stats of a (frames, dims) array."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    ordered = np.sort(v, axis=0)  # one sort gives min, max and every quantile
    n = len(ordered)
    at = np.asarray(QUANTILES) * (n - 1)  # linear interpolation, as numpy's default
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, n - 1)
    share = (at - low)[:, None]
    quantiles = ordered[low] + (ordered[high] - ordered[low]) * share
    return {
        "min": ordered[0].tolist(),
        "max": ordered[-1].tolist(),
        "mean": v.mean(axis=0).tolist(),
        "std": v.std(axis=0).tolist(),
        "count": [n],
    } | {key: q.tolist() for key, q in zip(KEYS, quantiles, strict=True)}


def ramp(n: int, first: float, step: float) -> dict[str, list]:
    """Stats of first, first + step, ... (n values) without building them."""
    last = first + step * (n - 1)
    spread = abs(step) * np.sqrt((n * n - 1) / 12.0)
    low, high = min(first, last), max(first, last)
    return {
        "min": [low],
        "max": [high],
        "mean": [(first + last) / 2],
        "std": [float(spread)],
        "count": [n],
    } | {key: [low + (high - low) * q] for key, q in zip(KEYS, QUANTILES, strict=True)}


def images(sample: list[np.ndarray]) -> dict[str, list]:
    """Per-channel stats in [0, 1], shaped (3, 1, 1) as LeRobot keeps them."""
    if not sample:
        return {}
    height, width = sample[0].shape[:2]
    step = max(1, max(height, width) // IMAGE_SIDE)
    v = np.stack([s[::step, ::step, :3] for s in sample]).reshape(-1, 3).astype(np.float64) / 255.0
    per_channel = of(v)

    def shaped(x: list) -> list:
        return np.asarray(x).reshape(3, 1, 1).tolist()

    return {k: (x if k == "count" else shaped(x)) for k, x in per_channel.items()} | {
        "count": [len(sample)]
    }


def aggregate(all_stats: list[dict[str, dict[str, list]]]) -> dict[str, dict[str, list]]:
    """Dataset stats from per-episode stats."""
    out: dict[str, dict[str, list]] = {}
    for key in all_stats[0]:
        parts = [s[key] for s in all_stats if s.get(key)]
        if not parts:
            continue
        counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
        means = np.array([p["mean"] for p in parts], dtype=np.float64)
        stds = np.array([p["std"] for p in parts], dtype=np.float64)
        weights = counts.reshape(-1, *([1] * (means.ndim - 1))) / counts.sum()
        mean = (means * weights).sum(axis=0)
        var = ((stds**2 + (means - mean) ** 2) * weights).sum(axis=0)
        out[key] = {
            "min": np.min([p["min"] for p in parts], axis=0).tolist(),
            "max": np.max([p["max"] for p in parts], axis=0).tolist(),
            "mean": mean.tolist(),
            "std": np.sqrt(var).tolist(),
            "count": [int(counts.sum())],
        } | {
            q: (np.array([p[q] for p in parts], dtype=np.float64) * weights).sum(axis=0).tolist()
            for q in KEYS
            if all(q in p for p in parts)
        }
    return out
