"""A NAS budget buys architectures, and a search returns a model every time.

Real searches at the package's defaults (worker processes, real training); the images are
made here: coloured squares, discs and bars on a noisy background, 32×32.
"""

from __future__ import annotations

import re
import signal
import time
from typing import Any

import numpy as np
import optuna
import pytest

import jupyter_automl as ja
from jupyter_automl._entry import run_search
from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.insight.svg import holdout_line
from jupyter_automl.report import format_score, payload_html, payload_text
from jupyter_automl.runner import Observer
from jupyter_automl.storage import ATTR


def coloured_shapes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images N×3×32×32 (float32) of three classes: a filled square, a disc, a bar."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(0.0, 0.3, (n, 3, 32, 32)).astype(np.float32)
    rows, cols = np.mgrid[:32, :32]
    for i, label in enumerate(y):
        r, c = rng.integers(8, 24, 2)
        size = rng.integers(4, 8)
        if label == 0:
            mask = (abs(rows - r) <= size) & (abs(cols - c) <= size)
        elif label == 1:
            mask = (rows - r) ** 2 + (cols - c) ** 2 <= size**2
        else:
            mask = (abs(rows - r) <= 1) & (abs(cols - c) <= size + 2)
        X[i][:, mask] += rng.uniform(0.5, 1.5, (3, 1))
    return X, y


def _state(storage: str, name: str) -> str:
    study = optuna.load_study(study_name=name, storage=storage)
    return study.user_attrs[f"{ATTR}:state"]["state"]


@pytest.mark.slow
def test_a_minute_of_default_search_trains_many_architectures_and_returns_a_model() -> None:
    X, y = coloured_shapes(600)
    start = time.monotonic()
    result = ja.search(X=X, y=y, space="nas-cell", time_budget=60, storage="memory", display=False)
    elapsed = time.monotonic() - start
    assert elapsed <= 60 * 1.05 + 1, elapsed
    assert result.best_model is not None
    trained = [t for t in result.study.get_trials(deepcopy=False) if t.intermediate_values]
    architectures = {t.user_attrs[ATTR]["model"] for t in trained}
    assert len(architectures) >= 10, len(architectures)
    # most stop at the first rung, the best train longer: successive halving over epochs
    epochs = sorted(max(t.intermediate_values) for t in trained)
    assert epochs[0] <= 2 and epochs[-1] >= 3, epochs
    # the leaderboard says which rung each architecture reached, pruned ones too
    board = result.leaderboard
    pruned = board[board["state"] == "PRUNED"]
    # (a trial the deadline stopped before its first epoch has no rung)
    assert len(pruned) and (pruned["epochs_run"].dropna() < 3).all(), board[["state", "epochs_run"]]
    X_new, y_new = coloured_shapes(300, seed=1)  # images no part of the search saw
    accuracy = float(np.mean(result.predict(X_new) == y_new))
    assert accuracy > 0.5, accuracy  # three classes: a trained network, not chance
    # the held-out score is the final training's (not the best trial's few epochs): it tells
    # the user what the returned network does on new images
    held_out = result.insight["holdout"]["scores"]["accuracy"]
    assert abs(held_out - accuracy) <= 0.15, (held_out, accuracy)
    _names_the_final_network(result)


def _names_the_final_network(result: Any) -> None:
    """The header gives the final network's held-out score beside the best trial's validation
    score (a few epochs), and the model line names each for what it is."""
    holdout = result.insight["holdout"]
    assert holdout["model"] == "final network" and holdout["cv_kind"] == "validation", holdout
    assert result.holdout_score == holdout["score"] and result.best_score == holdout["cv_score"]
    payload = result.payload()
    assert f"; final network held-out {format_score(holdout['score'])}" in payload_text(payload)
    assert f" · final network: held-out <b>{format_score(holdout['score'])}</b>" in payload_html(payload)
    assert f"(final network; trial {holdout['trial']}'s validation " in holdout_line(result.insight)


def test_a_final_refit_that_cannot_fit_keeps_the_trials_network_with_a_note() -> None:
    X, y = coloured_shapes(300)
    # 40 epochs cannot end in 25 s here: the trial stops at the deadline with its last whole
    # epoch, and retraining it on all rows (40 epochs) cannot fit in what is left
    start = time.monotonic()
    result = ja.search(X=X, y=y, space="nas-cell", strategy="random", epochs=40, time_budget=25,
                       holdout="none", storage="memory", display=False, pruner="none",
                       space_options={"channels": 4, "n_stages": 2})
    assert result.best_model is not None
    assert time.monotonic() - start <= 25 * 1.05 + 1
    assert result.final["kind"] == "trial-network"
    assert result.final["trained_on"] == "the trial's training split"
    note = result.final["note"]
    assert "not retrained on all rows" in note or "final training ran out of time" in note, note
    # the model is the trial's network as trained: it scores its validation rows as recorded
    assert result.predict(X[:5]).shape == (5,)


