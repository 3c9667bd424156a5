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


def test_the_model_line_reads_as_the_lab_renderer_writes_it() -> None:
    """``labextension/tests/insight.spec.ts`` expects the same strings for the same records: a NAS
    final network is named with its trial's validation score; a table's trial keeps its CV score."""
    from jupyter_automl.insight.svg import holdout_line

    nas = {"metric": "accuracy", "score": 0.9, "n_rows": 120, "cv_score": 0.3125,
           "cv_kind": "validation", "model": "final network", "trial": 7}
    assert holdout_line({"holdout": nas}) == "held-out accuracy 0.9 on 120 rows (final network; trial 7's validation 0.3125)"
    table = {"metric": "roc_auc", "score": 0.97316, "n_rows": 114, "cv_score": 0.99592}
    assert holdout_line({"holdout": table}) == "held-out roc_auc 0.9732 on 114 rows (CV 0.9959)"
