from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import jupyter_automl as ja
from jupyter_automl.data import load_dataset


def test_bundled_dataset_and_task_detection():
    assert load_dataset("sklearn:breast_cancer").task == "binary"
    assert load_dataset("sklearn:iris").task == "multiclass"
    reg = load_dataset("sklearn:diabetes")
    assert reg.task == "regression" and reg.X.shape == (442, 10)


def test_task_override_and_refusal():
    d = load_dataset("sklearn:iris", task="multiclass")
    assert d.task == "multiclass"
    with pytest.raises(ja.DataError, match="task='binary' but the target has 3 classes"):
        load_dataset("sklearn:iris", task="binary")


def test_mixed_columns_are_typed(penguins):
    d = load_dataset(penguins, "species")
    assert d.categorical_columns == ["island", "sex"]
    assert d.X["sex"].isna().any()  # missing values stay for the pipeline to handle


def test_csv_and_parquet_paths(tmp_path, penguins):
    csv = tmp_path / "p.csv"
    penguins.to_csv(csv, index=False)
    assert load_dataset(str(csv), "species").X.shape == (344, 7)
    pq = tmp_path / "p.parquet"
    penguins.to_parquet(pq)
    assert load_dataset(str(pq), "species").task == "multiclass"
    with pytest.raises(ja.DataError, match="does not exist"):
        load_dataset(str(tmp_path / "nope.csv"), "species")


def test_notebook_variable_and_undefined_name(penguins):
    ns = {"penguins": penguins}
    assert load_dataset("penguins", "species", namespace=ns).n_samples == 344
    with pytest.raises(ja.DataError, match="'pengiuns' is not a variable of the notebook.*did you mean 'penguins'"):
        load_dataset("pengiuns", "species", namespace=ns)


def test_bad_data_is_refused_with_the_culprit(penguins):
    with pytest.raises(ja.DataError, match="target column 'specis' is not in the data.*did you mean 'species'"):
        load_dataset(penguins, "specis")
    nan_target = penguins.assign(species=penguins["species"].where(penguins.index > 2))
    with pytest.raises(ja.DataError, match=r"target 'species' has 3 missing values.*dropna\(subset=\['species'\]\)"):
        load_dataset(nan_target, "species")
    with pytest.raises(ja.DataError, match="only one class"):
        load_dataset(penguins.assign(species="Adelie"), "species")
    with pytest.raises(ja.DataError, match="the data is empty"):
        load_dataset(penguins.iloc[:0], "species")
    with pytest.raises(ja.DataError, match="X has 10 rows but y has 9 values"):
        load_dataset(X=np.zeros((10, 2)), y=np.arange(9))
    with pytest.raises(ja.DataError, match="unknown bundled dataset 'sklearn:iriss'.*did you mean 'iris'"):
        load_dataset("sklearn:iriss")


def test_errors_come_before_any_trial(workdir):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [1, 1, 1, 1]})
    with pytest.raises(ja.DataError, match="only one class"):
        ja.search(data=df, target="y", n_trials=2)
    assert not (workdir / ".jupyter_automl").exists()  # nothing was created


def test_fingerprint_changes_with_content():
    a = load_dataset("sklearn:iris").fingerprint()
    X, y = load_dataset("sklearn:iris").X, load_dataset("sklearn:iris").y
    X2 = X.copy()
    X2.iloc[0, 0] += 1
    b = load_dataset(X=X2, y=y).fingerprint()
    assert a["shape"] == b["shape"] == [150, 4]
    assert a["hash"] != b["hash"]
