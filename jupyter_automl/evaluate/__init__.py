"""Scoring one candidate: metrics, cross-validation of scikit-learn pipelines, budgets."""

from __future__ import annotations

from jupyter_automl.evaluate._budget import TrialBudget, TrialTimeout
from jupyter_automl.evaluate.evaluation import Evaluation
from jupyter_automl.evaluate.metrics import Metric, get_metric

__all__ = ["Evaluation", "Metric", "TrialBudget", "TrialTimeout", "get_metric"]
