"""Read-only SQL over Optuna's database tables: counts, best and recent trials, a thinned history.

Optuna's readers (``get_all_study_summaries``, ``study.trials``) load every trial of a study with
its parameters, attributes and intermediate values: 20,000 trials take minutes and hundreds of
megabytes. Listing and showing a study needs a few numbers and a few hundred trials, so they are
asked for here, with SQLAlchemy Core on Optuna's own table definitions (any database Optuna
supports), streamed where a query walks every trial. This module is the one place that knows
Optuna's table layout and private helpers; it only reads.

Every reader takes a ``timeout`` (seconds, or ``None``): past it the statement is interrupted
(SQLite's progress handler, PostgreSQL's ``statement_timeout``) and :class:`QueryTimeout` raised.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "QueryTimeout",
    "HistoryPoint",
    "is_rdb",
    "rdb_of",
    "reading",
    "state_counts",
    "first_start",
    "ranked_trial_ids",
    "recent_trial_ids",
    "load_trials",
    "history",
    "complete_values",
    "pareto_front_mask",
]


class QueryTimeout(TimeoutError):
    """A read did not finish within its time limit (it was interrupted, nothing is half-read)."""


@dataclass(frozen=True)
class HistoryPoint:
    """One finished trial for the best-so-far chart: its number, state, end time and first value."""

    number: int
    state: str
    complete: datetime | None
    value: float | None


def rdb_of(storage: Any) -> Any:
    """The Optuna ``RDBStorage`` (SQLite, PostgreSQL, MySQL) behind ``storage``, or ``None``.

    A study wraps its database storage in Optuna's cache (``study._storage``); the readers
    here take the database itself.
    """
    import optuna

    backend = getattr(storage, "_backend", storage)  # optuna.storages._CachedStorage
    return backend if isinstance(backend, optuna.storages.RDBStorage) else None


def is_rdb(storage: Any) -> bool:
    """True when ``storage`` is (or wraps) an Optuna ``RDBStorage``: the readers here apply."""
    return rdb_of(storage) is not None


def _models() -> Any:
    from optuna.storages._rdb import models  # Optuna's table definitions: the schema it wrote

    return models


@contextlib.contextmanager
def reading(storage: Any, timeout: float | None = None) -> Iterator[Any]:
    """A connection of ``storage``'s engine whose statements stop after ``timeout`` seconds."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    started = time.monotonic()
    with rdb_of(storage).engine.connect() as con:
        raw = _limit(con, timeout)
        try:
            yield con
        except (OperationalError, SQLAlchemyError) as exc:
            text = str(exc).lower()
            if timeout is not None and (
                "interrupted" in text or "statement timeout" in text or "canceling statement" in text
            ):
                raise QueryTimeout(
                    f"the query took longer than {timeout:g} s (stopped after {time.monotonic() - started:.1f} s)"
                ) from None
            raise
        finally:
            if raw is not None:
                raw.set_progress_handler(None, 0)  # the connection may go back to a pool


def _limit(con: Any, timeout: float | None) -> Any:
    """Bound every statement on ``con``; returns the SQLite connection whose handler to remove."""
    if timeout is None:
        return None
    dialect = con.dialect.name
    if dialect == "sqlite":
        raw = con.connection.dbapi_connection
        end = time.monotonic() + timeout

        def past_deadline() -> int:
            return 1 if time.monotonic() > end else 0  # non-zero interrupts the statement

        raw.set_progress_handler(past_deadline, 5_000)
        return raw
    if dialect == "postgresql":
        from sqlalchemy import text

        ms = str(max(1, int(timeout * 1000)))  # for this transaction only (is_local)
        con.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": ms})
    return None


def _trials() -> Any:
    return _models().TrialModel.__table__


def _values() -> Any:
    return _models().TrialValueModel.__table__


def state_counts(con: Any, study_id: int) -> dict[str, int]:
    """Trials of the study per state name (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``, ``WAITING``)."""
    from sqlalchemy import func, select

    t = _trials()
    rows = con.execute(select(t.c.state, func.count()).where(t.c.study_id == study_id).group_by(t.c.state))
    return {_state_name(state): int(n) for state, n in rows}


def first_start(con: Any, study_id: int) -> datetime | None:
    """When the study's first trial started (naive UTC, as Optuna stores it)."""
    from sqlalchemy import func, select

    t = _trials()
    return con.execute(select(func.min(t.c.datetime_start)).where(t.c.study_id == study_id)).scalar()


def _order(direction: str, objective: int = 0) -> list[Any]:
    """Best first: infinities by their sign (Optuna stores them as a type, not a value)."""
    from sqlalchemy import case

    v = _values()
    kinds = _models().TrialValueModel.TrialValueType
    rank = case((v.c.value_type == kinds.INF_NEG, -1), (v.c.value_type == kinds.FINITE, 0), else_=1)
    if direction == "maximize":
        return [rank.desc(), v.c.value.desc()]
    return [rank.asc(), v.c.value.asc()]


