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
    swapped = CellGenotype(("skip_connect", "nor_conv_3x3", "none", "none", "nor_conv_1x1",
                            "avg_pool_3x3"))
    same = CellGenotype(("nor_conv_3x3", "skip_connect", "none", "none", "avg_pool_3x3",
                         "nor_conv_1x1"))
    assert table_accuracy(swapped) == table_accuracy(same)  # one canonical cell, one entry


def test_a_tabulated_search_trains_distinct_cells_and_improves() -> None:
    X, y = digits_images(100)
    curve, distinct, _ = run_table("tpe", 0, 15, X, y)
    assert len(curve) == 15 and distinct == 15
    assert all(0.1 <= v < 1.0 for v in curve)  # test accuracy of the best cell by validation
