"""PyTorch builders for the NAS genotypes.

Every ``nn.Module`` class here takes plain Python values (strings, ints, tuples), uses only
``math``, ``torch`` and ``torch.nn`` and never refers to jupyter_automl: the exporter copies
their source verbatim into a standalone file, so an exported model is the same code as the
trained one. Keep it that way when editing: no module-level helpers used by these classes
other than the classes listed in :data:`EXPORT_CLASSES`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from jupyter_automl.spaces.nas.genotypes import (
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
)

__all__ = [
    "EXPORT_CLASSES",
    "CellNetwork",
    "ChainNetwork",
    "DagNetwork",
    "MlpNetwork",
    "Standardize",
    "TargetScale",
    "build_module",
    "count_parameters",
    "constructor_for",
]


# ------------------------------------------------------------------------------ inputs
class Standardize(nn.Module):
    """Subtract a stored mean and divide by a stored scale (per channel or per feature)."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(*shape))
        self.register_buffer("scale", torch.ones(*shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale


class TargetScale(nn.Module):
    """Map standardised predictions back to the targets' units: ``x * scale + mean`` (regression).

    Training sets the two numbers from the training targets (``fit_targets``), so the network
    before it learns values of unit scale and its outputs are in the data's units.
    """

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("scale", torch.ones(()))

    def fit_targets(self, mean: float, scale: float) -> None:
        self.mean.fill_(mean)
        self.scale.fill_(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.mean


# ------------------------------------------------------------------------- NAS-Bench-201 cell
class ReLUConvBN(nn.Module):
    """ReLU, convolution, batch norm: NAS-Bench-201's ``nor_conv`` operation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Zero(nn.Module):
    """The ``none`` operation: a zero tensor of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def cell_op(name: str, channels: int) -> nn.Module:
    """One NAS-Bench-201 operation on ``channels`` channels, stride 1."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NAS-Bench-201 op {name!r}")


class Cell(nn.Module):
    """A NAS-Bench-201 cell: node ``i`` is the sum of ``op(i, j)(node j)`` over ``j < i``."""

    def __init__(self, ops: Sequence[str], channels: int, n_nodes: int = 4) -> None:
        super().__init__()
        self.n_nodes = n_nodes
        self.edges = nn.ModuleList(cell_op(op, channels) for op in ops)
        self.ops = tuple(ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for i in range(1, self.n_nodes):
            total = None
            for j in range(i):
                if self.ops[k] != "none":  # skipping `none` changes nothing but saves time
                    out = self.edges[k](nodes[j])
                    total = out if total is None else total + out
                k += 1
            nodes.append(total if total is not None else nodes[0].mul(0.0))
        return nodes[-1]


class ResidualReduction(nn.Module):
    """NAS-Bench-201's reduction block: a strided residual basic block that widens."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class CellNetwork(nn.Module):
    """NAS-Bench-201 macro skeleton: stem, stages of ``n_cells`` cells, reductions, head.

    Parameters
    ----------
    ops : sequence of str
        The cell's six edge operations in NAS-Bench-201 order.
    in_channels, height : int
        Input image channels and height (width follows the same down-sampling).
    n_outputs : int
        Number of classes (or regression targets).
    channels : int
        Channels of the first stage; each later stage doubles them.
    n_cells : int
        Cells per stage (NAS-Bench-201 uses 5).
    n_stages : int
        Stages, with a reduction block between consecutive stages.
    """

    def __init__(
        self,
        ops: Sequence[str],
        in_channels: int,
        height: int,
        n_outputs: int,
        channels: int = 16,
        n_cells: int = 1,
        n_stages: int = 3,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        c, size = channels, height
        for stage in range(n_stages):
            if stage > 0:
                stride = 2 if size >= 2 else 1
                layers.append(ResidualReduction(c, c * 2, stride))
                c, size = c * 2, (size + 1) // 2 if stride == 2 else size
            layers.extend(Cell(ops, c) for _ in range(n_cells))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(c, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


# ------------------------------------------------------------------------- NAS-Bench-101 cell
class ConvBNReLU(nn.Module):
    """Convolution, batch norm, ReLU: NAS-Bench-101's ``convKxK-bn-relu``."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DagCell(nn.Module):
    """A NAS-Bench-101 cell on an adjacency matrix (vertex 0 input, last vertex output).

    Each inner vertex sums its inputs (the cell input through a 1x1 projection) and applies
    its op; the output concatenates the inner vertices that feed it, projects them back to
    ``c_out`` with a 1x1 conv, and adds the projected input when the input feeds the output
    directly (NAS-Bench-101's rule, with all vertices at ``c_out`` channels).
    """

    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str], c_in: int,
                 c_out: int) -> None:
        super().__init__()
        self.matrix = tuple(tuple(int(v) for v in row) for row in matrix)
        n = len(ops)
        self.n = n
        self.input_proj = nn.Conv2d(c_in, c_out, 1, bias=False)
        vertex_ops: list[nn.Module] = [nn.Identity()]
        for op in ops[1:-1]:
            if op == "conv3x3-bn-relu":
                vertex_ops.append(ConvBNReLU(c_out, c_out, 3))
            elif op == "conv1x1-bn-relu":
                vertex_ops.append(ConvBNReLU(c_out, c_out, 1))
            elif op == "maxpool3x3":
                vertex_ops.append(nn.MaxPool2d(3, stride=1, padding=1))
            else:
                raise ValueError(f"unknown NAS-Bench-101 op {op!r}")
        self.vertex_ops = nn.ModuleList(vertex_ops)
        feeding = [i for i in range(1, n - 1) if self.matrix[i][n - 1]]
        self.n_feeding = len(feeding)
        self.output_proj = (
            nn.Conv2d(c_out * len(feeding), c_out, 1, bias=False) if feeding else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = self.input_proj(x)
        values: list[torch.Tensor] = [projected]
        for j in range(1, self.n - 1):
            inputs = [values[i] for i in range(j) if self.matrix[i][j]]
            values.append(self.vertex_ops[j](torch.stack(inputs).sum(0)))
        out = None
        if self.output_proj is not None:
            out = self.output_proj(
                torch.cat([values[i] for i in range(1, self.n - 1) if self.matrix[i][self.n - 1]],
                          dim=1)
            )
        if self.matrix[0][self.n - 1]:
            out = projected if out is None else out + projected
        assert out is not None  # a pruned cell always feeds its output
        return out


class DagNetwork(nn.Module):
    """NAS-Bench-101 macro skeleton: stem, stages of cells with max-pool reductions, head.

    Parameters
    ----------
    matrix, ops
        The cell (pruned adjacency matrix and vertex ops including input and output).
    in_channels, height, n_outputs, channels, n_cells, n_stages
        As in :class:`CellNetwork`; the first cell of each later stage doubles the channels.
    """

    def __init__(
        self,
        matrix: Sequence[Sequence[int]],
        ops: Sequence[str],
        in_channels: int,
        height: int,
        n_outputs: int,
        channels: int = 16,
        n_cells: int = 1,
        n_stages: int = 3,
    ) -> None:
        super().__init__()
        self.stem = ConvBNReLU(in_channels, channels, 3)
        layers: list[nn.Module] = []
        c, size = channels, height
        for stage in range(n_stages):
            c_out = c
            if stage > 0:
                if size >= 2:
                    layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                    size = (size + 1) // 2
                c_out = c * 2
            for _ in range(n_cells):
                layers.append(DagCell(matrix, ops, c, c_out))
                c = c_out
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(x)))


# ------------------------------------------------------------------------------- chain CNN
class ChainNetwork(nn.Module):
    """A chain CNN: conv, norm, ReLU and pooling per block, global pooling, dropout, linear.

    Parameters
    ----------
    widths, kernels : sequence of int
        Output channels and kernel size of each block.
    pool : {"max", "avg", "none"}
    norm : {"batch", "group", "none"}
    dropout : float
    in_channels, height, n_outputs : int
    """

    def __init__(
        self,
        widths: Sequence[int],
        kernels: Sequence[int],
        pool: str,
        norm: str,
        dropout: float,
        in_channels: int,
        height: int,
        n_outputs: int,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, size = in_channels, height
        for width, kernel in zip(widths, kernels, strict=True):
            layers.append(nn.Conv2d(c, width, kernel, padding=kernel // 2, bias=norm == "none"))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(width))
            elif norm == "group":
                layers.append(nn.GroupNorm(math.gcd(8, width), width))
            layers.append(nn.ReLU())
            if pool != "none" and size >= 2:
                pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
                layers.append(pool_cls(2, stride=2, ceil_mode=True))
                size = (size + 1) // 2
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(c, n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ------------------------------------------------------------------------------------- MLP
class MlpNetwork(nn.Module):
    """A multilayer perceptron: linear, norm, activation, dropout per hidden layer.

    Parameters
    ----------
    units : sequence of int
        Hidden layer widths.
    activation : {"relu", "gelu", "tanh", "silu"}
    dropout : float
    norm : {"batch", "layer", "none"}
    n_inputs, n_outputs : int
    """

    def __init__(self, units: Sequence[int], activation: str, dropout: float, norm: str,
                 n_inputs: int, n_outputs: int) -> None:
        super().__init__()
        activations = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}
        layers: list[nn.Module] = []
        width = n_inputs
        for out in units:
            layers.append(nn.Linear(width, out))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(out))
            elif norm == "layer":
                layers.append(nn.LayerNorm(out))
            layers.append(activations[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = out
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


#: Space name → the classes (in definition order) an exported file needs.
EXPORT_CLASSES: dict[str, list[Any]] = {
    "nas-cell": [Standardize, ReLUConvBN, Zero, cell_op, Cell, ResidualReduction, CellNetwork],
    "nas-dag": [Standardize, ConvBNReLU, DagCell, DagNetwork],
    "nas-chain": [Standardize, ChainNetwork],
    "nas-mlp": [Standardize, MlpNetwork],
}


def constructor_for(
    genotype: Any,
    input_shape: Sequence[int],
    n_outputs: int,
    options: Mapping[str, Any] | None = None,
) -> tuple[type[nn.Module], dict[str, Any]]:
    """The network class and its keyword arguments for ``genotype``.

    Parameters
    ----------
    genotype : CellGenotype, DagGenotype, ChainGenotype or MlpGenotype
    input_shape : sequence of int
        One sample's shape: ``(C, H, W)`` for images, ``(n_features,)`` for tables.
    n_outputs : int
        Classes, or 1 for regression.
    options : mapping, optional
        Space options: ``channels``, ``n_cells``, ``n_stages`` for the cell spaces.
    """
    options = dict(options or {})
    macro = {
        "channels": int(options.get("channels", 16)),
        "n_cells": int(options.get("n_cells", 1)),
        "n_stages": int(options.get("n_stages", 3)),
    }
    if isinstance(genotype, MlpGenotype):
        return MlpNetwork, {
            "units": tuple(genotype.units), "activation": genotype.activation,
            "dropout": genotype.dropout, "norm": genotype.norm,
            "n_inputs": int(math.prod(input_shape)), "n_outputs": int(n_outputs),
        }
    if len(input_shape) != 3:
        raise ValueError(f"a CNN needs images shaped (C, H, W), got a sample shape {input_shape}")
    image = {"in_channels": int(input_shape[0]), "height": int(input_shape[1]),
             "n_outputs": int(n_outputs)}
    if isinstance(genotype, CellGenotype):
        return CellNetwork, {"ops": tuple(genotype.ops), **image, **macro}
    if isinstance(genotype, DagGenotype):
        return DagNetwork, {"matrix": tuple(genotype.matrix), "ops": tuple(genotype.ops),
                            **image, **macro}
    if isinstance(genotype, ChainGenotype):
        return ChainNetwork, {
            "widths": tuple(genotype.widths), "kernels": tuple(genotype.kernels),
            "pool": genotype.pool, "norm": genotype.norm, "dropout": genotype.dropout, **image,
        }
    raise TypeError(f"not a genotype: {genotype!r}")


def build_module(
    genotype: Any,
    input_shape: Sequence[int],
    n_outputs: int,
    options: Mapping[str, Any] | None = None,
) -> nn.Module:
    """Build the untrained network for ``genotype`` (see :func:`constructor_for`).

    Examples
    --------
    >>> from jupyter_automl.spaces.nas.genotypes import CellGenotype
    >>> g = CellGenotype(("nor_conv_3x3",) * 6)
    >>> net = build_module(g, (1, 8, 8), 10)
    >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
    """
    cls, kwargs = constructor_for(genotype, input_shape, n_outputs, options)
    return cls(**kwargs)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
