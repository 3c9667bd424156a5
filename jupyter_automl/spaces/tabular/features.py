"""Features a pipeline derives from raw columns: dates and times.

:class:`DateFeatures` is a scikit-learn transformer, so a date column is turned into numbers
inside the pipeline (in each cross-validation fold, in the final model and in the exported
script, whose source holds a copy of this class: the script does not import jupyter-automl).
It must stay self-contained: only numpy, pandas and scikit-learn, imported in its methods.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["DateFeatures", "DATE_FEATURES"]

class DateFeatures(TransformerMixin, BaseEstimator):
    """Date or time columns → year, month, day, day of week, hour, day of year, their cyclic
    (sine, cosine) encodings and the days since the earliest date seen in ``fit``.

    Takes datetime columns (naive or time-zone aware: the fields are those of the wall clock in
    the column's own zone) or text, parsed with ``formats`` (one ``strptime`` format or ``None``
    per column; text with mixed UTC offsets is read at its own wall-clock time). A value that
    does not parse becomes missing (NaN), which the next step imputes.
    """

    def __init__(self, formats=None):
        self.formats = formats

    def _columns(self, X):
        import pandas as pd

        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        formats = list(self.formats) if self.formats is not None else [None] * frame.shape[1]
        if len(formats) != frame.shape[1]:
            raise ValueError(f"DateFeatures got {frame.shape[1]} columns but {len(formats)} formats")
        return [self._parse(frame.iloc[:, i], fmt) for i, fmt in enumerate(formats)]

    @staticmethod
    def _parse(column, fmt):
        """A column as naive wall-clock datetimes (NaT where a value does not parse)."""
        import pandas as pd

        if not pd.api.types.is_datetime64_any_dtype(column.dtype):
            text = column.astype(object).where(column.notna(), None)
            try:
                column = pd.to_datetime(text, format=fmt, errors="coerce")
            except (ValueError, TypeError):  # mixed UTC offsets: keep each value's wall clock
                bare = text.astype("string").str.replace(r"\s*(Z|[+-]\d\d:?\d\d)$", "", regex=True)
                bare_fmt = fmt.replace("%z", "").rstrip() if fmt else None
                column = pd.to_datetime(bare.astype(object), format=bare_fmt, errors="coerce")
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_localize(None)  # the wall clock of the column's own zone
        return column.astype("datetime64[ns]")

    def fit(self, X, y=None):
        self._fit(self._columns(X))
        return self

    def fit_transform(self, X, y=None):
        columns = self._columns(X)  # text dates are parsed once, not in fit and again in transform
        self._fit(columns)
        return self._features(columns)

    def _fit(self, columns):
        import numpy as np

        self.first_ = [np.datetime64("1970-01-01") if v is None or v != v else v.to_datetime64()
                       for v in (c.min() for c in columns)]
        self.n_features_in_ = len(columns)

    def transform(self, X):
        return self._features(self._columns(X), len(X))

    def _features(self, columns, rows=0):
        import numpy as np

        parts = []
        for column, first in zip(columns, self.first_, strict=True):
            dt = column.dt
            fields = {
                "year": dt.year, "month": dt.month, "day": dt.day, "dayofweek": dt.day_of_week,
                "hour": dt.hour + dt.minute / 60.0, "dayofyear": dt.day_of_year,
            }
            values = {k: v.to_numpy(dtype=float, na_value=np.nan) for k, v in fields.items()}
            for name, period in (("month", 12.0), ("dayofweek", 7.0), ("hour", 24.0), ("dayofyear", 366.0)):
                angle = 2.0 * np.pi * values[name] / period
                values[f"{name}_sin"], values[f"{name}_cos"] = np.sin(angle), np.cos(angle)
            since = (column.to_numpy() - first) / np.timedelta64(1, "D")
            values["days_since_first"] = np.where(column.isna().to_numpy(), np.nan, since)
            parts.append(np.column_stack([values[k] for k in self._names()]))
        return np.hstack(parts) if parts else np.empty((rows, 0))

    @staticmethod
    def _names():
        return ("year", "month", "day", "dayofweek", "hour", "dayofyear",
                "month_sin", "month_cos", "dayofweek_sin", "dayofweek_cos", "hour_sin", "hour_cos",
                "dayofyear_sin", "dayofyear_cos", "days_since_first")

    def get_feature_names_out(self, input_features=None):
        import numpy as np

        names = input_features if input_features is not None else [f"date{i}" for i in range(self.n_features_in_)]
        return np.array([f"{c}_{k}" for c in names for k in self._names()], dtype=object)


#: The numbers made from one date column, in order (the class keeps its own list: the exported
#: script copies the class alone).
DATE_FEATURES = DateFeatures._names()
