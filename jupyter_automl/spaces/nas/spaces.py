"""The NAS search spaces: ``nas-cell``, ``nas-dag``, ``nas-chain`` and ``nas-mlp``.

Each space samples a genotype through Optuna categorical/int parameters (plus the training
options the config leaves open), trains the network it describes with
:func:`~jupyter_automl.evaluate.torch_training.train_model` on a seeded hold-out split, and
reports the validation score per epoch so pruners can stop weak architectures.

The network a space returns is ``nn.Sequential(Standardize, <Network>)``, plus ``TargetScale``
for a regression: the input scaling learnt from the training data, and the targets' scale
(training standardises them), are part of the model, so ``predict`` and the exported file
take raw inputs and give values in the targets' units.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from jupyter_automl._errors import ConfigError, DataError, did_you_mean
from jupyter_automl.config import SHORT_BUDGET_S
from jupyter_automl.spaces._base import Evaluation, FinalModel, FitFailed, SearchSpace, fit_limit
from jupyter_automl.spaces.nas.genotypes import (
    CELL_OPS,
    DAG_OPS,
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    Genotype,
    MlpGenotype,
)

if TYPE_CHECKING:
    import optuna
    from torch import nn

__all__ = ["NasCellSpace", "NasChainSpace", "NasDagSpace", "NasMlpSpace", "TorchSpace"]

#: Training options a config may fix or search, with their defaults here.
TRAINING_DEFAULTS: dict[str, Any] = {
    "epochs": 10,
    "batch_size": 64,
    "lr": 5e-3,
    "optimizer": "adam",
    "weight_decay": 0.0,
}
_COMMON_OPTIONS: dict[str, Any] = {"val_fraction": 0.2, "proxy_candidates": 200,
                                   "proxy_keep": 10}
_OBJECTIVES_EXTRA = ("params", "latency")
_BUILD_LOCK = threading.Lock()
#: Epochs a candidate trains at most by default; successive halving stops most after 1 or 3.
AUTO_EPOCHS = 9
#: With epochs left to the search (the default) and a time budget, this share of the budget is
#: kept for the final training of the best architecture, on every row, for as many epochs as
#: fit in it (at most :data:`FINAL_MAX_EPOCHS`): the search looks cheaply, the model trains long.
FINAL_SHARE = 0.35
FINAL_MAX_EPOCHS = 60
#: Epochs a candidate trains at most in such a search (successive halving: 1, then 3).
FINAL_SEARCH_EPOCHS = 3
#: what a final network trained on when the refit on every row did not follow
SEARCHED_ROWS = "the searched rows (not the held-out ones)"


#: With a final training (:meth:`NasSpace.final_training`), a search epoch costs at most this
#: share of the time budget: on large data, search trials train on a stratified subsample of the
#: training rows (the same one for every trial) and only the final model sees them all.
SEARCH_EPOCH_SHARE = 1 / 40
#: input values (C×H×W, or features) per second that one CPU core's epoch gets through on the
#: search's half-width networks (measured: 1.3 million on this project's 2-core machine), and a
#: GPU's assumed speed-up (not measured: no GPU so far)
SEARCH_VALUES_PER_SECOND = 1.2e6
GPU_SPEEDUP = 30.0
#: the subsample never goes below this many rows
SEARCH_MIN_ROWS = 1000


def short_budget(config: Any) -> bool:
    """Whether the run's time budget is a short one (below ``config.SHORT_BUDGET_S``)."""
    budget = _option_value(config, "time_budget", None)
    return budget is not None and float(budget) < SHORT_BUDGET_S


def _user_set(config: Any, name: str) -> bool:
    """Whether the user gave option ``name`` (a pydantic config knows; anything else: yes)."""
    fields_set = getattr(config, "model_fields_set", None)
    return fields_set is None or name in fields_set


def _option_value(config: Any, name: str, default: Any) -> Any:
    """A config attribute, or ``default`` when it is missing or None."""
    value = getattr(config, name, None)
    return default if value is None else value


def _suggest_training(trial: optuna.Trial, name: str, value: Any) -> Any:
    """Fix a training option, or search it: ``[low, high]`` is a range, longer lists choices."""
    if isinstance(value, Mapping):
        low, high = value["low"], value["high"]
        value = [low, high]
    if isinstance(value, (list, tuple)):
        values = list(value)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if len(values) == 2 and numeric:
            low, high = values
            if all(isinstance(v, int) for v in values) and name in ("epochs", "batch_size"):
                return trial.suggest_int(name, low, high, log=name == "batch_size")
            return trial.suggest_float(name, float(low), float(high),
                                       log=float(low) > 0 and name in ("lr", "weight_decay"))
        return trial.suggest_categorical(name, values)
    return value


class _DistributionRecorder:
    """Stands in for an Optuna trial to record what :meth:`TorchSpace.sample` would draw.

    Integers answer their upper bound, so the deepest conditional branch is taken.
    """

    def __init__(self) -> None:
        self.distributions: dict[str, Any] = {}

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        from optuna.distributions import CategoricalDistribution

        self.distributions[name] = CategoricalDistribution(list(choices))
        return list(choices)[0]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1,
                    log: bool = False) -> int:
        from optuna.distributions import IntDistribution

        self.distributions[name] = IntDistribution(low, high, log=log, step=step)
        return high

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        from optuna.distributions import FloatDistribution

        self.distributions[name] = FloatDistribution(low, high, log=log, step=step)
        return high


