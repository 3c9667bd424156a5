"""Export the best candidate as a standalone training script that does not import jupyter-automl.

This module only dispatches: each space writes its own script (``SearchSpace.export_source``,
or ``export_final`` for a final model the space described itself, such as an ensemble).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_export"]


def write_export(result: Any, path: Path) -> Path:
    """Write ``result``'s final model as a script at ``path``."""
    space = result.space
    final = getattr(result, "final", None)
    if final is not None:
        source = space.export_final(final, study=result.study.study_name, holdout=_holdout(result),
                                    script=path.name)
    else:
        best = result.best_trial
        source = space.export_source(dict(best.params), result.best_model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


def _holdout(result: Any) -> float | None:
    """The held-out fraction when the search kept rows out (the script re-makes the same split)."""
    return result.config.holdout if getattr(result, "holdout_index", None) is not None else None
