"""Studies at a glance: a summary kept as trials finish, listings that never load every trial,
the truthful state of a study, and the few trials a view of a huge study shows.

A running search keeps two things on its study (Optuna study user attributes, so any storage
holds them): ``jupyter_automl:summary`` (counts per state, the best trial, directions, metrics,
when it was updated), rewritten at most once a second while trials finish, and one
``jupyter_automl:run:<host>:<pid>`` record per process that runs it (host, pid, the process's
start time, a heartbeat, and when it ended). Listings read those attributes only; a study
written by an older version, without a summary, is counted with a few SQL queries
(:mod:`jupyter_automl.study_tables`), each bounded in time, so one slow or huge study is listed
as ``partial`` instead of holding up the others.

:func:`study_state` is the one place that says whether a study is running: a study marked
"running" whose every process has ended, is gone (same host: its pid no longer exists, or now
belongs to a process started at another time) or has stopped beating (another host) is
"interrupted".
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jupyter_automl.storage import ATTR, _process_start

__all__ = [
    "SUMMARY_ATTR",
    "RUN_ATTR_PREFIX",
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "SummaryWriter",
    "study_state",
    "live_runs",
    "summary_of_trials",
    "summary_of_tables",
    "list_studies",
    "study_rows",
    "TrialDigest",
    "trial_digest",
    "check_not_held",
]

logger = logging.getLogger("jupyter_automl")

SUMMARY_ATTR = f"{ATTR}:summary"
RUN_ATTR_PREFIX = f"{ATTR}:run:"
SUMMARY_EVERY_S = 1.0  # the summary lags the trials by at most this much
HEARTBEAT_S = 15.0  # a running search rewrites its run record this often ...
STALE_AFTER_S = 90.0  # ... and another host's run silent this long is taken for gone
PER_STUDY_S = 2.0  # the longest a listing waits for one study without a summary
_STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------- truthful state
def _run_alive(run: dict[str, Any], now: float) -> bool:
    """Whether the process a run record names still runs the study."""
    if run.get("ended"):
        return False
    if run.get("host") == socket.gethostname():
        pid = run.get("pid")
        if not isinstance(pid, int):
            return False
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # another user's process: it exists
        started = run.get("started")
        return started is None or _process_start(pid) in (None, started)  # a reused pid is not it
    beat = _parse_time(run.get("beat"))
    return beat is not None and now - beat < STALE_AFTER_S


def _parse_time(text: Any) -> float | None:
    try:
        stamp = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def live_runs(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """The run records of a study's attributes whose process still runs it."""
    now = time.time()
    return [v for k, v in attrs.items() if k.startswith(RUN_ATTR_PREFIX) and isinstance(v, dict) and _run_alive(v, now)]


def study_state(attrs: dict[str, Any]) -> str:
    """The state a study is in, from its user attributes: ``running``, ``interrupted``,
    ``finished``, ``stopped`` ... (``unknown`` for a study jupyter-automl did not run).

    A study is "running" only while a process that runs it is alive; one marked running whose
    processes are all gone was interrupted (a killed kernel, a SIGKILL, a lost machine). A
    study written before run records existed keeps the state it stored.
    """
    stored = attrs.get(f"{ATTR}:state")
    state = stored.get("state", "unknown") if isinstance(stored, dict) else "unknown"
    runs = [k for k in attrs if k.startswith(RUN_ATTR_PREFIX)]
    if state != "running" or not runs:
        return str(state)
    return "running" if live_runs(attrs) else "interrupted"


# -------------------------------------------------------------------------------- summaries
def _direction_names(directions: Any) -> list[str]:
    return [getattr(d, "name", str(d)).lower() for d in directions]


def _metrics(attrs: dict[str, Any], n: int) -> list[str]:
    metric = attrs.get(f"{ATTR}:metric")
    names = [m for m in str(metric).split(",") if m] if metric else []
    return names if len(names) == n else names[:n] or []


def _best_entry(trial: Any) -> dict[str, Any]:
    info = trial.user_attrs.get(ATTR, {}) if isinstance(trial.user_attrs.get(ATTR), dict) else {}
    values = [float(v) for v in trial.values] if trial.values is not None else None
    return {
        "trial": trial.number,
        "value": values[0] if values and len(values) == 1 else None,
        "values": values,
        "params": {str(k): v for k, v in trial.params.items()},
        "model": info.get("model"),
    }


def _better(direction: str, a: float, b: float) -> bool:
    return a > b if direction == "maximize" else a < b


