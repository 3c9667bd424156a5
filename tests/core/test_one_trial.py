"""A study of one trial reads right: singular words, a single value, an axis within the metric's range."""

from __future__ import annotations

import re

import pytest

import jupyter_automl as ja
from jupyter_automl.report import best_so_far_svg, payload_html, payload_text


@pytest.fixture(scope="module")
def one():
    return ja.search(data="sklearn:wine", n_trials=1, models=["linear"], metric="accuracy", storage="memory",
                     display=False)


def _words(html_text: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", html_text))


def _y_labels(svg: str) -> list[float]:
    return [float(v) for v in re.findall(r'text-anchor="end" fill="currentColor">([-0-9.]+)<', svg)]


def test_one_trial_is_singular_everywhere(one):
    payload = one.payload()
    shown = _words(payload_html(payload)) + payload_text(payload)
    assert not re.search(r"\b1 (trial|chart|row|member)s\b", shown), shown
    assert "1 trial (1 complete)" in shown
    assert "no chart (these need at least two finished trials)" in shown  # not "0 charts"
    assert "± –" not in shown and "– —" not in shown


def test_one_trial_axis_stays_within_the_metric_range(one):
    payload = one.payload()
    assert payload["score_bounds"] == [0.0, 1.0]
    svg = best_so_far_svg(payload["history"], bounds=tuple(payload["score_bounds"]))
    labels = _y_labels(svg)
    assert labels and all(0.0 <= v <= 1.0 for v in labels), labels
    # the saved HTML draws the same chart with the same bounds
    html_svg = payload_html(payload).split('aria-label="best score so far against time"')[1].split("</svg>")[0]
    assert all(0.0 <= v <= 1.0 for v in _y_labels(html_svg))


@pytest.mark.parametrize(("score", "bounds"), [(0.98, (0.0, 1.0)), (1.0, (0.0, 1.0)), (0.0, (0.0, 1.0)),
                                               (0.31, (0.0, None))])
def test_a_single_point_opens_the_axis_inwards(score, bounds):
    """One trial, one value: the axis spans a small range around it, never past the bounds (no 0.47–1.47)."""
    import numpy as np

    svg = best_so_far_svg([{"trial": 0, "elapsed_s": 2.0, "score": score, "best": score, "state": "COMPLETE"}],
                          bounds=bounds)
    ys = [float(y) for y in re.findall(r'<circle cx="[0-9.]+" cy="([0-9.]+)"', svg)]
    assert len(ys) == 1 and 10 <= ys[0] <= 160  # inside the plot area (10 … 160 px)
    from jupyter_automl.report import score_range

    lo, hi = score_range([score], bounds)
    assert lo <= score <= hi and hi - lo <= 0.2 * max(1.0, abs(score))
    assert (bounds[0] is None or lo >= bounds[0]) and (bounds[1] is None or hi <= bounds[1])
    assert np.isfinite([lo, hi]).all()
