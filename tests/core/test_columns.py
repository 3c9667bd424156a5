"""Tables as people have them: dates (naive, time-zone aware, text), free text and many-level
categories are searched without preparation, and the exported script takes the raw columns."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

import jupyter_automl as ja
from jupyter_automl.data import load_dataset
from jupyter_automl.spaces.tabular.features import DATE_FEATURES, DateFeatures

ROWS = 3000
POSITIVE = "excellent superb delightful wonderful great lovely".split()
NEGATIVE = "terrible awful dreadful poor horrible boring".split()
FILLER = "the a movie film plot acting was is and it this story of scenes with".split()


def _frame(carrier: str, seed: int = 0) -> pd.DataFrame:
    """3,000 rows where only column ``carrier`` tells the label; the other columns are noise.

    ``when``: the label is "weekend" on New York's wall clock (every time is 20:00-23:59 local,
    already the next day in UTC, so reading the UTC day gets it wrong); ``review``: one word of
    a positive or negative list among filler words; ``shop``: 600 shops, each with its label.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, ROWS)
    start = pd.Timestamp("2021-01-04", tz="America/New_York")  # a Monday
    week, weekday = rng.integers(0, 100, ROWS), np.where(y == 1, rng.integers(5, 7, ROWS), rng.integers(0, 5, ROWS))
    minutes = rng.integers(20 * 60, 24 * 60, ROWS)
    when = start + pd.to_timedelta(week * 7 + weekday, unit="D") + pd.to_timedelta(minutes, unit="min")
    shop_label = rng.integers(0, 2, 600)

    def review(label: int) -> str:
        words = list(rng.choice(FILLER, int(rng.integers(6, 14))))
        words.insert(int(rng.integers(0, len(words))), str(rng.choice(POSITIVE if label else NEGATIVE)))
        return " ".join(words)

    other = rng.integers(0, 2, ROWS)
    shops = np.array([rng.choice(np.flatnonzero(shop_label == lab)) for lab in (y if carrier == "shop" else other)])
    frame = pd.DataFrame({
        "when": when if carrier == "when" else when[rng.permutation(ROWS)],
        "review": [review(lab) for lab in (y if carrier == "review" else other)],
        "shop": [f"shop{i:03d}" for i in shops],
        "amount": rng.normal(size=ROWS),
    })
    frame["label"] = np.where(y == 1, "yes", "no")
    return frame


@pytest.mark.parametrize("carrier", ["when", "review", "shop"])
def test_a_date_free_text_or_600_level_column_alone_carrying_the_label_is_found(carrier: str) -> None:
    frame = _frame(carrier)
    train, test = frame.iloc[:2400], frame.iloc[2400:]
    result = ja.search(data=train, target="label", time_budget=20, display=False, storage="memory")
    summary = result.dataset.summary()
    assert "dates: when" in summary and "text: review" in summary, summary
    assert "many-level categories: shop" in summary, summary
    score = balanced_accuracy_score(test["label"], result.predict(test.drop(columns="label")))
    assert score >= 0.85, (carrier, score, result.leaderboard.head(5).to_string())


