"""A NAS trial's model reads in a narrow table column: a compact label of its genotype, with the
full string kept on hover, the same in the live view, the static HTML, the text and the payload
the lab renderer reads."""

from __future__ import annotations

import html

import numpy as np
import optuna
import pytest

from jupyter_automl._search import Search
from jupyter_automl.config import SearchConfig
from jupyter_automl.report import model_label, payload_html, payload_text
from jupyter_automl.spaces.nas.genotypes import (
    CellGenotype,
    ChainGenotype,
    DagGenotype,
    MlpGenotype,
    short_label,
)
from jupyter_automl.ui.live import LiveView


def _sampled(cls: type, n: int) -> list:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    out = []
    for _ in range(n):
        try:
            out.append(cls.suggest(study.ask(), {}))
        except Exception:  # a DAG draw with no path from input to output
            continue
    return out


@pytest.mark.parametrize("cls", [CellGenotype, DagGenotype, ChainGenotype, MlpGenotype])
def test_every_genotype_has_a_label_shorter_than_its_string(cls: type) -> None:
    genotypes = _sampled(cls, 40)
    assert len(genotypes) >= 10
    for genotype in genotypes:
        text = genotype.to_string()
        label = short_label(text)
        assert label and len(label) < len(text), (text, label)
        assert model_label(text) == label


def test_cell_labels_tell_every_cell_apart_and_read_left_to_right() -> None:
    cells = {g.to_string() for g in _sampled(CellGenotype, 200)}
    labels = {short_label(c) for c in cells}
    assert len(labels) == len(cells)  # one label per cell: nothing is lost, only shortened
    text = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|none~2|"
    assert short_label(text) == "c3 | skip c1 | – pool –"  # one group per node, edges in order


@pytest.mark.parametrize("name", ["random_forest", "hist_gradient_boosting", "ensemble", "",
                                  "a|b", "x;y", "blocks=oops", "units=1;activation=nope"])
def test_other_models_are_shown_as_they_are(name: str) -> None:
    assert short_label(name) is None
    assert model_label(name) == name


def test_a_nas_search_shows_labels_with_the_genotype_on_hover_everywhere() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 1, 8, 8)).astype(np.float32)
    y = (X[:, 0, :4].mean(axis=(1, 2)) > 0).astype(int)
    config = SearchConfig.from_dict({"space": "nas-cell", "strategy": "random", "n_trials": 3,
                                     "epochs": 1, "storage": "memory", "display": False,
                                     "seed": 0, "proxy": "none"})
    search = Search(config, X=X, y=y)
    view = LiveView(search, show=False, interval=0.05)
    search.observers.append(view)
    result = search.run()

    payload = result.payload()
    rows = payload["leaderboard"]["rows"]
    assert rows and all(r["label"] == short_label(r["model"]) for r in rows)
    assert payload["best"]["label"] == short_label(payload["best"]["model"])
    page = payload_html(payload)
    for row in rows:  # the cell shows the label, its tooltip the genotype
        assert f'title="{html.escape(row["model"])}">{html.escape(row["label"])}</td>' in page
    assert payload["best"]["label"] in payload_text(payload)
    table = view.table_source.data
    assert list(table["model"]) == [short_label(m) for m in table["full"]]
    assert set(table["full"]) == {r["model"] for r in rows}
