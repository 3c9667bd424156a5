from __future__ import annotations

import numpy as np
import optuna
import pytest

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasChainSpace, NasDagSpace, NasMlpSpace
from tests.nas.conftest import diabetes_dataset, digits_dataset, make_config

SMALL = {
    NasCellSpace: {"channels": 4},
    NasDagSpace: {"channels": 4, "max_nodes": 5},
    NasChainSpace: {"widths": [8, 16], "max_blocks": 2},
    NasMlpSpace: {"widths": [16, 32], "max_depth": 2},
}


def _run(space, n_trials=2, sampler=None, enqueue=()):
    study = optuna.create_study(direction="maximize",
                                sampler=sampler or optuna.samplers.RandomSampler(seed=0))
    for params in enqueue:
        study.enqueue_trial(params)
    results = []
    for _ in range(n_trials):
        trial = study.ask()
        params = space.sample(trial)
        evaluation = space.evaluate(trial, params, None)
        for key, value in evaluation.user_attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, evaluation.values)
        results.append((params, evaluation))
    return study, results


@pytest.mark.parametrize("cls", list(SMALL))
def test_every_space_trains_real_trials_and_predicts(cls) -> None:
    space = cls(make_config(space=cls.name, space_options=SMALL[cls]), digits_dataset())
    space.check()
    study, results = _run(space)
    for params, evaluation in results:
        assert space.genotype(params).to_string() == params["genotype"]
        assert evaluation.user_attrs["epochs_run"] == 2
        assert 0.0 <= evaluation.values <= 1.0
        assert evaluation.user_attrs["n_params"] > 0
        assert space.describe(params) == params["genotype"]
        assert space.diagram(params)["edges"]
    best = max(results, key=lambda r: r[1].values)[0]
    model = space.fit_final(best, None)
    X = space.data.X.iloc[:20]
    labels = space.predict(model, X)
    proba = space.predict_proba(model, X)
    assert labels.shape == (20,) and set(labels) <= set(range(10))
    assert proba.shape == (20, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)


def test_same_seed_same_scores() -> None:
    config = make_config(space_options={"channels": 4})
    first = _run(NasCellSpace(config, digits_dataset()), n_trials=1)[1][0][1]
    second = _run(NasCellSpace(config, digits_dataset()), n_trials=1)[1][0][1]
    assert first.values == second.values
    assert first.user_attrs["history"] == second.user_attrs["history"]


def test_nhwc_images_in_the_cell_space_learn() -> None:
    space = NasCellSpace(make_config(epochs=4, space_options={"channels": 8}),
                         digits_dataset(400, as_images=True))
    preset = space.preset()
    _, results = _run(space, n_trials=1, enqueue=[preset])
    assert results[0][1].values > 0.8


def test_mlp_regression() -> None:
    space = NasMlpSpace(make_config(space="nas-mlp", epochs=3, lr=3e-2,
                                    space_options=SMALL[NasMlpSpace]), diabetes_dataset())
    space.check()
    _, results = _run(space, n_trials=2)
    assert all(np.isfinite(r[1].values) for r in results)
    model = space.fit_final(results[0][0], None)
    assert space.predict(model, space.data.X.iloc[:5]).shape == (5,)
    with pytest.raises(ConfigError, match="only available for classification"):
        space.predict_proba(model, space.data.X.iloc[:5])


def test_training_options_can_be_searched() -> None:
    config = make_config(lr=[1e-3, 1e-1], batch_size=[32, 64, 128], optimizer=["adam", "sgd"],
                         epochs=1, space_options={"channels": 4})
    study, results = _run(NasCellSpace(config, digits_dataset()), n_trials=2)
    dists = study.trials[0].distributions
    assert isinstance(dists["lr"], optuna.distributions.FloatDistribution) and dists["lr"].log
    assert dists["batch_size"].choices == (32, 64, 128)
    assert {"lr", "batch_size", "optimizer"} <= set(results[0][0])


