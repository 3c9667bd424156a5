"""The offline image tasks of ``benchmarks/nas_shapes.py``: what the NAS comparison is run on."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.nas_shapes import CLASSES, TASKS, shapes


@pytest.mark.parametrize("task", sorted(TASKS))
def test_a_task_is_balanced_seeded_colour_images(task: str) -> None:
    X, y = shapes(60, seed=3, task=task)
    assert X.shape == (60, 3, 32, 32) and X.dtype == np.uint8
    assert np.bincount(y, minlength=len(CLASSES)).tolist() == [6] * len(CLASSES)
    again, labels = shapes(60, seed=3, task=task)
    assert np.array_equal(X, again) and np.array_equal(y, labels)
    assert not np.array_equal(X, shapes(60, seed=4, task=task)[0])


def test_the_hard_task_is_noisier_with_the_same_labels() -> None:
    """Same seed, same labels: the hard images are rougher (neighbouring pixels differ more)."""
    easy, y_easy = shapes(200, seed=0)
    hard, y_hard = shapes(200, seed=0, task="hard")
    assert np.array_equal(y_easy, y_hard)
    roughness = [float(np.abs(np.diff(x.astype(float), axis=-1)).mean()) for x in (easy, hard)]
    assert roughness[1] > 1.3 * roughness[0]
