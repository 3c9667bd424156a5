"""Neural architecture search spaces: genotypes (no torch), PyTorch builders, proxies.

Importing this package does not import torch; the spaces and builders do on first use.
"""

from __future__ import annotations

from jupyter_automl.spaces.nas.genotypes import (
    CELL_OPS,
    DAG_OPS,
    GENOTYPES,
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
)
from jupyter_automl.spaces.nas.spaces import NasCellSpace, NasChainSpace, NasDagSpace, NasMlpSpace

__all__ = [
    "CELL_OPS",
    "DAG_OPS",
    "GENOTYPES",
    "CellGenotype",
    "ChainGenotype",
    "DagGenotype",
    "MlpGenotype",
    "NasCellSpace",
    "NasChainSpace",
    "NasDagSpace",
    "NasMlpSpace",
]
