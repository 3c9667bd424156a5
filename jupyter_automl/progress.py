"""Progress outside notebooks: a tqdm bar on a terminal, plain lines in a pipe or a log (stderr)."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Any

from jupyter_automl.runner import Observer

__all__ = ["ProgressBar", "stderr_is_terminal"]

TICK_S = 1.0  # the bar's clock redraws this often while a trial runs
QUIET_LINE_S = 30.0  # in a pipe or a log: a status line after this long without one
ENDINGS = {"time_budget": "time budget used", "n_trials": "all trials run", "stopped": "stopped",
           "interrupted": "interrupted"}


def stderr_is_terminal() -> bool:
    """``True`` when stderr is an interactive terminal (not a pipe, a file or a CI log)."""
    return _is_terminal(sys.stderr)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class ProgressBar(Observer):
    """Progress on ``stream`` (stderr): trials done, best score, failures, time left.

    On a terminal it is a tqdm bar whose clock redraws every second, also while a trial runs.
    Anywhere else (a pipe, a file, a CI log) it writes plain lines, never a ``\\r`` redraw: one
    per finished trial, one after 30 s without any, and one at the end.

    Examples
    --------
    >>> import io, jupyter_automl as ja
    >>> out = io.StringIO()
    >>> r = ja.search(data="sklearn:iris", n_trials=2, storage="memory", display=False,
    ...               observers=[ProgressBar(out)])
    >>> "trial 2/2" in out.getvalue() and "\\r" not in out.getvalue()
    True
    """

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream
        self.bar: Any = None
        self.best: float | None = None
        self.failed = 0
        self.stopped = 0
        self.trials = 0
        self.stage = ""
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._ticker: threading.Thread | None = None
        self._last_line = 0.0

    # ------------------------------------------------------------------ events
    def on_start(self, run: Any) -> None:
        self.run = run
        self.out = self.stream or sys.stderr
        self.sign = -1.0 if run.direction == "minimize" else 1.0
        self.terminal = _is_terminal(self.out)
        if getattr(run, "data", ""):  # what was understood of the data, before the first trial
            print(run.data, file=self.out, flush=True)
        if self.terminal:
            self._open_bar()
        else:
            self._line(f"started, {self._budget_text()}")
        self._ticker = threading.Thread(target=self._tick, name="automl-progress", daemon=True)
        self._ticker.start()

    def on_progress(self, event: dict[str, Any]) -> None:
        if event.get("event") == "stage":
            done, total = event.get("done"), event.get("total")
            self.stage = f"{event.get('stage')}: {done}/{total}" if total else str(event.get("stage", ""))
            if done is not None and total is not None and done >= total:
                self.stage = ""
        elif event.get("event") == "trial":
            self.stage = ""  # trials started: a finished preparation says nothing more

    def on_trial(self, record: Any, trial: Any) -> None:
        with self._lock:
            if not hasattr(self, "run"):
                return
            self.trials += 1
            if record.state == "FAIL":
                self.failed += 1
            elif record.state == "STOPPED":
                self.stopped += 1
            if (
                record.value is not None
                and record.state == "COMPLETE"
                and (self.best is None or self.sign * record.value > self.sign * self.best)
            ):
                self.best = record.value
            if self.terminal:
                if self.run.n_trials is not None:
                    self.bar.update(1)
                self._redraw()
            else:
                score = "–" if record.value is None else f"{record.value:.4f}"
                what = record.state.lower() if record.state != "COMPLETE" else f"{self.run.metric} {score}"
                reason = record.error or (record.extra or {}).get("stopped") or (record.extra or {}).get("reason")
                if reason and record.state != "COMPLETE":
                    what += f" ({str(reason).splitlines()[0][:80]})"
                done = f"{self.trials}/{self.run.n_trials}" if self.run.n_trials is not None else str(self.trials)
                self._line(f"trial {done}: #{record.number} {record.model[:40]} {what} in "
                           f"{record.duration_s:.1f} s; {self._status()}")

    def on_end(self, result: Any) -> None:
        self._ended.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        with self._lock:
            if not hasattr(self, "run"):
                return
            reason = getattr(result, "stop_reason", None) or "done"
            reason = ENDINGS.get(reason, reason)
            elapsed = time.monotonic() - self.run.started
            if self.terminal and self.bar is not None:
                if self.run.n_trials is None:
                    self.bar.n = self.bar.total if result.stop_reason == "time_budget" else min(self.bar.total, round(elapsed))
                self.bar.set_postfix_str(f"{self._status(left=False)}, {reason}", refresh=False)
                self.bar.close()
            elif not self.terminal:
                self._line(f"ended ({reason}) after {elapsed:.0f} s; {self._status(left=False)}")

    # ------------------------------------------------------------------ drawing
    def _open_bar(self) -> None:
        from tqdm import tqdm

        # a terminal that reports no size (0 × 0: some CI ptys) would hide the bar: COLUMNS/LINES or 100 × 24
        size = shutil.get_terminal_size((100, 24))
        width, rows = size.columns or 100, size.lines or 24
        common = {"file": self.out, "ncols": width, "nrows": rows, "desc": self.run.study_name[:32],
                  "mininterval": TICK_S / 2, "postfix": self._status()}
        if self.run.n_trials is not None:
            self.bar = tqdm(total=self.run.n_trials, initial=min(self.run.previous_trials, self.run.n_trials),
                            unit="trial", **common)
        else:  # the bar is the budget's clock: the seconds already spent (set-up too) from the first draw
            total = round(self.run.time_budget or 0)
            self.bar = tqdm(total=total, initial=min(total, round(time.monotonic() - self.run.started)), unit="s",
                            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}", **common)

    def _redraw(self) -> None:
        """Redraw the bar with the clock as it is now (caller holds the lock)."""
        if self.run.n_trials is None:
            self.bar.n = min(self.bar.total, round(time.monotonic() - self.run.started))
        self.bar.set_postfix_str(self._status(), refresh=False)
        self.bar.refresh()

    def _tick(self) -> None:
        """Keep the clock moving while trials run: redraw the bar, or in a log a line now and then."""
        while not self._ended.wait(TICK_S):
            with self._lock:
                if self._ended.is_set():
                    return
                if self.terminal:
                    self._redraw()
                elif time.monotonic() - self._last_line >= QUIET_LINE_S:
                    self._line(f"running{', ' + self.stage if self.stage else ''}; {self._status()}")

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self.run.started
        print(f"{self.run.study_name}: [{elapsed:.0f} s] {text}", file=self.out, flush=True)
        self._last_line = time.monotonic()

    def _budget_text(self) -> str:
        parts = []
        if self.run.n_trials is not None:
            parts.append(_plural(self.run.n_trials, "trial"))
        if self.run.time_budget is not None:
            parts.append(f"budget {self.run.time_budget:.0f} s")
        return ", ".join(parts) or "no limit"

    def _status(self, left: bool = True) -> str:
        parts = []
        if self.run.n_trials is None or not self.terminal:
            parts.append(_plural(self.trials, "trial"))
        if self.best is not None:
            parts.append(f"best {self.run.metric} {self.best:.4f}")
        parts.append(f"{self.failed} failed")
        if self.stopped:
            parts.append(f"{self.stopped} stopped")
        if self.stage and self.terminal:
            parts.append(self.stage)
        if left and self.run.time_budget is not None:
            remaining = max(0.0, self.run.started + self.run.time_budget - time.monotonic())
            parts.append(f"{remaining:.0f} s left")
        return ", ".join(parts)

    def on_abort(self) -> None:
        """The search failed before its end: stop the clock and close the bar (the error says why)."""
        self._ended.set()
        with self._lock:
            if self.bar is not None:
                self.bar.close()