def test_the_exported_script_trains_and_predicts_from_the_raw_columns(tmp_path) -> None:
    frame = _frame("when", seed=1)
    train, test = frame.iloc[:2400], frame.iloc[2400:]
    result = ja.search(data=train, target="label", time_budget=15, display=False, storage="memory",
                       holdout=None, models=["hist_gradient_boosting"])
    script = result.export(tmp_path / "train_best.py")
    source = script.read_text()
    assert "class DateFeatures" in source and "jupyter_automl" not in source.replace("jupyter-automl", "")
    assert "TfidfVectorizer" in source and "'review'" in source and "'when'" in source
    train.to_csv(tmp_path / "data.csv", index=False)  # dates become text with their UTC offsets
    run = subprocess.run([sys.executable, str(script), "data.csv"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "cross-validated roc_auc" in run.stdout
    # the pickle is read elsewhere, beside the script, and predicts from the raw frame (tz-aware dates)
    test.drop(columns="label").to_pickle(tmp_path / "raw.pkl")
    check = subprocess.run(
        [sys.executable, "-c", "import pickle, pandas as pd; m = pickle.load(open('best_model.pkl', 'rb')); "
         "X = pd.read_pickle('raw.pkl'); print(','.join(m.predict(X)))"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-3000:]
    predicted = check.stdout.strip().split(",")
    assert balanced_accuracy_score(test["label"], predicted) >= 0.85


def test_date_features_read_the_wall_clock_of_the_column_s_own_zone() -> None:
    when = pd.Series(pd.to_datetime(["2021-03-13 23:30", "2021-07-04 22:00", None]).tz_localize("America/New_York"))
    as_text = when.astype(object).map(lambda v: None if pd.isna(v) else str(v))  # mixed offsets -05:00, -04:00
    features = DateFeatures().fit(when.to_frame())
    live, read = features.transform(when.to_frame()), features.transform(as_text.to_frame())
    np.testing.assert_allclose(live, read, equal_nan=True)
    named = dict(zip(DATE_FEATURES, live[0], strict=True))
    assert (named["year"], named["month"], named["day"], named["dayofweek"]) == (2021, 3, 13, 5)  # a Saturday there
    assert named["hour"] == 23.5 and named["days_since_first"] == 0
    assert np.isnan(live[2]).all()  # a missing date: missing features, imputed by the next step


def _roles(frame: pd.DataFrame, **kw):
    return load_dataset(X=frame, y=np.arange(len(frame)) % 2, **kw)


def test_column_roles_dates_numbers_text_and_forcing() -> None:
    n = 60
    days = pd.date_range("2022-01-01", periods=n, freq="5D")
    frame = pd.DataFrame({
        "iso": days.strftime("%Y-%m-%d"),
        "european": days.strftime("%d/%m/%Y"),  # days above 12: day first, unambiguous
        "ambiguous": [f"0{1 + i % 9}/0{1 + i % 8}/2022" for i in range(n)],
        "month": ["Jan", "Feb", "Mar"] * (n // 3),
        "year": [str(2000 + i % 5) for i in range(n)],
        "plain": [f"item {i % 7}" for i in range(n)],
        "notes": [f"note number {i} says something" for i in range(n)],
    })
    data = _roles(frame)
    assert data.dates == {"iso": "%Y-%m-%d", "european": "%d/%m/%Y"}
    assert data.text == ["notes"]
    assert set(data.categorical_columns) == {"ambiguous", "month", "plain"} and data.numeric_columns == ["year"]
    assert "column 'ambiguous' looks like dates but day and month cannot be told apart" in data.summary()
    assert "column_types: {ambiguous: 'date:%m/%d/%Y'}" in data.summary()

    forced = _roles(frame, column_types={"ambiguous": "date:%d/%m/%Y", "notes": "categorical", "year": "categorical"})
    assert forced.dates["ambiguous"] == "%d/%m/%Y" and "notes" not in forced.text
    assert {"notes", "year"} <= set(forced.categorical_columns) and "looks like dates" not in forced.summary()

    with pytest.raises(ja.DataError, match=r"column_types' names column 'note', which is not a feature column"
                                           r".*did you mean 'notes'"):
        _roles(frame, column_types={"note": "text"})
    with pytest.raises(ja.DataError, match=r"'plain' is 'dates'; give one of numeric, categorical, text, date"):
        _roles(frame, column_types={"plain": "dates"})
    with pytest.raises(ja.DataError, match=r"column 'plain' does not parse as dates with format '%Y-%m-%d'"):
        _roles(frame, column_types={"plain": "date:%Y-%m-%d"})


def test_a_search_with_column_types_from_a_cell_reads_the_column_as_told() -> None:
    config = ja.SearchConfig.from_yaml("column_types: {day: 'date:%d/%m/%Y'}\ntime_budget: 5")
    assert config.column_types == {"day": "date:%d/%m/%Y"}


def test_a_pickled_result_model_predicts_raw_dates_and_text() -> None:
    frame = _frame("review", seed=2).iloc[:600]
    result = ja.search(data=frame, target="label", n_trials=2, display=False, storage="memory",
                       models=["linear"], holdout=None)
    model = pickle.loads(pickle.dumps(result.best_model))
    assert list(model.predict(frame.drop(columns="label").iloc[:5])) == list(result.predict(frame.drop(columns="label").iloc[:5]))
