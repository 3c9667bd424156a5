"""The static record of a search: the versioned JSON payload, readable HTML with an SVG chart, text.

Everything here works from a stored study alone (no model, no kernel), so the server extension
and ``%automl show`` render the same thing a finished search leaves in the notebook.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from typing import Any

from jupyter_automl.storage import ATTR

__all__ = ["MIME_TYPE", "PAYLOAD_VERSION", "study_payload", "payload_html", "payload_text", "best_so_far_svg",
           "format_score", "format_param", "params_text", "model_label", "shorten", "ordered", "add_score_order"]

MIME_TYPE = "application/vnd.jupyter-automl.result.v1+json"
# 1.1: "insight" (held-out score, model and search charts)
# 1.2: order is data: "param_order" beside every "params" (rows, best) and "score_order" for the
# held-out scores, since a saved notebook writes JSON objects with their keys sorted
# 1.3: "label" beside a NAS trial's "model" (rows, best): the genotype's compact reading for tables
PAYLOAD_VERSION = "1.3"
_MAX_ROWS = 200


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def study_payload(study: Any, *, storage: str | None = None, max_rows: int = _MAX_ROWS) -> dict[str, Any]:
    """The ``application/vnd.jupyter-automl.result.v1+json`` payload of a stored study.

    Keys: ``version``, ``study`` (name, space, strategy, task, metric, direction, counts, state,
    times), ``best``, ``leaderboard`` (``columns`` and ``rows``, best first), ``history`` (one
    point per finished trial with the best so far), ``config``, ``config_text``, ``diagram``,
    ``environment``, ``fingerprint``.
    """
    from jupyter_automl.runner import trial_record
    from jupyter_automl.studies import study_state, trial_digest

    attrs = study.user_attrs
    config = attrs.get(f"{ATTR}:config", {})
    state = attrs.get(f"{ATTR}:state", {})
    multi = len(study.directions) > 1
    direction = "multi" if multi else study.direction.name.lower()
    sign = -1.0 if direction == "minimize" else 1.0
    # a huge study in a database is read as its best and latest trials and a thinned history
    digest = trial_digest(study, best=max_rows)
    started_at = digest.started
    t0 = started_at.timestamp() if started_at else None
    records = [trial_record(t, None, t0) for t in digest.trials]
    complete = [r for r in records if r.state == "COMPLETE" and (r.value is not None or r.values)]
    history = digest.history

    if multi:
        pareto = digest.pareto if digest.sampled else {t.number for t in study.best_trials}
        ranked = sorted(complete, key=lambda r: r.number)
    else:
        pareto = set()
        ranked = sorted(complete, key=lambda r: (-sign * (r.value if r.value is not None else -math.inf), r.number))
    if digest.sampled:  # the sample's best (or Pareto front) are ranked; its latest trials are not
        ranked = [r for r in ranked if r.number in digest.ranked]
    shown = {r.number for r in ranked}
    others = sorted([r for r in records if r.number not in shown], key=lambda r: r.number,
                    reverse=digest.sampled)  # sampled: the latest trials, newest first
    rows = []
    for rank, r in enumerate(ranked, start=1):
        rows.append(_row(r, rank, r.number in pareto))
    for r in others:
        rows.append(_row(r, None, False))
    best = None
    frozen = {t.number: t for t in digest.trials}
    if ranked and not multi:
        b = ranked[0]
        best_params = dict(frozen[b.number].params) if b.number in frozen else b.params
        best = {"trial": b.number, "score": _finite(b.value), "score_std": _finite(b.score_std), "model": b.model,
                "label": _label(b.model),
                "params": best_params, "param_order": list(best_params),
                "genotype": b.extra.get("genotype"), "diagram": b.diagram}
    # stopped trials are stored as FAIL with a "stopped" reason: counted apart, not as failures
    counts = dict(digest.counts)
    counts["STOPPED"] = sum(1 for r in records if r.state == "STOPPED")
    counts["FAIL"] = max(0, counts.get("FAIL", 0) - counts["STOPPED"])

    config_text = config_cell_text(config)
    return add_score_order({
        "version": PAYLOAD_VERSION,
        "study": {
            "name": study.study_name,
            "storage": storage,
            "space": config.get("space"),
            "strategy": config.get("strategy"),
            "task": attrs.get(f"{ATTR}:task"),
            "metric": attrs.get(f"{ATTR}:metric"),
            "direction": direction,
            "n_trials": counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"] + counts["STOPPED"],
            "n_complete": counts["COMPLETE"],
            "n_pruned": counts["PRUNED"],
            "n_failed": counts["FAIL"],
            "n_stopped": counts["STOPPED"],  # 1.2: cut short by Stop or an interrupt, not failures
            "n_running": counts["RUNNING"],
            "state": study_state(attrs),
            "stop_reason": state.get("reason"),
            "started": started_at.astimezone(timezone.utc).isoformat(timespec="seconds") if started_at else None,
            "updated": state.get("updated"),
        },
        "best": best,
        "leaderboard": {"columns": ["rank", "trial", "model", "score", "score_std", "duration_s", "state", "params", "error"],
                        "rows": rows[:max_rows] if not digest.sampled else rows, "total_rows": digest.total,
                        "sampled": digest.sampled},
        "history": history,
        "config": config,
        "config_text": config_text,
        "diagram": best.get("diagram") if best else None,
        "diagram_layout": _layout(best.get("diagram") if best else None),
        "environment": attrs.get(f"{ATTR}:environment", {}),
        "fingerprint": attrs.get(f"{ATTR}:fingerprint", {}),
        "insight": attrs.get(f"{ATTR}:insight"),  # 1.1; None for studies of older versions
        "ensemble": attrs.get(f"{ATTR}:ensemble"),  # 1.2: the final model when an ensemble was kept
        "score_bounds": list(_bounds(attrs.get(f"{ATTR}:metric"))),  # 1.2: charts stay within them
    })


def _bounds(metric: str | None) -> tuple[float | None, float | None]:
    from jupyter_automl.evaluate.metrics import metric_bounds

    return metric_bounds(metric)


def add_score_order(payload: dict[str, Any]) -> dict[str, Any]:
    """Set ``score_order``: the held-out scores' metrics in the order they were computed (the
    search's metric first), so a renderer of a saved (key-sorted) payload shows them in that order."""
    holdout = (payload.get("insight") or {}).get("holdout") or {}
    payload["score_order"] = list(holdout.get("scores") or {})
    return payload