def summary_of_trials(trials: list[Any], directions: Any, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary of a study whose trials are at hand (a study in memory, a journal)."""
    names = _direction_names(directions)
    counts = dict.fromkeys(_STATES, 0)
    best = None
    first: datetime | None = None
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
        if t.datetime_start is not None and (first is None or t.datetime_start < first):
            first = t.datetime_start
        if t.state.name == "COMPLETE" and t.values is not None and not math.isnan(t.values[0]):
            if best is None or _better(names[0], t.values[0], best.values[0]):
                best = t
    started = first.astimezone(timezone.utc).isoformat(timespec="seconds") if first else None
    return _summary(counts, names, attrs or {}, started, _best_entry(best) if best is not None else None)


def summary_of_tables(storage: Any, study_id: int, directions: Any, attrs: dict[str, Any] | None = None,
                      timeout: float | None = None) -> dict[str, Any]:
    """The summary of a study in a database, from SQL counts and the best trial alone."""
    from jupyter_automl import study_tables as tables

    names = _direction_names(directions)
    with tables.reading(storage, timeout) as con:
        counts = dict.fromkeys(_STATES, 0)
        counts.update(tables.state_counts(con, study_id))
        first = tables.first_start(con, study_id)
        top = tables.ranked_trial_ids(con, study_id, names[0], 1)
    best = tables.load_trials(storage, study_id, [top[0][0]]) if top else []
    started = first.replace(tzinfo=timezone.utc).isoformat(timespec="seconds") if first else None
    return _summary(counts, names, attrs or {}, started, _best_entry(best[0]) if best else None)


def _summary(counts: dict[str, int], directions: list[str], attrs: dict[str, Any], started: str | None,
             best: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "version": 1,
        "updated": _now(),
        "started": started,
        "n_trials": counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"],
        "counts": counts,
        "directions": directions,
        "metrics": _metrics(attrs, len(directions)),
        "best": best,
    }


class SummaryWriter:
    """Keeps a running search's summary and run record on its stored study.

    ``start()`` writes the run record (host, pid, process start time) and a first summary;
    a daemon thread then rewrites the summary at most once a second while trials finish
    (:meth:`on_trial` only marks it due: the trial loop never waits for it) and beats the run
    record every :data:`HEARTBEAT_S` seconds; ``close()`` writes the last summary and marks
    the run ended. A write that fails (the store is gone, the database restarts) is logged and
    retried at the next turn: the summary never stops a search.

    Parameters
    ----------
    stored_study
        The study in its storage (where listings read).
    study
        The study trials run in: the stored one, or the in-memory working copy of a local file.
    """

    def __init__(self, stored_study: Any, study: Any) -> None:
        import optuna

        self.stored_study = stored_study
        self.study = study
        storage = stored_study._storage
        self.enabled = not isinstance(storage, optuna.storages.InMemoryStorage)  # nobody lists those
        self.key = f"{RUN_ATTR_PREFIX}{socket.gethostname()}:{os.getpid()}"
        self.run = {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_start(os.getpid()),
                    "since": _now(), "beat": _now(), "ended": None}
        self._due = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0

    # the runner calls these as an observer does
    def on_start(self, run: Any) -> None:  # noqa: D102 - observer hooks
        return None

    def on_progress(self, event: dict[str, Any]) -> None:  # noqa: D102
        return None

    def on_end(self, result: Any) -> None:  # noqa: D102
        return None

    def on_trial(self, record: Any, trial: Any) -> None:
        """A trial finished: the summary is rewritten within a second."""
        self._due.set()

    def start(self) -> SummaryWriter:
        """Record who runs the study and its summary now; beat and summarize from a thread."""
        if not self.enabled or self._thread is not None:
            return self
        self._write_run()
        self._write_summary()
        self._thread = threading.Thread(target=self._loop, name="automl-summary", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """The last summary, and the run marked ended (never raises)."""
        if not self.enabled or self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None
        self._write_summary()
        self.run["ended"] = _now()
        self._write_run()

    def _loop(self) -> None:
        while not self._stop.wait(SUMMARY_EVERY_S):
            if self._due.is_set():
                self._due.clear()
                self._write_summary()
            if time.monotonic() - self._last_beat >= HEARTBEAT_S:
                self._write_run()

    def summary(self) -> dict[str, Any]:
        """The summary as it stands (computed from the trials, or from SQL for a shared database)."""
        from jupyter_automl import study_tables as tables

        attrs = self.stored_study.user_attrs
        storage = self.stored_study._storage
        if self.study is self.stored_study and tables.is_rdb(storage):  # other processes add trials too
            return summary_of_tables(storage, self.stored_study._study_id, self.stored_study.directions, attrs)
        trials = self.study.get_trials(deepcopy=False)
        return summary_of_trials(trials, self.study.directions, attrs)

    def _write_summary(self) -> None:
        with self._lock:
            try:
                self.stored_study.set_user_attr(SUMMARY_ATTR, self.summary())
            except Exception:  # the store is away: the next turn tries again
                logger.debug("writing the summary of %r failed", self.stored_study.study_name, exc_info=True)
                self._due.set()

    def _write_run(self) -> None:
        with self._lock:
            self.run["beat"] = _now()
            self._last_beat = time.monotonic()
            try:
                self.stored_study.set_user_attr(self.key, dict(self.run))
            except Exception:
                logger.debug("writing the run record of %r failed", self.stored_study.study_name, exc_info=True)


# --------------------------------------------------------------------------------- listings
def list_studies(storage: str | None = None) -> list[dict[str, Any]]:
    """One dict per stored study, read from its summary (never from every trial).

    Keys: ``name``, ``space``, ``strategy``, ``metric``, ``direction``, ``n_trials``,
    ``best_score``, ``state`` (``running``, ``interrupted``, ``finished``, ``stopped`` ...),
    ``started``, ``updated``, then ``n_complete``, ``n_pruned``, ``n_failed``, ``n_running``,
    ``best_trial``, ``best_params``, ``directions``, ``metrics``, ``summary`` (``"stored"``, or
    ``"counted"`` for a study without one) and ``partial`` with a ``message`` when a study could
    not be counted in time.

    Examples
    --------
    >>> import jupyter_automl as ja
    >>> ja.list_studies("memory")
    []
    """
    from pathlib import Path

    from jupyter_automl.storage import resolve_storage, storage_url

    url = storage_url(storage)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return []
    return study_rows(resolve_storage(storage))


def study_rows(storage: Any, *, per_study_s: float = PER_STUDY_S, budget_s: float | None = None) -> list[dict[str, Any]]:
    """The rows of :func:`list_studies` for an opened Optuna storage (any kind).

    A study without a stored summary is counted within ``per_study_s`` seconds; past that, or
    once ``budget_s`` seconds have gone on the whole listing, it is listed from its attributes
    alone with ``partial: True`` and a message, and the listing goes on.
    """
    end = None if budget_s is None else time.monotonic() + budget_s
    return [_row(storage, study, per_study_s, end) for study in storage.get_all_studies()]


def _row(storage: Any, study: Any, per_study_s: float, end: float | None) -> dict[str, Any]:
    attrs = study.user_attrs or {}
    state = study_state(attrs)
    summary = attrs.get(SUMMARY_ATTR) if isinstance(attrs.get(SUMMARY_ATTR), dict) else None
    source, message = "stored", None
    if summary is None or state == "interrupted":  # none, or a killed run's last (up to 1 s old)
        left = per_study_s if end is None else min(per_study_s, end - time.monotonic())
        try:
            if left <= 0:
                raise TimeoutError("not counted: the listing ran out of time")
            summary = _count(storage, study, attrs, left)
            source = "counted"
        except Exception as exc:  # a study that cannot be counted is still listed
            if summary is None:
                source = "partial"
            message = _one_line(exc)
    return _row_of(study, attrs, state, summary, source, message)


def _count(storage: Any, study: Any, attrs: dict[str, Any], timeout: float) -> dict[str, Any]:
    from jupyter_automl import study_tables as tables

    if tables.is_rdb(storage):
        try:
            return summary_of_tables(storage, study._study_id, study.directions, attrs, timeout=timeout)
        except tables.QueryTimeout:
            raise TimeoutError(f"not counted: its trials took longer than {timeout:.1f} s to count") from None
    return summary_of_trials(storage.get_all_trials(study._study_id, deepcopy=False), study.directions, attrs)


def _row_of(study: Any, attrs: dict[str, Any], state: str, summary: dict[str, Any] | None, source: str,
            message: str | None) -> dict[str, Any]:
    config = attrs.get(f"{ATTR}:config") if isinstance(attrs.get(f"{ATTR}:config"), dict) else {}
    stored_state = attrs.get(f"{ATTR}:state") if isinstance(attrs.get(f"{ATTR}:state"), dict) else {}
    directions = _direction_names(study.directions)
    summary = summary or {}
    counts = summary.get("counts") or {}
    best = summary.get("best") or {}
    updated = max((u for u in (summary.get("updated"), stored_state.get("updated")) if u), default=None)
    row = {
        "name": study.study_name,
        "space": config.get("space"),
        "strategy": config.get("strategy"),
        "metric": attrs.get(f"{ATTR}:metric"),
        "direction": directions[0] if len(directions) == 1 else "multi",
        "n_trials": summary.get("n_trials"),
        "best_score": _best_score(attrs, best) if len(directions) == 1 else None,
        "state": state,
        "started": summary.get("started"),
        "updated": updated,
        "n_complete": counts.get("COMPLETE"),
        "n_pruned": counts.get("PRUNED"),
        "n_failed": counts.get("FAIL"),
        "n_running": counts.get("RUNNING"),
        "best_trial": best.get("trial"),
        "best_params": best.get("params"),
        "directions": directions,
        "metrics": summary.get("metrics") or _metrics(attrs, len(directions)),
        "summary": source,
        "partial": source == "partial",
    }
    if message is not None:
        row["message"] = message
    return row


def _best_score(attrs: dict[str, Any], best: dict[str, Any]) -> Any:
    """What ``result.best_score`` says: the kept ensemble's score, else the best trial's."""
    ensemble = attrs.get(f"{ATTR}:ensemble")
    if isinstance(ensemble, dict) and ensemble.get("score") is not None:
        return ensemble["score"]
    return best.get("value")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------------- what a study's view shows
SAMPLE_ABOVE = 1000  # a database study with more trials than this is shown from a sample
HISTORY_POINTS = 500  # the best-so-far chart draws about this many trials (every improvement kept)
RECENT = 20  # the latest trials shown beside the best when a study is sampled


@dataclass
class TrialDigest:
    """The trials a view of a study shows, and the counts it states.

    ``trials`` are full ``FrozenTrial`` records: every trial of a small study; of a big one
    (``sampled``), the best complete trials (``ranked``: their numbers, best first; the Pareto
    front of a multi-objective study) and the latest ones. ``history`` is the thinned best-so-far series (``trial``,
    ``elapsed_s``, ``score``, ``best``, ``state``) in the order trials ended.
    """

    trials: list[Any]
    counts: dict[str, int]
    started: datetime | None  # aware UTC
    history: list[dict[str, Any]]
    total: int  # trials that are not WAITING
    sampled: bool = False
    ranked: list[int] = field(default_factory=list)
    pareto: set[int] = field(default_factory=set)


def trial_digest(study: Any, *, best: int = 200, recent: int = RECENT, points: int = HISTORY_POINTS) -> TrialDigest:
    """What a view of ``study`` needs, read in bounded time and memory for a study in a database.

    A study of at most ``max(best, SAMPLE_ABOVE)`` trials (or one not in a database) is read
    whole. A bigger one is read as its ``best`` best trials, its ``recent`` latest and a
    history thinned to about ``points`` trials with every improvement of the best kept.
    """
    from jupyter_automl import study_tables as tables

    storage = study._storage
    if tables.is_rdb(storage):
        with tables.reading(storage) as con:
            counts = dict.fromkeys(_STATES, 0)
            counts.update(tables.state_counts(con, study._study_id))
        total = sum(n for s, n in counts.items() if s != "WAITING")
        if total > max(best, SAMPLE_ABOVE):
            return _sampled_digest(study, counts, total, best, recent, points)
    return _whole_digest(study, points)


def _whole_digest(study: Any, points: int) -> TrialDigest:
    trials = [t for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
    counts = dict.fromkeys(_STATES, 0)
    for t in trials:
        counts[t.state.name] += 1
    first = min((t.datetime_start for t in trials if t.datetime_start), default=None)
    started = first.astimezone(timezone.utc) if first else None
    t0 = first.timestamp() if first else None
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED", "FAIL")]
    ends = {t.number: (t.datetime_complete.timestamp() - t0 if t0 is not None and t.datetime_complete else None)
            for t in finished}
    finished.sort(key=lambda t: (ends[t.number] if ends[t.number] is not None else 0.0, t.number))
    thinner = _Thinner(_direction_names(study.directions)[0], len(finished), points)
    for t in finished:
        value = t.values[0] if t.values and len(t.values) == 1 and t.state.name == "COMPLETE" else None
        thinner.add(t.number, t.state.name, ends[t.number], value)
    return TrialDigest(trials=trials, counts=counts, started=started, history=thinner.points, total=len(trials))


def _sampled_digest(study: Any, counts: dict[str, int], total: int, best: int, recent: int,
                    points: int) -> TrialDigest:
    from jupyter_automl import study_tables as tables

    storage, sid = study._storage, study._study_id
    directions = _direction_names(study.directions)
    pareto: set[int] = set()
    with tables.reading(storage) as con:
        if len(directions) == 1:
            ranked = tables.ranked_trial_ids(con, sid, directions[0], best)
        else:
            ranked = _pareto_ids(tables.complete_values(con, sid, len(directions)), directions, best)
            pareto = {n for _, n in ranked}
        latest = tables.recent_trial_ids(con, sid, recent)
        first = tables.first_start(con, sid)
        t0 = first.replace(tzinfo=timezone.utc).timestamp() if first else None
        n_finished = counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"]
        thinner = _Thinner(directions[0], n_finished, points)
        for p in tables.history(con, sid):
            end = p.complete.replace(tzinfo=timezone.utc).timestamp() - t0 if t0 is not None and p.complete else None
            value = p.value if p.state == "COMPLETE" and len(directions) == 1 else None
            thinner.add(p.number, p.state, end, value)
    ids = list(dict.fromkeys([i for i, _ in ranked] + [i for i, _ in latest]))
    trials = tables.load_trials(storage, sid, ids)
    return TrialDigest(trials=trials, counts=counts, started=first.replace(tzinfo=timezone.utc) if first else None,
                       history=thinner.points, total=total, sampled=True, ranked=[n for _, n in ranked],
                       pareto=pareto)


def _pareto_ids(rows: Any, directions: list[str], limit: int) -> list[tuple[int, int]]:
    """``(trial_id, number)`` of the Pareto front (at most ``limit``, best on the first objective first)."""
    import numpy as np

    from jupyter_automl import study_tables as tables

    ids, numbers, values = [], [], []
    for trial_id, number, vals in rows:
        ids.append(trial_id)
        numbers.append(number)
        values.append(vals)
    if not values:
        return []
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    loss = np.nan_to_num(np.asarray(values, dtype=float) * signs, nan=np.inf)  # minimize every column
    on_front = np.flatnonzero(tables.pareto_front_mask(loss))
    on_front = on_front[np.lexsort(loss[on_front].T[::-1])]  # best on the first objective first
    return [(ids[i], numbers[i]) for i in on_front[:limit]]


class _Thinner:
    """Keeps every improvement of the best so far and an even sample of the other trials."""

    def __init__(self, direction: str, total: int, points: int) -> None:
        self.direction = direction
        self.stride = max(1, math.ceil(total / max(1, points)))
        self.total = total
        self.seen = 0
        self.best: float | None = None
        self.points: list[dict[str, Any]] = []

    def add(self, number: int, state: str, elapsed: float | None, value: float | None) -> None:
        value = value if value is not None and math.isfinite(value) else None
        improved = value is not None and (self.best is None or _better(self.direction, value, self.best))
        if improved:
            self.best = value
        self.seen += 1
        if improved or self.seen % self.stride == 1 or self.stride == 1 or self.seen == self.total:
            self.points.append({"trial": number, "elapsed_s": _finite(elapsed), "score": value,
                                "best": self.best, "state": state})


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


# -------------------------------------------------------------------------- resuming a study
def check_not_held(stored_study: Any, n_trials: int | None) -> list[dict[str, Any]]:
    """Other live processes running ``stored_study`` (in a shared database); raise
    :class:`~jupyter_automl.StorageError` when they leave this run nothing to do.

    Several processes may run one study in a database (their trials count together toward
    ``n_trials``). A resumed search that joins a study whose trials, finished and running,
    already reach its ``n_trials`` would run nothing: it is refused at once, naming who runs it.
    """
    from jupyter_automl import study_tables as tables
    from jupyter_automl._errors import StorageError

    me = f"{RUN_ATTR_PREFIX}{socket.gethostname()}:{os.getpid()}"
    attrs = stored_study.user_attrs
    others = [v for k, v in attrs.items() if k != me and k.startswith(RUN_ATTR_PREFIX)
              and isinstance(v, dict) and _run_alive(v, time.time())]
    if not others or n_trials is None or not tables.is_rdb(stored_study._storage):
        return others
    summary = summary_of_tables(stored_study._storage, stored_study._study_id, stored_study.directions,
                                timeout=10.0)
    taken = summary["n_trials"] + summary["counts"]["RUNNING"]
    if taken >= n_trials:
        who = ", ".join(f"pid {r.get('pid')} on {r.get('host')}" for r in others[:3])
        raise StorageError(
            f"study {stored_study.study_name!r} is being run by {who}, and its {taken} trials (finished or "
            f"running) already reach this run's n_trials={n_trials}: it would run nothing. Ask for more "
            f"(n_trials={taken + 10} runs 10 beside it), or wait for it to end"
        )
    return others
