"""Progress outside notebooks: a tqdm bar on stderr (trials, best score, failures, time left)."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any

from jupyter_automl.runner import Observer

__all__ = ["ProgressBar", "stderr_is_terminal"]


def stderr_is_terminal() -> bool:
    """``True`` when stderr is an interactive terminal (not a pipe, a file or a CI log)."""
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


class ProgressBar(Observer):
    """A tqdm bar on ``stream`` (stderr): trials done (or seconds of the budget), best, failures, time left.

    Examples
    --------
    >>> import io, jupyter_automl as ja
    >>> out = io.StringIO()
    >>> r = ja.search(data="sklearn:iris", n_trials=2, storage="memory", display=False,
    ...               observers=[ProgressBar(out)])
    >>> "2/2" in out.getvalue()
    True
    """

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream
        self.bar: Any = None
        self.best: float | None = None
        self.failed = 0

    def on_start(self, run: Any) -> None:
        from tqdm import tqdm

        self.run = run
        stream = self.stream or sys.stderr
        if getattr(run, "data", ""):  # what was understood of the data, before the first trial
            print(run.data, file=stream, flush=True)
        # a terminal that reports no size (0 × 0: some CI ptys) would hide the bar: COLUMNS/LINES or 100 × 24
        size = shutil.get_terminal_size((100, 24))
        width, rows = size.columns or 100, size.lines or 24
        if run.n_trials is not None:
            self.bar = tqdm(
                total=run.n_trials,
                initial=min(run.previous_trials, run.n_trials),
                unit="trial",
                file=stream,
                ncols=width,
                nrows=rows,
                desc=run.study_name[:32],
            )
        else:
            self.bar = tqdm(
                total=round(run.time_budget or 0),
                unit="s",
                file=stream,
                ncols=width,
                nrows=rows,
                desc=run.study_name[:32],
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}",
            )
        self.sign = -1.0 if run.direction == "minimize" else 1.0
        self.trials = 0
        self.bar.set_postfix_str(self._postfix())

    def on_trial(self, record: Any, trial: Any) -> None:
        if self.bar is None:
            return
        self.trials += 1
        if record.state == "FAIL":
            self.failed += 1
        if (
            record.value is not None
            and record.state == "COMPLETE"
            and (self.best is None or self.sign * record.value > self.sign * self.best)
        ):
            self.best = record.value
        if self.run.n_trials is not None:
            self.bar.update(1)
        else:
            self.bar.n = min(self.bar.total, time.monotonic() - self.run.started)
        self.bar.set_postfix_str(self._postfix())

    def _postfix(self) -> str:
        parts = []
        if self.run.n_trials is None:
            parts.append(f"{self.trials} trials")
        if self.best is not None:
            parts.append(f"best {self.run.metric} {self.best:.4f}")
        parts.append(f"{self.failed} failed")
        if self.run.time_budget is not None:
            left = max(0.0, self.run.started + self.run.time_budget - time.monotonic())
            parts.append(f"{left:.0f} s left")
        return ", ".join(parts)

    def on_end(self, result: Any) -> None:
        if self.bar is not None:
            if self.run.n_trials is None:
                self.bar.n = self.bar.total if result.stop_reason == "time_budget" else self.bar.n
            self.bar.set_postfix_str(self._postfix())
            self.bar.close()