def test_nas_mlp_with_a_time_budget_returns_a_model_on_breast_cancer() -> None:
    start = time.monotonic()
    result = ja.search(data="sklearn:breast_cancer", space="nas-mlp", time_budget=20,
                       storage="memory", display=False)
    assert time.monotonic() - start <= 20 * 1.05 + 1
    assert result.best_model is not None and result.best_score > 0.8
    _names_the_final_network(result)


class _Trigger(Observer):
    """Acts when the first trial ends: sets a stop event (the Stop button) or sends a SIGINT
    (the kernel's interrupt button) to this process."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.stop_event: Any = None

    def on_trial(self, record: Any, trial: Any) -> None:
        if record.number != 0:
            return
        if self.action == "stop":
            self.stop_event.set()
        else:
            signal.raise_signal(signal.SIGINT)


class _Broken(Observer):
    def on_start(self, run: Any) -> None:
        raise RuntimeError("a view that breaks at the start")


def _mlp_config(tmp_path: Any, name: str) -> tuple[SearchConfig, str]:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    config = SearchConfig(data="sklearn:breast_cancer", space="nas-mlp", strategy="random",
                          n_trials=30, epochs=3, storage=storage, name=name, display=False)
    return config, storage


def test_a_study_is_never_left_running(tmp_path: Any) -> None:
    config, storage = _mlp_config(tmp_path, "done")
    run_search(config)
    assert _state(storage, "done") == "finished"

    config, storage = _mlp_config(tmp_path, "stop")
    trigger = _Trigger("stop")
    search = Search(config, observers=[trigger])
    trigger.stop_event = search.stop_event
    result = search.run()
    assert result.stop_reason == "stopped" and result.best_model is not None
    assert _state(storage, "stop") == "stopped"

    config, storage = _mlp_config(tmp_path, "interrupt")
    result = run_search(config, observers=[_Trigger("interrupt")])
    assert result.stop_reason == "interrupted" and result.best_model is not None
    assert _state(storage, "interrupt") == "stopped"
    assert "stopped" in result._repr_mimebundle_()["text/plain"]

    config, storage = _mlp_config(tmp_path, "broken")
    with pytest.raises(RuntimeError, match="breaks at the start"):
        run_search(config, observers=[_Broken()])
    assert _state(storage, "broken") == "failed"


def test_large_data_is_searched_on_a_subsample_and_the_final_model_trains_on_every_row() -> None:
    """6,000 images and 40 s: a search epoch on all 4,800 training rows would cost over a tenth of
    the budget here, so the trials rank architectures on the same stratified 1,000 rows and the
    final training goes on from the best trial's weights on every row."""
    from jupyter_automl.spaces.nas.spaces import SEARCH_MIN_ROWS

    X, y = coloured_shapes(6000)
    start = time.monotonic()
    result = ja.search(X=X, y=y, space="nas-cell", time_budget=40, storage="memory", display=False)
    assert time.monotonic() - start <= 40 * 1.05 + 1
    assert result.best_model is not None
    trained = [t for t in result.study.get_trials() if t.user_attrs.get(ATTR, {}).get("search_rows")]
    assert trained
    rows = {t.user_attrs[ATTR]["search_rows"] for t in trained}
    assert len(rows) == 1, rows  # one subsample for every trial: their scores compare
    assert abs(rows.pop() - SEARCH_MIN_ROWS) <= 3  # stratified: each class rounds its share
    assert result.final["search_rows"] == SEARCH_MIN_ROWS
    notes = " ".join(result.insight["notes"])
    assert "not refit on all rows" not in notes, notes
    # the final training saw every row, or as many as two epochs of fit in the time left
    trained_on = result.final["trained_on"]
    seen = re.fullmatch(r"a stratified (\d+) of the 6000 rows \(.*\)", trained_on)
    assert trained_on == "every row" or (seen and int(seen[1]) >= SEARCH_MIN_ROWS), trained_on
    X_new, y_new = coloured_shapes(600, seed=1)
    assert np.mean(result.predict(X_new) == y_new) > 0.5  # three classes: chance is a third
