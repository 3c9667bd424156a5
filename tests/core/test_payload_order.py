"""Order is data: parameters and metrics keep the search's order through a saved notebook.

A notebook is written with its JSON keys sorted (nbformat), so the order of a payload's objects
is lost on save; payload 1.2 carries it in ``param_order`` and ``score_order`` lists, which every
renderer reads.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

import jupyter_automl as ja
from jupyter_automl.report import (
    MIME_TYPE,
    PAYLOAD_VERSION,
    ordered,
    params_text,
    payload_html,
    payload_text,
)

LABEXT_FIXTURE = Path(__file__).resolve().parents[2] / "labextension" / "tests" / "payload-1.3.json"


@pytest.fixture(scope="module")
def result():
    # two families whose key parameters are not in alphabetical order; a held-out split gives scores
    return ja.search(
        data="sklearn:breast_cancer",
        n_trials=4,
        cv=3,
        seed=1,
        strategy="random",
        models=["random_forest", "hist_gradient_boosting"],
        storage="memory",
        display=False,
    )


def _saved(bundle: dict) -> dict:
    """``bundle`` as a reopened notebook holds it: written by nbformat (sorted keys) and read back."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "%%automl", outputs=[nbformat.v4.new_output("display_data", data=bundle)]
        )
    )
    text = nbformat.writes(nb)
    return nbformat.reads(text, as_version=4).cells[0].outputs[0]["data"]


def _params_cells(html: str) -> list[str]:
    return re.findall(r'class="jupyter-automl-params"[^>]*>([^<]*)', html)


def test_the_payload_carries_the_search_order(result):
    payload = result.payload()
    assert payload["version"] == PAYLOAD_VERSION == "1.3"
    for row, trial in zip(
        sorted(payload["leaderboard"]["rows"], key=lambda r: r["trial"]),
        result.study.trials,
        strict=True,
    ):
        key_params = list(result.space.key_params(trial.params))
        assert row["param_order"] == key_params == list(row["params"])
    assert payload["best"]["param_order"] == list(result.best_trial.params)
    assert payload["score_order"][0] == payload["study"]["metric"] == "roc_auc"
    assert payload["score_order"] == list(payload["insight"]["holdout"]["scores"])
    # the orders are not alphabetical: a sorted save would change them
    assert any(
        row["param_order"] != sorted(row["param_order"]) for row in payload["leaderboard"]["rows"]
    )
    assert payload["score_order"] != sorted(payload["score_order"])


def test_static_html_and_text_are_the_same_after_a_save(result):
    bundle = result._repr_mimebundle_()
    saved = _saved(bundle)
    payload = saved[MIME_TYPE]
    assert list(payload["leaderboard"]["rows"][0]["params"]) == sorted(
        payload["leaderboard"]["rows"][0]["params"]
    )
    assert payload_html(payload) == bundle["text/html"]
    assert payload_text(payload) == bundle["text/plain"]
    first = _params_cells(bundle["text/html"])[0]
    row = next(r for r in result.payload()["leaderboard"]["rows"] if r["rank"] == 1)
    assert first.startswith(f"{row['param_order'][0]}=")
    metrics = re.findall(r"jupyter-automl-holdout.*?</table>", bundle["text/html"])[0]
    assert (
        re.findall(r"<td style='padding:1px 8px'>([a-z0-9_]+)</td>", metrics)
        == result.payload()["score_order"]
    )


def test_without_the_lists_a_save_would_reorder(result):
    """The check above can fail: a 1.1 payload (no lists) renders alphabetically once saved."""
    old = copy.deepcopy(result.payload())
    for row in old["leaderboard"]["rows"]:
        del row["param_order"]
    del old["score_order"]
    saved = json.loads(json.dumps(old, sort_keys=True))
    assert _params_cells(payload_html(saved)) != _params_cells(payload_html(result.payload()))
    assert payload_html(old)  # and an older payload is still read


def test_ordered_puts_listed_keys_first_and_keeps_the_rest():
    assert ordered({"z": 1, "a": 2, "m": 3}, ["m", "z", "gone", "m"]) == [
        ("m", 3),
        ("z", 1),
        ("a", 2),
    ]
    assert params_text({"b": 1, "a": 2}, order=["a"]) == "a=2, b=1"


def test_the_lab_renderer_fixture_is_a_current_saved_payload():
    """labextension/tests/payload-1.3.json (read by the Jest tests) is a payload of this version,
    saved with sorted keys as a notebook is, with its order lists."""
    fixture = json.loads(LABEXT_FIXTURE.read_text())
    assert fixture["version"] == PAYLOAD_VERSION
    assert json.dumps(fixture, sort_keys=True, indent=1) + "\n" == LABEXT_FIXTURE.read_text()
    rows = fixture["leaderboard"]["rows"]
    assert rows and all(
        r["param_order"] and r["param_order"] != sorted(r["param_order"]) for r in rows
    )
    assert fixture["score_order"] != sorted(fixture["score_order"])
