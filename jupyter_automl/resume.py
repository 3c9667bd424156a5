"""Resuming a stored study: which options must stay as they were, and the message when one did not."""

from __future__ import annotations

from typing import Any

from jupyter_automl._errors import ConfigError

__all__ = ["FIXED_ON_RESUME", "check_resume_compatible"]

# options a resumed study must keep: they decide what a score means or which parameters exist.
# time_budget, n_trials, seed, strategy, n_jobs, executor and display may change from one run to the next.
FIXED_ON_RESUME = ("task", "space", "metric", "models", "objectives", "holdout", "evaluation")
# options older studies did not store: compared only when the stored config has them
_ADDED_LATER = ("holdout", "evaluation")


def check_resume_compatible(
    stored_attrs: dict[str, Any], config: Any, *, task: str, metric: str, name: str, storage: str
) -> None:
    """Raise :class:`ConfigError` naming the first option that differs from the stored study's.

    Parameters
    ----------
    stored_attrs : dict
        The study's user attributes (``jupyter_automl:config``, ``:task``, ``:metric``).
    config : SearchConfig
        The options of the run that resumes it.
    task, metric : str
        What this run resolved them to (``"auto"`` becomes a task and a metric name).
    name, storage : str
        The study and where it is kept, for the message.
    """
    from jupyter_automl.storage import ATTR, redact

    stored = stored_attrs.get(f"{ATTR}:config") or {}
    now = {
        "task": task,
        "space": config.space,
        "metric": metric,
        "models": _as_set(config.models),
        "objectives": config.objectives,
        "holdout": config.holdout,  # which rows the search saw
        "evaluation": config.evaluation,  # how a trial's score was measured
    }
    before = {
        "task": stored_attrs.get(f"{ATTR}:task", stored.get("task")),
        "space": stored.get("space"),
        "metric": stored_attrs.get(f"{ATTR}:metric"),
        "models": _as_set(stored.get("models")),
        "objectives": stored.get("objectives"),
        "holdout": stored.get("holdout"),
        "evaluation": stored.get("evaluation"),
    }
    for option in FIXED_ON_RESUME:
        if option in _ADDED_LATER and option not in stored:
            continue  # written by an older version: nothing to compare with
        if option == "metric" and config.objectives:
            continue  # a multi-objective study stores its objectives as its metric
        if before[option] is None and option not in ("models", "objectives"):
            continue  # written by an older version: nothing to compare with
        if before[option] != now[option]:
            raise ConfigError(
                f"option {option!r}: study {name!r} in {redact(storage)} was run with {option}="
                f"{_show(before[option])}, this run asks for {_show(now[option])}; its stored scores "
                f"would not compare. Resume it with {option}={_show(before[option])}, or start a new "
                "study: another name, or resume=False"
            )


def _as_set(models: Any) -> list[str] | None:
    return None if not models else sorted(models)


def _show(value: Any) -> str:
    return "all (None)" if value is None else repr(value)