def ordered(mapping: dict[str, Any] | None, order: list[str] | None) -> list[tuple[str, Any]]:
    """The items of ``mapping`` in ``order`` (a payload's ``param_order``), then any other key as stored.

    A saved notebook sorts JSON keys; the order lists beside them keep what the search meant.

    >>> ordered({"a": 1, "n_estimators": 2, "num_leaves": 3}, ["n_estimators", "num_leaves", "a"])
    [('n_estimators', 2), ('num_leaves', 3), ('a', 1)]
    >>> ordered({"b": 1, "a": 2}, None)
    [('b', 1), ('a', 2)]
    """
    mapping = mapping or {}
    first = list(dict.fromkeys(k for k in (order or []) if k in mapping))
    placed = set(first)
    return [(k, mapping[k]) for k in first] + [(k, v) for k, v in mapping.items() if k not in placed]


ARRAYS_VARIABLE = "Xy"


def config_cell_text(config: dict[str, Any]) -> str:
    """The body of the ``%%automl`` cell that reruns a search (``""`` when unreadable).

    A search on arrays passed from Python has no ``data`` to write down: the text then reads
    ``data: Xy`` with a comment, and runs once the notebook defines ``Xy = (X, y)``.

    >>> print(config_cell_text({"space": "nas-cell", "n_trials": 4}).splitlines()[0])
    data: Xy  # the search ran on arrays: define Xy = (X, y) in the notebook first
    """
    from jupyter_automl.config import SearchConfig

    if not config:
        return ""
    try:
        text = SearchConfig.from_dict(config).to_yaml()
    except Exception:  # a config written by a newer version: show what we can
        return ""
    if config.get("data") is None:
        text = (f"data: {ARRAYS_VARIABLE}  # the search ran on arrays: define {ARRAYS_VARIABLE} = (X, y) "
                "in the notebook first\n") + text
    return text


