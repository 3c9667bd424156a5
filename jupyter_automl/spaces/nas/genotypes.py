"""Architecture genotypes: small immutable records that round-trip through a string.

A genotype describes an architecture only; :mod:`jupyter_automl.spaces.nas.modules` turns it
into a PyTorch module. This module never imports torch, so genotypes can be sampled,
compared, stored and drawn without it.

Every genotype has the same four entry points:

- ``to_string()`` / ``from_string(text)``: the stored form (``from_string`` raises
  :class:`~jupyter_automl._errors.ConfigError` that says what is wrong with a bad string);
- ``suggest(trial, options)``: define-by-run sampling through Optuna categorical and integer
  parameters only, so samplers that mutate one parameter (regularized evolution) mutate one
  edge or op at a time;
- ``diagram()``: ``{"nodes": [{"id", "label"}], "edges": [{"source", "target", "op"}]}``;
- ``canonical()``: one representative of the genotypes that compute the same function
  (isomorphic cells, edges that cannot reach the output), so a search can tell a cell it
  has already trained from a new one.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from jupyter_automl._errors import ConfigError

if TYPE_CHECKING:
    import optuna

__all__ = [
    "CELL_OPS",
    "DAG_OPS",
    "CellGenotype",
    "ChainGenotype",
    "Genotype",
    "DagGenotype",
    "MlpGenotype",
    "GENOTYPES",
    "short_label",
]

class Genotype(Protocol):
    """What every genotype class provides (the four classes below)."""

    def to_string(self) -> str: ...

    def diagram(self) -> dict[str, list[dict[str, Any]]]: ...

    def canonical(self) -> Genotype: ...

    @classmethod
    def from_string(cls, text: str) -> Genotype: ...

    @classmethod
    def suggest(cls, trial: optuna.trial.BaseTrial, options: Mapping[str, Any]) -> Genotype: ...


#: NAS-Bench-201 operations, in the benchmark's own names and order.
CELL_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)

#: NAS-Bench-101 operations for the inner vertices of a cell.
DAG_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")


def _bad(kind: str, text: str, why: str, example: str) -> ConfigError:
    """Build the error for a genotype string that does not parse."""
    return ConfigError(
        f"invalid {kind} genotype {text!r}: {why}. Expected a string like {example!r}."
    )


# --------------------------------------------------------------------------------------------
# nas-cell: NAS-Bench-201
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellGenotype:
    """A NAS-Bench-201 cell: 4 nodes, one op on each of the 6 edges ``j -> i`` (``j < i``).

    Parameters
    ----------
    ops : tuple of str
        The six edge operations in NAS-Bench-201 order: ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1,
        3<-2``.

    Examples
    --------
    >>> g = CellGenotype.from_string(
    ...     "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
    >>> g.edge_op(3, 2)
    'skip_connect'
    >>> CellGenotype.from_string(g.to_string()) == g
    True
    """

    ops: tuple[str, ...]

    n_nodes: ClassVar[int] = 4
    EXAMPLE: ClassVar[str] = (
        "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|"
    )

    def __post_init__(self) -> None:
        if len(self.ops) != len(self.edges()):
            raise ConfigError(
                f"a nas-cell genotype has {len(self.edges())} edges, got {len(self.ops)} ops"
            )

    @classmethod
    def edges(cls) -> list[tuple[int, int]]:
        """The ``(target, source)`` pairs in NAS-Bench-201 order."""
        return [(i, j) for i in range(1, cls.n_nodes) for j in range(i)]

    def edge_op(self, target: int, source: int) -> str:
        """The op on the edge ``source -> target``."""
        return self.ops[self.edges().index((target, source))]

    def to_string(self) -> str:
        """Return the genotype in NAS-Bench-201 notation."""
        groups = []
        for i in range(1, self.n_nodes):
            groups.append("|" + "|".join(f"{self.edge_op(i, j)}~{j}" for j in range(i)) + "|")
        return "+".join(groups)

    @classmethod
    def from_string(cls, text: str, ops: Sequence[str] = CELL_OPS) -> CellGenotype:
        """Parse NAS-Bench-201 notation; ``ops`` are the allowed operation names."""
        if not isinstance(text, str):
            raise _bad("nas-cell", str(text), "not a string", cls.EXAMPLE)
        groups = text.strip().split("+")
        if len(groups) != cls.n_nodes - 1:
            raise _bad(
                "nas-cell", text, f"{len(groups)} node groups, expected {cls.n_nodes - 1}",
                cls.EXAMPLE,
            )
        found: list[str] = []
        for i, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")):
                raise _bad("nas-cell", text, f"group {group!r} must start and end with '|'",
                           cls.EXAMPLE)
            items = group[1:-1].split("|")
            if len(items) != i:
                raise _bad("nas-cell", text, f"node {i} needs {i} inputs, got {len(items)}",
                           cls.EXAMPLE)
            for j, item in enumerate(items):
                op, sep, src = item.partition("~")
                if not sep or src != str(j):
                    raise _bad("nas-cell", text, f"{item!r} should be 'OP~{j}'", cls.EXAMPLE)
                if op not in ops:
                    raise _bad("nas-cell", text, f"unknown op {op!r} (allowed: {list(ops)})",
                               cls.EXAMPLE)
                found.append(op)
        return cls(tuple(found))

    @classmethod
    def suggest(cls, trial: optuna.trial.BaseTrial, options: Mapping[str, Any]) -> CellGenotype:
        """Sample one cell: a categorical ``edge_I_J`` parameter per edge ``J -> I``."""
        ops = list(options.get("ops", CELL_OPS))
        return cls(tuple(trial.suggest_categorical(f"edge_{i}_{j}", ops) for i, j in cls.edges()))

    def canonical(self) -> CellGenotype:
        """The representative of the cells that compute what this one computes.

        Edges that carry nothing to the output become ``none``: an edge into a node that
        does not reach the output, and an edge out of a node that no path from the input
        feeds (its input is zero; a convolution adds only its batch norm's learnt constant).
        A cell with no path from input to output is all ``none``. When the edge ``2 <- 1``
        is ``none``, nodes 1 and 2 are interchangeable: the representative is the smaller
        string of the two orders.

        Examples
        --------
        >>> a = CellGenotype(("nor_conv_3x3", "skip_connect", "none",
        ...                   "none", "avg_pool_3x3", "nor_conv_1x1"))
        >>> b = CellGenotype(("skip_connect", "nor_conv_3x3", "none",
        ...                   "none", "nor_conv_1x1", "avg_pool_3x3"))
        >>> a.canonical() == b.canonical()
        True
        """
        ops = list(_live_cell_ops(self.ops, self.edges(), self.n_nodes))
        first = CellGenotype(tuple(ops))
        index = {edge: k for k, edge in enumerate(self.edges())}
        if ops[index[(2, 1)]] != "none":
            return first
        swap = {1: 2, 2: 1}
        swapped = ["none"] * len(ops)
        for (i, j), k in index.items():
            if (i, j) != (2, 1):
                swapped[index[(swap.get(i, i), swap.get(j, j))]] = ops[k]
        second = CellGenotype(tuple(swapped))
        return min(first, second, key=lambda g: g.to_string())

    def to_params(self) -> dict[str, str]:
        """The Optuna parameters that :meth:`suggest` would have drawn for this cell."""
        return {f"edge_{i}_{j}": op for (i, j), op in zip(self.edges(), self.ops, strict=True)}

    def diagram(self) -> dict[str, list[dict[str, Any]]]:
        """Nodes 0 (input) to 3 (output) and every edge that is not ``none``."""
        labels = {0: "in", self.n_nodes - 1: "out"}
        nodes = [{"id": str(k), "label": labels.get(k, str(k))} for k in range(self.n_nodes)]
        edges = [
            {"source": str(j), "target": str(i), "op": op}
            for (i, j), op in zip(self.edges(), self.ops, strict=True)
            if op != "none"
        ]
        return {"nodes": nodes, "edges": edges}


def _live_cell_ops(ops: Sequence[str], edges: Sequence[tuple[int, int]],
                   n_nodes: int) -> tuple[str, ...]:
    """``ops`` with every edge that cannot carry the input to the output set to ``none``."""
    ops = list(ops)
    while True:
        fed = {0}
        for i in range(1, n_nodes):
            if any(ops[k] != "none" and t == i and j in fed for k, (t, j) in enumerate(edges)):
                fed.add(i)
        feeds = {n_nodes - 1}
        for j in range(n_nodes - 2, -1, -1):
            if any(ops[k] != "none" and s == j and t in feeds
                   for k, (t, s) in enumerate(edges)):
                feeds.add(j)
        dead = [k for k, (t, j) in enumerate(edges)
                if ops[k] != "none" and (j not in fed or t not in feeds)]
        if not dead:
            break
        for k in dead:
            ops[k] = "none"
    if n_nodes - 1 not in fed:
        return ("none",) * len(ops)
    return tuple(ops)


# --------------------------------------------------------------------------------------------
# nas-dag: NAS-Bench-101
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DagGenotype:
    """A NAS-Bench-101 cell: an upper-triangular adjacency matrix and one op per vertex.

    Vertex 0 is ``input`` and the last vertex is ``output``. The constructor prunes vertices
    that are not on a path from input to output, so two specs that compute the same thing
    compare equal.

    Parameters
    ----------
    matrix : tuple of tuple of int
        ``matrix[i][j] == 1`` for an edge ``i -> j`` (``i < j``).
    ops : tuple of str
        ``"input"``, then one of :data:`DAG_OPS` per inner vertex, then ``"output"``.

    Examples
    --------
    >>> g = DagGenotype.from_string("input,conv3x3-bn-relu,output;011,001,000")
    >>> g.n_edges
    3
    >>> DagGenotype.from_string(g.to_string()) == g
    True
    """

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    MAX_NODES: ClassVar[int] = 7
    MAX_EDGES: ClassVar[int] = 9
    EXAMPLE: ClassVar[str] = "input,conv3x3-bn-relu,maxpool3x3,output;0110,0001,0001,0000"

    def __post_init__(self) -> None:
        n = len(self.ops)
        if n < 2 or any(len(row) != n for row in self.matrix) or len(self.matrix) != n:
            raise ConfigError(
                f"a nas-dag matrix must be square with one row per op ({n} ops), "
                f"got {len(self.matrix)} rows"
            )
        if self.ops[0] != "input" or self.ops[-1] != "output":
            raise ConfigError("a nas-dag cell's first op must be 'input' and its last 'output'")
        for i in range(n):
            for j in range(n):
                if self.matrix[i][j] not in (0, 1):
                    raise ConfigError("nas-dag matrix entries must be 0 or 1")
                if j <= i and self.matrix[i][j]:
                    raise ConfigError(
                        "a nas-dag matrix must be strictly upper triangular "
                        f"(edge {i}->{j} goes backwards)"
                    )
        matrix, ops = _prune_dag(self.matrix, self.ops)
        if len(ops) < 2:
            raise ConfigError("a nas-dag cell has no path from input to output")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)
        if len(ops) > self.MAX_NODES:
            raise ConfigError(f"a nas-dag cell has at most {self.MAX_NODES} nodes, got {len(ops)}")
        if self.n_edges > self.MAX_EDGES:
            raise ConfigError(
                f"a nas-dag cell has at most {self.MAX_EDGES} edges, got {self.n_edges}"
            )

    @property
    def n_edges(self) -> int:
        """Number of edges after pruning."""
        return sum(map(sum, self.matrix))

    def to_string(self) -> str:
        """``"op,op,...;row,row,..."`` with each matrix row as a string of 0/1."""
        rows = ",".join("".join(str(v) for v in row) for row in self.matrix)
        return ",".join(self.ops) + ";" + rows

    @classmethod
    def from_string(cls, text: str, ops: Sequence[str] = DAG_OPS) -> DagGenotype:
        """Parse the form written by :meth:`to_string`."""
        if not isinstance(text, str) or text.count(";") != 1:
            raise _bad("nas-dag", str(text), "expected 'OPS;MATRIX' with one ';'", cls.EXAMPLE)
        op_part, matrix_part = text.strip().split(";")
        names = tuple(op_part.split(","))
        for name in names[1:-1]:
            if name not in ops:
                raise _bad("nas-dag", text, f"unknown op {name!r} (allowed: {list(ops)})",
                           cls.EXAMPLE)
        rows = matrix_part.split(",")
        if len(rows) != len(names) or any(len(r) != len(names) for r in rows):
            raise _bad("nas-dag", text, f"the matrix must be {len(names)}x{len(names)}",
                       cls.EXAMPLE)
        if any(c not in "01" for r in rows for c in r):
            raise _bad("nas-dag", text, "matrix rows must contain only 0 and 1", cls.EXAMPLE)
        try:
            return cls(tuple(tuple(int(c) for c in r) for r in rows), names)
        except ConfigError as exc:
            raise _bad("nas-dag", text, str(exc), cls.EXAMPLE) from None

    @classmethod
    def suggest(cls, trial: optuna.trial.BaseTrial, options: Mapping[str, Any]) -> DagGenotype:
        """Sample a cell of ``max_nodes`` vertices (default 7).

        Every vertex ``j > 0`` draws a first input ``in_J`` in ``0..j-1`` (so every vertex
        is reachable from the input) and an optional second input ``in2_J`` (``-1`` for
        none); inner vertices draw ``op_J``. Second inputs of the highest vertices are dropped
        while the pruned cell has more than 9 edges. All parameters are categorical.
        """
        n = int(options.get("max_nodes", cls.MAX_NODES))
        ops = list(options.get("ops", DAG_OPS))
        first: dict[int, int] = {}
        second: dict[int, int] = {}
        names = ["input"]
        for j in range(1, n):
            first[j] = trial.suggest_categorical(f"in_{j}", list(range(j)))
            second[j] = trial.suggest_categorical(f"in2_{j}", [-1, *range(j)])
            if j < n - 1:
                names.append(trial.suggest_categorical(f"op_{j}", ops))
        names.append("output")
        drop: set[int] = set()
        while True:
            matrix = [[0] * n for _ in range(n)]
            for j in range(1, n):
                matrix[first[j]][j] = 1
                if second[j] >= 0 and j not in drop:
                    matrix[second[j]][j] = 1
            pruned, _ = _prune_dag(tuple(map(tuple, matrix)), tuple(names))
            if sum(map(sum, pruned)) <= cls.MAX_EDGES:
                return cls(tuple(map(tuple, matrix)), tuple(names))
            drop.add(max(j for j in range(1, n) if j not in drop and second[j] >= 0))

    def canonical(self) -> DagGenotype:
        """The representative of this cell's isomorphism class (NAS-Bench-101's notion).

        Inner vertices are relabelled in every order that keeps the matrix upper triangular
        (at most 5! = 120 orders); the smallest string is the representative.
        """
        return _canonical_dag(self)

    def diagram(self) -> dict[str, list[dict[str, Any]]]:
        """Vertices labelled by op; edges carry the op of the vertex they feed."""
        nodes = [{"id": str(k), "label": op} for k, op in enumerate(self.ops)]
        edges = [
            {"source": str(i), "target": str(j), "op": self.ops[j]}
            for i in range(len(self.ops))
            for j in range(len(self.ops))
            if self.matrix[i][j]
        ]
        return {"nodes": nodes, "edges": edges}


@functools.lru_cache(maxsize=4096)
def _canonical_dag(genotype: DagGenotype) -> DagGenotype:
    """The smallest-string relabelling of ``genotype``'s inner vertices."""
    n = len(genotype.ops)
    best = genotype
    best_text = genotype.to_string()
    for order in itertools.permutations(range(1, n - 1)):
        label = (0, *order, n - 1)  # old vertex k becomes vertex label[k]
        matrix = [[0] * n for _ in range(n)]
        ok = True
        for i in range(n):
            for j in range(n):
                if genotype.matrix[i][j]:
                    if label[i] >= label[j]:
                        ok = False
                        break
                    matrix[label[i]][label[j]] = 1
            if not ok:
                break
        if not ok:
            continue
        ops = [""] * n
        for k, op in enumerate(genotype.ops):
            ops[label[k]] = op
        candidate = DagGenotype(tuple(map(tuple, matrix)), tuple(ops))
        text = candidate.to_string()
        if text < best_text:
            best, best_text = candidate, text
    return best


def _prune_dag(
    matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]
) -> tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]:
    """Drop vertices not on an input-to-output path (NAS-Bench-101's ``ModelSpec`` rule)."""
    n = len(ops)
    forward = {0}
    for j in range(1, n):
        if any(matrix[i][j] and i in forward for i in range(j)):
            forward.add(j)
    backward = {n - 1}
    for i in range(n - 2, -1, -1):
        if any(matrix[i][j] and j in backward for j in range(i + 1, n)):
            backward.add(i)
    keep = sorted(forward & backward)
    if 0 not in keep or n - 1 not in keep:
        return (), ()
    new_matrix = tuple(tuple(matrix[i][j] for j in keep) for i in keep)
    return new_matrix, tuple(ops[k] for k in keep)


