"""Big tables: the synthetic table and the process-tree memory meter of the big-table checks.

:func:`synthetic_table` makes one binary table (numbers, categoricals of 5, 50 and 1,000 levels,
5 % missing cells, 30 % positives) of any size; :class:`TreeMemory` samples the peak memory of a
process tree (the kernel and its workers) every 0.2 s as the sum of PSS (proportional set size:
a page shared by several processes is split between them rather than counted once per process).
``tests/core/test_tabular_big.py`` searches a 200,000-row table with them in CI.

Not written yet: the command that runs jupyter_automl, untuned HGB, FLAML and AutoGluon side by
side on 100,000 and 1,000,000 rows at 120 s (see the open part of issue 22).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["TreeMemory", "synthetic_table", "table_bytes", "tree_pss"]



def synthetic_table(n_rows: int, seed: int = 0) -> tuple[Any, Any]:
    """``(X, y)``: 30 numbers, categoricals of 5/50/1,000 levels (text), 5 % NaN, a 0/1 target.

    The target hangs on six of the numbers (non-linearly; the other 24 are noise) and on every
    categorical, so a model that drops one loses score; about 30 % of the rows are positive.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(n_rows, 30)).astype(np.float64)
    X = pd.DataFrame(numbers, columns=[f"x{i}" for i in range(30)])
    logit = numbers[:, 0] - 0.8 * numbers[:, 1] + 0.6 * numbers[:, 2] * numbers[:, 3]
    logit += 0.5 * np.sin(2 * numbers[:, 4]) + 0.4 * (numbers[:, 5] > 0.5)
    for levels in (5, 50, 1000):
        codes = rng.zipf(1.3, size=n_rows) % levels if levels > 5 else rng.integers(0, 5, n_rows)
        effect = rng.normal(scale=0.8, size=levels)
        logit += effect[codes]
        names = np.array([f"c{levels}_{i}" for i in range(levels)], dtype=object)
        X[f"cat{levels}"] = names[codes]
    logit -= np.quantile(logit, 0.7)  # about 30 % positives
    y = (logit + rng.logistic(size=n_rows) > 0).astype(np.int64)
    holes = rng.random(X.shape) < 0.05
    for j, column in enumerate(X.columns):
        X.loc[holes[:, j], column] = np.nan
    return X, y


def table_bytes(X: Any) -> int:
    """Bytes of a table's cells as a process holds them (object columns: pointer and string)."""
    return int(X.memory_usage(index=False, deep=True).sum())


# -- memory of a process tree ----------------------------------------------------------------------


def _pss(pid: int) -> int:
    """PSS of one process in bytes (0 when it is gone); RSS where ``smaps_rollup`` is missing."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:
        return 0


def tree_pss(pid: int) -> int:
    """Summed PSS of ``pid`` and all its descendants (each shared page counted once in all)."""
    import psutil

    try:
        root = psutil.Process(pid)
        pids = [pid] + [c.pid for c in root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    return sum(_pss(p) for p in pids)


class TreeMemory:
    """Samples the summed PSS of a process tree every ``interval`` s in a thread; keeps the peak.

    >>> import os
    >>> with TreeMemory(os.getpid()) as memory:
    ...     block = bytearray(50_000_000)
    >>> memory.peak > 50_000_000
    True
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-memory", daemon=True)

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> int:
        now = tree_pss(self.pid)
        self.peak = max(self.peak, now)
        self.samples += 1
        return now

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
