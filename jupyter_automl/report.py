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

__all__ = ["MIME_TYPE", "PAYLOAD_VERSION", "study_payload", "payload_html", "payload_text", "best_so_far_svg"]

MIME_TYPE = "application/vnd.jupyter-automl.result.v1+json"
PAYLOAD_VERSION = "1.0"
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
    import optuna

    from jupyter_automl.runner import trial_record

    attrs = study.user_attrs
    config = attrs.get(f"{ATTR}:config", {})
    state = attrs.get(f"{ATTR}:state", {})
    multi = len(study.directions) > 1
    direction = "multi" if multi else study.direction.name.lower()
    sign = -1.0 if direction == "minimize" else 1.0
    trials = [t for t in study.get_trials(deepcopy=False) if t.state != optuna.trial.TrialState.WAITING]
    started_at = min((t.datetime_start for t in trials if t.datetime_start), default=None)
    t0 = started_at.timestamp() if started_at else None
    records = [trial_record(t, None, t0) for t in trials]
    finished = [r for r in records if r.state in ("COMPLETE", "PRUNED", "FAIL")]
    complete = [r for r in records if r.state == "COMPLETE" and (r.value is not None or r.values)]

    history = []
    best_val: float | None = None
    for r in sorted(finished, key=lambda r: (r.elapsed_s if r.elapsed_s is not None else 0.0, r.number)):
        if r.state == "COMPLETE" and r.value is not None and (best_val is None or sign * r.value > sign * best_val):
            best_val = r.value
        history.append({"trial": r.number, "elapsed_s": _finite(r.elapsed_s), "score": _finite(r.value),
                        "best": _finite(best_val), "state": r.state})

    if multi:
        pareto = {t.number for t in study.best_trials}
        ranked = sorted(complete, key=lambda r: r.number)
    else:
        pareto = set()
        ranked = sorted(complete, key=lambda r: (-sign * (r.value if r.value is not None else -math.inf), r.number))
    others = sorted([r for r in records if r not in complete], key=lambda r: r.number)
    rows = []
    for rank, r in enumerate(ranked, start=1):
        rows.append(_row(r, rank, r.number in pareto))
    for r in others:
        rows.append(_row(r, None, False))
    best = None
    if ranked and not multi:
        b = ranked[0]
        best = {"trial": b.number, "score": _finite(b.value), "score_std": _finite(b.score_std), "model": b.model,
                "params": dict(study.trials[b.number].params) if b.number < len(study.trials) else b.params,
                "genotype": b.extra.get("genotype"), "diagram": b.diagram}
    counts = {s: sum(1 for r in records if r.state == s) for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
    from jupyter_automl.config import SearchConfig

    try:
        config_text = SearchConfig.from_dict(config).to_yaml() if config else ""
    except Exception:  # a config written by a newer version: show what we can
        config_text = ""
    return {
        "version": PAYLOAD_VERSION,
        "study": {
            "name": study.study_name,
            "storage": storage,
            "space": config.get("space"),
            "strategy": config.get("strategy"),
            "task": attrs.get(f"{ATTR}:task"),
            "metric": attrs.get(f"{ATTR}:metric"),
            "direction": direction,
            "n_trials": len(finished),
            "n_complete": counts["COMPLETE"],
            "n_pruned": counts["PRUNED"],
            "n_failed": counts["FAIL"],
            "n_running": counts["RUNNING"],
            "state": state.get("state", "unknown"),
            "stop_reason": state.get("reason"),
            "started": started_at.astimezone(timezone.utc).isoformat(timespec="seconds") if started_at else None,
            "updated": state.get("updated"),
        },
        "best": best,
        "leaderboard": {"columns": ["rank", "trial", "model", "score", "score_std", "duration_s", "state", "params", "error"],
                        "rows": rows[:max_rows], "total_rows": len(rows)},
        "history": history,
        "config": config,
        "config_text": config_text,
        "diagram": best.get("diagram") if best else None,
        "environment": attrs.get(f"{ATTR}:environment", {}),
        "fingerprint": attrs.get(f"{ATTR}:fingerprint", {}),
    }


def _row(r: Any, rank: int | None, pareto: bool) -> dict[str, Any]:
    row = {"rank": rank, "trial": r.number, "model": r.model,
           "score": _finite(r.value) if r.values is None or len(r.values) == 1 else [_finite(v) for v in r.values],
           "score_std": _finite(r.score_std), "duration_s": _finite(round(r.duration_s, 3)),
           "state": r.state, "params": r.params, "error": r.error or r.extra.get("reason")}
    if pareto:
        row["pareto"] = True
    if r.extra.get("worker"):  # host:pid or the Dask worker address that ran it
        row["worker"] = r.extra["worker"]
    if r.extra.get("epochs_run") is not None:  # NAS trials: how far training went before pruning
        row["epochs_run"] = r.extra["epochs_run"]
    return row


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) >= 1e4 or (abs(v) < 1e-3 and v != 0) else f"{v:.{digits}f}"
    if isinstance(v, list):
        return ", ".join(_fmt(x, digits) for x in v)
    return str(v)


def _params_text(params: dict[str, Any], limit: int = 4) -> str:
    items = list(params.items())
    text = ", ".join(f"{k}={_fmt(v, 3)}" for k, v in items[:limit])
    return text + (", …" if len(items) > limit else "")


