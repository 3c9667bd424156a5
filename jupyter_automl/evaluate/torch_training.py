"""Training and scoring PyTorch models for one trial: devices, threads, seeds, epochs, pruning.

Data that fits in memory is one array, so batches are sliced from whole tensors rather than
going through a ``DataLoader``: on CPU that removes most of the per-batch overhead, and on CUDA
the tensors are pinned and copied asynchronously. Data too large to copy is an
:class:`~jupyter_automl.inputs.ImageStream`: each batch is read from the user's dataset.
"""

from __future__ import annotations

import gc
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import optuna
import torch
from torch import nn

from jupyter_automl._errors import ConfigError, DataError
from jupyter_automl.evaluate._budget import TrialTimeout
from jupyter_automl.inputs import ImageStream

__all__ = [
    "TrainSettings",
    "TrainOutcome",
    "select_device",
    "cpu_threads_per_trial",
    "set_cpu_threads",
    "seed_everything",
    "as_images",
    "as_features",
    "augment_batch",
    "AUGMENTATIONS",
    "train_model",
    "predict_outputs",
    "score_outputs",
    "split_indices",
    "release_device_memory",
]

OPTIMIZERS = ("adam", "adamw", "sgd")
#: Image augmentations training may apply (``augment``): a random crop after padding, a horizontal flip.
AUGMENTATIONS = ("crop", "flip")

# torch.OutOfMemoryError is new in torch 2.5; older versions in our range raise the CUDA one
_OUT_OF_MEMORY: type[BaseException] = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError


class _Budget(Protocol):
    def check(self) -> None: ...


# ----------------------------------------------------------------------------------- devices
def select_device(spec: str | None = "auto") -> torch.device:
    """Resolve a ``device`` option to a :class:`torch.device`.

    Parameters
    ----------
    spec : {"auto", "cpu", "cuda", "cuda:N", "mps"}
        ``"auto"`` picks CUDA, then Apple MPS, then the CPU.

    Raises
    ------
    ConfigError
        When the named device is not available here.

    Examples
    --------
    >>> select_device("cpu")
    device(type='cpu')
    """
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ConfigError("device: 'mps' was asked for but Apple MPS is not available here; "
                              "use device: auto or cpu")
        return torch.device("mps")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device: {spec!r} was asked for but no CUDA GPU is available "
                              "(torch.cuda.is_available() is False); use device: auto or cpu")
        index = spec.partition(":")[2]
        if index:
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise ConfigError(f"device: {spec!r}: there are {torch.cuda.device_count()} "
                                  "CUDA devices (cuda:0 ...)")
        return torch.device(spec)
    raise ConfigError(f"device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {spec!r}")


def cpu_threads_per_trial(n_jobs: int = 1) -> int:
    """An equal share of the CPU cores for each of ``n_jobs`` parallel trials (-1: all cores)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    n_jobs = cores if int(n_jobs) == -1 else max(1, int(n_jobs))
    return max(1, cores // n_jobs)


def set_cpu_threads(threads: int) -> int:
    """Set torch's intra-op thread count for this trial (at least 1); returns it.

    Oversubscribed cores are far slower than idle ones: on 2 busy cores a digits trial took
    0.5 s with one thread and 12 s with two (OpenMP threads spin-waiting for each other), so
    the search passes the share the runner computed, never "all cores" per trial.
    """
    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy and torch so CPU training is bit-reproducible.

    On CUDA, cuDNN is also put in deterministic mode; some CUDA kernels (scatter-adds,
    some pooling backward passes) still are not deterministic, so GPU runs are repeatable
    only as far as torch allows.
    """
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


