"""Search spaces: ``tabular`` and the NAS spaces, looked up by name (imported lazily)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from jupyter_automl.spaces._base import Evaluation, SearchSpace

if TYPE_CHECKING:
    from jupyter_automl.config import SearchConfig
    from jupyter_automl.data import Dataset

__all__ = ["Evaluation", "SearchSpace", "make_space", "SPACE_CLASSES"]

# name -> "module:Class"; torch is only imported when a NAS space is chosen
SPACE_CLASSES = {
    "tabular": "jupyter_automl.spaces.tabular:TabularSpace",
    "nas-cell": "jupyter_automl.spaces.nas:NasCellSpace",
    "nas-dag": "jupyter_automl.spaces.nas:NasDagSpace",
    "nas-chain": "jupyter_automl.spaces.nas:NasChainSpace",
    "nas-mlp": "jupyter_automl.spaces.nas:NasMlpSpace",
}


def make_space(config: SearchConfig, data: Dataset, *, threads: int = 1) -> SearchSpace:
    """Instantiate and check the space named by ``config.space``."""
    module_name, class_name = SPACE_CLASSES[config.space].split(":")
    if config.space.startswith("nas-"):
        from jupyter_automl._imports import require

        require("torch", what=f"option 'space': {config.space!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        from jupyter_automl._imports import missing

        raise missing(exc, what=f"option 'space': {config.space!r}") from None
    space: SearchSpace = getattr(module, class_name)(config, data, threads=threads)
    space.check()
    return space
