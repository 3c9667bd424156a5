"""The engine end to end on real (small) data: strategies, budgets, failures, observers, parallelism."""

from __future__ import annotations

import time

import numpy as np
import optuna
import pandas as pd
import pytest

import jupyter_automl as ja
from jupyter_automl.runner import Observer

STRATEGIES = ["rules", "random", "tpe", "gp", "evolution"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_finds_a_working_model(strategy):
    result = ja.search(data="sklearn:iris", strategy=strategy, n_trials=7, cv=3, storage="memory",
                       display=False, seed=1)
    expected = 1 if strategy == "rules" else 7
    assert result.n_trials == expected
    assert result.best_score > 0.85
    board = result.leaderboard
    assert list(board.columns[:8]) == ["rank", "trial", "model", "score", "score_std", "duration_s", "state", "params"]
    assert board["rank"].iloc[0] == 1 and board["score"].iloc[0] == pytest.approx(result.best_trial.values[0])
    if result.ensemble is None:
        assert result.best_score == pytest.approx(result.best_trial.values[0])
    else:  # an ensemble is kept only when it scores better than the best trial
        assert result.best_score > result.best_trial.values[0]
    X = result.dataset.X
    assert (result.predict(X) == result.best_model.predict(X)).all()
    assert result.predict_proba(X).shape == (150, 3)


def test_same_seed_same_leaderboard():
    runs = [ja.search(data="sklearn:breast_cancer", strategy="tpe", n_trials=14, cv=3, seed=3,
                      storage="memory", display=False).leaderboard for _ in range(2)]
    cols = ["rank", "trial", "model", "score", "state"]
    pd.testing.assert_frame_equal(runs[0][cols], runs[1][cols])
    assert runs[0]["params"].tolist() == runs[1]["params"].tolist()
    assert len(runs[0]) > 10  # enough trials past the portfolio to exercise the sampler


def test_regression_with_categoricals_and_missing_values(penguins):
    frame = penguins.dropna(subset=["body_mass_g"])
    result = ja.search(data=frame, target="body_mass_g", metric="mae", n_trials=6, cv=3, storage="memory",
                       display=False)
    assert result.dataset.task == "regression"
    assert result.study.direction == optuna.study.StudyDirection.MINIMIZE
    assert 150 < result.best_score < 500  # grams of error; predicting the mean is ~650
    pred = result.predict(frame.drop(columns=["body_mass_g"]).head(5))
    assert pred.shape == (5,)


def test_portfolio_is_tried_first():
    result = ja.search(data="sklearn:breast_cancer", strategy="random", n_trials=3, cv=3, storage="memory", display=False)
    first, second = result.study.trials[:2]
    assert first.params["model"] == "linear" and first.params["lr_C"] == 1.0
    assert second.params["model"] == "hist_gradient_boosting" and second.params["hgb_learning_rate"] == 0.1


def test_weak_candidates_are_pruned_after_first_folds():
    result = ja.search(data="sklearn:breast_cancer", strategy="random", n_trials=18, cv=4, seed=0,
                       storage="memory", display=False)
    board = result.leaderboard
    pruned = board[board["state"] == "PRUNED"]
    assert len(pruned) > 0
    assert pruned["error"].str.contains("pruned after fold").all()


class Recorder(Observer):
    def __init__(self):
        self.started, self.records, self.ended, self.stored = None, [], None, []

    def on_start(self, run):
        self.started = run

    def on_trial(self, record, trial):
        self.records.append(record)
        # every finished trial is in storage before the next one starts
        self.stored.append(sum(t.state.is_finished() for t in self.study.get_trials(deepcopy=False)))

    def on_end(self, result):
        self.ended = result


def test_observers_get_every_trial_after_it_is_stored(workdir):
    rec = Recorder()

    def start(run):
        rec.study = optuna.load_study(study_name=run.study_name, storage=run.storage)

    rec.on_start = start
    result = ja.search(data="sklearn:iris", n_trials=5, cv=3, observers=[rec], display=False, name="obs")
    assert [r.number for r in rec.records] == [0, 1, 2, 3, 4]
    assert rec.stored == [1, 2, 3, 4, 5]
    assert rec.ended is result
    assert all(r.model and r.duration_s > 0 for r in rec.records)


def test_failing_trials_are_recorded_and_the_search_goes_on():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    y = (X["a"] > 0).astype(int)
    # k-NN with more neighbours than rows in a training fold raises inside scikit-learn
    result = ja.search(X=X, y=y, models=["knn"], strategy="random", n_trials=12, cv=2, seed=2,
                       storage="memory", display=False, pruner="none")
    board = result.leaderboard
    failed = board[board["state"] == "FAIL"]
    assert len(failed) > 0 and len(board[board["state"] == "COMPLETE"]) > 0
    assert failed["error"].str.contains("n_neighbors").all()
    assert result.n_trials == 12
    assert result.best_model is not None


def test_no_successful_trial_gives_a_clear_error(monkeypatch):
    from sklearn.linear_model import LogisticRegression

    def broken_fit(self, X, y, sample_weight=None):  # a fault injected where it happens: in the fit
        raise FloatingPointError("injected: the solver diverged")

    monkeypatch.setattr(LogisticRegression, "fit", broken_fit)
    X = pd.DataFrame({"a": np.arange(30.0)})
    y = np.arange(30) % 2
    result = ja.search(X=X, y=y, models=["linear"], n_trials=2, cv=2, storage="memory", display=False,
                       executor="thread")  # the patch lives in this process (tests/faults patch workers)
    assert (result.leaderboard["state"] == "FAIL").all()
    assert result.leaderboard["error"].str.contains("injected: the solver diverged").all()
    with pytest.raises(ja.AutoMLError, match="no trial completed"):
        result.predict(X)


def test_inf_in_a_feature_is_refused_before_any_trial():
    X = pd.DataFrame({"a": np.r_[np.inf, np.arange(29.0)]})
    with pytest.raises(ja.DataError, match=r"\['a'\] hold infinite values"):
        ja.search(X=X, y=np.arange(30) % 2, n_trials=2, storage="memory", display=False)


def test_time_budget_holds_including_refit():
    t0 = time.monotonic()
    result = ja.search(data="sklearn:digits", time_budget="4s", storage="memory", display=False)
    elapsed = time.monotonic() - t0
    assert result.stop_reason == "time_budget"
    assert result.best_model is not None
    assert elapsed < 4 + 2.0, f"the 4 s budget took {elapsed:.1f} s"


def test_parallel_trials(workdir):
    result = ja.search(data="sklearn:breast_cancer", n_trials=8, n_jobs=2, cv=3, display=False, name="par")
    assert result.n_trials == 8
    numbers = sorted(t.number for t in result.study.trials)
    assert numbers == list(range(8))
    assert result.best_model is not None


def test_ensemble_used_only_when_better():
    result = ja.search(data="sklearn:breast_cancer", n_trials=10, cv=3, ensemble=True, storage="memory",
                       display=False, seed=0)
    best_single = result.study.best_value
    if result.ensemble is not None:
        assert result.ensemble["score"] > best_single
        assert type(result.best_model).__name__ == "VotingClassifier"
        assert len(result.ensemble["members"]) >= 2
    else:
        assert type(result.best_model).__name__ == "Pipeline"
    assert result.best_score >= best_single


def test_greedy_ensemble_combines_complementary_models():
    from jupyter_automl.ensemble import greedy_ensemble
    from jupyter_automl.evaluate.metrics import get_metric

    y = np.array([0, 1] * 50)
    classes = np.array([0, 1])
    good_on_first_half = np.where(np.arange(100)[:, None] < 50, np.eye(2)[y] * 0.8 + 0.1, 0.5)
    good_on_second_half = np.where(np.arange(100)[:, None] >= 50, np.eye(2)[y] * 0.8 + 0.1, 0.5)
    noise = np.full((100, 2), 0.5)
    metric = get_metric("log_loss", "binary")
    oofs = {0: good_on_first_half, 1: good_on_second_half, 2: noise}
    scores = {n: metric(y, o, classes) for n, o in oofs.items()}
    weights, score = greedy_ensemble(oofs, scores, y, metric, classes)
    assert set(weights) == {0, 1}
    assert score < min(scores.values())
