"""An offline image task for the NAS benchmark and tests: coloured 32×32 shapes, 10 classes.

Each image holds one shape (square, disc, triangle, cross, ring, each at two scales: 10 classes)
in a random colour at a random place, on a noisy textured background with a small distractor
blob of another colour. The class is the shape and its scale, never its colour, so a model
must learn form, not pixels. Made by numpy from a seed: nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_shapes", "SHAPES"]

SHAPES = ("square", "disc", "triangle", "cross", "ring")


def _mask(kind: str, size: int, radius: float, cy: float, cx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    if kind == "square":
        return (np.abs(dy) <= radius) & (np.abs(dx) <= radius)
    if kind == "disc":
        return dy**2 + dx**2 <= radius**2
    if kind == "triangle":
        return (dy <= radius) & (dy >= -radius) & (np.abs(dx) <= (dy + radius) / 2)
    if kind == "cross":
        arm = max(1.0, radius / 3)
        return ((np.abs(dy) <= arm) & (np.abs(dx) <= radius)) | ((np.abs(dx) <= arm) & (np.abs(dy) <= radius))
    if kind == "ring":
        r2 = dy**2 + dx**2
        return (r2 <= radius**2) & (r2 >= (0.55 * radius) ** 2)
    raise ValueError(kind)


def make_shapes(n: int, seed: int = 0, size: int = 32, *, noise: float = 0.25,
                channels_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (float32, N×3×size×size in [0, 1], or N×H×W×3) and labels 0–9."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 3, size, size), dtype=np.float32)
    y = rng.integers(0, 2 * len(SHAPES), n)
    for i in range(n):
        kind, big = SHAPES[y[i] % len(SHAPES)], y[i] >= len(SHAPES)
        radius = size * (0.28 if big else 0.16) * rng.uniform(0.9, 1.1)
        margin = radius + 1
        cy, cx = rng.uniform(margin, size - margin, 2)
        background = rng.uniform(0.0, 0.5, (3, 1, 1)) + noise * rng.standard_normal((3, size, size))
        image = background.astype(np.float32)
        colour = rng.uniform(0.3, 1.0, 3).astype(np.float32)
        image[:, _mask(kind, size, radius, cy, cx)] = colour[:, None]
        dy, dx = rng.uniform(2, size - 2, 2)  # a distractor blob of another colour
        image[:, _mask("disc", size, size * 0.06, dy, dx)] = rng.uniform(0.3, 1.0, (3, 1))
        X[i] = np.clip(image, 0.0, 1.0)
    if channels_last:
        X = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
    return X, y.astype(np.int64)
