"""The NAS spaces through the public entry point, `jupyter_automl.search`."""

from __future__ import annotations

import runpy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import jupyter_automl as ja
from jupyter_automl._errors import ConfigError
from jupyter_automl.spaces.nas.genotypes import CellGenotype

FAST = {"n_trials": 2, "epochs": 1, "storage": "memory", "display": False, "device": "cpu",
        "batch_size": 64, "lr": 0.01}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300].reshape(-1, 1, 8, 8), y[:300]


@pytest.mark.parametrize("strategy", ["random", "tpe", "evolution", "rules"])
def test_strategies_search_the_cell_space(digits, strategy) -> None:
    X, y = digits
    result = ja.search(X=X, y=y, space="nas-cell", strategy=strategy,
                       space_options={"channels": 4}, **FAST)
    genotype = result.best_params["genotype"]
    assert genotype.startswith("|") and genotype.count("~") == 6
    assert genotype == result.best_model.genotype_
    assert isinstance(result.best_model, torch.nn.Module)
    assert result.predict(X[:7]).shape == (7,)
    board = result.leaderboard
    assert board["model"].iloc[0].startswith("|")


def test_result_export_is_standalone_and_identical(digits, tmp_path) -> None:
    X, y = digits
    result = ja.search(X=X, y=y, space="nas-chain", strategy="random",
                       space_options={"widths": [8], "max_blocks": 2}, **FAST)
    path = result.export(tmp_path / "net.py")
    torch.save(result.best_model.state_dict(), tmp_path / "weights.pt")
    namespace = runpy.run_path(str(path), run_name="exported")
    model = namespace["build_model"]()
    model.load_state_dict(torch.load(tmp_path / "weights.pt"))
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(X[:20], dtype=torch.float32)).numpy()
    assert np.array_equal(np.array(namespace["CLASSES"])[logits.argmax(1)],
                          result.predict(X[:20]))


def test_darts_then_retrain_as_a_trial(digits) -> None:
    X, y = digits
    result = ja.search(X=X, y=y, space="nas-cell", strategy="darts",
                       space_options={"channels": 4, "darts_epochs": 2},
                       **{**FAST, "n_trials": 1})
    trial = result.study.trials[0]
    assert set(trial.params) == {f"edge_{i}_{j}" for i in range(1, 4) for j in range(i)}
    cell = CellGenotype.from_string(trial.user_attrs["jupyter_automl"]["genotype"])
    assert cell.canonical().ops != ("none",) * 6  # `none` may win an edge, never the cell


def test_multi_objective_pareto(digits) -> None:
    X, y = digits
    result = ja.search(X=X, y=y, space="nas-mlp", strategy="random", objectives=["accuracy",
                       "params"], space_options={"widths": [16, 32], "max_depth": 1}, **FAST)
    assert [d.name for d in result.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert result.study.best_trials
    # the model kept is the Pareto member best on the first objective (accuracy)
    front = result.study.best_trials
    assert result.best_trial.number == max(front, key=lambda t: (t.values[0], -t.number)).number
    assert result.best_score == result.best_trial.values[0]
    assert result.predict(X[:5]).shape == (5,)
    board = result.leaderboard
    assert board["pareto"].fillna(False).sum() == len(front)
    assert (board.loc[board["state"] == "COMPLETE", "epochs_run"] >= 1).all()


def test_darts_needs_the_cell_space(digits) -> None:
    X, y = digits
    with pytest.raises(ConfigError, match="darts searches the nas-cell space only"):
        ja.search(X=X, y=y, space="nas-dag", strategy="darts", **FAST)


def test_mlp_on_a_bundled_binary_table_uses_roc_auc() -> None:
    result = ja.search(data="sklearn:breast_cancer", space="nas-mlp", strategy="tpe",
                       space_options={"widths": [16], "max_depth": 1}, **FAST)
    assert result.study.user_attrs["jupyter_automl:metric"] == "roc_auc"
    assert 0.5 < result.best_score <= 1.0
    proba = result.space.predict_proba(result.best_model, result.space.data.X.iloc[:4])
    assert proba.shape == (4, 2)


def test_parallel_trials(digits) -> None:
    X, y = digits
    result = ja.search(X=X, y=y, space="nas-cell", strategy="random", n_jobs=2,
                       space_options={"channels": 4}, **{**FAST, "n_trials": 3})
    assert sum(t.state.name == "COMPLETE" for t in result.study.trials) == 3


def test_nhwc_tensors_in_and_out(digits) -> None:
    X, y = digits
    images = torch.tensor(X.transpose(0, 2, 3, 1), dtype=torch.float32)  # NHWC tensor
    result = ja.search(X=images, y=torch.tensor(y), space="nas-chain", strategy="random",
                       space_options={"widths": [8], "max_blocks": 1}, **{**FAST, "n_trials": 1})
    assert result.predict(images[:5]).shape == (5,)
    assert np.array_equal(result.predict(images[:5]), result.predict(X[:5]))  # NCHW array


def test_the_default_on_nas_cell_evolves_the_screened_cells(digits) -> None:
    """strategy: auto on nas-cell: SynFlow's 10 best are the first population, then every
    trial is a mutation of a tournament winner among them, and each is a new cell."""
    X, y = digits
    options = {**FAST, "n_trials": 13}
    result = ja.search(X=X, y=y, space="nas-cell", space_options={"channels": 4}, **options)
    assert result.config.strategy == "evolution"
    trials = sorted(result.study.trials, key=lambda t: t.number)
    assert len(trials) == 13
    screened = trials[:10]
    assert all("fixed_params" in t.system_attrs for t in screened)  # queued by the screening
    assert trials[10].system_attrs["evolution:parent"] < 10  # a screened cell's child
    for trial in trials[10:]:  # the population is the latest 10 (the oldest age out)
        assert trial.number - 10 <= trial.system_attrs["evolution:parent"] < trial.number
    edges = [f"edge_{i}_{j}" for i, j in CellGenotype.edges()]
    cells = {CellGenotype(tuple(t.params[e] for e in edges)).canonical() for t in trials}
    assert len(cells) == 13