def _row(r: Any, rank: int | None, pareto: bool) -> dict[str, Any]:
    row = {"rank": rank, "trial": r.number, "model": r.model, "label": _label(r.model),
           "score": _finite(r.value) if r.values is None or len(r.values) == 1 else [_finite(v) for v in r.values],
           "score_std": _finite(r.score_std), "duration_s": _finite(round(r.duration_s, 3)),
           "state": r.state, "params": r.params, "param_order": list(r.params or {}),
           "error": r.error or r.extra.get("reason") or r.extra.get("stopped")}
    # the params stay on every row (pruned and failed too); the reason goes beside them
    if pareto:
        row["pareto"] = True
    if r.extra.get("worker"):  # host:pid or the Dask worker address that ran it
        row["worker"] = r.extra["worker"]
    if r.extra.get("epochs_run") is not None:  # NAS trials: how far training went before pruning
        row["epochs_run"] = r.extra["epochs_run"]
    return row


def _label(model: str | None) -> str | None:
    """The payload's ``label`` (1.3): a NAS genotype's compact reading, ``None`` for other models."""
    label = model_label(model) if model else None
    return label if label != model else None


def _layout(diagram: dict[str, Any] | None) -> dict[str, Any] | None:
    """The one diagram layout every renderer draws (see :mod:`jupyter_automl.spaces.nas.diagram`)."""
    if not diagram:
        return None
    from jupyter_automl.spaces.nas.diagram import diagram_layout

    return diagram_layout(diagram)


# ------------------------------------------------------------------------------ formatting
# one formatter for the live view, the static HTML, the text summary and the CLI


def format_score(value: Any, digits: int = 4) -> str:
    """A score (or any measured number): fixed decimals, or significant digits when tiny or huge.

    >>> format_score(0.96667), format_score(1.0), format_score(12345.6), format_score(None)
    ('0.9667', '1.0000', '1.235e+04', '–')
    """
    if isinstance(value, (list, tuple)):
        return ", ".join(format_score(v, digits) for v in value)
    v = _finite(value)
    if v is None:
        return "–"
    if abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3):
        return f"{v:.{digits}g}"
    return f"{v:.{digits}f}"


def format_param(value: Any) -> str:
    """A parameter value: integers as integers, floats to 3 significant digits, the rest as text.

    >>> format_param(1.0), format_param(0.012345), format_param(250), format_param("rbf")
    ('1', '0.0123', '250', 'rbf')
    """
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.3g}"
    return str(value)


def params_text(params: dict[str, Any] | None, limit: int = 4, order: list[str] | None = None) -> str:
    """``k=v, k=v, …``: the first ``limit`` key parameters, in the space's order (``order`` when given).

    >>> params_text({"C": 1.0, "kernel": "rbf", "gamma": 0.0123})
    'C=1, kernel=rbf, gamma=0.0123'
    >>> params_text({"a": 1, "b": 2}, order=["b", "a"])
    'b=2, a=1'
    """
    items = ordered(params, order)
    text = ", ".join(f"{k}={format_param(v)}" for k, v in items[:limit])
    return text + (", …" if len(items) > limit else "")


def model_label(model: str) -> str:
    """What a table shows for a trial's model: a NAS genotype in compact form (the caller shows
    the full string on hover), any other model's name as it is.

    >>> model_label("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
    'c3 | skip c1 | – – skip'
    >>> model_label("random_forest")
    'random_forest'
    """
    from jupyter_automl.spaces.nas.genotypes import short_label

    return short_label(model) or model


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (the caller shows the full text on hover).

    >>> shorten("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|", 20)
    '|nor_conv_3x3~0|+|s…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(v: Any, digits: int = 4) -> str:
    return "" if v is None else format_score(v, digits) if isinstance(v, (float, list)) else str(v)


def score_range(ys: list[float], bounds: tuple[float | None, float | None] = (None, None)) -> tuple[float, float]:
    """The y range of a score chart: the data with a margin, never beyond the metric's ``bounds``.

    >>> tuple(round(v, 3) for v in score_range([0.972], (0.0, 1.0)))
    (0.953, 0.991)
    >>> score_range([0.995, 1.0], (0.0, 1.0))[1]
    1.0
    """
    lo, hi = min(ys), max(ys)
    pad = 0.05 * (hi - lo) if hi - lo > 1e-12 else max(0.01, 0.02 * abs(hi))
    y0, y1 = lo - pad, hi + pad
    if bounds[0] is not None:
        y0 = max(y0, bounds[0])
    if bounds[1] is not None:
        y1 = min(y1, bounds[1])
    if y1 - y0 < 1e-12:  # a value on the bound itself: open the range inwards
        y0, y1 = (y0 - 2 * pad, y1) if bounds[1] is not None and y1 >= bounds[1] else (y0, y1 + 2 * pad)
    return y0, y1