# -------------------------------------------------------------------------------------- data
def as_images(X: Any, *, source: str | None = None) -> np.ndarray:
    """Turn images (or the ``sklearn:digits`` table) into a float32 NCHW array.

    Accepts NCHW or NHWC arrays or tensors, ``(N, H, W)`` grayscale stacks, and tables whose
    column count is a perfect square (``sklearn:digits`` has 64 columns: 1x8x8). A channel
    axis is recognised by its size (1, 3 or 4).

    Raises
    ------
    DataError
        When the shape cannot be read as images.

    Examples
    --------
    >>> as_images(np.zeros((5, 8, 8, 3))).shape
    (5, 3, 8, 8)
    """
    if isinstance(X, ImageStream):  # read batch by batch during training, never copied whole
        return X
    if isinstance(X, torch.Tensor):
        array = X.detach().cpu().numpy()
    elif hasattr(X, "to_numpy"):
        array = X.to_numpy()
    else:
        array = np.asarray(X)
    try:
        array = array.astype(np.float32, copy=False)
    except (TypeError, ValueError):
        raise DataError(f"images must be numeric, got dtype {array.dtype}") from None
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1]:
            raise DataError(
                f"a table of {array.shape[1]} columns cannot be read as square grayscale images"
                f"{' (' + source + ')' if source else ''}; give images shaped (N, C, H, W) or "
                "(N, H, W, C), or use space: nas-mlp for tables"
            )
        return array.reshape(len(array), 1, side, side)
    if array.ndim == 3:
        return array[:, None, :, :]
    if array.ndim == 4:
        channels_first = array.shape[1] in (1, 3, 4)
        channels_last = array.shape[3] in (1, 3, 4)
        if channels_last and not channels_first:
            return np.ascontiguousarray(array.transpose(0, 3, 1, 2))
        if channels_first:
            return array
        raise DataError(f"cannot tell the channel axis of images shaped {array.shape}: "
                        "expected 1, 3 or 4 channels first (NCHW) or last (NHWC)")
    raise DataError(f"images must have 2 to 4 dimensions, got shape {array.shape}")


def as_features(X: Any) -> np.ndarray:
    """Turn a numeric table (DataFrame, array or tensor) into a float32 2-D array."""
    if isinstance(X, torch.Tensor):
        array = X.detach().cpu().numpy()
    elif hasattr(X, "to_numpy"):
        non_numeric = [c for c, t in getattr(X, "dtypes", {}).items() if not _numeric(t)]
        if non_numeric:
            raise DataError(
                f"nas-mlp needs numeric columns; {non_numeric[:5]} are not. Encode them first "
                "or use space: tabular"
            )
        array = X.to_numpy()
    else:
        array = np.asarray(X)
    array = array.reshape(len(array), -1).astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise DataError("nas-mlp needs finite values: the table has missing or infinite values")
    return array


def _numeric(dtype: Any) -> bool:
    """Whether a pandas dtype is numeric or boolean."""
    kind = getattr(np.dtype(dtype) if not hasattr(dtype, "kind") else dtype, "kind", "O")
    return kind in "biuf"


# ----------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainSettings:
    """How to train one network (values already resolved from the config and the trial).

    Parameters
    ----------
    epochs, batch_size : int
    lr, weight_decay : float
    optimizer : {"adam", "adamw", "sgd"}
    device : str
        Any :func:`select_device` spec.
    seed : int or None
    threads : int
        CPU threads for this trial (see :func:`cpu_threads_per_trial`).
    augment : tuple of {"crop", "flip"}
        Augmentations of the training batches (see :func:`augment_batch`); none by default.
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    device: str = "auto"
    seed: int | None = 0
    threads: int = 1
    augment: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [a for a in self.augment if a not in AUGMENTATIONS]
        if unknown:
            raise ConfigError(f"augment: unknown {unknown}; accepted: {list(AUGMENTATIONS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer: expected one of {list(OPTIMIZERS)}, "
                              f"got {self.optimizer!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError("epochs and batch_size must be >= 1 and lr > 0, got "
                              f"epochs={self.epochs}, batch_size={self.batch_size}, lr={self.lr}")


@dataclass
class TrainOutcome:
    """What training produced: the model (on CPU) and its per-epoch validation scores."""

    model: nn.Module
    history: list[float] = field(default_factory=list)
    epochs_run: int = 0
    seconds: float = 0.0
    device: str = "cpu"
    #: training stopped at the deadline and the model is the one of the last whole epoch
    cut_short: bool = False


def _make_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    """The optimizer named in ``settings``."""
    params = [p for p in model.parameters() if p.requires_grad]
    if settings.optimizer == "sgd":
        return torch.optim.SGD(params, lr=settings.lr, momentum=0.9, nesterov=True,
                               weight_decay=settings.weight_decay)
    cls = torch.optim.AdamW if settings.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=settings.lr, weight_decay=settings.weight_decay)


def _loss_fn(task: str, scale: float = 1.0) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Cross-entropy for classification; for regression the mean squared error of the
    standardised targets (``scale`` is their standard deviation)."""
    if task == "regression":
        mse = nn.MSELoss()
        return lambda out, target: mse(out.squeeze(-1), target) / (scale * scale)
    return nn.CrossEntropyLoss()


def _fit_targets(model: nn.Module, y: np.ndarray) -> float:
    """The training targets' scale; modules with ``fit_targets(mean, scale)`` learn it (so a network
    predicts standardised values that its last module maps back to the targets' units)."""
    values = np.asarray(y, dtype=np.float64)
    mean, scale = float(values.mean()), float(values.std())
    scale = scale if scale > 1e-12 else 1.0
    for module in model.modules():
        fit = getattr(module, "fit_targets", None)
        if callable(fit):
            fit(mean, scale)
    return scale


