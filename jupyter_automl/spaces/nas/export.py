"""Export a found architecture as a standalone PyTorch source file.

The file holds the very class definitions the search trained (copied from
:mod:`jupyter_automl.spaces.nas.modules` with :func:`inspect.getsource`), a ``build_model()``
that constructs the architecture with its hyperparameters written out, and a training loop,
so it runs with torch alone. Load the search's state dict into ``build_model()`` and it
predicts exactly what the search's model predicts.
"""

from __future__ import annotations

import inspect
import pprint
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from jupyter_automl.spaces.nas.spaces import TorchSpace

__all__ = ["export_source"]

_HEADER = '''\
"""{title}

Exported by jupyter-automl from the {space} search space.
Needs only torch; no jupyter-automl import.

    genotype: {genotype}
    input:    one sample shaped {input_shape}, raw values (scaling is inside the model)
    task:     {task}{target_note}
    augment:  {augment_note}

Load the trained weights with::

    model = build_model()
    model.load_state_dict(torch.load("weights.pt"))
    model.eval()
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
'''

_FOOTER = '''

GENOTYPE = {genotype!r}
TASK = {task!r}
INPUT_SHAPE = {input_shape!r}
CLASSES = {classes}


AUGMENT = {augment!r}


def build_model() -> nn.Module:
    """The architecture, untrained: input scaling, then the network{target_doc}."""
    return nn.Sequential(
        Standardize({stats_shape!r}),
        {network}(
{kwargs}
        ),{target_module}
    )


def train(model: nn.Module, X, y, epochs: int = {epochs}, batch_size: int = {batch_size},
          lr: float = {lr!r}, weight_decay: float = {weight_decay!r}, seed: int = {seed}):
    """Train ``model`` as the search did ({optimizer}, cosine schedule) on arrays X, y.

    X is shaped (N, *INPUT_SHAPE); y holds class indices (positions in CLASSES) or targets.
    The input scaling is set from X first (and, for a regression, the targets' scale from y);
    training batches are augmented as AUGMENT says, predictions never are.
    """
    torch.manual_seed(seed)
    x = torch.as_tensor(X, dtype=torch.float32).reshape(len(X), *INPUT_SHAPE)
    target = torch.as_tensor(y, dtype=torch.float32 if TASK == "regression" else torch.long)
    axes = (0, 2, 3) if x.dim() == 4 else (0,)
    with torch.no_grad():
        model[0].mean.copy_(x.mean(dim=axes, keepdim=True)[0])
        std = x.std(dim=axes, unbiased=False, keepdim=True)[0]
        model[0].scale.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)))
    scale = 1.0
    if TASK == "regression":  # the network learns standardised targets; its last module maps them back
        scale = float(target.std(unbiased=False)) or 1.0
        model[-1].fit_targets(float(target.mean()), scale)
    optimizer = {optimizer_expr}
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for first in range(0, len(x), batch_size):
            index = order[first:first + batch_size]
            if len(index) < 2:
                continue
            optimizer.zero_grad()
            batch = augment_batch(x[index], AUGMENT, generator) if AUGMENT else x[index]
            out = model(batch)
            if TASK == "regression":
                loss = nn.functional.mse_loss(out.squeeze(-1), target[index]) / scale**2
            else:
                loss = nn.functional.cross_entropy(out, target[index])
            loss.backward()
            optimizer.step()
        schedule.step()
    return model.eval()


if __name__ == "__main__":
    # Example: retrain from scratch on the data you searched on (here: random stand-in data).
    X = torch.rand(256, *INPUT_SHAPE)
    y = torch.randint(0, max(1, len(CLASSES or [0])), (256,))
    model = train(build_model(), X, y, epochs=1)
    print(model(X[:4]))
'''

_OPTIMIZERS = {
    "adam": "torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)",
    "adamw": "torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)",
    "sgd": ("torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,\n"
            "                                weight_decay=weight_decay)"),
}


def export_source(space: TorchSpace, params: dict, model: nn.Module | None = None) -> str:
    """Standalone source for the architecture in ``params``.

    Parameters
    ----------
    space : TorchSpace
        The space that trained it (gives the input shape, classes and options).
    params : dict
        The candidate's params (``"genotype"`` and training options).
    model : nn.Module, optional
        Unused for the source itself (weights go in a state dict); accepted for the
        ``SearchSpace.export_source`` contract.

    Returns
    -------
    str
        Python source defining ``build_model()`` and ``train(...)``.
    """
    from jupyter_automl.evaluate.torch_training import augment_batch
    from jupyter_automl.spaces.nas.modules import EXPORT_CLASSES, TargetScale, constructor_for

    X, _ = space.prepared()
    input_shape = tuple(int(s) for s in X.shape[1:])
    genotype = space.genotype(params)
    cls, kwargs = constructor_for(genotype, input_shape, space.n_outputs, space.options)
    stats_shape = (input_shape[0], 1, 1) if space.image_input else (input_shape[0],)
    settings = space.settings(params)
    classes = None if space.task == "regression" else [
        c.item() if hasattr(c, "item") else c for c in space.classes
    ]
    regression = space.task == "regression"
    pieces = [*EXPORT_CLASSES[space.name], *([TargetScale] if regression else []), augment_batch]
    definitions = "\n\n".join(inspect.getsource(obj) for obj in pieces)
    augment = tuple(settings.augment)
    augment_note = ("none" if not augment else " and ".join(
        {"crop": "random crop after padding (edges repeated)", "flip": "horizontal flip"}[a] for a in augment)
        + " of the training batches, never of predictions")
    kwarg_lines = "\n".join(
        textwrap.indent(f"{key}={pprint.pformat(value, width=80, compact=True)},", " " * 12)
        for key, value in kwargs.items()
    )
    header = _HEADER.format(
        title=f"{cls.__name__}: a neural network architecture found by neural architecture "
              "search.",
        space=space.name, genotype=genotype.to_string(), input_shape=input_shape,
        task=space.task, augment_note=augment_note,
        target_note=" (outputs in the targets' units: TargetScale undoes the standardisation)" if regression else "",
    )
    footer = _FOOTER.format(
        genotype=genotype.to_string(), task=space.task, input_shape=input_shape,
        classes=pprint.pformat(classes, width=90, compact=True), stats_shape=stats_shape,
        network=cls.__name__, kwargs=kwarg_lines, epochs=settings.epochs,
        batch_size=settings.batch_size, lr=settings.lr, weight_decay=settings.weight_decay,
        seed=settings.seed if settings.seed is not None else 0, optimizer=settings.optimizer,
        optimizer_expr=_OPTIMIZERS[settings.optimizer], augment=augment,
        target_doc=", then the targets' scale" if regression else "",
        target_module="\n        TargetScale()," if regression else "",
    )
    return header + "\n\n" + definitions + footer