def best_so_far_svg(history: list[dict[str, Any]], *, width: int = 420, height: int = 190, direction: str = "maximize",
                    bounds: tuple[float | None, float | None] = (None, None)) -> str:
    """An inline SVG: every trial's score against time (dots) and the best so far (a step line).

    Text and frame take the surrounding text colour (``currentColor``), so the chart reads on a
    light or a dark page, and after a sanitizer strips style attributes. The y axis stays within
    the metric's ``bounds`` (an accuracy axis never passes 1).
    """
    pts = [(h["elapsed_s"], h["score"], h["best"]) for h in history if h.get("score") is not None and h.get("elapsed_s") is not None]
    pad_l, pad_r, pad_t, pad_b = 52, 10, 10, 30
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-label="best score so far against time" font-family="sans-serif" font-size="10" '
             'class="jupyter-automl-chart" style="max-width:100%;height:auto">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="currentColor" fill-opacity="0.04" '
             'stroke="currentColor" stroke-opacity="0.3"/>']
    if pts:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts] + [p[2] for p in pts if p[2] is not None]
        x0, x1 = 0.0, max(max(xs), 1e-9)
        y0, y1 = score_range(ys, bounds)

        def sx(x: float) -> float:
            return pad_l + (x - x0) / (x1 - x0) * w

        def sy(y: float) -> float:
            return pad_t + h - (y - y0) / (y1 - y0) * h

        for (x, y, _), row in zip(pts, [hh for hh in history if hh.get("score") is not None and hh.get("elapsed_s") is not None], strict=True):
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#4c8bd6" fill-opacity="0.8">'
                         f'<title>trial {row.get("trial")}: {html.escape(format_score(y))}</title></circle>')
        line = []
        prev = None
        for x, _, b in pts:
            if b is None:
                continue
            if prev is not None:
                line.append(f"{sx(x):.1f},{sy(prev):.1f}")
            line.append(f"{sx(x):.1f},{sy(b):.1f}")
            prev = b
        if prev is not None:
            line.append(f"{sx(x1):.1f},{sy(prev):.1f}")
            parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#e0474c" stroke-width="2"/>')
        lo, hi = min(ys), max(ys)
        for yv in dict.fromkeys((lo, (lo + hi) / 2, hi)):  # the data's ends and middle, once each
            parts.append(f'<text x="{pad_l - 4}" y="{sy(yv) + 3:.1f}" text-anchor="end" fill="currentColor">'
                         f'{html.escape(format_score(yv, 3))}</text>')
        parts.append(f'<text x="{pad_l}" y="{height - 10}" fill="currentColor">0 s</text>')
        parts.append(f'<text x="{pad_l + w}" y="{height - 10}" text-anchor="end" fill="currentColor">{x1:.1f} s</text>')
    else:
        parts.append(f'<text x="{pad_l + w / 2}" y="{pad_t + h / 2}" text-anchor="middle" fill="currentColor" '
                     'fill-opacity="0.6">no finished trial yet</text>')
    parts.append(f'<text x="{pad_l + w / 2}" y="{height - 10}" text-anchor="middle" fill="currentColor" fill-opacity="0.75">'
                 'time · <tspan fill="#e0474c" fill-opacity="1">best so far</tspan></text>')
    parts.append("</svg>")
    return "".join(parts)


# the static HTML sets no text or background colour of its own: it inherits the page's (Lab
# Light or Dark, nbconvert, GitHub), and lines and muted text use neutral greys with alpha
_TH = 'style="text-align:left;padding:2px 8px;border-bottom:1px solid rgba(128,128,128,0.6)"'
_TD = 'style="padding:1px 8px;border-bottom:1px solid rgba(128,128,128,0.2);vertical-align:top"'
_TD_NUM = 'style="padding:1px 8px;border-bottom:1px solid rgba(128,128,128,0.2);vertical-align:top;text-align:right;font-variant-numeric:tabular-nums"'
_MUTED = 'style="opacity:0.7;font-size:11px"'