def augment_batch(x: torch.Tensor, augment: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Augment a training batch of N×C×H×W images, each sample drawn on its own.

    ``crop``: pad by 4 pixels at 32×32 (scaled to the image's size, at least 1; edges repeated)
    and cut a random window of the original size; ``flip``: mirror left-right with probability ½.
    """
    n, c, h, w = x.shape
    if "crop" in augment:
        pad = max(1, round(4 * min(h, w) / 32))
        padded = nn.functional.pad(x, (pad, pad, pad, pad), mode="replicate")
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        samples = torch.arange(n, device=x.device)[:, None, None, None]
        channels = torch.arange(c, device=x.device)[None, :, None, None]
        x = padded[samples, channels, rows, cols]
    if "flip" in augment:
        flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)[:, None, None, None]
        x = torch.where(flip, x.flip(3), x)
    return x


def _autocast(device: torch.device) -> Any:
    """bf16 autocast on CUDA GPUs that support it; a no-op elsewhere."""
    enabled = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def _to_tensors(X: np.ndarray | ImageStream, y: np.ndarray | None, task: str,
                device: torch.device) -> tuple[Any, torch.Tensor | None]:
    """Host tensors, pinned when they will be copied to a CUDA device; a stream's batches are read
    from its dataset when indexed."""
    if isinstance(X, ImageStream):
        xt: Any = X.batches()
    else:
        xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = None
    if y is not None:
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32 if task == "regression"
                                         else np.int64))
    if device.type == "cuda" and isinstance(xt, torch.Tensor):
        xt = xt.pin_memory()
        yt = yt.pin_memory() if yt is not None else None
    return xt, yt


def train_model(
    model: nn.Module,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None,
    y_val: np.ndarray | None,
    *,
    task: str,
    settings: TrainSettings,
    metric: Any = None,
    trial: optuna.Trial | None = None,
    budget: _Budget | None = None,
    report: bool = True,
    keep_on_deadline: bool = False,
) -> TrainOutcome:
    """Train ``model`` for ``settings.epochs`` epochs, validating after each.

    After each epoch the validation score is passed to ``trial.report`` (when ``report``)
    and the trial is pruned when ``trial.should_prune()``; ``budget.check()`` runs before
    every batch. The returned model lives on the CPU, in eval mode, and GPU memory is freed.

    Parameters
    ----------
    model : nn.Module
    X_train, y_train, X_val, y_val : ndarray
        Inputs already shaped for the model (``as_images`` / ``as_features``), or an
        :class:`~jupyter_automl.inputs.ImageStream` whose batches are read from its dataset;
        labels as class indices, or floats for regression (standardised for the loss: see
        :func:`_fit_targets`). ``X_val`` may be None (final refit).
    task : {"binary", "multiclass", "regression"}
    settings : TrainSettings
    metric : str or Metric, optional
        Validation metric (see :func:`score_outputs`).
    trial : optuna.Trial, optional
    budget : object with ``check()``, optional
    report : bool
        Report to the trial (off for multi-objective studies, which Optuna cannot prune).
    keep_on_deadline : bool
        When the budget's deadline (not a stop) comes after at least one whole epoch, end there
        with the weights of the last whole epoch (``outcome.cut_short``) instead of raising
        ``TrialTimeout``: a trial scored at epoch 3 of 9 is worth keeping, a lost trial is not.

    Raises
    ------
    optuna.TrialPruned
        When the pruner stops the trial.
    RuntimeError
        ``"CUDA out of memory at batch size N: ..."`` when the GPU runs out of memory.
    """
    device = select_device(settings.device)
    if device.type == "cpu":
        set_cpu_threads(settings.threads)
    generator = torch.Generator().manual_seed(settings.seed if settings.seed is not None
                                              else torch.seed())
    start = time.perf_counter()
    outcome = TrainOutcome(model=model, device=str(device))
    loss_fn = _loss_fn(task, _fit_targets(model, y_train) if task == "regression" else 1.0)
    xt, yt = _to_tensors(X_train, y_train, task, device)
    assert yt is not None
    n = len(xt)
    batch_size = min(settings.batch_size, n)
    snapshot: dict[str, torch.Tensor] | None = None  # the weights after the last whole epoch
    try:
        model.to(device)
        optimizer = _make_optimizer(model, settings)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.epochs)
        for epoch in range(settings.epochs):
            model.train()
            order = torch.randperm(n, generator=generator)
            for first in range(0, n, batch_size):
                if budget is not None:
                    try:
                        budget.check()
                    except TrialTimeout:
                        stopped = getattr(budget, "stop", None)
                        if not keep_on_deadline or snapshot is None or (stopped is not None and stopped.is_set()):
                            raise
                        outcome.cut_short = True
                        break
                index = order[first:first + batch_size]
                if len(index) < 2 and n > 1:  # a lone sample breaks batch norm
                    continue
                xb = xt[index].to(device, non_blocking=True)
                yb = yt[index].to(device, non_blocking=True)
                if settings.augment:  # training batches only: validation and predictions see the images as given
                    xb = augment_batch(xb, settings.augment, generator)
                optimizer.zero_grad(set_to_none=True)
                with _autocast(device):
                    out = model(xb)
                loss = loss_fn(out.float(), yb)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"training diverged (loss is {loss.item()}) at epoch {epoch + 1}; "
                        "try a smaller lr"
                    )
                loss.backward()
                optimizer.step()
            if outcome.cut_short:
                model.load_state_dict(snapshot)
                break
            scheduler.step()
            outcome.epochs_run = epoch + 1
            if X_val is not None and y_val is not None:
                outputs = predict_outputs(model, X_val, device=device,
                                          batch_size=max(256, batch_size))
                value = score_outputs(outputs, y_val, task, metric)
                outcome.history.append(value)
                if trial is not None and report:
                    trial.report(value, epoch + 1)  # the step is the epochs trained: the rung
                    # a network trained to the end is kept whatever its rung says
                    if epoch + 1 < settings.epochs and trial.should_prune():
                        name = getattr(metric, "name", metric) or "score"
                        raise optuna.TrialPruned(
                            f"pruned at the {epoch + 1}-epoch rung with {name} {value:.4g}"
                        )
            if keep_on_deadline and epoch + 1 < settings.epochs:
                snapshot = {k: v.detach().clone() for k, v in model.state_dict().items()}
    except _OUT_OF_MEMORY as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "no details"
        detail = detail.removeprefix("CUDA out of memory.").strip()
        raise RuntimeError(
            f"CUDA out of memory at batch size {batch_size}: {detail}. Lower batch_size or "
            "channels; the search goes on with the next trial"
        ) from None
    finally:
        model.to("cpu")
        model.eval()
        release_device_memory(device)
    outcome.seconds = time.perf_counter() - start
    return outcome


def release_device_memory(device: torch.device | str) -> None:
    """Return cached GPU memory to the driver after a trial."""
    device = torch.device(device)
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        gc.collect()
        torch.mps.empty_cache()


@torch.no_grad()
def predict_outputs(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 512,
) -> np.ndarray:
    """Raw network outputs (logits, or values for regression) as a float32 array."""
    device = torch.device(device)
    model.eval()
    if isinstance(X, ImageStream):
        xt: Any = X.batches()
    else:
        xt = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.asarray(X, dtype=np.float32))
    chunks = []
    for first in range(0, len(xt), batch_size):
        xb = xt[first:first + batch_size].to(device, non_blocking=True)
        with _autocast(device):
            chunks.append(model(xb).float().cpu())
    if not chunks:
        return np.zeros((0, 1), dtype=np.float32)
    return torch.cat(chunks).numpy()


def score_outputs(outputs: np.ndarray, y: np.ndarray, task: str, metric: Any = None) -> float:
    """Score raw network outputs with one of the search metrics.

    Parameters
    ----------
    outputs : ndarray
        Logits (classification) or values in column 0 (regression).
    y : ndarray
        Class indices (positions in the class list), or regression targets.
    task : {"binary", "multiclass", "regression"}
    metric : str or Metric, optional
        A :func:`~jupyter_automl.evaluate.metrics.get_metric` name or object; ``None`` or
        ``"auto"`` picks the task's default.
    """
    from jupyter_automl.evaluate.metrics import get_metric

    if metric is None or isinstance(metric, str):
        metric = get_metric(metric or "auto", task)
    y = np.asarray(y)
    if task == "regression":
        return metric(y, outputs.reshape(len(outputs), -1)[:, 0].astype(np.float64))
    classes = np.arange(outputs.shape[1])
    if metric.needs == "label":
        return metric(y, outputs.argmax(1), classes)
    shifted = np.exp(outputs - outputs.max(1, keepdims=True))
    return metric(y, shifted / shifted.sum(1, keepdims=True), classes)


def split_indices(
    y: np.ndarray, task: str, fraction: float, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded (stratified for classification) train/validation split of ``range(len(y))``."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    if task == "regression":
        order = rng.permutation(len(y))
        n_val = max(1, int(round(len(y) * fraction)))
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(len(members) * fraction)) if len(members) > 1 else 0
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))

