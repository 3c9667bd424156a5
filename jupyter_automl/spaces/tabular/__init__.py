"""The tabular space: preprocessing, feature selection, model family and its hyperparameters.

``space`` samples and scores candidates, ``pipeline`` describes each pipeline once (for the
live object and the exported source), ``final`` fits the returned model (refit, ensemble,
decision threshold) and ``script`` writes the standalone training script.
"""

from __future__ import annotations

from jupyter_automl.spaces.tabular.pipeline import build_pipeline, canonical_params, pipeline_source
from jupyter_automl.spaces.tabular.space import KNN_MAX_SAMPLES, SVM_MAX_SAMPLES, TabularSpace

__all__ = [
    "KNN_MAX_SAMPLES",
    "SVM_MAX_SAMPLES",
    "TabularSpace",
    "build_pipeline",
    "canonical_params",
    "pipeline_source",
]
