"""CatBoost on large tables: its default is tried, and it is sampled only while it leads."""

from __future__ import annotations

import collections

import numpy as np
import optuna
import pandas as pd
import pytest

import jupyter_automl as ja
from jupyter_automl.config import SearchConfig
from jupyter_automl.data import load_dataset
from jupyter_automl.spaces.tabular import TabularSpace
from jupyter_automl.spaces.tabular.space import LARGE_ROWS
from jupyter_automl.strategies.proven import ProvenSampler

pytest.importorskip("catboost")


def _frame(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, 5)), columns=list("abcde"))
    return X, X @ np.array([3.0, -2.0, 1.0, 0.5, 0.0]) + rng.normal(scale=0.1, size=rows)


def test_catboost_is_a_large_tables_family_only_unless_named():
    X, y = _frame(LARGE_ROWS - 1)
    small = TabularSpace(SearchConfig(), load_dataset(X=X, y=y))
    assert "catboost" not in small.families and not small.proven_families
    named = TabularSpace(SearchConfig(models=["catboost", "linear"]), load_dataset(X=X, y=y))
    assert named.families == ["linear", "catboost"] and not named.proven_families
    X, y = _frame(LARGE_ROWS)
    large = TabularSpace(SearchConfig(), load_dataset(X=X, y=y))
    assert "catboost" in large.families and large.proven_families == ["catboost"]
    assert [p["model"] for p in large.portfolio()].count("catboost") == 1


def test_a_large_search_samples_catboost_only_while_it_leads():
    # a linear target: the linear model leads, so CatBoost gets its default trial and no other
    X, y = _frame(LARGE_ROWS + 500)
    result = ja.search(X=X, y=y, n_trials=20, storage="memory", display=False,
                       seed=0, n_jobs=1, holdout=None)  # every row searched: a large table
    models = collections.Counter(t.params.get("model") for t in result.study.trials)
    assert models["catboost"] == 1, models
    assert sum(models.values()) == 20 and len(models) >= 4, models  # the others are sampled
    assert result.best_params["model"] == "linear"


def test_the_sampler_proposes_a_gated_family_while_it_leads():
    def objective(trial):
        return {"a": 0.5, "b": 1.0, "c": 0.2}[trial.suggest_categorical("model", ["a", "b", "c"])]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for base in (optuna.samplers.RandomSampler(seed=1),
                 optuna.samplers.TPESampler(seed=1, multivariate=True, group=True, n_startup_trials=3)):
        sampler = ProvenSampler(base, "model", {"b"}, seed=1)
        study = optuna.create_study(sampler=sampler, direction="maximize")
        study.enqueue_trial({"model": "a"})
        study.optimize(objective, n_trials=6)
        assert "b" not in [t.params["model"] for t in study.trials]  # never proposed before it leads
        study.enqueue_trial({"model": "b"})  # its default: now it leads
        study.optimize(objective, n_trials=15)
        later = [t.params["model"] for t in study.trials[7:]]
        assert later.count("b") >= 5, later