class TorchSpace(SearchSpace):
    """Shared machinery of the PyTorch spaces (data preparation, training, prediction).

    Subclasses set ``name``, ``genotype_cls``, ``OPTIONS`` (space option → default) and
    ``image_input``.
    """

    genotype_cls: ClassVar[type[Genotype]]
    OPTIONS: ClassVar[dict[str, Any]] = {}
    image_input: ClassVar[bool] = True

    def __init__(self, config: Any, data: Any, *, threads: int = 1) -> None:
        super().__init__(config, data, threads=threads)
        self._prepared: tuple[np.ndarray, np.ndarray] | None = None
        self._n_params: dict[str, int] = {}
        self._evaluations: dict[str, tuple[int | None, Evaluation]] = {}
        #: trained weights of the best few candidates (by params key), kept in this process only
        self._states: dict[str, tuple[float, dict[str, Any]]] = {}
        #: seconds per epoch per training row of each candidate trained (by params key)
        self._epoch_cost: dict[str, float] = {}
        self.trained_on: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Weights kept for the final model stay in the kernel: a pickled space (for workers or a
        saved result) leaves them out."""
        state = super().__getstate__()
        state["_states"] = {}
        return state

    # ------------------------------------------------------------------------ configuration
    @property
    def options(self) -> dict[str, Any]:
        """Space options: the defaults overridden by ``space_options``."""
        given = _option_value(self.config, "space_options", {}) or {}
        return {**_COMMON_OPTIONS, **self.OPTIONS, **self._auto_options(), **dict(given)}

    def _auto_options(self) -> dict[str, Any]:
        """Space options whose default depends on the budget: half the width under a short one."""
        if short_budget(self.config) and "channels" in self.OPTIONS:
            return {"channels": max(4, int(self.OPTIONS["channels"]) // 2)}
        return {}

    @property
    def objectives(self) -> list[str]:
        """Objective names: the metric, then any of ``params`` and ``latency``."""
        objectives = _option_value(self.config, "objectives", None)
        if not objectives:
            return [self.metric.name]
        objectives = list(objectives)
        if objectives[0] in _OBJECTIVES_EXTRA:  # [params, ...]: the metric still comes first
            objectives.insert(0, self.metric.name)
        return objectives

    @property
    def metric(self) -> Any:
        """The validation :class:`~jupyter_automl.evaluate.metrics.Metric`.

        The first of ``objectives`` when it names a metric, else the ``metric`` option.
        """
        from jupyter_automl.evaluate.metrics import get_metric

        objectives = _option_value(self.config, "objectives", None)
        if objectives and objectives[0] not in _OBJECTIVES_EXTRA:
            return get_metric(str(objectives[0]), self.task)
        return get_metric(str(_option_value(self.config, "metric", "auto")), self.task)

    @property
    def directions(self) -> list[str]:
        """The metric's direction, then ``minimize`` for ``params`` and ``latency``."""
        return [self.metric.direction] + ["minimize"] * (len(self.objectives) - 1)

    @property
    def device_name(self) -> str:
        """The torch device trials run on (``cuda:0``, ``mps``, ``cpu``)."""
        from jupyter_automl.evaluate.torch_training import select_device

        device = select_device(str(_option_value(self.config, "device", "auto")))
        if device.type == "cuda":
            import torch

            index = device.index if device.index is not None else torch.cuda.current_device()
            return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
        return str(device)

    @property
    def task(self) -> str:
        return str(self.data.task)

    def check(self) -> None:
        """Validate space options, objectives and the data's shape before any trial."""
        problems: list[str] = []
        allowed = {**_COMMON_OPTIONS, **self.OPTIONS}
        for key in _option_value(self.config, "space_options", {}) or {}:
            if key not in allowed:
                problems.append(
                    f"option 'space_options': unknown key {key!r} for space {self.name!r}"
                    f"{did_you_mean(key, allowed)}; it takes {', '.join(sorted(allowed))}"
                )
        problems.extend(self._check_options(self.options))
        try:
            objectives = self.objectives
        except (ConfigError, KeyError) as exc:
            first = (_option_value(self.config, "objectives", None) or ["?"])[0]
            problems.append(f"option 'objectives': {first!r} is not a metric for a "
                            f"{self.task} task ({exc})")
            objectives = []
        for objective in objectives[1:]:
            if objective not in _OBJECTIVES_EXTRA:
                problems.append(f"option 'objectives': {objective!r} is not available in NAS "
                                f"spaces after the metric; use {list(_OBJECTIVES_EXTRA)}")
        strategy = _option_value(self.config, "strategy", None)
        if strategy == "darts" and self.name != "nas-cell":
            problems.append(f"option 'strategy': darts searches the nas-cell space only, not "
                            f"{self.name!r}; use evolution or tpe here")
        if strategy == "darts" and self.task == "regression":
            problems.append("option 'strategy': darts needs a classification task")
        if strategy == "darts" and hasattr(self.data.X, "batches"):
            problems.append("option 'strategy': darts needs the images in memory; these are read from the "
                            "dataset batch by batch (too large to copy): use evolution or tpe")
        augment = _option_value(self.config, "augment", "auto")
        if not self.image_input and isinstance(augment, (list, tuple)) and augment:
            problems.append(f"option 'augment': {list(augment)} transforms images; space {self.name!r} trains on "
                            "tables: use augment: none (or auto)")
        fraction = self.options["val_fraction"]
        if not 0 < float(fraction) < 1:
            problems.append(f"option 'space_options.val_fraction' must be in (0, 1), "
                            f"got {fraction!r}")
        if problems:
            raise ConfigError("\n".join(problems), problems)
        self.prepared()

    def _check_options(self, options: Mapping[str, Any]) -> list[str]:
        """Space-specific option problems (none by default)."""
        return []

    # -------------------------------------------------------------------------------- data
    def prepared(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` as float32 model inputs and label indices (or float targets), cached."""
        if self._prepared is None:
            X = self._inputs(self.data.X)
            y = np.asarray(self.data.y)
            if self.task == "regression":
                y = y.astype(np.float32)
            else:
                y = self._label_indices(y)
            if len(X) != len(y):
                raise DataError(f"X has {len(X)} rows but y has {len(y)}")
            self._prepared = (X, y)
        return self._prepared

    def _inputs(self, X: Any) -> np.ndarray:
        """Model inputs from raw X."""
        from jupyter_automl.evaluate.torch_training import as_features, as_images

        if self.image_input:
            return as_images(X, source=getattr(self.data, "source", None))
        return as_features(X)

    @property
    def classes(self) -> np.ndarray:
        classes = getattr(self.data, "classes", None)
        return np.asarray(classes) if classes is not None else np.unique(self.data.y)

    def _label_indices(self, y: np.ndarray) -> np.ndarray:
        """Class labels to indices into :attr:`classes`."""
        index = {c: i for i, c in enumerate(self.classes.tolist())}
        try:
            return np.array([index[v] for v in y.tolist()], dtype=np.int64)
        except KeyError as exc:
            raise DataError(f"label {exc.args[0]!r} is not among the classes") from None

    def _given_split(self) -> bool:
        """Whether the data came with its own validation split (an image folder's ``valid/``)
        holding rows on both sides."""
        mask = getattr(self.data, "validation", None)
        return mask is not None and 0 < int(np.sum(mask)) < len(mask)

    def _split(self, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(train, validation)`` positions: the user's split."""
        mask = np.asarray(self.data.validation, dtype=bool)
        return np.flatnonzero(~mask), np.flatnonzero(mask)

    def search_rows(self) -> int | None:
        """Rows a search trial trains on (and validates on) when the data are too large for a
        search epoch to cost at most :data:`SEARCH_EPOCH_SHARE` of the budget, else ``None``.

        Only with a final training, which trains the chosen network on every row; the number
        follows from the input's size and the device, so every worker uses the same subsample.
        """
        if not self.final_training():
            return None
        X, y = self.prepared()
        values = max(1, int(np.prod(X.shape[1:])))
        speed = SEARCH_VALUES_PER_SECOND
        if str(_option_value(self.config, "device", "auto")).startswith(("cuda", "auto")):
            import torch

            if torch.cuda.is_available():
                speed *= GPU_SPEEDUP
        budget = float(_option_value(self.config, "time_budget", 0.0))
        rows = max(SEARCH_MIN_ROWS, int(budget * SEARCH_EPOCH_SHARE * speed / values))
        train_rows = len(y) * (1.0 - float(self.options["val_fraction"]))
        return rows if rows < train_rows else None

    def _subsample(self, positions: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        """A seeded (stratified for classification) subsample of ``positions`` of at most
        :meth:`search_rows` rows, the same for every trial of the search."""
        from jupyter_automl.evaluate.torch_training import split_indices

        rows = self.search_rows()
        if rows is None or len(positions) <= rows:
            return positions
        _, kept = split_indices(y[positions], self.task, rows / len(positions), seed)
        return positions[kept]

    def augmentations(self) -> tuple[str, ...]:
        """The augmentations training applies: ``auto`` is a random crop on images, nothing on tables."""
        value = _option_value(self.config, "augment", "auto")
        if not self.image_input or value == "none":
            return ()
        if value == "auto":
            return ("crop",)
        return tuple(value)

    @property
    def n_outputs(self) -> int:
        return 1 if self.task == "regression" else len(self.classes)

    # ------------------------------------------------------------------------- candidates
    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Complete candidate params from either :meth:`sample`'s dict or raw Optuna params.

        The runner hands ``fit_final`` and ``export_source`` a trial's Optuna parameters
        (``edge_1_0``, ...); replaying the genotype's ``suggest`` on a fixed trial rebuilds
        the genotype string. Training options missing from ``params`` come from the config.
        """
        if "genotype" in params:
            resolved = dict(params)
        else:
            import optuna

            fixed = optuna.trial.FixedTrial(dict(params))
            resolved = {"genotype": self.genotype_cls.suggest(fixed, self.options).to_string()}
            resolved.update({k: params[k] for k in TRAINING_DEFAULTS if k in params})
        for name in TRAINING_DEFAULTS:
            resolved.setdefault(name, self._training_value(name))
        return resolved

    def _configured(self, name: str) -> Any:
        """A training option as the user gave it, else its default from the data and budget:
        ``epochs`` :data:`AUTO_EPOCHS` (successive halving decides how many a candidate gets),
        ``batch_size`` the DataLoader's, else a sixteenth of the training rows within [16, 128]."""
        if _user_set(self.config, name):
            return _option_value(self.config, name, TRAINING_DEFAULTS[name])
        given = getattr(self.data, "batch_size", None)
        if name == "batch_size" and given:  # the DataLoader the data came in says it
            return int(given)
        if name == "epochs":  # with a final training, the search only ranks: 1 epoch, 3 for the best
            return FINAL_SEARCH_EPOCHS if self.final_training() else AUTO_EPOCHS
        if name == "batch_size":
            rows = len(self.data.y) * (1.0 - float(self.options["val_fraction"]))
            return int(min(128, max(16, 2 ** round(np.log2(max(1.0, rows / 16))))))
        return _option_value(self.config, name, TRAINING_DEFAULTS[name])

    def _training_value(self, name: str) -> Any:
        """A training option's value when no trial chose it: the fixed value, else a middle one."""
        value = self._configured(name)
        if isinstance(value, Mapping):
            value = [value["low"], value["high"]]
        if isinstance(value, (list, tuple)):
            values = list(value)
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            if len(values) == 2 and numeric and name in ("lr", "weight_decay") and values[0] > 0:
                return float(np.sqrt(values[0] * values[1]))
            if len(values) == 2 and numeric:
                return type(values[0])((values[0] + values[1]) / 2)
            return values[0]
        return value

    def genotype(self, params: Mapping[str, Any]) -> Any:
        """The genotype of ``params`` (sample's dict or Optuna params)."""
        return self.genotype_cls.from_string(self.resolve(params)["genotype"])

    def key_params(self, params: dict) -> dict:
        """Parameter count and training options for the leaderboard (the genotype is the
        ``model`` column)."""
        from jupyter_automl.spaces.nas.modules import count_parameters

        resolved = self.resolve(params)
        text = resolved["genotype"]
        if text not in self._n_params:
            import torch

            state = torch.get_rng_state()  # counting must not shift the trials' seeded init
            try:
                self._n_params[text] = count_parameters(self.build(resolved))
            finally:
                torch.set_rng_state(state)
        return {"n_params": self._n_params[text],
                **{k: v for k, v in resolved.items() if k != "genotype"}}

    def sample(self, trial: optuna.Trial) -> dict:
        """Sample a genotype and the open training options; ``"genotype"`` holds its string."""
        genotype = self.genotype_cls.suggest(trial, self.options)
        params: dict[str, Any] = {"genotype": genotype.to_string()}
        for name in TRAINING_DEFAULTS:
            params[name] = _suggest_training(trial, name, self._configured(name))
        return params

    def distributions(self) -> dict[str, Any]:
        """Every Optuna parameter :meth:`sample` can draw, with its distribution.

        Conditional parameters (``units_2`` of a 3-layer MLP, ``width_3`` of a 4-block chain)
        are included: the deepest branch is recorded. A sampler that draws the whole set at
        once (:class:`~jupyter_automl.strategies.distinct.DistinctSampler`) uses this.
        """
        recorder = _DistributionRecorder()
        self.sample(recorder)  # type: ignore[arg-type]
        return recorder.distributions

    def candidate_key(self, params: Mapping[str, Any]) -> str | None:
        """What makes two candidates the same: the canonical genotype and searched options.

        ``params`` are Optuna parameters; ``None`` when they do not describe a whole
        candidate (a trial still being sampled).
        """
        import optuna

        try:
            genotype = self.genotype_cls.suggest(optuna.trial.FixedTrial(dict(params)),
                                                 self.options)
        except (ValueError, KeyError, ConfigError):
            return None
        training = {k: params[k] for k in TRAINING_DEFAULTS if k in params}
        text = genotype.canonical().to_string()
        return text if not training else text + " " + json.dumps(training, sort_keys=True)

    def describe(self, params: dict) -> str:
        return str(self.resolve(params)["genotype"])

    def diagram(self, params: dict) -> dict | None:
        return self.genotype(params).diagram()

    def build(self, params: Mapping[str, Any]) -> nn.Sequential:
        """The untrained network for ``params`` (weights seeded by the config's seed)."""
        import torch

        from jupyter_automl.spaces.nas.modules import Standardize, TargetScale, build_module

        X, _ = self.prepared()
        seed = _option_value(self.config, "seed", 0)
        genotype = self.genotype(params)
        # weight init draws from torch's global generator: parallel trials take turns so each
        # network gets the seeded sequence
        with _BUILD_LOCK:
            torch.manual_seed(int(seed))
            body = build_module(genotype, X.shape[1:], self.n_outputs, self.options)
        stats_shape = (X.shape[1], 1, 1) if self.image_input else (X.shape[1],)
        if self.task == "regression":  # standardised outputs mapped back to the targets' units
            return torch.nn.Sequential(Standardize(stats_shape), body, TargetScale())
        return torch.nn.Sequential(Standardize(stats_shape), body)

    def _fit_scaling(self, model: nn.Sequential, X: np.ndarray) -> None:
        """Store the training inputs' mean and scale in the model's ``Standardize``."""
        import torch

        from jupyter_automl.inputs import channel_stats

        axes = (0, 2, 3) if self.image_input else (0,)
        mean, scale = channel_stats(X, axes)  # a stream: measured on a sample of its images
        scale = np.where(scale > 1e-8, scale, 1.0)
        scaling: Any = model[0]
        scaling.mean.copy_(torch.from_numpy(mean.astype(np.float32)))
        scaling.scale.copy_(torch.from_numpy(scale.astype(np.float32)))

    def _device_spec(self, trial_number: int | None) -> str:
        """The configured device; with several GPUs, parallel trials take turns over them."""
        spec = str(_option_value(self.config, "device", "auto"))
        if trial_number is None or spec not in ("auto", "cuda"):
            return spec
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return f"cuda:{trial_number % count}" if count > 1 else spec

    def settings(self, params: Mapping[str, Any], trial_number: int | None = None) -> Any:
        """Resolved :class:`~jupyter_automl.evaluate.torch_training.TrainSettings`.

        Training options missing from ``params`` come from the config (the middle of a
        searched range, or its first choice).
        """
        from jupyter_automl.evaluate.torch_training import TrainSettings

        params = self.resolve(params) if params else {}
        values = {name: params.get(name, self._training_value(name)) for name in TRAINING_DEFAULTS}
        return TrainSettings(
            epochs=int(values["epochs"]),
            batch_size=int(values["batch_size"]),
            lr=float(values["lr"]),
            optimizer=str(values["optimizer"]),
            weight_decay=float(values["weight_decay"]),
            device=self._device_spec(trial_number),
            seed=int(_option_value(self.config, "seed", 0)),
            threads=self.threads,
            augment=self.augmentations(),
        )

    # ----------------------------------------------------------------------------- training
    def evaluate(self, trial: optuna.Trial, params: dict, budget: Any) -> Evaluation:
        """Train on a seeded hold-out split and score on the rest.

        A candidate already trained in this search is not trained again: its recorded result
        comes back with ``duplicate_of`` set to the trial that trained it.

        Values follow ``objectives``: the metric's last-epoch validation value, then
        ``params`` (trainable parameters) and/or ``latency`` (ms per sample on CPU).
        """
        from jupyter_automl.evaluate.torch_training import split_indices, train_model
        from jupyter_automl.spaces.nas.modules import count_parameters

        params = self.resolve(params)
        key = _params_key(params)
        if key in self._evaluations:
            # seeded training is deterministic: a candidate seen before (evolution and TPE
            # revisit cells) gets its recorded result instead of being trained again
            number, seen = self._evaluations[key]
            return Evaluation(values=seen.values,
                              user_attrs={**seen.user_attrs, "duplicate_of": number})
        X, y = self.prepared()
        seed = int(_option_value(self.config, "seed", 0))
        train, val = self._split(y, seed) if self._given_split() else split_indices(
            y, self.task, float(self.options["val_fraction"]), seed)
        train, val = self._subsample(train, y, seed), self._subsample(val, y, seed + 1)
        model = self.build(params)
        self._fit_scaling(model, X[train])
        n_params = count_parameters(model)
        start = time.perf_counter()
        settings = self.settings(params, getattr(trial, "number", None))
        outcome = train_model(
            model, X[train], y[train], X[val], y[val], task=self.task,
            settings=settings, metric=self.metric,
            trial=trial, budget=budget,
            report=len(self.objectives) == 1, keep_on_deadline=True,
        )
        values: list[float] = []
        for objective in self.objectives:
            if objective == "params":
                values.append(float(n_params))
            elif objective == "latency":
                values.append(self._latency_ms(model, X[val[:64]]))
            else:
                values.append(outcome.history[-1])
        evaluation = Evaluation(
            values=values[0] if len(values) == 1 else tuple(values),
            user_attrs={
                "genotype": params["genotype"],
                "n_params": n_params,
                "epochs_run": outcome.epochs_run,
                **({"search_rows": int(len(train))} if self.search_rows() is not None else {}),
                "history": [round(v, 6) for v in outcome.history],
                "device": outcome.device,
                # the runner keeps this much time back for the final refit on all the data
                "fit_seconds_estimate": outcome.seconds,
                "epoch_seconds_per_row": outcome.seconds / max(1, outcome.epochs_run) / max(1, len(train)),
                # shown beside the trial (leaderboard, live view): the rung it reached
                **({"reason": "the time budget ended its training after epoch "
                              f"{outcome.epochs_run} of {settings.epochs}"}
                   if outcome.cut_short else {}),
            },
            fit_seconds=time.perf_counter() - start,
        )
        self._evaluations[key] = (getattr(trial, "number", None), evaluation)
        self._epoch_cost[key] = float(evaluation.user_attrs["epoch_seconds_per_row"])
        evaluation = Evaluation(values=evaluation.values, user_attrs=evaluation.user_attrs,
                                fit_seconds=evaluation.fit_seconds,
                                model_state={k: v.detach().clone() for k, v in model.state_dict().items()})
        self._keep_state(key, evaluation)
        return evaluation

    # ----------------------------------------------------------------------- kept weights
    KEEP_STATES: ClassVar[int] = 5

    def observe(self, params: dict, evaluation: Evaluation) -> None:
        """A candidate trained in a worker came back: keep its weights if it is among the best."""
        key = _params_key(self.resolve(params))
        self._keep_state(key, evaluation)
        cost = (evaluation.user_attrs or {}).get("epoch_seconds_per_row")
        if cost:
            self._epoch_cost[key] = float(cost)

    def _keep_state(self, key: str, evaluation: Evaluation) -> None:
        if evaluation.model_state is None:
            return
        values = evaluation.values if isinstance(evaluation.values, tuple) else (evaluation.values,)
        sign = 1.0 if self.directions[0] == "maximize" else -1.0
        value = sign * float(values[0])
        if not np.isfinite(value):
            return
        self._states[key] = (value, evaluation.model_state)
        if len(self._states) > self.KEEP_STATES:  # memory stays bounded: drop the worst
            worst = min(self._states, key=lambda k: self._states[k][0])
            del self._states[worst]

    def _kept_model(self, params: Mapping[str, Any]) -> nn.Module | None:
        """The network of ``params`` with the weights its trial trained, if this process kept them."""
        kept = self._states.get(_params_key(params))
        if kept is None:
            return None
        model = self.build(params)
        model.load_state_dict(kept[1])
        model.eval()
        return self._label(model, params)

    def _label(self, model: nn.Module, params: Mapping[str, Any]) -> nn.Module:
        # learnt-attribute style, as scikit-learn: what the network's outputs mean
        model.classes_ = None if self.task == "regression" else self.classes  # type: ignore[assignment]
        model.genotype_ = params["genotype"]  # type: ignore[assignment]
        return model

    @staticmethod
    def _latency_ms(model: nn.Module, X: np.ndarray) -> float:
        """Median CPU inference time per sample, in milliseconds."""
        import torch

        xt = torch.from_numpy(np.asarray(X, dtype=np.float32))  # a stream's few images are read
        times = []
        with torch.no_grad():
            for _ in range(3):
                start = time.perf_counter()
                model(xt)
                times.append(time.perf_counter() - start)
        return 1000.0 * float(np.median(times)) / max(1, len(X))

    def fit_final(self, params: dict, budget: Any) -> nn.Module:
        """Train on all the data for the same number of epochs; return the CPU module.

        With a final training (:meth:`final_training`) the trial's kept weights train on for as
        many epochs as fit, on every row or, when two epochs of them do not fit, on a stratified
        subsample (:meth:`_final_rows`). Raises ``TrialTimeout`` when the budget ends it or not
        even the search's rows fit (the caller keeps the trial's model).
        """
        from jupyter_automl.evaluate import TrialTimeout
        from jupyter_automl.evaluate.torch_training import split_indices, train_model

        params = self.resolve(params)
        X, y = self.prepared()
        model = self.build(params)
        self._fit_scaling(model, X)
        rows = None
        if self.final_training() and budget is not None and self._states.get(_params_key(params)) is not None:
            rows = self._final_rows(params, budget.remaining())
            if rows is None:
                raise TrialTimeout("not even one epoch on the searched rows fits in the time left")
        if rows is not None and rows < len(y):
            seed = int(_option_value(self.config, "seed", 0))
            _, kept_rows = split_indices(y, self.task, rows / len(y), seed + 2)
            X, y = X[kept_rows], y[kept_rows]
        settings = self._final_settings(params, len(y), budget)
        kept = self._states.get(_params_key(params)) if self.final_training() else None
        if kept is not None:  # the final training goes on from the trial's weights (a warm start)
            model.load_state_dict(kept[1])
        train_model(model, X, y, None, None, task=self.task, settings=settings, budget=budget,
                    keep_on_deadline=self.final_training())  # sized to the time left: a late end keeps its last epoch
        total = len(self.prepared()[1])
        #: what the last final fit trained on, said in ``result.final["trained_on"]``
        self.trained_on = ("every row" if len(y) == total else
                           f"a stratified {len(y)} of the {total} rows (training on every row did not fit in the time left)")
        return self._label(model, params)

    def _final_rows(self, params: Mapping[str, Any], left: float) -> int | None:
        """Rows the final training uses: every row when two epochs of them fit in 85 % of the
        ``left`` seconds, else as many as do (never fewer than the search trained on); ``None``
        when not even those fit (the trial's network is kept as trained)."""
        cost = self._epoch_cost.get(_params_key(params))
        X, y = self.prepared()
        if not cost or not np.isfinite(left):
            return len(y)
        fit = int(0.85 * left / (2 * cost))
        least = self.search_rows() or len(y)
        if fit >= len(y):
            return len(y)
        return max(fit, least) if cost * least <= 0.85 * left else None

    def final_training(self) -> bool:
        """Whether the final model trains as long as the time kept for it allows (the user left
        ``epochs`` to the search and gave a time budget)."""
        return not _user_set(self.config, "epochs") and _option_value(self.config, "time_budget", None) is not None

    def _final_settings(self, params: Mapping[str, Any], rows: int, budget: Any) -> Any:
        """The training settings of the final fit: the trial's, or with :meth:`final_training`
        as many epochs as fit in 85 % of the time left (at most :data:`FINAL_MAX_EPOCHS`)."""
        import dataclasses

        settings = self.settings(params)
        cost = self._epoch_cost.get(_params_key(params))
        left = budget.remaining() if budget is not None else float("inf")
        if not self.final_training() or not cost or not np.isfinite(left):
            return settings
        epochs = int(0.85 * left / (cost * max(1, rows)))
        return dataclasses.replace(settings, epochs=max(1, min(FINAL_MAX_EPOCHS, epochs)))

    def refit_seconds(self, best: Any) -> float:
        """Expected seconds to train ``best`` again on all the searched rows."""
        from jupyter_automl.storage import ATTR

        info = best.user_attrs.get(ATTR, {})
        seconds = float(info.get("fit_seconds_estimate") or 0.0)
        epochs = int(self.settings(dict(best.params)).epochs)
        run = max(1, int(info.get("epochs_run") or epochs))
        if self.final_training():  # it goes on from the trial's weights: one epoch is worth it
            epochs = 1
        train_share = 1.0 - float(self.options["val_fraction"])
        return seconds * epochs / run / max(0.05, train_share)

    def reserve_seconds(self, best: Any) -> float | None:
        """Time kept back for the final model: the trial's own weights are the fallback, so never
        more than a tenth of the budget (short budgets buy architectures, not a refit)."""
        budget = _option_value(self.config, "time_budget", None)
        needed = 1.1 * self.refit_seconds(best)
        # the runner keeps this back once per final fit: with a held-out split, the final
        # training on the searched rows (scored on the held-out ones), then the refit on all rows
        fits = 2.0 if _option_value(self.config, "holdout", None) else 1.0
        if self.final_training():  # the final model trains long: a fixed share of the budget
            return min(max(needed, FINAL_SHARE * float(budget)), 0.5 * float(budget)) / fits
        return (needed if budget is None else min(needed, 0.1 * float(budget))) / fits

    def final_model(self, best: Any, trials: list[Any], oof: dict[int, np.ndarray], budget: Any) -> FinalModel:
        """The best trial's network: as that trial trained it, or trained again on all the rows when
        the time left allows it; never raises for lack of time.

        With a held-out split (``budget.fits`` 2) the final training runs on the searched rows in
        its share of the time left, so the held-out score is the trained network's, and the end of
        the search trains it on every row for the rest, from its weights (see
        ``insight.conclude``); without a final training the trial's network is returned as trained.
        """
        from jupyter_automl.evaluate import TrialTimeout

        params = self.resolve(dict(best.params))
        needed = self.refit_seconds(best)
        description: dict[str, Any] = {"kind": "trial-network", "trial": best.number, "params": dict(best.params),
                                       "fit_seconds": round(needed, 3)}
        if self.search_rows() is not None:  # the search looked on a subsample; the final training sees every row
            description["search_rows"] = self.search_rows()
        kept = self._kept_model(params)
        split = getattr(budget, "fits", 1.0) > 1
        if kept is not None and split:
            if not self.final_training():
                description["trained_on"] = "the trial's training split"
                return FinalModel(kept, description)
            # the held-out score is to be the final training's, not the trial's few epochs: it
            # trains on the searched rows with its share of the time left; the refit on every row
            # then goes on from its weights (below)
            from jupyter_automl.evaluate import TrialBudget

            budget = TrialBudget(time.monotonic() + budget.remaining() / budget.fits, budget.stop)
        left = budget.remaining() if budget is not None else float("inf")
        rows = self._final_rows(params, left) if kept is not None and self.final_training() else None
        if rows is not None:  # the trial's weights train on for what fits: every row, or a subsample
            needed = 0.0
        if kept is not None and needed * 1.1 > left:
            description["note"] = (f"not retrained on all rows: that takes about {needed:.1f} s and {max(0.0, left):.1f} s "
                                   f"were left; the model is trial {best.number}'s network as the search trained it")
            description["trained_on"] = "the trial's training split"
            return FinalModel(kept, description)
        try:
            model = self.train_final(dict(best.params), budget)
            if self.final_training():  # trained on past the trial: the held-out score is this network's
                description["final_training"] = True
            if split and kept is not None:  # the refit on every row starts from these weights
                self._states[_params_key(params)] = (float("inf"), model.state_dict())
                self.trained_on = description["trained_on"] = SEARCHED_ROWS  # until that refit ends
            return FinalModel(model, description)
        except TrialTimeout:
            if kept is None:  # weights not kept here (another process trained it): a short fit
                try:
                    model = self.train_final(dict(best.params), None, short=True)
                except FitFailed as exc:
                    return self._no_model(description, exc)
                description["note"] = ("the time budget ended the final training: the model is trial "
                                       f"{best.number}'s network trained for one epoch")
                return FinalModel(model, description)
            description["note"] = (f"the final training ran out of time; the model is trial {best.number}'s "
                                   "network as the search trained it")
            description["trained_on"] = "the trial's training split"
            return FinalModel(kept, description)
        except FitFailed as exc:  # its worker crashed, hung or the training raised: this process lives on
            if kept is None:
                return self._no_model(description, exc)
            description["error"] = str(exc)
            description["note"] = (f"the final training failed ({exc}); the model is trial {best.number}'s "
                                   "network as the search trained it")
            description["trained_on"] = "the trial's training split"
            return FinalModel(kept, description)

    @staticmethod
    def _no_model(description: dict[str, Any], exc: Exception) -> FinalModel:
        description["error"] = str(exc)
        description["note"] = (f"no model: the final training failed ({exc}); the trials are kept in the study "
                               "(result.leaderboard) and the best network's parameters in result.best_params")
        return FinalModel(None, description)

    def train_final(self, params: dict, budget: Any, *, data: Any = None, short: bool = False) -> nn.Module:
        """:meth:`fit_final` (or with ``short``, :meth:`_short_fit`) where the trials ran.

        In a worker process when they ran in one (``self.fitter``, set by the search while it
        fits the final model): the trial's kept weights and epoch cost go along, and a crash,
        fork or hang of the training cannot hurt this process. ``data``: the rows to train on
        instead of the searched ones (the refit on every row). Raises ``TrialTimeout`` as
        :meth:`fit_final` does, and ``FitFailed`` when the worker crashed, hung past
        :func:`~jupyter_automl.spaces._base.fit_limit` or the training raised.
        """
        fitter = getattr(self, "fitter", None)
        if fitter is None:  # here: a thread executor, a Dask cluster, or the last chance ran here
            if short:
                return self._short_fit(self.resolve(params))
            return super().train_final(params, budget, data=data)
        from jupyter_automl.evaluate import TrialTimeout
        from jupyter_automl.executors._base import TrialFailed

        key = _params_key(self.resolve(params))
        kept = self._states.get(key)
        left = budget.remaining() if budget is not None else float("inf")
        deadline = time.monotonic() + left if np.isfinite(left) else None
        job = FinalTraining(params, None if kept is None else kept[1], self._epoch_cost.get(key), deadline, short)
        try:
            reply = fitter(job, X=data, seconds=fit_limit(self, 0.0 if short else left))
        except TrialFailed as exc:
            raise FitFailed(str(exc)) from exc
        if reply[0] == "timeout":
            raise TrialTimeout(reply[1])
        model, self.trained_on = reply[1], reply[2]
        if data is not None:  # as a refit here leaves it: the space describes every row
            self.use_data(data)
        return model

    def use_data(self, data: Any) -> None:
        """Describe ``data`` from now on; the tensors prepared from the old rows are dropped."""
        self.data, self._prepared = data, None

    def _short_fit(self, params: Mapping[str, Any]) -> nn.Module:
        """One epoch on all the rows, unbudgeted: the last resort for a model."""
        import dataclasses

        from jupyter_automl.evaluate.torch_training import train_model

        X, y = self.prepared()
        model = self.build(params)
        self._fit_scaling(model, X)
        settings = dataclasses.replace(self.settings(params), epochs=1)
        train_model(model, X, y, None, None, task=self.task, settings=settings)
        return self._label(model, params)

    def export_final(self, final: dict[str, Any], *, study: str = "", holdout: float | None = None,
                     script: str = "train_best.py") -> str:
        """The best trial's network as a standalone module (the final model is that network)."""
        return self.export_source(final["params"], None)

    def _outputs(self, model: nn.Module, X: Any) -> np.ndarray:
        from jupyter_automl.evaluate.torch_training import predict_outputs

        return predict_outputs(model, self._inputs(X))

    def predict(self, model: nn.Module, X: Any) -> np.ndarray:
        """Class labels (or values, for regression) for raw ``X``."""
        outputs = self._outputs(model, X)
        if self.task == "regression":
            return outputs[:, 0]
        return self.classes[outputs.argmax(1)]

    def predict_proba(self, model: nn.Module, X: Any) -> np.ndarray:
        """Class probabilities for raw ``X`` (columns in :attr:`classes` order)."""
        if self.task == "regression":
            raise ConfigError("predict_proba is only available for classification")
        outputs = self._outputs(model, X)
        shifted = np.exp(outputs - outputs.max(1, keepdims=True))
        return shifted / shifted.sum(1, keepdims=True)

    # ------------------------------------------------------------------------------ extras
    def preset(self) -> dict:
        """Optuna params of this space's hand-picked architecture (the ``rules`` strategy)."""
        raise NotImplementedError

    def export_source(self, params: dict, model: Any) -> str:
        """Standalone PyTorch source: the network class, its construction and a training loop."""
        from jupyter_automl.spaces.nas.export import export_source

        return export_source(self, self.resolve(params), model)


def _params_key(params: Mapping[str, Any]) -> str:
    """One candidate's identity (resolved params), as text."""
    return json.dumps(dict(params), sort_keys=True, default=str)


class FinalTraining:
    """The final training of a NAS search, sent to the worker that ran its trials.

    It carries what only the searching process knows: the trial's kept weights (``state``),
    its seconds per epoch and row (``cost``) and the budget's ``deadline`` (``time.monotonic``,
    one clock for every process of the machine). :meth:`train_in` runs in the worker, on the
    space it loaded, and answers ``("model", network, trained_on)`` or ``("timeout", message)``.
    """

    def __init__(self, params: dict, state: Any, cost: float | None, deadline: float | None,
                 short: bool = False) -> None:
        self.params, self.state, self.cost, self.deadline, self.short = dict(params), state, cost, deadline, short

    def train_in(self, space: TorchSpace, data: Any = None) -> tuple[Any, ...]:
        """Train on ``space``'s rows, or on ``data`` (the refit on every row); the worker's space
        stays the searched one."""
        from jupyter_automl.evaluate import TrialBudget, TrialTimeout

        key = _params_key(space.resolve(self.params))
        if self.state is not None:
            space._states[key] = (float("inf"), self.state)
        if self.cost:
            space._epoch_cost[key] = float(self.cost)
        searched = space.data
        try:
            if self.short:
                model = space._short_fit(space.resolve(self.params))
            else:  # the base class's train_final: this is the process the training runs in
                model = SearchSpace.train_final(space, self.params, TrialBudget(self.deadline), data=data)
        except TrialTimeout as exc:
            return ("timeout", str(exc))
        finally:
            if data is not None:  # the worker's space serves later trials on the searched rows
                space.use_data(searched)
        return ("model", model, space.trained_on)


def _closest(choices: Sequence[Any], wanted: Any) -> Any:
    """``wanted`` if it is a choice, else the first choice (for presets under custom options)."""
    choices = list(choices)
    return wanted if wanted in choices else choices[0]


def _check_subset(options: Mapping[str, Any], key: str, allowed: Sequence[Any]) -> list[str]:
    """Problems with ``options[key]`` as a non-empty list drawn from ``allowed``."""
    values = options.get(key)
    if not isinstance(values, (list, tuple)) or not values:
        return [f"option 'space_options.{key}' must be a non-empty list, got {values!r}"]
    bad = [v for v in values if v not in allowed]
    if bad:
        return [f"option 'space_options.{key}': unknown {bad}; allowed: {list(allowed)}"]
    return []


def _check_choice(options: Mapping[str, Any], key: str, allowed: Sequence[str]) -> list[str]:
    value = options.get(key)
    if value in allowed:
        return []
    return [f"option 'space_options.{key}': expected one of {list(allowed)}, got {value!r}"
            f"{did_you_mean(str(value), allowed)}"]


def _check_positive_int(options: Mapping[str, Any], key: str, high: int = 1 << 16) -> list[str]:
    value = options.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        return [f"option 'space_options.{key}' must be an integer in [1, {high}], got {value!r}"]
    return []


class NasCellSpace(TorchSpace):
    """NAS-Bench-201 cells in a macro skeleton (``space: nas-cell``).

    Space options: ``ops`` (subset of the five NAS-Bench-201 ops), ``n_cells`` (cells per
    stage, default 1; the benchmark uses 5), ``channels`` (default 16), ``n_stages``
    (default 3), ``val_fraction``, ``proxy_candidates``, ``proxy_keep``, and for
    ``strategy: darts`` ``darts_method`` (``gdas`` or ``darts``), ``darts_epochs``
    (default 12), ``darts_max_skip`` (default 2), ``darts_selection`` (``auto``,
    ``argmax``, ``perturbation`` or ``sampled``) and ``darts_none`` (default false).
    """

    name: ClassVar[str] = "nas-cell"
    genotype_cls: ClassVar[type[Genotype]] = CellGenotype
    OPTIONS: ClassVar[dict[str, Any]] = {"ops": list(CELL_OPS), "n_cells": 1, "channels": 16,
                                         "n_stages": 3, "darts_epochs": 12,
                                         "darts_max_skip": 2, "darts_selection": "auto",
                                         "darts_none": False, "darts_method": "gdas"}

    def _check_options(self, options: Mapping[str, Any]) -> list[str]:
        return [
            *_check_subset(options, "ops", CELL_OPS),
            *_check_positive_int(options, "n_cells", 32),
            *_check_positive_int(options, "channels", 4096),
            *_check_positive_int(options, "n_stages", 6),
            *_check_positive_int(options, "darts_epochs", 1000),
            *([] if isinstance(options.get("darts_none"), bool) else
              [f"option 'space_options.darts_none' must be true or false, "
               f"got {options.get('darts_none')!r}"]),
            *_check_choice(options, "darts_method", ("gdas", "darts")),
            *_check_choice(options, "darts_selection",
                           ("auto", "argmax", "perturbation", "sampled")),
        ]

    def genotype(self, params: Mapping[str, Any]) -> CellGenotype:
        return CellGenotype.from_string(params["genotype"], self.options["ops"])

    def preset(self) -> dict:
        """A residual-style cell: 3x3 convs chained with skip connections."""
        ops = self.options["ops"]
        wanted = ("nor_conv_3x3", "skip_connect", "nor_conv_3x3", "skip_connect", "none",
                  "nor_conv_3x3")
        return CellGenotype(tuple(_closest(ops, op) for op in wanted)).to_params()


class NasDagSpace(TorchSpace):
    """NAS-Bench-101 cells in a macro skeleton (``space: nas-dag``).

    Space options: ``ops`` (subset of the three NAS-Bench-101 ops), ``max_nodes`` (3 to 7),
    ``n_cells``, ``channels``, ``n_stages``, ``val_fraction``, ``proxy_candidates``,
    ``proxy_keep``.
    """

    name: ClassVar[str] = "nas-dag"
    genotype_cls: ClassVar[type[Genotype]] = DagGenotype
    OPTIONS: ClassVar[dict[str, Any]] = {"ops": list(DAG_OPS), "max_nodes": 7, "n_cells": 1,
                                         "channels": 16, "n_stages": 3}

    def _check_options(self, options: Mapping[str, Any]) -> list[str]:
        problems = [
            *_check_subset(options, "ops", DAG_OPS),
            *_check_positive_int(options, "n_cells", 32),
            *_check_positive_int(options, "channels", 4096),
            *_check_positive_int(options, "n_stages", 6),
        ]
        max_nodes = options.get("max_nodes")
        if not isinstance(max_nodes, int) or not 3 <= max_nodes <= DagGenotype.MAX_NODES:
            problems.append(f"option 'space_options.max_nodes' must be an integer in [3, 7], "
                            f"got {max_nodes!r}")
        return problems

    def genotype(self, params: Mapping[str, Any]) -> DagGenotype:
        return DagGenotype.from_string(params["genotype"], self.options["ops"])

    def preset(self) -> dict:
        """A chain of convolutions with a residual edge from the input to the output."""
        n = int(self.options["max_nodes"])
        ops = self.options["ops"]
        params: dict[str, Any] = {}
        for j in range(1, n):
            params[f"in_{j}"] = j - 1
            params[f"in2_{j}"] = 0 if j == n - 1 else -1
            if j < n - 1:
                params[f"op_{j}"] = _closest(ops, "conv3x3-bn-relu" if j % 2 else
                                             "conv1x1-bn-relu")
        return params


class NasChainSpace(TorchSpace):
    """Chain-structured CNNs (``space: nas-chain``).

    Space options: ``max_blocks``, ``widths``, ``kernels``, ``pools``, ``norms``,
    ``dropouts``, ``val_fraction``, ``proxy_candidates``, ``proxy_keep``.
    """

    name: ClassVar[str] = "nas-chain"
    genotype_cls: ClassVar[type[Genotype]] = ChainGenotype
    OPTIONS: ClassVar[dict[str, Any]] = {
        "max_blocks": 4, "widths": [16, 32, 64], "kernels": [3, 5],
        "pools": list(ChainGenotype.POOLS), "norms": list(ChainGenotype.NORMS),
        "dropouts": [0.0, 0.1, 0.3],
    }

    def _check_options(self, options: Mapping[str, Any]) -> list[str]:
        return [
            *_check_positive_int(options, "max_blocks", 16),
            *_check_subset(options, "pools", ChainGenotype.POOLS),
            *_check_subset(options, "norms", ChainGenotype.NORMS),
            *_check_subset(options, "kernels", [1, 3, 5, 7]),
        ]

    def preset(self) -> dict:
        """A small CNN: two 3x3 conv blocks (32 then 64 channels), max pooling, batch norm."""
        o = self.options
        n = min(2, int(o["max_blocks"]))
        params: dict[str, Any] = {"n_blocks": n}
        for i in range(n):
            params[f"width_{i}"] = _closest(o["widths"], (32, 64)[i])
            params[f"kernel_{i}"] = _closest(o["kernels"], 3)
        params.update(pool=_closest(o["pools"], "max"), norm=_closest(o["norms"], "batch"),
                      dropout=_closest(o["dropouts"], 0.1))
        return params


class NasMlpSpace(TorchSpace):
    """Multilayer perceptrons for tables (``space: nas-mlp``).

    Space options: ``min_depth``, ``max_depth``, ``widths``, ``activations``, ``dropouts``,
    ``norms``, ``val_fraction``, ``proxy_candidates``, ``proxy_keep``.
    """

    name: ClassVar[str] = "nas-mlp"
    genotype_cls: ClassVar[type[Genotype]] = MlpGenotype
    image_input: ClassVar[bool] = False
    OPTIONS: ClassVar[dict[str, Any]] = {
        "min_depth": 1, "max_depth": 3, "widths": [32, 64, 128, 256],
        "activations": list(MlpGenotype.ACTIVATIONS), "dropouts": [0.0, 0.1, 0.3],
        "norms": list(MlpGenotype.NORMS),
    }

    def _check_options(self, options: Mapping[str, Any]) -> list[str]:
        problems = [
            *_check_subset(options, "activations", MlpGenotype.ACTIVATIONS),
            *_check_subset(options, "norms", MlpGenotype.NORMS),
        ]
        low, high = options.get("min_depth"), options.get("max_depth")
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 16):
            problems.append("option 'space_options': min_depth and max_depth must be integers "
                            f"with 1 <= min_depth <= max_depth <= 16, got {low!r} and {high!r}")
        return problems

    def preset(self) -> dict:
        """Two hidden layers (128, 64), ReLU, dropout 0.1, batch norm."""
        o = self.options
        depth = min(max(2, int(o["min_depth"])), int(o["max_depth"]))
        params: dict[str, Any] = {"depth": depth}
        for i in range(depth):
            params[f"units_{i}"] = _closest(o["widths"], (128, 64)[min(i, 1)])
        params.update(activation=_closest(o["activations"], "relu"),
                      dropout=_closest(o["dropouts"], 0.1), norm=_closest(o["norms"], "batch"))
        return params

