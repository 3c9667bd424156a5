"""DARTS: one-shot differentiable architecture search over the ``nas-cell`` space.

A supernet holds every candidate op on every edge of the NAS-Bench-201 cell (a *mixed op*;
the architecture weights ``alpha`` are shared by all cells). Training alternates,
first-order (Liu et al., 2019, "DARTS (1st order)"): one step of the network weights on a
training batch, one step of ``alpha`` on a batch of held-out data. The derived cell is
retrained from scratch as a normal trial, so its score is comparable with every other
strategy's.

Remedies against DARTS' collapse onto parameter-free skip connections (on NAS-Bench-201
first-order DARTS ends with all-skip cells):

- **DARTS-** (Chu et al., 2021): an auxiliary skip connection around every mixed op, scaled
  by ``beta`` that decays linearly from 1 to 0 over the search. It gives gradients the easy
  path skip connections otherwise win ``alpha`` for, so ``alpha`` measures the ops' merit.
- **DARTS+ early stopping** (Liang et al., 2019): after every search epoch the genotype is
  derived; once it has more than ``max_skip`` skip connections the search stops and returns
  the genotype of the epoch before.

Both train the weights alone for the first third of the epochs (a warm-up: ``alpha`` stays at
its uniform start), and the DARTS+ stop is only checked once ``alpha`` has trained for
``min_arch_epochs``, so it can never return the untrained start (a random cell).

Two supernets (space option ``darts_method``):

- ``darts``: every op of every edge runs, mixed by ``softmax(alpha)``;
- ``gdas`` (Dong & Yang, 2019), the default: each step draws one op per edge by Gumbel-max
  and runs only that op (straight-through gradients reach ``alpha``), so a step costs what
  one network's step costs.

Three ways to read the cell from the supernet (``darts_selection``, ``auto`` picks the
measured best for the method: ``sampled`` for gdas, ``perturbation`` for darts):

- ``argmax`` of ``alpha`` per edge;
- ``perturbation`` (DARTS-PT, Wang et al., 2021): per edge, the op whose removal lowers the
  supernet's held-out accuracy most;
- ``sampled``: 50 cells drawn from ``softmax(alpha)`` (the argmax among them), each scored
  as a single path with the shared weights on held-out data; the best wins.

``none`` may win an edge with ``darts_none: true`` (never the whole cell); it is off by
default because it did not help in ``benchmarks/nas.py``.

Measured in ``benchmarks/nas.py darts`` (digits, real training, 6 seeds; the README's NAS
section has the table): the supernets drift towards parameter-free ops (all-pool cells); the
derived cells train to 0.84 (DARTS argmax), 0.89 (DARTS perturbation), 0.88 (GDAS argmax) and
0.936 (GDAS sampled, the default), against the 0.956 random search expects from its best of 10
trained cells. The default search costs about 8 trainings, DARTS about 13.

``strategy: darts`` in a search runs one search before the first trial (the space's
``portfolio``) and trains its cell as trial 0; further trials are random. For several DARTS
searches as trials, use :class:`DartsSampler`: before each trial it runs one supernet search
(each with the next seed) and answers that trial's edge parameters with the derived genotype;
other parameters (searched training options) go to a random sampler.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import torch
from optuna.distributions import BaseDistribution
from torch import nn

from jupyter_automl._errors import ConfigError
from jupyter_automl.spaces.nas.genotypes import CellGenotype
from jupyter_automl.spaces.nas.modules import ResidualReduction, Standardize, cell_op

if TYPE_CHECKING:
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from jupyter_automl.spaces.nas.spaces import NasCellSpace

__all__ = ["DartsResult", "DartsSampler", "DartsSupernet", "darts_search"]


class MixedOp(nn.Module):
    """All candidate ops of one edge, mixed by softmax weights."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.names = tuple(ops)
        self.ops = nn.ModuleList(cell_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor, weights: torch.Tensor,
                index: int | None = None) -> torch.Tensor:
        if index is not None:  # GDAS: only the sampled op runs; its weight is 1 going forward
            chosen = self.ops[index](x) if self.names[index] != "none" else x.mul(0.0)
            return weights[index] * chosen + sum(w for k, w in enumerate(weights) if k != index)
        return sum(w * op(x) for w, op, name in zip(weights, self.ops, self.names, strict=True)
                   if name != "none")  # `none` outputs zeros: its weight only dilutes others


