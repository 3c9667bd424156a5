"""Smoke test of benchmarks/nas.py: the table and one tabulated search through the runner."""

from __future__ import annotations

from benchmarks.nas import digits_images, run_table, table_accuracy
from jupyter_automl.spaces.nas.genotypes import CellGenotype


def test_table_is_fixed_and_ranks_cells_like_nas_bench_201() -> None:
    convs = CellGenotype(("nor_conv_3x3",) * 6)
    pools = CellGenotype(("avg_pool_3x3",) * 6)
    cut = CellGenotype(("nor_conv_3x3", "none", "none", "none", "none", "none"))
    assert table_accuracy(convs) == table_accuracy(convs)
    assert table_accuracy(convs)[1] > table_accuracy(pools)[1] > table_accuracy(cut)[1] == 0.10
    swapped = CellGenotype(
        ("skip_connect", "nor_conv_3x3", "none", "none", "nor_conv_1x1", "avg_pool_3x3")
    )
    same = CellGenotype(
        ("nor_conv_3x3", "skip_connect", "none", "none", "avg_pool_3x3", "nor_conv_1x1")
    )
    assert table_accuracy(swapped) == table_accuracy(same)  # one canonical cell, one entry


def test_a_tabulated_search_trains_distinct_cells_and_improves() -> None:
    X, y = digits_images(100)
    curve, distinct, _ = run_table("tpe", 0, 15, X, y)
    assert len(curve) == 15 and distinct == 15
    assert all(0.1 <= v < 1.0 for v in curve)  # test accuracy of the best cell by validation


def test_the_distorted_task_is_harder_and_keeps_its_test_digits_apart() -> None:
    import numpy as np

    from benchmarks.nas import digits_images, distorted_digits, trained_task

    images, labels = digits_images()
    X, y = distorted_digits(images[:50], labels[:50], 3, seed=1)
    assert X.shape == (150, 1, 8, 8) and list(y) == list(labels[:50]) * 3
    copies = X.reshape(3, 50, 8, 8)
    assert not np.allclose(copies[0], copies[1])  # each copy distorted anew
    assert not np.allclose(copies[0], images[:50].reshape(50, 8, 8))
    assert np.array_equal(X, distorted_digits(images[:50], labels[:50], 3, seed=1)[0])

    X, y, test_X, test_y, _ = trained_task("distorted")
    assert len(y) == 2 * 1257 and len(test_y) == 4 * 540
    # the test copies are of the 540 digits no search sees: their undistorted sources differ
    plain, _, plain_test, _, _ = trained_task("digits")
    searched = {row.tobytes() for row in plain.reshape(len(plain), -1)}
    assert not any(row.tobytes() in searched for row in plain_test.reshape(len(plain_test), -1))


def test_records_of_other_seeds_merge_and_a_different_rerun_is_refused() -> None:
    import pytest

    from benchmarks.nas import merge_records

    def record(seeds: list[int], names: tuple[str, ...] = ("random",), value: float = 0.5) -> dict:
        return {
            "kind": "k",
            "budget": 10,
            "seeds": seeds,
            "curves": {n: [[value] * 10 for _ in seeds] for n in names},
            "distinct": {n: [10 for _ in seeds] for n in names},
            "seconds": {n: [1.0 for _ in seeds] for n in names},
        }

    merged = merge_records([record([0, 1]), record([2]), record([1])])  # seed 1 rerun alike
    assert merged["seeds"] == [0, 1, 2] and len(merged["curves"]["random"]) == 3
    # a strategy run on fewer seeds: the table keeps the seeds every strategy has
    merged = merge_records([record([0, 1, 2]), record([1], ("tpe",))], ["random", "tpe"])
    assert merged["seeds"] == [1] and set(merged["curves"]) == {"random", "tpe"}
    with pytest.raises(SystemExit, match="random seed 1 differs"):
        merge_records([record([0, 1]), record([1], value=0.6)])
