"""SearchResult: predictions, the static record, save/load, and the exported standalone script."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jupyter_automl as ja
from jupyter_automl.report import MIME_TYPE

# the exported script must run with these imports made impossible
_BLOCK = textwrap.dedent("""
    import importlib.abc, runpy, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ImportError(f"{{name}} is blocked for this test")

    sys.meta_path.insert(0, Block())
    runpy.run_path({path!r}, run_name="__main__")
""")


def _run_without(path, blocked, cwd, *args):
    code = _BLOCK.format(blocked=blocked, path=str(path))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def bc_result(tmp_path_factory):
    storage = tmp_path_factory.mktemp("bc") / "studies.db"  # a file: ja.list_studies reads it back
    return ja.search(data="sklearn:breast_cancer", n_trials=6, seed=0, storage=str(storage), display=False)


def test_list_studies_best_is_result_best_score(bc_result):
    (row,) = ja.list_studies(bc_result.storage_url)
    assert row["best_score"] == pytest.approx(bc_result.best_score, abs=1e-12)  # the ensemble's when it won


def test_quickstart_result(bc_result):
    r = bc_result
    assert 0.98 < r.best_score <= 1.0
    assert r.best_params["model"] in {"linear", "hist_gradient_boosting", "lightgbm", "random_forest", "extra_trees",
                                      "svm", "knn", "xgboost"}
    assert type(r.best_model).__name__ in ("Pipeline", "VotingClassifier")  # an ensemble when it scores better
    X = r.dataset.X
    assert (r.predict(X.to_numpy()) == r.predict(X)).all()  # arrays get the training column names
    proba = r.predict_proba(X.head(3))
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1)


def test_export_runs_with_only_scikit_learn(bc_result, tmp_path):
    path = bc_result.export(tmp_path / "train_best.py")
    text = path.read_text()
    assert "jupyter_automl" not in text.replace("jupyter-automl", "")
    needs = text.split("Needs only ", 1)[1].split(";")[0]  # an ensemble may need lightgbm or xgboost
    blocked = ["jupyter_automl", "optuna", "pandas"] + [m for m in ("lightgbm", "xgboost") if m not in needs]
    assert f"python {path.name} [DATA]" in text and "this file" not in text  # the real file name
    said = float(text.split("Cross-validated roc_auc in the search: ")[1].split()[0])
    assert said == pytest.approx(bc_result.best_score, abs=1e-6)
    proc = _run_without(path, blocked, tmp_path)
    assert proc.returncode == 0, proc.stderr
    reported = float(proc.stdout.split("roc_auc: ")[1].split()[0])
    if bc_result.ensemble is not None:  # the docstring says why its score and the printed one differ
        assert "the two differ a little" in text
    if bc_result.ensemble is None:
        assert reported == pytest.approx(bc_result.best_score, abs=1e-6)  # same pipeline, same folds
    else:  # the ensemble's score is of its averaged out-of-fold predictions; the script's per fold
        assert reported == pytest.approx(bc_result.best_score, abs=0.01)
    assert (tmp_path / "best_model.pkl").exists()


def test_export_csv_data_with_categoricals(penguins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    penguins.to_csv("penguins.csv", index=False)
    r = ja.search(data="penguins.csv", target="species", n_trials=3, cv=3, storage="memory", display=False,
                  metric="balanced_accuracy", ensemble=False)  # the script re-scores one pipeline
    path = r.export("train.py")
    proc = _run_without(path, ["jupyter_automl", "optuna"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split("balanced_accuracy: ")[1].split()[0]) == pytest.approx(r.best_score, abs=1e-6)


def test_save_and_load(bc_result, tmp_path):
    path = bc_result.save(tmp_path / "best.joblib")
    loaded = ja.load(path)
    X = bc_result.dataset.X
    assert (loaded.predict(X) == bc_result.predict(X)).all()
    assert loaded.best_score == pytest.approx(bc_result.best_score)
    assert loaded.n_trials == bc_result.n_trials
    assert MIME_TYPE in loaded._repr_mimebundle_()
    with pytest.raises(ja.StorageError, match="no saved result"):
        ja.load(tmp_path / "missing.joblib")


class _Touch:
    """A pickle that creates a file when unpickled: what a crafted model file would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def _damaged_files(good: bytes, tmp_path):
    import pickle

    import joblib

    crafted = pickle.dumps(_Touch(tmp_path / "pwned"))
    joblib.dump({"format": "jupyter-automl/1", "model": _Touch(tmp_path / "pwned")}, tmp_path / "old.joblib")
    header_end = good.index(b"\n", good.index(b"\n") + 1) + 1
    return {
        "crafted pickle": (crafted, "not a model file saved by jupyter-automl"),
        "joblib without header": ((tmp_path / "old.joblib").read_bytes(), "not a model file saved by jupyter-automl"),
        "random bytes": (bytes(range(256)) * 8, "not a model file saved by jupyter-automl"),
        "empty": (b"", "not a model file saved by jupyter-automl"),
        "truncated": (good[: len(good) // 2], "truncated or damaged"),
        "header then crafted pickle": (good[:header_end] + crafted, "truncated or damaged"),
        "damaged header": (good[:40] + b"{not json\n" + good[header_end:], "header of the saved model is damaged"),
        "other kind": (good.replace(b'"search-result"', b'"notebook-xyz"', 1), "holds a 'notebook-xyz'"),
        "newer format": (good.replace(b'"format": 2', b'"format": 9', 1), "format 9"),
    }


def test_load_checks_the_header_before_unpickling_anything(bc_result, tmp_path):
    good = bc_result.save(tmp_path / "good.joblib").read_bytes()
    assert good.startswith(b"JUPYTER-AUTOML SAVED MODEL\n")
    for name, (content, message) in _damaged_files(good, tmp_path).items():
        path = tmp_path / f"{name.replace(' ', '_')}.joblib"
        path.write_bytes(content)
        with pytest.raises(ja.StorageError, match=message):
            ja.load(path)
        assert not (tmp_path / "pwned").exists(), f"{name}: the pickle ran"


def test_notebook_bundle_is_static_escaped_and_versioned(bc_result):
    bundle = bc_result._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    payload = bundle[MIME_TYPE]
    json.dumps(payload)  # plain JSON
    assert payload["version"] == "1.3"
    assert payload["study"]["n_trials"] == 6
    assert payload["best"]["score"] == pytest.approx(bc_result.best_trial.value)
    assert len(payload["leaderboard"]["rows"]) == 6 and len(payload["history"]) == 6
    html = bundle["text/html"]
    assert "<script" not in html and "<svg" in html and "jupyter-automl-leaderboard" in html
    assert "best roc_auc" in bundle["text/plain"]


def test_html_escapes_user_text():
    import pandas as pd

    df = pd.DataFrame({"<b>x</b>": np.arange(40.0), "y": np.arange(40) % 2})
    r = ja.search(data=df, target="y", n_trials=1, cv=2, storage="memory", display=False,
                  name="<img src=x onerror=alert(1)>")
    html = r._repr_mimebundle_()["text/html"]
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_leaderboard_counts_failures_and_best_first():
    r = ja.search(data="sklearn:wine", n_trials=5, cv=3, storage="memory", display=False, strategy="random")
    board = r.leaderboard
    ranked = board.dropna(subset=["rank"])
    assert ranked["score"].is_monotonic_decreasing
    assert len(board) == 5