def best_so_far_svg(history: list[dict[str, Any]], *, width: int = 420, height: int = 180, direction: str = "maximize") -> str:
    """An inline SVG: every trial's score against time (dots) and the best so far (a step line)."""
    pts = [(h["elapsed_s"], h["score"], h["best"]) for h in history if h.get("score") is not None and h.get("elapsed_s") is not None]
    pad_l, pad_r, pad_t, pad_b = 48, 10, 10, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-label="best score so far against time" style="font: 10px sans-serif">',
             f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>']
    if pts:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts] + [p[2] for p in pts if p[2] is not None]
        x0, x1 = 0.0, max(max(xs), 1e-9)
        y0, y1 = min(ys), max(ys)
        if y1 - y0 < 1e-12:
            y0, y1 = y0 - 0.5, y1 + 0.5
        margin = 0.05 * (y1 - y0)
        y0, y1 = y0 - margin, y1 + margin

        def sx(x: float) -> float:
            return pad_l + (x - x0) / (x1 - x0) * w

        def sy(y: float) -> float:
            return pad_t + h - (y - y0) / (y1 - y0) * h

        for x, y, _ in pts:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="#7aa6da" fill-opacity="0.7"/>')
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
            parts.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#d62728" stroke-width="2"/>')
        for frac in (0.0, 0.5, 1.0):
            yv = y0 + margin + frac * (y1 - y0 - 2 * margin)
            parts.append(f'<text x="{pad_l - 4}" y="{sy(yv) + 3:.1f}" text-anchor="end">{html.escape(_fmt(yv, 3))}</text>')
        parts.append(f'<text x="{pad_l}" y="{height - 8}">0 s</text>')
        parts.append(f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end">{x1:.1f} s</text>')
    else:
        parts.append(f'<text x="{pad_l + w / 2}" y="{pad_t + h / 2}" text-anchor="middle" fill="#888">no finished trial yet</text>')
    parts.append(f'<text x="{pad_l + w / 2}" y="{height - 8}" text-anchor="middle" fill="#555">time · '
                 f'<tspan fill="#d62728">best so far</tspan></text>')
    parts.append("</svg>")
    return "".join(parts)


def payload_html(payload: dict[str, Any], *, rows: int = 15, diagram_svg: str | None = None) -> str:
    """Readable HTML (escaped) with the leaderboard, the best-so-far SVG and the config; no script."""
    e = html.escape
    s = payload["study"]
    best = payload.get("best") or {}
    head = (f"<b>{e(str(s.get('name')))}</b> · {e(str(s.get('space')))} / {e(str(s.get('strategy')))} · "
            f"{e(str(s.get('metric')))} ({e(str(s.get('direction')))}) · {s.get('n_trials', 0)} trials "
            f"({s.get('n_complete', 0)} complete, {s.get('n_pruned', 0)} pruned, {s.get('n_failed', 0)} failed) · "
            f"{e(str(s.get('state')))}")
    if best:
        head += f"<br>best: <b>{e(_fmt(best.get('score')))}</b> ± {e(_fmt(best.get('score_std')))} — trial {best.get('trial')} ({e(str(best.get('model')))})"
    cols = ["rank", "trial", "model", "score", "± std", "time (s)", "state", "params"]
    body = []
    for row in payload["leaderboard"]["rows"][:rows]:
        detail = row.get("error") or _params_text(row.get("params") or {})
        body.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in [
            _fmt(row.get("rank")), row.get("trial"), row.get("model"), _fmt(row.get("score")), _fmt(row.get("score_std")),
            _fmt(row.get("duration_s"), 2), row.get("state"), detail]) + "</tr>")
    more = payload["leaderboard"].get("total_rows", len(payload["leaderboard"]["rows"])) - min(rows, len(payload["leaderboard"]["rows"]))
    table = ('<table class="jupyter-automl-leaderboard" style="border-collapse:collapse;font-size:12px">'
             "<thead><tr>" + "".join(f'<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #999">{c}</th>' for c in cols)
             + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")
    if more > 0:
        table += f'<div style="color:#666;font-size:11px">… {more} more trials (result.leaderboard has them all)</div>'
    chart = best_so_far_svg(payload.get("history", []), direction=str(s.get("direction")))
    parts = [f'<div class="jupyter-automl-result" style="font-family:sans-serif;font-size:13px">'
             f'<div style="margin-bottom:6px">{head}</div>',
             '<div style="display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start">',
             f"<div>{table}</div><div>{chart}</div>"]
    if diagram_svg:
        parts.append(f"<div>{diagram_svg}</div>")
    parts.append("</div>")
    if payload.get("config_text"):
        parts.append("<details><summary>%%automl</summary><pre>%%automl\n" + e(payload["config_text"]) + "</pre></details>")
    parts.append("</div>")
    return "".join(parts)


def payload_text(payload: dict[str, Any], rows: int = 10) -> str:
    """Plain-text summary with the top of the leaderboard."""
    s = payload["study"]
    best = payload.get("best") or {}
    lines = [f"SearchResult {s.get('name')}: {s.get('space')}/{s.get('strategy')}, {s.get('metric')}, "
             f"{s.get('n_trials', 0)} trials ({s.get('n_failed', 0)} failed), {s.get('state')}"]
    if best:
        lines.append(f"best {s.get('metric')} {_fmt(best.get('score'))} ± {_fmt(best.get('score_std'))} "
                     f"(trial {best.get('trial')}, {best.get('model')})")
    lines.append(f"{'rank':>4}  {'trial':>5}  {'model':<24} {'score':>8}  {'state':<8}")
    for row in payload["leaderboard"]["rows"][:rows]:
        lines.append(f"{_fmt(row.get('rank')):>4}  {row.get('trial'):>5}  {str(row.get('model'))[:24]:<24} "
                     f"{_fmt(row.get('score')):>8}  {row.get('state'):<8}")
    return "\n".join(lines)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