# --------------------------------------------------------------------------------------------
# nas-chain: a plain CNN
# --------------------------------------------------------------------------------------------
_KV = re.compile(r"^([a-z_]+)=(.*)$")


def _parse_fields(kind: str, text: str, keys: Sequence[str], example: str) -> dict[str, str]:
    """Split ``"key=value;key=value"`` and check the keys are exactly ``keys``."""
    if not isinstance(text, str):
        raise _bad(kind, str(text), "not a string", example)
    fields: dict[str, str] = {}
    for part in text.strip().split(";"):
        match = _KV.match(part.strip())
        if not match:
            raise _bad(kind, text, f"{part!r} is not 'key=value'", example)
        fields[match.group(1)] = match.group(2)
    missing = [k for k in keys if k not in fields]
    extra = [k for k in fields if k not in keys]
    if missing or extra:
        why = "; ".join(
            s for s in (
                f"missing {missing}" if missing else "",
                f"unknown {extra}" if extra else "",
            ) if s
        )
        raise _bad(kind, text, why, example)
    return fields


def _choice(kind: str, text: str, key: str, value: str, allowed: Sequence[str],
            example: str) -> str:
    """Check ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise _bad(kind, text, f"{key}={value!r} is not one of {list(allowed)}", example)
    return value


def _number(kind: str, text: str, key: str, value: str, example: str,
            cast: type = int, low: float = 0, high: float = float("inf")) -> Any:
    """Parse a number in ``[low, high]``."""
    try:
        number = cast(value)
    except ValueError:
        raise _bad(kind, text, f"{key}={value!r} is not a number", example) from None
    if not low <= number <= high:
        raise _bad(kind, text, f"{key}={value!r} is outside [{low}, {high}]", example)
    return number


@dataclass(frozen=True)
class ChainGenotype:
    """A chain CNN: conv blocks of given widths and kernels, then global pooling and a head.

    Parameters
    ----------
    widths, kernels : tuple of int
        Output channels and kernel size of each conv block.
    pool : {"max", "avg", "none"}
        Down-sampling after each block (skipped once the map is 1x1 ... 2x2).
    norm : {"batch", "group", "none"}
        Normalisation after each conv.
    dropout : float
        Dropout before the linear head.

    Examples
    --------
    >>> g = ChainGenotype.from_string("blocks=16x3,32x5;pool=max;norm=batch;dropout=0.1")
    >>> g.widths, g.kernels
    ((16, 32), (3, 5))
    """

    widths: tuple[int, ...]
    kernels: tuple[int, ...]
    pool: str = "max"
    norm: str = "batch"
    dropout: float = 0.0

    POOLS: ClassVar[tuple[str, ...]] = ("max", "avg", "none")
    NORMS: ClassVar[tuple[str, ...]] = ("batch", "group", "none")
    EXAMPLE: ClassVar[str] = "blocks=16x3,32x5;pool=max;norm=batch;dropout=0.1"

    def to_string(self) -> str:
        """``"blocks=WxK,...;pool=...;norm=...;dropout=..."``."""
        blocks = ",".join(f"{w}x{k}" for w, k in zip(self.widths, self.kernels, strict=True))
        return f"blocks={blocks};pool={self.pool};norm={self.norm};dropout={self.dropout:g}"

    @classmethod
    def from_string(cls, text: str) -> ChainGenotype:
        """Parse the form written by :meth:`to_string`."""
        kind, ex = "nas-chain", cls.EXAMPLE
        fields = _parse_fields(kind, text, ("blocks", "pool", "norm", "dropout"), ex)
        widths, kernels = [], []
        for block in fields["blocks"].split(","):
            w, sep, k = block.partition("x")
            if not sep:
                raise _bad(kind, text, f"block {block!r} should be 'WIDTHxKERNEL'", ex)
            widths.append(_number(kind, text, "width", w, ex, int, 1, 4096))
            kernels.append(_number(kind, text, "kernel", k, ex, int, 1, 15))
        return cls(
            tuple(widths),
            tuple(kernels),
            _choice(kind, text, "pool", fields["pool"], cls.POOLS, ex),
            _choice(kind, text, "norm", fields["norm"], cls.NORMS, ex),
            _number(kind, text, "dropout", fields["dropout"], ex, float, 0.0, 0.95),
        )

    @classmethod
    def suggest(cls, trial: optuna.trial.BaseTrial, options: Mapping[str, Any]) -> ChainGenotype:
        """Sample ``n_blocks`` then a width and kernel per block, pool, norm and dropout."""
        n = trial.suggest_int("n_blocks", 1, int(options.get("max_blocks", 4)))
        widths_choices = list(options.get("widths", (16, 32, 64)))
        kernel_choices = list(options.get("kernels", (3, 5)))
        widths = tuple(trial.suggest_categorical(f"width_{i}", widths_choices) for i in range(n))
        kernels = tuple(
            trial.suggest_categorical(f"kernel_{i}", kernel_choices) for i in range(n)
        )
        return cls(
            widths,
            kernels,
            trial.suggest_categorical("pool", list(options.get("pools", cls.POOLS))),
            trial.suggest_categorical("norm", list(options.get("norms", cls.NORMS))),
            trial.suggest_categorical("dropout", list(options.get("dropouts", (0.0, 0.1, 0.3)))),
        )

    def canonical(self) -> ChainGenotype:
        """Itself: two different chain strings are two different networks."""
        return self

    def diagram(self) -> dict[str, list[dict[str, Any]]]:
        """A chain: input, one node per block, pooling head, output."""
        nodes = [{"id": "in", "label": "input"}]
        edges = []
        prev = "in"
        for i, (w, k) in enumerate(zip(self.widths, self.kernels, strict=True)):
            nid = f"b{i}"
            nodes.append({"id": nid, "label": f"{w} ch"})
            edges.append({"source": prev, "target": nid, "op": f"conv{k}x{k}-{self.norm}"})
            prev = nid
        nodes.append({"id": "out", "label": "output"})
        edges.append({"source": prev, "target": "out", "op": "gap-linear"})
        return {"nodes": nodes, "edges": edges}


# --------------------------------------------------------------------------------------------
# nas-mlp
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MlpGenotype:
    """A multilayer perceptron for tables.

    Parameters
    ----------
    units : tuple of int
        Width of each hidden layer (its length is the depth; may be empty).
    activation : {"relu", "gelu", "tanh", "silu"}
    dropout : float
    norm : {"batch", "layer", "none"}

    Examples
    --------
    >>> MlpGenotype.from_string("units=64,32;activation=relu;dropout=0.1;norm=none").units
    (64, 32)
    """

    units: tuple[int, ...]
    activation: str = "relu"
    dropout: float = 0.0
    norm: str = "none"

    ACTIVATIONS: ClassVar[tuple[str, ...]] = ("relu", "gelu", "tanh", "silu")
    NORMS: ClassVar[tuple[str, ...]] = ("batch", "layer", "none")
    EXAMPLE: ClassVar[str] = "units=64,32;activation=relu;dropout=0.1;norm=none"

    def to_string(self) -> str:
        """``"units=W,W;activation=...;dropout=...;norm=..."``."""
        units = ",".join(str(u) for u in self.units)
        return (
            f"units={units};activation={self.activation};dropout={self.dropout:g};"
            f"norm={self.norm}"
        )

    @classmethod
    def from_string(cls, text: str) -> MlpGenotype:
        """Parse the form written by :meth:`to_string`."""
        kind, ex = "nas-mlp", cls.EXAMPLE
        fields = _parse_fields(kind, text, ("units", "activation", "dropout", "norm"), ex)
        units = tuple(
            _number(kind, text, "units", u, ex, int, 1, 1 << 16)
            for u in fields["units"].split(",") if u
        )
        return cls(
            units,
            _choice(kind, text, "activation", fields["activation"], cls.ACTIVATIONS, ex),
            _number(kind, text, "dropout", fields["dropout"], ex, float, 0.0, 0.95),
            _choice(kind, text, "norm", fields["norm"], cls.NORMS, ex),
        )

    @classmethod
    def suggest(cls, trial: optuna.trial.BaseTrial, options: Mapping[str, Any]) -> MlpGenotype:
        """Sample ``depth`` then a width per layer, activation, dropout and norm."""
        depth = trial.suggest_int("depth", int(options.get("min_depth", 1)),
                                  int(options.get("max_depth", 3)))
        width_choices = list(options.get("widths", (32, 64, 128, 256)))
        units = tuple(trial.suggest_categorical(f"units_{i}", width_choices) for i in range(depth))
        return cls(
            units,
            trial.suggest_categorical("activation",
                                      list(options.get("activations", cls.ACTIVATIONS))),
            trial.suggest_categorical("dropout", list(options.get("dropouts", (0.0, 0.1, 0.3)))),
            trial.suggest_categorical("norm", list(options.get("norms", cls.NORMS))),
        )

    def canonical(self) -> MlpGenotype:
        """Itself: two different MLP strings are two different networks."""
        return self

    def diagram(self) -> dict[str, list[dict[str, Any]]]:
        """Input, one node per hidden layer, output."""
        nodes = [{"id": "in", "label": "input"}]
        edges = []
        prev = "in"
        for i, width in enumerate(self.units):
            nid = f"h{i}"
            nodes.append({"id": nid, "label": f"{width} units"})
            edges.append({"source": prev, "target": nid, "op": f"linear-{self.activation}"})
            prev = nid
        nodes.append({"id": "out", "label": "output"})
        edges.append({"source": prev, "target": "out", "op": "linear"})
        return {"nodes": nodes, "edges": edges}


#: Space name → genotype class.
GENOTYPES: dict[str, type[Genotype]] = {
    "nas-cell": CellGenotype,
    "nas-dag": DagGenotype,
    "nas-chain": ChainGenotype,
    "nas-mlp": MlpGenotype,
}


#: Short names of the operations, so a label fits a narrow table column.
_OP_SHORT = {
    "none": "–", "skip_connect": "skip", "nor_conv_1x1": "c1", "nor_conv_3x3": "c3",
    "avg_pool_3x3": "pool", "conv3x3-bn-relu": "c3", "conv1x1-bn-relu": "c1", "maxpool3x3": "pool",
}
_CELL_GROUP = re.compile(r"\|(?:[^|~+]+~\d+\|)+")


def short_label(text: str) -> str | None:
    """A compact reading of a genotype string for a narrow table column; ``None`` when ``text``
    is not a genotype (a tabular model's name). Tables show it and keep the full string on hover.

    >>> short_label("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
    'c3 | skip c1 | – – skip'
    >>> short_label("input,conv3x3-bn-relu,maxpool3x3,output;0110,0001,0001,0000")
    'c3 pool · 4 edges'
    >>> short_label("blocks=16x3,32x5;pool=max;norm=batch;dropout=0.1")
    '16x3 32x5 maxpool batchnorm drop 0.1'
    >>> short_label("units=64,32;activation=relu;dropout=0;norm=none")
    '64-32 relu'
    >>> short_label("random_forest") is None
    True
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    groups = text.split("+")
    if all(_CELL_GROUP.fullmatch(g) for g in groups):
        return " | ".join(
            " ".join(_OP_SHORT.get(item.rsplit("~", 1)[0], item.rsplit("~", 1)[0])
                     for item in g[1:-1].split("|"))
            for g in groups
        )
    ops, sep, matrix = text.partition(";")
    names = ops.split(",")
    if sep and len(names) >= 2 and names[0] == "input" and names[-1] == "output" \
            and set(matrix) <= set("01,"):
        inner = " ".join(_OP_SHORT.get(n, n) for n in names[1:-1]) or "input → output"
        edges = matrix.count("1")
        return f"{inner} · {edges} edge{'s' if edges != 1 else ''}"
    try:
        if text.startswith("blocks="):
            chain = ChainGenotype.from_string(text)
            parts = [" ".join(f"{w}x{k}" for w, k in zip(chain.widths, chain.kernels, strict=True)),
                     f"{chain.pool}pool", f"{chain.norm}norm"]
            dropout = chain.dropout
        elif text.startswith("units="):
            mlp = MlpGenotype.from_string(text)
            parts = ["-".join(map(str, mlp.units)) or "linear", mlp.activation, f"{mlp.norm}norm"]
            dropout = mlp.dropout
        else:
            return None
    except ConfigError:
        return None
    parts = [p for p in parts if p not in ("nonepool", "nonenorm")]
    return " ".join(parts + ([f"drop {dropout:g}"] if dropout else []))
