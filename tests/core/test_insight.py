"""Held-out score and insight: numbers checked against scikit-learn, charts that parse, old payloads."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import numpy as np
import optuna
import pytest
from sklearn.inspection import permutation_importance
from sklearn.metrics import confusion_matrix

import jupyter_automl as ja
from jupyter_automl._errors import AutoMLError, ConfigError, DataError
from jupyter_automl.config import SearchConfig
from jupyter_automl.insight import chart_names
from jupyter_automl.insight.svg import chart_svg, insight_html
from jupyter_automl.report import PAYLOAD_VERSION, payload_html, payload_text
from jupyter_automl.result import SearchResult

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def bc(tmp_path_factory):
    storage = f"sqlite:///{tmp_path_factory.mktemp('insight') / 'studies.db'}"
    return ja.search(
        data="sklearn:breast_cancer",
        n_trials=10,
        seed=0,
        storage=storage,
        name="bc-insight",
        display=False,
        ensemble=False,  # the charts are then the best pipeline's, which the tests re-fit themselves
    )


@pytest.fixture(scope="module")
def diabetes():
    return ja.search(
        data="sklearn:diabetes",
        n_trials=5,
        seed=1,
        storage="memory",
        display=False,
        ensemble=False,
        models=["linear", "hist_gradient_boosting", "random_forest"],
    )


def _chart(result, name):
    insight = result.insight
    return next(c for s in ("model", "search") for c in insight[s]["charts"] if c["name"] == name)


def _searched_model(result):
    """The best pipeline trained on the searched rows only, as the search did before the refit."""
    ds = result.dataset
    train = np.setdiff1d(np.arange(ds.n_samples), result.holdout_index)
    model = result.space._pipeline(dict(result.best_trial.params))
    return (
        model.fit(ds.X.iloc[train], ds.y[train]),
        ds.X.iloc[result.holdout_index],
        ds.y[result.holdout_index],
    )


def test_holdout_is_stratified_and_never_searched(bc):
    h = bc.insight["holdout"]
    ds = bc.dataset
    assert h["n_rows"] == len(bc.holdout_index) == 114 and h["n_search_rows"] == ds.n_samples - 114
    assert len(bc.space.data.y) == ds.n_samples - 114  # the trials saw the other rows only
    share = lambda y: np.mean(y == ds.classes[1])  # noqa: E731
    assert abs(share(ds.y[bc.holdout_index]) - share(ds.y)) < 0.01
    assert h["metric"] == "roc_auc" and h["cv_score"] == pytest.approx(bc.best_trial.values[0])
    assert 0.9 < h["score"] <= 1.0 and bc.holdout_score == h["score"]
    assert set(h["scores"]) == {"roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "log_loss"}


def test_returned_model_is_refit_on_every_row(bc):
    from sklearn.base import clone

    ds = bc.dataset
    again = clone(bc.best_model).fit(ds.X, ds.y)
    np.testing.assert_array_equal(again.predict_proba(ds.X), bc.predict_proba(ds.X))


def test_confusion_matrix_is_sklearns_on_the_held_out_rows(bc):
    model, X_test, y_test = _searched_model(bc)
    chart = _chart(bc, "confusion_matrix")
    expected = confusion_matrix(y_test, model.predict(X_test), labels=bc.classes_)
    assert chart["counts"] == expected.tolist()
    np.testing.assert_allclose(
        chart["values"], expected / expected.sum(axis=1, keepdims=True), atol=1e-4
    )
    assert chart["x_labels"] == [str(c) for c in bc.classes_]


def test_importances_are_sklearns_permutation_importance_with_the_same_seed(bc):
    model, X_test, y_test = _searched_model(bc)
    chart = _chart(bc, "permutation_importance")
    metric = bc.space.metric

    def scorer(est, X, y):
        return metric(y, est.predict_proba(X), bc.classes_)

    found = permutation_importance(
        model,
        X_test,
        y_test,
        scoring=scorer,
        n_repeats=chart["n_repeats"],
        random_state=bc.config.seed,
        n_jobs=1,
    )
    order = np.argsort(-found.importances_mean)[:15]
    assert chart["labels"] == [str(X_test.columns[i]) for i in order]
    np.testing.assert_allclose(chart["values"], found.importances_mean[order], atol=1e-6)
    assert len(chart["labels"]) == 15 and chart["n_features"] == 30


def test_curves_and_search_charts_are_there(bc):
    names = chart_names(bc.insight)
    assert names[:5] == [
        "confusion_matrix",
        "roc",
        "precision_recall",
        "calibration",
        "permutation_importance",
    ]
    assert {"param_importance", "score_by_family"} <= set(names)
    roc = _chart(bc, "roc")["series"][0]
    assert roc["x"][0] == 0.0 and roc["x"][-1] == 1.0 and roc["y"][-1] == 1.0
    importance = _chart(bc, "param_importance")
    assert 0.9 <= sum(importance["values"]) <= 1.0 + 1e-3 and len(importance["labels"]) >= 1


def test_score_and_evaluate_any_labelled_data(bc):
    ds = bc.dataset
    X, y = ds.X.iloc[bc.holdout_index], ds.y[bc.holdout_index]
    scores = bc.evaluate(X, y)
    assert list(scores)[0] == "roc_auc" and bc.score(X, y) == scores["roc_auc"]
    assert 0.0 < scores["log_loss"] < 1.0 and 0.5 < scores["accuracy"] <= 1.0
    with pytest.raises(DataError, match="labels the model never saw"):
        bc.evaluate(X, np.where(y == 1, 7, y))
    with pytest.raises(DataError, match="114 rows but y has 3"):
        bc.score(X, y[:3])


def test_the_study_keeps_the_insight_for_show_without_a_refit(bc):
    study = optuna.load_study(study_name="bc-insight", storage=bc.storage_url)
    shown = SearchResult(
        study, SearchConfig.from_dict(bc.config.to_dict()), storage_url=bc.storage_url
    )
    payload = shown.payload()
    assert payload["version"] == PAYLOAD_VERSION == "1.3"
    assert payload["insight"]["holdout"]["score"] == bc.insight["holdout"]["score"]
    assert "jupyter-automl-section-model" in shown._repr_mimebundle_()["text/html"]
    assert "held-out roc_auc" in payload_text(payload)


def test_every_chart_is_an_svg_with_its_marks(bc, diabetes):
    for result in (bc, diabetes):
        for name in chart_names(result.insight):
            chart = _chart(result, name)
            root = ET.fromstring(chart_svg(chart))
            assert root.tag == f"{SVG}svg" and root.get("data-chart") == name
            assert not root.findall(f".//{SVG}script")
            marks = {"heatmap": "rect[@class='ja-cell']", "bars": "rect[@class='ja-bar']"}.get(
                chart["kind"]
            )
            if marks:
                expected = (
                    len(chart["labels"]) if chart["kind"] == "bars" else len(chart["x_labels"]) ** 2
                )
                assert len(root.findall(f".//{SVG}{marks}")) == expected
            else:
                drawn = root.findall(f".//{SVG}polyline[@class='ja-line']") + root.findall(
                    f".//{SVG}circle"
                )
                assert drawn, name
    html = payload_html(bc.payload())
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="ja-chart') == len(
        chart_names(bc.insight)
    )
    assert "<script" not in html and "leaderboard · model · search" in html


def test_regression_charts_are_the_held_out_residuals(diabetes):
    ds = diabetes.dataset
    chart = _chart(diabetes, "residuals")
    assert diabetes.insight["holdout"]["metric"] == "r2"
    assert len(chart["series"][0]["x"]) == len(diabetes.holdout_index) == 89
    pred = _chart(diabetes, "predicted_vs_actual")["series"][0]
    np.testing.assert_allclose(pred["x"], ds.y[diabetes.holdout_index], atol=1e-4)
    np.testing.assert_allclose(
        chart["y"] if "y" in chart else chart["series"][0]["y"],
        np.asarray(pred["x"]) - np.asarray(pred["y"]),
        atol=1e-3,
    )


def test_an_older_payload_without_insight_still_renders(bc):
    old = copy.deepcopy(bc.payload())
    old["version"] = "1.0"
    del old["insight"]
    html = payload_html(old)
    assert "jupyter-automl-leaderboard" in html and "jupyter-automl-insight" not in html
    assert insight_html(old) == "" and "held-out" not in payload_text(old)


def test_plot_returns_a_bokeh_figure_and_names_the_charts(bc):
    from bokeh.models import Plot

    assert isinstance(bc.plot("confusion_matrix"), Plot)
    assert isinstance(bc.plot("permutation_importance"), Plot)
    with pytest.raises(AutoMLError, match="no chart 'confusion'.*did you mean 'confusion_matrix'"):
        bc.plot("confusion")


def test_holdout_option_is_validated_before_any_work():
    assert SearchConfig(holdout="none").holdout is None and SearchConfig().holdout == 0.2
    with pytest.raises(ConfigError, match="holdout.*between 0.05 and 0.5.*'none'"):
        SearchConfig(holdout=0.9)
    with pytest.raises(ConfigError, match="holdout.*got 'some'"):
        SearchConfig(holdout="some")


def test_holdout_none_draws_out_of_fold_charts_and_small_data_skips_it():
    r = ja.search(data="sklearn:iris", n_trials=3, holdout="none", storage="memory", display=False)
    assert r.insight["holdout"] is None and r.holdout_index is None and r.holdout_score is None
    assert r.insight["model"]["source"] == "out-of-fold predictions"
    assert (
        _chart(r, "confusion_matrix")["counts"]
        and np.sum(_chart(r, "confusion_matrix")["counts"]) == 150
    )
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), np.repeat([0, 1], 15)
    small = ja.search(X=X, y=y, n_trials=2, storage="memory", display=False)
    assert small.insight["holdout"] is None and "30 rows" in small.insight["holdout_skipped"]
    assert "no held-out score (only 30 rows" in small._repr_mimebundle_()["text/html"]


def test_multi_objective_and_epoch_charts_from_a_study():
    from jupyter_automl.insight.search import search_charts
    from jupyter_automl.storage import ATTR

    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0)
    )
    for k in range(8):
        trial = study.ask()
        trial.suggest_int("width", 8, 64)
        trial.set_user_attr(ATTR, {"history": [0.5 + 0.05 * e + 0.01 * k for e in range(4)]})
        study.tell(trial, [0.6 + 0.03 * k, 1000.0 * (k % 3 + 1)])
    charts = {
        c["name"]: c
        for c in search_charts(study, metric="accuracy", objectives=["accuracy", "params"])
    }
    front = charts["pareto_front"]["series"][1]
    assert {(x, y) for x, y in zip(front["x"], front["y"], strict=True)} == {
        (t.values[1], round(t.values[0], 6)) for t in study.best_trials
    }
    curves = charts["epoch_curves"]["series"]
    assert len(curves) == 5 and curves[0]["label"] == "trial 7" and curves[0]["x"] == [1, 2, 3, 4]


def test_insight_stays_within_its_share_of_the_budget():
    r = ja.search(data="sklearn:breast_cancer", time_budget=15, storage="memory", display=False)
    seconds = r.insight["seconds"]
    assert seconds["model"] + seconds["search"] < 0.05 * 15 + 0.3
    assert r.elapsed_s < 15 * 1.1


def test_ensemble_reports_both_held_out_scores_and_loaded_results_evaluate(tmp_path):
    r = ja.search(
        data="sklearn:wine",
        n_trials=8,
        ensemble=True,
        seed=0,
        storage="memory",
        display=False,
        models=["linear", "knn", "random_forest", "extra_trees"],
    )
    h = r.insight["holdout"]
    if r.ensemble is None:  # the greedy ensemble did not beat the best trial on these folds
        assert h["model"] == "best trial"
    else:
        assert h["model"] == "ensemble" and type(r.best_model).__name__ == "VotingClassifier"
        assert (
            h["ensemble_cv_score"] == r.ensemble["score"]
            and h["ensemble_score"] == r.ensemble["holdout_score"]
        )
        assert r.holdout_score == h["ensemble_score"] and h["score"] is not None
    ds = r.dataset
    loaded = ja.load(r.save(tmp_path / "wine.joblib"))
    assert loaded.holdout_score == r.holdout_score and loaded.insight == r.insight
    assert loaded.evaluate(ds.X, ds.y) == r.evaluate(ds.X, ds.y)
    assert list(loaded.evaluate(ds.X, ds.y))[0] == "accuracy"


def test_nas_two_objectives_pareto_front_epoch_curves_and_held_out_score():
    pytest.importorskip("torch")
    r = ja.search(
        data="sklearn:breast_cancer",
        space="nas-mlp",
        strategy="random",
        n_trials=4,
        epochs=3,
        objectives=["accuracy", "params"],
        seed=0,
        storage="memory",
        display=False,
    )
    names = chart_names(r.insight)
    assert {"confusion_matrix", "permutation_importance", "pareto_front", "epoch_curves"} <= set(
        names
    )
    front = _chart(r, "pareto_front")
    assert front["x_label"] == "params" and len(front["series"][1]["x"]) == len(r.study.best_trials)
    assert len(_chart(r, "epoch_curves")["series"][0]["y"]) == 3
    assert 0.8 < r.insight["holdout"]["score"] <= 1.0 and r.insight["holdout"]["n_rows"] == 114
    assert len(r.predict(r.dataset.X)) == 569  # refit on every row through the space


def test_an_svm_gives_probabilities_and_their_charts():
    """An SVC has no probabilities of its own: the search calibrates it, so log loss and the
    probability curves are there as for any other classifier."""
    r = ja.search(
        data="sklearn:breast_cancer",
        models=["svm"],
        n_trials=2,
        seed=0,
        storage="memory",
        display=False,
    )
    h = r.insight["holdout"]
    assert h["scores"]["roc_auc"] > 0.9 and 0 < h["scores"]["log_loss"] < 0.5
    assert {"roc", "precision_recall", "calibration"} <= set(chart_names(r.insight))
    ds = r.dataset
    assert r.evaluate(ds.X, ds.y)["log_loss"] < 0.5 and r.score(ds.X, ds.y) > 0.9


def test_the_refit_on_all_rows_is_skipped_when_it_would_overrun_the_budget():
    """The budget covers everything: a refit that would end after the deadline is not started;
    the model trained on the searched rows is kept and the insight says why."""
    import time

    from jupyter_automl._search import Search
    from jupyter_automl.insight import conclude

    config = SearchConfig.from_dict(
        {"data": "sklearn:breast_cancer", "n_trials": 2, "models": ["linear"], "storage": "memory",
         "display": False, "ensemble": False}
    )
    search = Search(config)
    result = search.run()
    best, fitted = result.best_trial, result.best_model
    searched = search.space._pipeline(dict(best.params)).fit(search.space.data.X, search.space.data.y)
    kept, insight = conclude(search, best, searched, deadline=time.monotonic() + 0.5, fit_seconds=2.0)
    assert kept is searched and insight["refit_skipped"]["needed_s"] > 2.0
    assert any(n.startswith("not refit on all rows") for n in insight["notes"])
    again, insight = conclude(search, best, searched, deadline=time.monotonic() + 60, fit_seconds=0.01)
    assert again is not searched and "refit_skipped" not in insight  # time enough: refit on all rows
    assert again.n_features_in_ == fitted.n_features_in_


def test_no_permutation_importance_once_the_insight_allowance_is_spent():
    """The two timing scorings can use up the allowance: then no shuffles, not a negative count."""
    from jupyter_automl.insight.model import importance_repeats

    assert importance_repeats(0.01, 30, -0.5) == 0
    assert importance_repeats(0.01, 30, 0.0) == 0
    assert importance_repeats(0.01, 10, 10.0) == 5


def test_a_legend_sits_in_the_corner_its_curves_leave_empty_and_labels_are_shortened_not_cut():
    import re

    from jupyter_automl.insight.svg import xy_svg

    # ROC curves hug the top left, PR curves the top right: the legend goes where they are not
    roc = {"name": "roc", "title": "ROC", "diagonal": True, "x_range": [0, 1], "y_range": [0, 1],
           "series": [{"label": f"class {k} (AUC 0.99)", "x": [0, 0.02, 0.1, 1], "y": [0, 0.9, 1, 1]} for k in range(3)]}
    pr = {"name": "pr", "title": "PR", "x_range": [0, 1], "y_range": [0, 1],
          "series": [{"label": f"class {k}", "x": [0, 0.5, 0.9, 1], "y": [1, 1, 0.95, 0.3]} for k in range(2)]}
    for chart, right in ((roc, True), (pr, None)):  # PR: either bottom corner is free
        svg = xy_svg(chart)
        x, y = (float(v) for v in re.search(r'class="ja-legend" x="([\d.]+)" y="([\d.]+)"', svg).groups())
        assert y > 150 and (right is None or x > 180), (chart["name"], x, y)
    # category ticks: a long family name keeps its start and an ellipsis, the full name as its tooltip
    svg = xy_svg({"name": "family", "title": "by family", "x_ticks": [[0, "linear"], [1, "hist_gradient_boosting & co"]],
                  "series": [{"label": "", "x": [0, 1], "y": [0.9, 0.95], "mode": "points"}]})
    assert "<title>hist_gradient_boosting &amp; co</title>" in svg
    assert "hist_gradient_boosting &amp; co</text>" not in svg and "…</text>" in svg
    assert "&am…" not in svg and "&amp…" not in svg  # never an escape cut in half