class SearchCell(nn.Module):
    """A NAS-Bench-201 cell whose six edges are mixed ops (plus DARTS-'s auxiliary skip)."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedOp(ops, channels) for _ in CellGenotype.edges())

    def forward(self, x: torch.Tensor, weights: torch.Tensor, beta: float,
                indices: list[int] | None = None) -> torch.Tensor:
        nodes = [x]
        k = 0
        for i in range(1, CellGenotype.n_nodes):
            total = torch.zeros_like(x)
            for j in range(i):
                index = None if indices is None else indices[k]
                total = total + self.edges[k](nodes[j], weights[k], index)
                if beta > 0:
                    total = total + beta * nodes[j]
                k += 1
            nodes.append(total)
        return nodes[-1]


class DartsSupernet(nn.Module):
    """The NAS-Bench-201 macro skeleton with search cells and shared ``alpha``.

    Parameters
    ----------
    ops : sequence of str
        Candidate ops per edge.
    input_shape : sequence of int
        ``(C, H, W)`` of one image.
    n_outputs, channels, n_cells, n_stages : int
        As in :class:`~jupyter_automl.spaces.nas.modules.CellNetwork`.
    """

    keep: torch.Tensor

    def __init__(self, ops: Sequence[str], input_shape: Sequence[int], n_outputs: int,
                 channels: int = 16, n_cells: int = 1, n_stages: int = 3) -> None:
        super().__init__()
        self.op_names = tuple(ops)
        in_channels, height = int(input_shape[0]), int(input_shape[1])
        self.scaling = Standardize((in_channels, 1, 1))
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        self.layers = nn.ModuleList()
        c, size = channels, height
        for stage in range(n_stages):
            if stage > 0:
                stride = 2 if size >= 2 else 1
                self.layers.append(ResidualReduction(c, c * 2, stride))
                c, size = c * 2, (size + 1) // 2 if stride == 2 else size
            self.layers.extend(SearchCell(ops, c) for _ in range(n_cells))
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(c, n_outputs))
        self.alpha = nn.Parameter(1e-3 * torch.randn(len(CellGenotype.edges()), len(ops)))
        self.beta = 1.0
        self.sampling = False  # GDAS: sample one op per edge instead of mixing them all
        self.fixed: list[int] | None = None  # run this one op per edge (path evaluation)
        self.tau = 10.0
        # 1 keeps an op in the mixture, 0 removes it (perturbation-based selection)
        self.register_buffer("keep", torch.ones(len(CellGenotype.edges()), len(ops)))

    def weight_parameters(self) -> list[nn.Parameter]:
        """Network weights (everything but ``alpha``)."""
        return [p for name, p in self.named_parameters() if name != "alpha"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        indices = None
        if self.fixed is not None:  # one path of the supernet, as a single network
            indices = self.fixed
            weights = torch.zeros_like(self.alpha).scatter_(
                -1, torch.tensor(indices, device=self.alpha.device).unsqueeze(-1), 1.0)
        elif self.sampling and self.training:
            weights, indices = self._gumbel_weights()
        else:
            weights = torch.softmax(self.alpha, dim=-1) * self.keep
        x = self.stem(self.scaling(x))
        for layer in self.layers:
            if isinstance(layer, SearchCell):
                x = layer(x, weights, self.beta, indices)
            else:
                x = layer(x)
        return self.head(x)

    def _gumbel_weights(self) -> tuple[torch.Tensor, list[int]]:
        """GDAS: one op per edge drawn by Gumbel-max; straight-through one-hot weights."""
        log_p = torch.log_softmax(self.alpha, dim=-1)
        gumbel = -torch.empty_like(log_p).exponential_().log()
        probs = torch.softmax((log_p + gumbel) / self.tau, dim=-1)
        index = probs.argmax(-1)
        hard = torch.zeros_like(probs).scatter_(-1, index.unsqueeze(-1), 1.0)
        return hard - probs.detach() + probs, [int(i) for i in index]

    @torch.no_grad()
    def perturbation_genotype(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256,
                              allow_none: bool = True) -> CellGenotype:
        """DARTS-PT selection: per edge, the op whose removal costs the supernet most accuracy.

        Each edge is decided in turn (edges already decided keep only their op), without
        DARTS-PT's fine-tuning between decisions, to stay cheap. With ``allow_none``, an edge
        where removing any op *raises* the accuracy becomes ``none`` (the cell is better
        without it), unless that disconnects the cell.
        """
        self.eval()
        usable = [k for k, name in enumerate(self.op_names) if name != "none"]
        chosen: list[str] = []
        for edge in range(self.alpha.shape[0]):
            base = _accuracy(self, x, y, batch_size)
            drops = []
            for k in usable:
                self.keep[edge, k] = 0.0
                drops.append(base - _accuracy(self, x, y, batch_size))
                self.keep[edge, k] = 1.0
            best = usable[int(np.argmax(drops))]
            self.keep[edge] = 0.0
            if allow_none and "none" in self.op_names and max(drops) < 0:
                chosen.append("none")
                continue
            self.keep[edge, best] = 1.0
            chosen.append(self.op_names[best])
        self.keep.fill_(1.0)
        genotype = CellGenotype(tuple(chosen))
        if genotype.canonical().ops == ("none",) * len(chosen):
            return self.perturbation_genotype(x, y, batch_size, allow_none=False)
        return genotype

    @torch.no_grad()
    def sampled_genotype(self, x: torch.Tensor, y: torch.Tensor, n_samples: int = 50,
                         allow_none: bool = True, batch_size: int = 256,
                         uniform: float = 0.0) -> CellGenotype:
        """The best of ``n_samples`` cells drawn from ``softmax(alpha)``, scored with the
        supernet's shared weights on ``(x, y)`` (one-shot evaluation, as SPOS and GDAS's
        weight sharing allow: every path trained as a single network).

        Batch norm uses the held-out batch's statistics (each path has its own). The argmax
        cell is always among the candidates. ``uniform`` mixes that much of the uniform
        distribution into ``softmax(alpha)`` (cells ``alpha`` is wrong about get a chance).
        """
        self.train()  # batch statistics: the running ones mix every path
        probs = torch.softmax(self.alpha.detach(), dim=-1).cpu()
        probs = (1.0 - uniform) * probs + uniform / probs.shape[-1]
        if not allow_none and "none" in self.op_names:
            probs[:, self.op_names.index("none")] = 0.0
        generator = torch.Generator().manual_seed(0)
        candidates = {self.genotype(allow_none).canonical(): self.genotype(allow_none)}
        for _ in range(20 * n_samples):
            if len(candidates) >= n_samples:
                break
            picks = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
            cell = CellGenotype(tuple(self.op_names[int(i)] for i in picks))
            if cell.canonical().ops != ("none",) * len(cell.ops):
                candidates.setdefault(cell.canonical(), cell)
        best, best_score = None, -1.0
        try:
            for cell in candidates.values():
                self.fixed = [self.op_names.index(op) for op in cell.ops]
                score = _accuracy(self, x, y, batch_size)
                if score > best_score:
                    best, best_score = cell, score
        finally:
            self.fixed = None
        assert best is not None
        return best

    def genotype(self, allow_none: bool = False) -> CellGenotype:
        """Argmax of ``alpha`` per edge.

        ``none`` wins an edge only with ``allow_none`` and only while the cell stays
        connected (a cell with no path from input to output falls back to the argmax
        without ``none``).
        """
        alpha = self.alpha.detach().clone()
        if allow_none:
            genotype = CellGenotype(tuple(self.op_names[int(i)] for i in alpha.argmax(-1)))
            if genotype.canonical().ops != ("none",) * len(genotype.ops):
                return genotype
        if "none" in self.op_names and len(self.op_names) > 1:
            alpha[:, self.op_names.index("none")] = -float("inf")
        return CellGenotype(tuple(self.op_names[int(i)] for i in alpha.argmax(-1)))


@torch.no_grad()
def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Accuracy of ``net`` on ``(x, y)``."""
    correct = 0
    for first in range(0, len(x), batch_size):
        correct += int((net(x[first:first + batch_size]).argmax(1) == y[first:first + batch_size])
                       .sum())
    return correct / max(1, len(x))


