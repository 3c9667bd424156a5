"""The form: its %%automl text round-trips, and Run / Stop drive a real search."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from conditions import wait_until
from sklearn.datasets import load_wine

import jupyter_automl as ja
from jupyter_automl import ConfigError, SearchConfig
from jupyter_automl.storage import list_studies

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RESULT_MIME = "application/vnd.jupyter-automl.result.v1+json"
CELL_MIME = "application/vnd.jupyter-automl.cell.v1+json"


@pytest.fixture
def wine() -> pd.DataFrame:
    return load_wine(as_frame=True).frame


def _body(text: str) -> str:
    first, _, body = text.partition("\n")
    assert first == "%%automl"
    return body


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"strategy": "random", "time_budget": "90s", "seed": 3},
        {"n_trials": 25, "metric": "balanced_accuracy", "task": "multiclass"},
        {
            "n_trials": 10,
            "time_budget": "5m",
            "cv": 3,
            "n_jobs": 2,
            "ensemble": True,
            "pruner": "median",
            "models": ["linear", "svm"],
            "storage": "memory",
            "name": "wine-study",
            "device": "cpu",
            "executor": "thread",
        },
        {"strategy": "evolution", "space": "tabular", "time_budget": "1h30m"},
    ],
    ids=["defaults", "basic", "trials", "advanced", "evolution"],
)
def test_form_text_config_round_trip(wine: pd.DataFrame, options: dict[str, Any]) -> None:
    panel = ja.Panel(wine, namespace={"wine": wine}, **options)
    config = panel.config()
    text = panel.magic_text()
    assert SearchConfig.from_yaml(_body(text)) == config
    assert config.data == "wine" and config.target == "target"
    for key, value in options.items():
        expected = (
            SearchConfig.from_dict({key: value}).__getattribute__(key)
            if key != "n_trials"
            else value
        )
        assert getattr(config, key) == expected


def test_show_as_automl_prints_the_text(wine: pd.DataFrame) -> None:
    panel = ja.Panel(wine, namespace={"wine": wine}, strategy="random", time_budget="30s")
    panel.show_button.click()
    (output,) = panel.magic_output.outputs
    assert output["data"][CELL_MIME]["text"] == output["data"]["text/plain"]
    printed = output["data"]["text/plain"]
    assert (
        printed.strip()
        == panel.magic_text()
        == "%%automl\ndata: wine\ntarget: target\nstrategy: random\ntime_budget: 30s"
    )


def test_form_defaults_follow_the_data(wine: pd.DataFrame) -> None:
    namespace = {"wine": wine, "other": wine.head(), "_hidden": wine, "n": 3}
    panel = ja.Panel("wine", namespace=namespace)
    labels = [label for label, _ in panel.data.options]
    assert labels[:2] == ["wine (DataFrame)", "other (DataFrame)"] and "sklearn:iris" in labels
    assert panel.target.value == "target" and "alcohol" in panel.target.options
    panel.data.value = "sklearn:iris"
    assert panel.magic_text() == "%%automl\ndata: sklearn:iris"


def test_unnamed_dataframe_gets_a_name_the_text_can_use(wine: pd.DataFrame) -> None:
    namespace: dict[str, Any] = {}
    panel = ja.Panel(wine.copy(), target="target", namespace=namespace)
    assert panel.config().data == "panel_data" and "panel_data" in namespace


def test_bad_form_input_is_one_line_and_starts_nothing(wine: pd.DataFrame, workdir) -> None:
    panel = ja.Panel(wine, namespace={"wine": wine}, time_budget="soon")
    assert panel.run() is None
    assert (
        "option 'time_budget'" in panel.message.value
        and "expected a duration" in panel.message.value
    )
    assert panel.result is None and list_studies(None) == []
    with pytest.raises(
        ConfigError, match=r"Panel: unknown option 'strtegy' \(did you mean 'strategy'\?\)"
    ):
        ja.Panel(wine, strtegy="tpe")


def test_run_and_stop_drive_the_live_view(wine: pd.DataFrame) -> None:
    panel = ja.Panel(
        wine,
        namespace={"wine": wine},
        strategy="random",
        models=["linear", "knn"],
        time_budget="60s",
        storage="memory",
    )
    assert panel.stop_button.disabled and panel.stop_button.button_style == ""  # idle: grey
    panel.run_button.click()
    result = panel.result
    assert result is not None and panel.run_button.disabled and not panel.stop_button.disabled
    assert panel.stop_button.button_style == "danger"
    wait_until(lambda: result.n_trials >= 1)
    kinds = [set(o.get("data", {})) for o in panel.output.outputs]
    assert any(WIDGET_VIEW in k for k in kinds), "the live view is shown under the form"
    panel.stop_button.click()
    result.wait(timeout=60)
    assert result.stop_reason == "stopped" and result.best_model is not None
    assert not panel.run_button.disabled and panel.stop_button.disabled
    assert panel.stop_button.button_style == ""
    assert "ended (stopped)" in panel.message.value
    kinds = [set(o.get("data", {})) for o in panel.output.outputs]
    # the view finished in place: only the static result is left, and its widgets are closed
    assert kinds == [{RESULT_MIME, "text/html", "text/plain"}]
    view = [o for o in panel.search.observers if hasattr(o, "closed")][0]
    assert view.closed and view.widget.comm is None
    assert panel.search.config == panel.config()  # the form's config, untouched


def test_the_panel_has_one_stop_and_names_a_variable_the_user_has(ip, wine: pd.DataFrame) -> None:
    """`%automl panel DATA --as NAME` binds the form; its end message names NAME.result; one Stop."""
    ip.user_ns["wine"] = wine
    ip.user_ns["panel"] = "a name the notebook uses"  # never overwritten
    ip.run_line_magic("automl", "panel wine")
    assert ip.user_ns["panel"] == "a name the notebook uses"
    form = ip.user_ns["automl_panel"]
    assert form.variable == "automl_panel"
    ip.run_line_magic("automl", "panel wine --as form")
    form = ip.user_ns["form"]
    assert isinstance(form, ja.Panel) and form.variable == "form"
    form.storage.value, form.n_trials.value, form.strategy.value = "memory", "2", "random"
    result = form.run()
    assert result is not None
    view = [o for o in form.search.observers if hasattr(o, "stop_button")][0]
    assert view.stop_button.layout.display == "none" and form.stop_button.layout.display != "none"
    result.wait(timeout=120)
    wait_until(lambda: "ended" in form.message.value)
    assert "the result is in <code>form.result</code>" in form.message.value
    assert form.result is result and result.best_model is not None
    with pytest.raises(Exception, match="--as '1x' is not a variable name"):
        ip.run_line_magic("automl", "panel wine --as 1x")