def ranked_trial_ids(con: Any, study_id: int, direction: str, limit: int) -> list[tuple[int, int]]:
    """``(trial_id, number)`` of the ``limit`` best complete trials on the first objective, best first."""
    from optuna.trial import TrialState
    from sqlalchemy import select

    t, v = _trials(), _values()
    query = (
        select(t.c.trial_id, t.c.number)
        .join(v, v.c.trial_id == t.c.trial_id)
        .where(t.c.study_id == study_id, t.c.state == TrialState.COMPLETE, v.c.objective == 0)
        .order_by(*_order(direction), t.c.number)
        .limit(limit)
    )
    return [(int(i), int(n)) for i, n in con.execute(query)]


def recent_trial_ids(con: Any, study_id: int, limit: int) -> list[tuple[int, int]]:
    """``(trial_id, number)`` of the ``limit`` latest trials (highest numbers first), any state."""
    from optuna.trial import TrialState
    from sqlalchemy import select

    t = _trials()
    query = (
        select(t.c.trial_id, t.c.number)
        .where(t.c.study_id == study_id, t.c.state != TrialState.WAITING)
        .order_by(t.c.number.desc())
        .limit(limit)
    )
    return [(int(i), int(n)) for i, n in con.execute(query)]


def load_trials(storage: Any, study_id: int, trial_ids: list[int]) -> list[Any]:
    """The ``FrozenTrial`` of each id (in that order), in a handful of queries whatever their number."""
    from sqlalchemy import func, select

    if not trial_ids:
        return []
    storage = rdb_of(storage)
    wanted = set(trial_ids)
    getter = getattr(storage, "_get_trials", None)
    trials = None
    if callable(getter):  # Optuna's own loader: the ids asked for, or any above ``last`` (none)
        t = _trials()
        with storage.engine.connect() as con:
            last = con.execute(select(func.max(t.c.trial_id)).where(t.c.study_id == study_id)).scalar()
        try:
            trials = getter(study_id, None, wanted, max(int(last or 0), max(wanted)))
        except TypeError:  # another Optuna signature
            trials = None
    if trials is None:
        trials = [storage.get_trial(i) for i in trial_ids]
    by_id = {t._trial_id: t for t in trials if t._trial_id in wanted}
    return [by_id[i] for i in trial_ids if i in by_id]


def history(con: Any, study_id: int) -> Iterator[HistoryPoint]:
    """Every finished trial in the order it ended (end time, then number), streamed."""
    from optuna.trial import TrialState
    from sqlalchemy import and_, select

    t, v = _trials(), _values()
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    query = (
        select(t.c.number, t.c.state, t.c.datetime_complete, v.c.value, v.c.value_type)
        .select_from(t.outerjoin(v, and_(v.c.trial_id == t.c.trial_id, v.c.objective == 0)))
        .where(t.c.study_id == study_id, t.c.state.in_(finished))
        .order_by(t.c.datetime_complete, t.c.number)
        .execution_options(stream_results=True, yield_per=2000)
    )
    for number, state, complete, value, kind in con.execute(query):
        yield HistoryPoint(int(number), _state_name(state), complete, _value(value, kind))


def complete_values(con: Any, study_id: int, n_objectives: int) -> Iterator[tuple[int, int, list[float]]]:
    """``(trial_id, number, values)`` of every complete trial, streamed (for a Pareto front)."""
    from optuna.trial import TrialState
    from sqlalchemy import select

    t, v = _trials(), _values()
    query = (
        select(t.c.trial_id, t.c.number, v.c.objective, v.c.value, v.c.value_type)
        .join(v, v.c.trial_id == t.c.trial_id)
        .where(t.c.study_id == study_id, t.c.state == TrialState.COMPLETE)
        .order_by(t.c.trial_id, v.c.objective)
        .execution_options(stream_results=True, yield_per=2000)
    )
    current: tuple[int, int] | None = None
    values: list[float] = []
    for trial_id, number, objective, value, kind in con.execute(query):
        if current is not None and current[0] != trial_id:
            if len(values) == n_objectives:
                yield current[0], current[1], values
            values = []
        current = (int(trial_id), int(number))
        values.append(_value(value, kind) if objective == len(values) else math.nan)
    if current is not None and len(values) == n_objectives:
        yield current[0], current[1], values


def _value(value: Any, kind: Any) -> float | None:
    name = getattr(kind, "name", kind)
    if name == "INF_POS":
        return math.inf
    if name == "INF_NEG":
        return -math.inf
    return None if value is None else float(value)


def _state_name(state: Any) -> str:
    return getattr(state, "name", str(state))


def pareto_front_mask(loss: Any) -> Any:
    """Which rows of a loss matrix (every column minimized) are on the Pareto front, by Optuna's
    own test (the one ``study.best_trials`` uses)."""
    from optuna.study._multi_objective import _is_pareto_front

    return _is_pareto_front(loss, assume_unique_lexsorted=False)