@dataclass
class DartsResult:
    """Outcome of one supernet search.

    ``readouts`` holds the cell each selection rule reads from the final supernet
    (``argmax``, ``argmax-none``: argmax where ``none`` may win, and ``perturbation``
    when it was computed); ``genotype`` is the one the search returns.
    """

    genotype: CellGenotype
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    readouts: dict[str, str] = field(default_factory=dict)


SELECTIONS = ("argmax", "perturbation", "sampled")
METHODS = ("darts", "gdas")


def darts_search(
    space: NasCellSpace,
    *,
    epochs: int | None = None,
    seed: int | None = None,
    max_skip: int | None = None,
    darts_minus: bool = True,
    warmup_epochs: int | None = None,
    min_arch_epochs: int | None = None,
    alpha_lr: float = 3e-3,
    selection: str | None = None,
    allow_none: bool | None = None,
    method: str | None = None,
    sample_uniform: float = 0.0,
    all_readouts: bool = False,
    budget: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DartsResult:
    """Run one first-order DARTS search on the space's training split.

    The trials' validation split is left out; the rest is halved into a weights half and an
    ``alpha`` half. The first ``warmup_epochs`` train the weights only (``alpha`` stays
    at its uniform start); the DARTS+ early stop is checked only after ``alpha`` has trained
    for ``min_arch_epochs``, so it never returns the untrained start.

    Parameters
    ----------
    space : NasCellSpace
    epochs : int, optional
        Search epochs, warm-up included (space option ``darts_epochs``, default 12).
    seed : int, optional
        Defaults to the config's seed.
    max_skip : int, optional
        DARTS+ early stop once the derived cell has more skips than this (space option
        ``darts_max_skip``, default 2; ``6`` disables it).
    darts_minus : bool
        Use DARTS-'s decaying auxiliary skip connection.
    warmup_epochs : int, optional
        Epochs that train weights only (default: a third of ``epochs``, at least 1).
    min_arch_epochs : int, optional
        Epochs ``alpha`` trains before the early stop may fire (default: half of the epochs
        after the warm-up, at least 1).
    alpha_lr : float
        Adam learning rate of ``alpha``.
    selection : {"auto", "argmax", "perturbation", "sampled"}, optional
        How the final genotype is read from the supernet (space option
        ``darts_selection``; ``auto``: ``sampled`` for gdas, ``perturbation`` for darts): the
        argmax of ``alpha``; the op whose removal lowers the supernet's held-out accuracy
        most (DARTS-PT, Wang et al., 2021); or the best of 50 cells drawn from
        ``softmax(alpha)`` scored with the shared weights.
    allow_none : bool, optional
        Let ``none`` win an edge (space option ``darts_none``), as long as the cell stays
        connected.
    method : {"darts", "gdas"}, optional
        Space option ``darts_method``. ``darts``: every op of every edge runs, mixed by
        ``softmax(alpha)`` (Liu et al., 2019). ``gdas`` (Dong & Yang, 2019): each step
        draws one op per edge (Gumbel-max, temperature annealed from 10 to 0.1) and only
        that op runs, so a step costs about what a single network's step costs; the cell
        is the argmax of ``alpha`` (no DARTS- skip, no DARTS+ stop, no perturbation).
    sample_uniform : float
        For ``selection: sampled``: the share of the uniform distribution mixed into
        ``softmax(alpha)`` when drawing the candidate cells.
    all_readouts : bool
        Also compute the selections not asked for, into ``result.readouts`` (benchmarks).
    budget : TrialBudget, optional
        When it runs out (or the run is stopped) the search ends where it got to and the
        cell is read from the supernet as it is (``stopped_early``).
    progress : callable, optional
        ``progress("DARTS supernet search", epoch, epochs)`` after every epoch.

    Returns
    -------
    DartsResult
    """
    from jupyter_automl.evaluate import TrialTimeout
    from jupyter_automl.evaluate.torch_training import release_device_memory

    if space.name != "nas-cell":
        raise ConfigError(f"strategy: darts searches the nas-cell space only, not {space.name!r}")
    options = space.options
    epochs = int(epochs if epochs is not None else options["darts_epochs"])
    max_skip = int(max_skip if max_skip is not None else options["darts_max_skip"])
    selection = str(selection if selection is not None else options["darts_selection"])
    allow_none = bool(options["darts_none"] if allow_none is None else allow_none)
    method = str(method if method is not None else options["darts_method"])
    if method not in METHODS:
        raise ConfigError("option 'space_options.darts_method': expected 'darts' or 'gdas', "
                          f"got {method!r}")
    gdas = method == "gdas"
    if selection == "auto":
        selection = "sampled" if gdas else "perturbation"
    if selection not in SELECTIONS:
        raise ConfigError("option 'space_options.darts_selection': expected 'auto', 'argmax', "
                          f"'perturbation' or 'sampled', got {selection!r}")
    if space.task == "regression":
        raise ConfigError("strategy: darts needs a classification task")
    warmup = int(warmup_epochs if warmup_epochs is not None else max(1, epochs // 3))
    min_arch = int(min_arch_epochs if min_arch_epochs is not None
                   else max(1, (epochs - warmup) // 2))
    base_seed = int(seed if seed is not None else getattr(space.config, "seed", 0) or 0)
    start = time.perf_counter()
    setup = _SupernetSetup.create(space, base_seed, alpha_lr)
    net, device = setup.net, setup.device
    net.sampling = gdas
    result = DartsResult(genotype=net.genotype(allow_none))
    previous: CellGenotype | None = None
    try:
        for epoch in range(epochs):
            progress_fraction = epoch / max(1, epochs - 1)
            net.beta = max(0.0, 1.0 - progress_fraction) if darts_minus and not gdas else 0.0
            net.tau = 10.0 * (0.1 / 10.0) ** progress_fraction  # GDAS: 10 -> 0.1
            try:
                setup.train_epoch(train_alpha=epoch >= warmup, budget=budget)
            except TrialTimeout as exc:  # out of time: read the cell from where it got to
                result.history.append({"epoch": epoch + 1, "stopped": str(exc)})
                result.stopped_early = True
                break
            genotype = net.genotype(allow_none)
            skips = genotype.ops.count("skip_connect")
            result.history.append({"epoch": epoch + 1, "genotype": genotype.to_string(),
                                   "skips": skips, "beta": net.beta,
                                   "alpha": net.alpha.detach().cpu().tolist()})
            if progress is not None:
                progress("DARTS supernet search", epoch + 1, epochs)
            if (not gdas and epoch + 1 >= warmup + min_arch and skips > max_skip
                    and previous is not None):
                result.genotype, result.stopped_early = previous, True
                break
            result.genotype = genotype
            if epoch >= warmup:
                previous = genotype
        result.readouts = {"argmax": net.genotype(False).to_string(),
                           "argmax-none": net.genotype(True).to_string()}
        if result.stopped_early:
            result.readouts["argmax" + ("-none" if allow_none else "")] = (
                result.genotype.to_string())
        _held_out_readouts(setup, result, selection, allow_none,
                           wanted=("sampled" if gdas else "perturbation") if all_readouts else None,
                           uniform=sample_uniform)
    finally:
        net.to("cpu")
        release_device_memory(device)
    result.seconds = time.perf_counter() - start
    return result


def _held_out_readouts(setup: _SupernetSetup, result: DartsResult, selection: str,
                       allow_none: bool, wanted: str | None, uniform: float = 0.0) -> None:
    """Read the cell by ``perturbation`` or ``sampled`` on the alpha half of the data.

    ``selection`` (when one of the two) also becomes the result's genotype; ``wanted`` is
    computed into ``readouts`` only (benchmarks).
    """
    held_out = torch.from_numpy(setup.half_a)
    x, y = setup.xt[held_out].to(setup.device), setup.yt[held_out].to(setup.device)
    for rule in dict.fromkeys([selection, wanted]):
        if rule == "sampled":
            chosen = setup.net.sampled_genotype(x, y, allow_none=allow_none, uniform=uniform)
        elif rule == "perturbation":
            chosen = setup.net.perturbation_genotype(x, y, allow_none=allow_none)
        else:
            continue
        result.readouts[rule] = chosen.to_string()
        if rule == selection:
            result.genotype = chosen
            result.history.append({"selection": rule, "genotype": chosen.to_string()})


@dataclass
class _SupernetSetup:
    """A supernet on its device, its two optimisers and the weights/alpha halves of the data."""

    net: DartsSupernet
    device: torch.device
    xt: torch.Tensor
    yt: torch.Tensor
    half_w: np.ndarray
    half_a: np.ndarray
    w_opt: torch.optim.Optimizer
    a_opt: torch.optim.Optimizer
    batch: int
    generator: torch.Generator

    @classmethod
    def create(cls, space: NasCellSpace, seed: int, alpha_lr: float = 3e-3) -> _SupernetSetup:
        """Split the trials' training rows in two halves and build the seeded supernet."""
        from jupyter_automl.evaluate.torch_training import (
            seed_everything,
            select_device,
            set_cpu_threads,
            split_indices,
        )

        options = space.options
        X, y = space.prepared()
        train, _ = split_indices(y, space.task, float(options["val_fraction"]),
                                 int(getattr(space.config, "seed", 0) or 0))
        order = np.random.default_rng(seed).permutation(train)
        half_w, half_a = order[: len(order) // 2], order[len(order) // 2:]
        seed_everything(seed)
        device = select_device(str(getattr(space.config, "device", "auto") or "auto"))
        if device.type == "cpu":
            set_cpu_threads(space.threads)
        net = DartsSupernet(options["ops"], X.shape[1:], space.n_outputs,
                            int(options["channels"]), int(options["n_cells"]),
                            int(options["n_stages"]))
        axes = (0, 2, 3)
        mean = X[train].mean(axis=axes, keepdims=True)[0]
        std = X[train].std(axis=axes, keepdims=True)[0]
        net.scaling.mean.copy_(torch.from_numpy(mean))
        net.scaling.scale.copy_(
            torch.from_numpy(np.where(std > 1e-8, std, 1.0).astype(np.float32)))
        net.to(device)
        settings = space.settings({})
        return cls(
            net=net, device=device, xt=torch.from_numpy(X), yt=torch.from_numpy(y),
            half_w=half_w, half_a=half_a,
            w_opt=torch.optim.Adam(net.weight_parameters(), lr=float(settings.lr)),
            a_opt=torch.optim.Adam([net.alpha], lr=alpha_lr, betas=(0.5, 0.999),
                                   weight_decay=1e-3),
            batch=min(int(settings.batch_size), len(half_w), len(half_a)),
            generator=torch.Generator().manual_seed(seed),
        )

    def train_epoch(self, *, train_alpha: bool, budget: Any = None) -> None:
        """One pass: per batch, an ``alpha`` step (after the warm-up), then a weights step."""
        net, device, loss_fn = self.net, self.device, nn.CrossEntropyLoss()
        net.train()
        w_order = torch.from_numpy(self.half_w)[
            torch.randperm(len(self.half_w), generator=self.generator)]
        a_order = torch.from_numpy(self.half_a)[
            torch.randperm(len(self.half_a), generator=self.generator)]
        for first in range(0, min(len(w_order), len(a_order)) - 1, self.batch):
            if budget is not None:
                budget.check()
            if train_alpha:
                ia = a_order[first:first + self.batch]
                self.a_opt.zero_grad(set_to_none=True)
                loss_fn(net(self.xt[ia].to(device)), self.yt[ia].to(device)).backward()
                self.a_opt.step()
            iw = w_order[first:first + self.batch]
            self.w_opt.zero_grad(set_to_none=True)
            loss_fn(net(self.xt[iw].to(device)), self.yt[iw].to(device)).backward()
            nn.utils.clip_grad_norm_(net.weight_parameters(), 5.0)
            self.w_opt.step()


class DartsSampler(optuna.samplers.BaseSampler):
    """An Optuna sampler whose every trial is the genotype of a fresh DARTS search.

    Trial ``k`` gets the cell derived by a supernet search seeded ``seed + k``; parameters
    that are not cell edges (searched training options) are drawn at random.

    Parameters
    ----------
    space : NasCellSpace
        The checked space (its data, options and config).
    seed : int, optional
    **search_kwargs
        Passed to :func:`darts_search` (``epochs``, ``max_skip``, ``darts_minus``).

    Examples
    --------
    >>> sampler = DartsSampler(space)  # doctest: +SKIP
    >>> study = optuna.create_study(direction="maximize", sampler=sampler)  # doctest: +SKIP
    """

    def __init__(self, space: NasCellSpace, seed: int | None = None,
                 **search_kwargs: Any) -> None:
        self.space = space
        self.seed = int(seed if seed is not None else getattr(space.config, "seed", 0) or 0)
        self.search_kwargs = search_kwargs
        self.results: dict[int, DartsResult] = {}
        self._fallback = optuna.samplers.RandomSampler(seed=self.seed)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if trial.number not in self.results:
            self.results[trial.number] = darts_search(
                self.space, seed=self.seed + len(self.results), **self.search_kwargs
            )

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        result = self.results.get(trial.number)
        params = result.genotype.to_params() if result is not None else {}
        if param_name in params:
            return params[param_name]
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def reseed_rng(self) -> None:
        self._fallback.reseed_rng()