def test_multi_objective_accuracy_and_params() -> None:
    config = make_config(objectives=["accuracy", "params"], epochs=1,
                         space_options={"channels": 4})
    space = NasCellSpace(config, digits_dataset())
    space.check()
    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    evaluation = space.evaluate(trial, space.sample(trial), None)
    assert len(evaluation.values) == 2
    assert evaluation.values[1] == evaluation.user_attrs["n_params"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"chanels": 8}, "unknown key 'chanels' for space 'nas-cell' \\(did you mean 'channels'\\?\\)"),
        ({"ops": ["nor_conv_3x3", "conv_5x5"]}, r"option 'space_options.ops': unknown \['conv_5x5'\]"),
        ({"n_cells": 0}, r"'space_options.n_cells' must be an integer in \[1, 32\], got 0"),
    ],
)
def test_cell_option_errors(options, match) -> None:
    with pytest.raises(ConfigError, match=match):
        NasCellSpace(make_config(space_options=options), digits_dataset()).check()


def test_option_errors_are_collected() -> None:
    with pytest.raises(ConfigError, match=r"(?s)chanels.*'space_options.n_stages' must be"):
        NasCellSpace(make_config(space_options={"chanels": 8, "n_stages": 0}),
                     digits_dataset()).check()


def test_objective_and_data_errors() -> None:
    with pytest.raises(ConfigError, match="option 'objectives': 'flops' is not available in NAS spaces"):
        NasCellSpace(make_config(objectives=["accuracy", "flops"]), digits_dataset()).check()
    with pytest.raises(DataError, match="10 columns cannot be read as square"):
        NasCellSpace(make_config(), diabetes_dataset()).check()
    with pytest.raises(ConfigError, match=r"'space_options.max_nodes' must be an integer in \[3, 7\]"):
        NasDagSpace(make_config(space_options={"max_nodes": 9}), digits_dataset()).check()


@pytest.mark.parametrize("cls", list(SMALL))
def test_preset_is_valid_params_of_the_space(cls) -> None:
    space = cls(make_config(space=cls.name, epochs=1, space_options=SMALL[cls]),
                digits_dataset(100))
    study, results = _run(space, n_trials=1, enqueue=[space.preset()])
    assert study.trials[0].params.items() >= space.preset().items()


def test_median_pruner_stops_weak_architectures() -> None:
    space = NasCellSpace(make_config(epochs=3, space_options={"channels": 4}),
                         digits_dataset(200))
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1,
                                                                   n_warmup_steps=0))
    good = space.preset()
    bad = {k: "none" for k in good}  # an all-`none` cell cannot learn
    for params in (good, bad):
        study.enqueue_trial(params)
    for _ in range(2):
        trial = study.ask()
        params = space.sample(trial)
        try:
            study.tell(trial, space.evaluate(trial, params, None).values)
        except optuna.TrialPruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]


def test_params_resolve_from_optuna_params_and_config() -> None:
    config = make_config(epochs=3, lr=[1e-4, 1e-2], optimizer=["sgd", "adam"],
                         space_options={"channels": 4})
    space = NasCellSpace(config, digits_dataset(50))
    edges = space.preset()
    resolved = space.resolve({**edges, "lr": 0.005, "optimizer": "adam"})
    assert resolved["genotype"] == space.describe(edges) and resolved["epochs"] == 3
    settings = space.settings({"genotype": resolved["genotype"]})
    assert settings.epochs == 3 and settings.optimizer == "sgd"
    assert settings.lr == pytest.approx(1e-3)  # the geometric middle of a searched range


def test_a_candidate_seen_before_is_not_trained_again() -> None:
    space = NasCellSpace(make_config(space_options={"channels": 4}), digits_dataset(100))
    study = optuna.create_study(direction="maximize")
    for _ in range(2):
        study.enqueue_trial(space.preset())
    first, second = study.ask(), study.ask()
    a = space.evaluate(first, space.sample(first), None)
    b = space.evaluate(second, space.sample(second), None)
    assert b.values == a.values and b.user_attrs["duplicate_of"] == first.number
    assert "duplicate_of" not in a.user_attrs
