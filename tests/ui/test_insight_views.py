"""The insight where a notebook user sees it: the live view's model section, ``%automl show``."""

from __future__ import annotations

import pytest

from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.ui.live import LiveView


def test_the_result_that_replaces_the_live_view_has_the_model_section() -> None:
    """A finished view is replaced in place by the static bundle: that is where the model shows."""
    search = Search(
        SearchConfig.from_dict(
            dict(
                data="sklearn:iris",
                strategy="random",
                models=["linear", "knn"],
                n_trials=3,
                seed=0,
                storage="memory",
                display=False,
            )
        )
    )
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.run()
    bundle = result._repr_mimebundle_()
    html = bundle["text/html"]
    for title in ("Confusion matrix", "ROC curve", "Precision-recall curve", "Calibration"):
        assert title in html
    payload = bundle["application/vnd.jupyter-automl.result.v1+json"]
    assert payload["insight"]["holdout"]["n_rows"] == 30 == result.insight["holdout"]["n_rows"]


def test_show_displays_the_stored_insight_without_a_refit(
    ip, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell_magic(
        "automl",
        "first --no-display",
        "data: sklearn:iris\nstrategy: random\nmodels: [linear]\nn_trials: 2\nname: flowers\n",
    )
    capsys.readouterr()
    ip.run_line_magic("automl", "show flowers")
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "on 30 rows (CV " in out