def _cell(text: str, *, numeric: bool = False, full: str | None = None) -> str:
    title = f' title="{html.escape(full)}"' if full and full != text else ""
    return f"<td {_TD_NUM if numeric else _TD}{title}>{html.escape(text)}</td>"


def _params_cell(row: dict[str, Any]) -> str:
    """The key params, then the prune or failure reason beside them (never instead of them)."""
    e = html.escape
    params = params_text(row.get("params") or {}, order=row.get("param_order"))
    full = params_text(row.get("params") or {}, limit=1000, order=row.get("param_order"))
    note = row.get("error")
    title = f' title="{e(full)}"' if full != params else ""
    inner = e(params)
    if note:
        inner += (" " if inner else "") + f'<span class="jupyter-automl-note" {_MUTED} title="{e(str(note))}">' \
                 f"· {e(shorten(str(note), 60))}</span>"
    return f'<td {_TD} class="jupyter-automl-params"{title}>{inner}</td>'


def _leaderboard_html(payload: dict[str, Any], rows: int) -> str:
    cols = [("rank", True), ("trial", True), ("model", False), ("score", True), ("± std", True),
            ("time (s)", True), ("state", False), ("params", False)]
    body = []
    for row in payload["leaderboard"]["rows"][:rows]:
        model = str(row.get("model"))
        muted = ' style="opacity:0.6"' if row.get("state") in ("PRUNED", "STOPPED") else ""  # cut short
        body.append(f"<tr{muted}>" + "".join([
            _cell(_fmt(row.get("rank")), numeric=True), _cell(str(row.get("trial")), numeric=True),
            _cell(shorten(model_label(model), 40), full=model), _cell(format_score(row.get("score")), numeric=True),
            _cell(format_score(row.get("score_std")), numeric=True),
            _cell(format_score(row.get("duration_s"), 2), numeric=True), _cell(str(row.get("state"))),
            _params_cell(row)]) + "</tr>")
    if not body:  # an empty state, not an empty block
        body.append(f'<tr><td colspan="{len(cols)}" {_TD}><span {_MUTED}>no finished trial yet</span></td></tr>')
    shown = min(rows, len(payload["leaderboard"]["rows"]))
    more = payload["leaderboard"].get("total_rows", len(payload["leaderboard"]["rows"])) - shown
    table = ('<table class="jupyter-automl-leaderboard" style="border-collapse:collapse;font-size:12px;max-width:100%">'
             "<thead><tr>" + "".join(f"<th {_TH}>{c}</th>" for c, _ in cols)
             + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")
    if more > 0:
        table += f"<div {_MUTED}>… {plural(more, 'more trial')} (result.leaderboard has them all)</div>"
    return table


def payload_html(payload: dict[str, Any], *, rows: int = 15, diagram_svg: str | None = None) -> str:
    """Readable HTML (escaped) with the leaderboard, the best-so-far SVG and the config; no script."""
    e = html.escape
    s = payload["study"]
    best = payload.get("best") or {}
    head = (f"<b>{e(str(s.get('name')))}</b> · {e(str(s.get('space')))} / {e(str(s.get('strategy')))} · "
            f"{e(str(s.get('metric')))} ({e(str(s.get('direction')))}) · {e(counts_text(s))} · "
            f"{e(str(s.get('state')))}")
    if best:
        model = str(best.get("model"))
        single = (f"<b>{e(format_score(best.get('score')))}</b>{e(_std_text(best))} — trial {best.get('trial')} "
                  f'(<span title="{e(model)}">{e(shorten(model_label(model), 60))}</span>)')
        ensemble = payload.get("ensemble")
        if ensemble and ensemble.get("score") is not None:  # the final model, what result.best_score says
            head += (f"<br>best: <b>{e(format_score(ensemble['score']))}</b> ensemble of "
                     f"{e(plural(len(ensemble.get('members') or {}), 'trial'))} (CV) · best single trial: {single}")
        else:
            head += f"<br>best: {single}"
        final = final_network_score(payload)
        if final is not None:  # NAS: the returned network trained on past the trial's few epochs
            head += f" · final network: held-out <b>{e(format_score(final))}</b>"
    chart = best_so_far_svg(payload.get("history", []), direction=str(s.get("direction")),
                            bounds=_bounds(s.get("metric")))
    parts = [f'<div class="jupyter-automl-result" style="font-family:sans-serif;font-size:13px">'
             f'<div style="margin-bottom:6px;overflow-wrap:anywhere">{head}</div>',
             '<div style="display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start">',
             # min-width:0 lets a flex item be narrower than its table: the table then scrolls in its
             # own box on a narrow page, and the page itself never scrolls sideways
             f'<div style="max-width:100%;min-width:0;overflow-x:auto">{_leaderboard_html(payload, rows)}</div>'
             f'<div style="max-width:100%;min-width:0">{chart}</div>']
    if diagram_svg:
        parts.append(f'<div style="max-width:100%;min-width:0"><div {_MUTED}>architecture of the best trial</div>'
                     f"{diagram_svg}</div>")
    parts.append("</div>")
    from jupyter_automl.insight.svg import insight_html

    parts.append(insight_html(payload))
    if payload.get("config_text"):
        parts.append("<details><summary>%%automl</summary><pre>%%automl\n" + e(payload["config_text"]) + "</pre></details>")
    parts.append("</div>")
    return "".join(parts)


def final_network_score(payload: dict[str, Any]) -> float | None:
    """The held-out score of a NAS final network (trained on past its trial), else None: the
    header names it beside the best trial's validation score, which it may far exceed."""
    insight = payload.get("insight")
    holdout = insight.get("holdout") if isinstance(insight, dict) else None
    if not isinstance(holdout, dict) or holdout.get("model") != "final network":
        return None
    return _finite(holdout.get("score"))


def plural(n: int, word: str) -> str:
    """``"1 trial"``, ``"3 trials"``.

    >>> plural(1, "trial"), plural(0, "trial"), plural(2, "row")
    ('1 trial', '0 trials', '2 rows')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts_text(study: dict[str, Any]) -> str:
    """``"4 trials (2 complete, 1 pruned, 1 stopped)"``: the finished trials, zero counts left out.

    >>> counts_text({"n_trials": 1, "n_complete": 1})
    '1 trial (1 complete)'
    >>> counts_text({"n_trials": 3, "n_complete": 1, "n_failed": 1, "n_stopped": 1})
    '3 trials (1 complete, 1 failed, 1 stopped)'
    """
    parts = [f"{int(study.get('n_complete') or 0)} complete"]
    parts += [f"{int(study.get(key) or 0)} {label}" for key, label in
              (("n_pruned", "pruned"), ("n_failed", "failed"), ("n_stopped", "stopped")) if study.get(key)]
    return f"{plural(int(study.get('n_trials') or 0), 'trial')} ({', '.join(parts)})"


def _std_text(best: dict[str, Any]) -> str:
    """`` ± 0.0100``, or nothing when there is no spread to show (one fold, no folds)."""
    std = _finite(best.get("score_std"))
    return "" if std is None else f" ± {format_score(std)}"


def payload_text(payload: dict[str, Any], rows: int = 10) -> str:
    """Plain-text summary with the top of the leaderboard."""
    s = payload["study"]
    best = payload.get("best") or {}
    lines = [f"SearchResult {s.get('name')}: {s.get('space')}/{s.get('strategy')}, {s.get('metric')}, "
             f"{counts_text(s)}, {s.get('state')}"]
    if best:
        ensemble = payload.get("ensemble")
        single = f"{format_score(best.get('score'))}{_std_text(best)} (trial {best.get('trial')}, {best.get('model')})"
        if ensemble and ensemble.get("score") is not None:
            lines.append(f"best {s.get('metric')} {format_score(ensemble['score'])}: ensemble of "
                         f"{plural(len(ensemble.get('members') or {}), 'trial')} (CV); "
                         f"best single trial {single}")
        else:
            lines.append(f"best {s.get('metric')} {single}")
        final = final_network_score(payload)
        if final is not None:
            lines[-1] += f"; final network held-out {format_score(final)}"
    from jupyter_automl.insight.svg import insight_text

    if insight_text(payload):
        lines.append(insight_text(payload))
    lines.append(f"{'rank':>4}  {'trial':>5}  {'model':<24} {'score':>8}  {'state':<8}")
    for row in payload["leaderboard"]["rows"][:rows]:
        lines.append(f"{_fmt(row.get('rank')):>4}  {row.get('trial'):>5}  {shorten(model_label(str(row.get('model'))), 24):<24} "
                     f"{format_score(row.get('score')):>8}  {row.get('state'):<8}")
    return "\n".join(lines)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
