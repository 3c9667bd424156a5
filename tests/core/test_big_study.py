"""A 20,000-trial study lists and shows in under 2 s, in memory that does not grow with the trials.

The study is a real search's SQLite file whose trials are then copied with SQL (numbers, values,
parameters and the per-trial record), as a long-running team study would hold them; listing
reads the per-study summary, and the static result reads the best, the latest and a thinned
history rather than every trial.
"""

from __future__ import annotations

import json
import sqlite3
import time
import tracemalloc
from pathlib import Path

import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl.report import study_payload
from jupyter_automl.storage import resolve_storage

SECONDS = 2.0


def _grow(db: Path, study: str, total: int) -> None:
    """Copy the study's finished trials with SQL until it holds ``total`` trials."""
    con = sqlite3.connect(db)
    try:
        (study_id,) = con.execute("SELECT study_id FROM studies WHERE study_name = ?", (study,)).fetchone()
        template = con.execute(
            "SELECT trial_id, state, datetime_start, datetime_complete FROM trials "
            "WHERE study_id = ? AND state = 'COMPLETE' ORDER BY number", (study_id,)
        ).fetchall()
        (number,) = con.execute("SELECT MAX(number) FROM trials WHERE study_id = ?", (study_id,)).fetchone()
        (have,) = con.execute("SELECT COUNT(*) FROM trials WHERE study_id = ?", (study_id,)).fetchone()
        for i in range(total - have):
            source, state, start, complete = template[i % len(template)]
            number += 1
            cur = con.execute(
                "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) "
                "VALUES (?, ?, ?, ?, ?)", (number, study_id, state, start, complete)
            )
            new = cur.lastrowid
            # a spread of scores, so the best trials are not all copies of one
            con.execute(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) "
                "SELECT ?, objective, value * (1 - ? * 1e-6), value_type FROM trial_values WHERE trial_id = ?",
                (new, i % 997, source),
            )
            for table, columns in (
                ("trial_params", "param_name, param_value, distribution_json"),
                ("trial_user_attributes", "key, value_json"),
                ("trial_system_attributes", "key, value_json"),
            ):
                con.execute(
                    f"INSERT INTO {table} (trial_id, {columns}) SELECT ?, {columns} FROM {table} WHERE trial_id = ?",
                    (new, source),
                )
        con.commit()
    finally:
        con.close()


def _timed(call):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        value = call()
        return value, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_20000_trial_study_lists_and_shows_in_under_2_s_with_flat_memory(tmp_path):
    db = tmp_path / "team.db"
    url = f"sqlite:///{db}"
    ja.search(data="sklearn:iris", models=["linear", "knn"], n_trials=6, storage=url, name="big",
              display=False, seed=0, holdout=None)
    ja.search(data="sklearn:wine", models=["linear"], n_trials=2, storage=url, name="small",
              display=False, seed=0, holdout=None)
    storage = resolve_storage(url)

    def show():
        return study_payload(optuna.load_study(study_name="big", storage=storage), storage=url)

    _grow(db, "big", 2_000)
    _, _, memory_2k = _timed(show)
    _grow(db, "big", 20_000)

    rows, list_s, _ = _timed(lambda: ja.list_studies(url))
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"big", "small"}
    assert by_name["small"]["state"] == "finished"
    assert list_s < SECONDS, f"listing took {list_s:.2f} s"

    payload, show_s, memory_20k = _timed(show)
    assert show_s < SECONDS, f"showing the 20,000-trial study took {show_s:.2f} s"
    assert payload["study"]["n_trials"] == 20_000, payload["study"]
    assert payload["leaderboard"]["sampled"] and payload["leaderboard"]["total_rows"] == 20_000
    assert 0 < len(payload["leaderboard"]["rows"]) <= 1_000
    assert 0 < len(payload["history"]) <= 2_000
    best = max(r["score"] for r in payload["leaderboard"]["rows"] if r.get("score") is not None)
    assert payload["best"]["score"] == best
    # ten times the trials, about the same memory: the view never holds every trial
    assert memory_20k < 2 * memory_2k + (8 << 20), (memory_2k, memory_20k)


# ------------------------------------------------------------------ the read-only server's API
@pytest.fixture
def jp_root_dir(tmp_path_factory):
    """The server's root: one 20,000-trial study and one small study in its studies file."""
    root = tmp_path_factory.mktemp("server") / "root"
    (root / ".jupyter_automl").mkdir(parents=True)
    db = root / ".jupyter_automl" / "studies.db"
    for name, data in (("big", "sklearn:iris"), ("small", "sklearn:wine")):
        ja.search(data=data, models=["linear"], n_trials=3, storage=f"sqlite:///{db}", name=name,
                  display=False, seed=0, holdout=None)
    _grow(db, "big", 20_000)
    return root


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"jupyter_automl": True}}}


async def test_the_server_lists_and_serves_a_20000_trial_study_in_under_2_s(jp_fetch, jp_root_dir):
    api = ("jupyter-automl", "api", "studies")
    started = time.perf_counter()
    listing = json.loads((await jp_fetch(*api)).body)
    list_s = time.perf_counter() - started
    assert {s["name"] for s in listing["studies"]} == {"big", "small"} and listing["errors"] == []
    assert list_s < SECONDS, f"GET studies took {list_s:.2f} s"

    started = time.perf_counter()
    detail = json.loads((await jp_fetch(*api, "big", params={"db": ".jupyter_automl/studies.db"})).body)
    show_s = time.perf_counter() - started
    assert detail["study"]["n_trials"] == 20_000 and detail["leaderboard"]["sampled"]
    assert show_s < SECONDS, f"GET studies/big took {show_s:.2f} s"
