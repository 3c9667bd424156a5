/**
 * The "model" and "search" sections of a result (payload 1.1 `insight`): the held-out score and
 * the charts computed at the end of the search, drawn as SVG with the DOM (no innerHTML).
 * The chart dicts are those the Python side draws (`jupyter_automl.insight`); a payload without
 * `insight` (1.0) gets no section.
 */
import { plural } from './payload';

const SVG_NS = 'http://www.w3.org/2000/svg';
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf'
];
const W = 360;
const H = 260;
const PAD = { l: 52, r: 12, t: 26, b: 40 };

type Json = unknown;
type Attrs = Record<string, string | number>;

function rec(value: Json): Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, Json>)
    : {};
}

function arr(value: Json): Json[] {
  return Array.isArray(value) ? value : [];
}

function nums(value: Json): number[] {
  return arr(value).map(v =>
    typeof v === 'number' && Number.isFinite(v) ? v : NaN
  );
}

function text(value: Json): string {
  return typeof value === 'string' || typeof value === 'number'
    ? String(value)
    : '';
}

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) {
    return '–';
  }
  if (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) {
    return v.toPrecision(digits);
  }
  return v.toFixed(digits).replace(/\.?0+$/, '');
}

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  content?: string
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  content?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

/** Round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 4): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) {
    return [lo];
  }
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) ?? raw;
  const first = Math.ceil(lo / step) * step;
  const out: number[] = [];
  for (let t = first; t <= hi + 1e-9 * step; t += step) {
    out.push(Math.round(t * 1e10) / 1e10);
  }
  return out;
}

/** About how wide one character of the 10 px chart font is, to decide what fits. */
const CHAR_W = 6;

/**
 * A text element whose text is shortened with "…" to fit `room` pixels; the full text is its
 * tooltip (an SVG `<title>`).
 */
function label(
  attrs: Record<string, string | number>,
  full: string,
  room: number
): SVGElement {
  const fits = Math.max(3, Math.floor(room / CHAR_W));
  if (full.length <= fits) {
    return el('text', attrs, full);
  }
  const node = el('text', attrs, `${full.slice(0, fits - 1)}…`);
  node.insertBefore(el('title', {}, full), node.firstChild);
  return node;
}

/**
 * The top-left of the corner of the plot box where a legend of `size` covers the fewest
 * points (a ROC curve hugs the top left, a precision-recall curve the top right).
 */
export function legendCorner(
  points: [number, number][],
  box: [number, number, number, number],
  size: [number, number]
): [number, number] {
  const [left, top, w, h] = box;
  const [lw, lh] = size;
  const corners: [number, number][] = [
    [left + 4, top + 4],
    [left + w - lw - 4, top + 4],
    [left + w - lw - 4, top + h - lh - 4],
    [left + 4, top + h - lh - 4]
  ];
  const m = 6; // a line just outside the box (along the frame) still crowds it
  const covered = ([cx, cy]: [number, number]) =>
    points.filter(
      ([x, y]) =>
        cx - m <= x && x <= cx + lw + m && cy - m <= y && y <= cy + lh + m
    ).length;
  return corners.reduce((best, c) => (covered(c) < covered(best) ? c : best));
}

function range(values: number[], given: Json): [number, number] {
  const g = nums(given);
  if (g.length === 2 && g.every(Number.isFinite)) {
    return [g[0], g[1]];
  }
  const finite = values.filter(Number.isFinite);
  if (!finite.length) {
    return [0, 1];
  }
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const m = 0.05 * (hi - lo);
  return [lo - m, hi + m];
}

function frame(chart: Record<string, Json>, height: number): SVGSVGElement {
  const name = text(chart.name) || 'chart';
  const svg = el('svg', {
    width: W,
    height,
    viewBox: `0 0 ${W} ${height}`,
    role: 'img',
    class: `jp-AutoML-insight-chart jp-AutoML-insight-${name}`
  });
  svg.dataset.chart = name;
  svg.setAttribute('aria-label', text(chart.title));
  svg.appendChild(
    el(
      'text',
      { x: PAD.l, y: 14, class: 'jp-AutoML-insight-title' },
      text(chart.title)
    )
  );
  if (chart.note) {
    svg.appendChild(
      el(
        'text',
        { x: 4, y: height - 3, class: 'jp-AutoML-insight-note' },
        text(chart.note)
      )
    );
  }
  return svg;
}

/** Lines and points of `series`, with axes, an optional diagonal and a legend. */
export function xyChart(chart: Record<string, Json>): SVGSVGElement {
  const series = arr(chart.series).map(rec);
  let xs = series.flatMap(s => nums(s.x));
  let ys = series.flatMap(s => nums(s.y));
  if (chart.diagonal && !chart.x_range) {
    xs = ys = xs.concat(ys);
  }
  const [x0, x1] = range(xs, chart.x_range);
  const [y0, y1] = range(ys, chart.y_range);
  const w = W - PAD.l - PAD.r;
  const ht = H - PAD.t - PAD.b;
  const sx = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * w;
  const sy = (y: number) => PAD.t + ht - ((y - y0) / (y1 - y0)) * ht;
  const svg = frame(chart, H);
  svg.appendChild(
    el('rect', {
      x: PAD.l,
      y: PAD.t,
      width: w,
      height: ht,
      class: 'jp-AutoML-insight-frame'
    })
  );
  const given = arr(chart.x_ticks).map(t => arr(t));
  const xTicks: [number, string][] = given.length
    ? given.map(t => [Number(t[0]), text(t[1])])
    : ticks(x0, x1).map(t => [t, fmt(t)]);
  // long category names (model families) on two rows
  const stagger = given.length > 4;
  const room = (w / Math.max(1, xTicks.length)) * (stagger ? 2 : 1) - 4;
  xTicks.forEach(([x, name], k) => {
    svg.appendChild(
      label(
        {
          x: sx(x).toFixed(1),
          y: PAD.t + ht + 12 + (stagger && k % 2 ? 11 : 0),
          'text-anchor': 'middle'
        },
        name,
        room
      )
    );
  });
  for (const y of ticks(y0, y1)) {
    svg.appendChild(
      el(
        'text',
        { x: PAD.l - 4, y: (sy(y) + 3).toFixed(1), 'text-anchor': 'end' },
        fmt(y)
      )
    );
  }
  if (chart.diagonal) {
    const lo = Math.max(x0, y0);
    const hi = Math.min(x1, y1);
    svg.appendChild(
      el('line', {
        x1: sx(lo).toFixed(1),
        y1: sy(lo).toFixed(1),
        x2: sx(hi).toFixed(1),
        y2: sy(hi).toFixed(1),
        class: 'jp-AutoML-insight-guide'
      })
    );
  }
  if (chart.zero_line && y0 < 0 && y1 > 0) {
    svg.appendChild(
      el('line', {
        x1: PAD.l,
        x2: PAD.l + w,
        y1: sy(0).toFixed(1),
        y2: sy(0).toFixed(1),
        class: 'jp-AutoML-insight-guide'
      })
    );
  }
  const drawn = series.map(s => {
    const sys = nums(s.y);
    return nums(s.x)
      .map((x, k): [number, number] => [x, sys[k]])
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]): [number, number] => [sx(x), sy(y)]);
  });
  const names = series.map(s => text(s.label).slice(0, 40));
  // points along every segment too: a curve with few vertices still crosses a corner
  const along: [number, number][] = drawn.flatMap(pts =>
    pts.flatMap((a, k): [number, number][] =>
      k + 1 < pts.length
        ? Array.from({ length: 8 }, (_, t): [number, number] => [
            a[0] + ((pts[k + 1][0] - a[0]) * t) / 8,
            a[1] + ((pts[k + 1][1] - a[1]) * t) / 8
          ])
        : [a]
    )
  );
  if (chart.diagonal) {
    for (let t = 0; t <= 16; t++) {
      along.push([
        sx(x0 + ((x1 - x0) * t) / 16),
        sy(y0 + ((y1 - y0) * t) / 16)
      ]);
    }
  }
  const [lx, ly0] = legendCorner(
    along,
    [PAD.l, PAD.t, w, ht],
    [
      18 + CHAR_W * Math.max(0, ...names.map(n => n.length)),
      11 * series.length + 2
    ]
  );
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = drawn[i];
    const mode = text(s.mode) || 'line';
    if (mode.includes('line') && pts.length > 1) {
      svg.appendChild(
        el('polyline', {
          points: pts
            .map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`)
            .join(' '),
          class: 'jp-AutoML-insight-line',
          stroke: color
        })
      );
    }
    if (mode.includes('points')) {
      for (const [a, b] of pts) {
        svg.appendChild(
          el('circle', {
            cx: a.toFixed(1),
            cy: b.toFixed(1),
            r: mode === 'points' ? 2.2 : 2.6,
            class: 'jp-AutoML-insight-point',
            fill: color
          })
        );
      }
    }
    if (series.length > 1) {
      const ly = ly0 + 9 + 11 * i;
      svg.appendChild(
        el('rect', {
          x: (lx + 2).toFixed(1),
          y: (ly - 6).toFixed(1),
          width: 8,
          height: 3,
          fill: color
        })
      );
      svg.appendChild(
        el(
          'text',
          {
            x: (lx + 14).toFixed(1),
            y: ly.toFixed(1),
            class: 'jp-AutoML-insight-legend'
          },
          names[i]
        )
      );
    }
  });
  svg.appendChild(
    el(
      'text',
      { x: PAD.l + w / 2, y: H - 14, 'text-anchor': 'middle' },
      text(chart.x_label)
    )
  );
  svg.appendChild(
    el(
      'text',
      {
        transform: `translate(11 ${PAD.t + ht / 2}) rotate(-90)`,
        'text-anchor': 'middle'
      },
      text(chart.y_label)
    )
  );
  return svg;
}

/** Horizontal bars, largest first, with optional error whiskers. */
export function barsChart(chart: Record<string, Json>): SVGSVGElement {
  const labels = arr(chart.labels).map(text);
  const values = nums(chart.values);
  const errors = chart.errors ? nums(chart.errors) : values.map(() => 0);
  const left = 130;
  const bar = 14;
  const height = PAD.t + bar * values.length + 44;
  const lo = Math.min(0, ...values.map((v, i) => v - (errors[i] || 0)));
  const hi = Math.max(1e-12, ...values.map((v, i) => v + (errors[i] || 0)));
  const w = W - left - PAD.r;
  const sx = (x: number) => left + ((x - lo) / (hi - lo)) * w;
  const svg = frame(chart, height);
  values.forEach((v, i) => {
    const y = PAD.t + i * bar;
    const [a, b] = [sx(0), sx(v)].sort((p, q) => p - q);
    svg.appendChild(
      label(
        { x: left - 4, y: y + bar - 4, 'text-anchor': 'end' },
        labels[i],
        left - 8
      )
    );
    const rect = el('rect', {
      x: a.toFixed(1),
      y: y + 2,
      width: Math.max(b - a, 0.5).toFixed(1),
      height: bar - 4,
      class: 'jp-AutoML-insight-bar'
    });
    rect.appendChild(el('title', {}, `${labels[i]}: ${fmt(v, 4)}`));
    svg.appendChild(rect);
    if (errors[i]) {
      svg.appendChild(
        el('line', {
          x1: sx(v - errors[i]).toFixed(1),
          x2: sx(v + errors[i]).toFixed(1),
          y1: (y + bar / 2).toFixed(1),
          y2: (y + bar / 2).toFixed(1),
          class: 'jp-AutoML-insight-error'
        })
      );
    }
  });
  const axisY = PAD.t + bar * values.length + 2;
  for (const t of ticks(lo, hi, 3)) {
    svg.appendChild(
      el(
        'text',
        { x: sx(t).toFixed(1), y: axisY + 10, 'text-anchor': 'middle' },
        fmt(t)
      )
    );
  }
  svg.appendChild(
    el(
      'text',
      { x: left + w / 2, y: axisY + 24, 'text-anchor': 'middle' },
      text(chart.x_label)
    )
  );
  return svg;
}

/** The confusion matrix: cells shaded by row share, labelled with counts. */
export function heatmapChart(chart: Record<string, Json>): SVGSVGElement {
  const rows = arr(chart.y_labels).map(text);
  const cols = arr(chart.x_labels).map(text);
  const values = arr(chart.values).map(nums);
  const counts = arr(chart.counts).map(nums);
  const left = 70;
  const top = PAD.t + 12;
  const cell = Math.max(
    14,
    Math.min(48, Math.floor((W - left - PAD.r) / Math.max(1, cols.length)))
  );
  const height = top + cell * rows.length + 46;
  const svg = frame(chart, height);
  svg.appendChild(
    el(
      'text',
      {
        x: left + (cell * cols.length) / 2,
        y: top - 4,
        'text-anchor': 'middle'
      },
      text(chart.x_label)
    )
  );
  cols.forEach((name, j) => {
    svg.appendChild(
      label(
        {
          x: (left + cell * (j + 0.5)).toFixed(1),
          y: top + cell * rows.length + 12,
          'text-anchor': 'middle'
        },
        name,
        cell
      )
    );
  });
  rows.forEach((name, i) => {
    const y = top + i * cell;
    svg.appendChild(
      label(
        { x: left - 4, y: (y + cell / 2 + 3).toFixed(1), 'text-anchor': 'end' },
        name,
        left - 8
      )
    );
    cols.forEach((col, j) => {
      const share = values[i]?.[j] ?? 0;
      const count = counts[i]?.[j] ?? 0;
      const rect = el('rect', {
        x: left + j * cell,
        y,
        width: cell - 1,
        height: cell - 1,
        class: 'jp-AutoML-insight-cell',
        'fill-opacity': (0.06 + 0.9 * share).toFixed(3)
      });
      rect.dataset.count = String(count);
      rect.appendChild(
        el(
          'title',
          {},
          `${name} → ${col}: ${count} (${(100 * share).toFixed(1)}%)`
        )
      );
      svg.appendChild(rect);
      if (cell >= 26) {
        svg.appendChild(
          el(
            'text',
            {
              x: (left + (j + 0.5) * cell).toFixed(1),
              y: (y + cell / 2 + 3).toFixed(1),
              'text-anchor': 'middle',
              class:
                share > 0.55
                  ? 'jp-AutoML-insight-count jp-mod-dark'
                  : 'jp-AutoML-insight-count'
            },
            String(count)
          )
        );
      }
    });
  });
  svg.appendChild(
    el(
      'text',
      {
        transform: `translate(11 ${top + (cell * rows.length) / 2}) rotate(-90)`,
        'text-anchor': 'middle'
      },
      text(chart.y_label)
    )
  );
  return svg;
}

/** The SVG of one insight chart dict. */
export function insightChart(chart: Json): SVGSVGElement {
  const c = rec(chart);
  if (c.kind === 'bars') {
    return barsChart(c);
  }
  if (c.kind === 'heatmap') {
    return heatmapChart(c);
  }
  return xyChart(c);
}

/**
 * The held-out score of a NAS final network (trained on past its trial), else null: the
 * header names it beside the best trial's validation score, as the Python side does.
 */
export function finalNetworkScore(insight: Json): number | null {
  const ho = rec(rec(insight).holdout);
  return ho.model === 'final network' && typeof ho.score === 'number'
    ? ho.score
    : null;
}

/** `held-out roc_auc 0.991 on 114 rows (CV 0.989)`, as the Python side writes it. */
export function holdoutLine(insight: Json): string {
  const i = rec(insight);
  const ho = rec(i.holdout);
  if (!i.holdout) {
    return i.holdout_skipped
      ? `no held-out score (${text(i.holdout_skipped)})`
      : '';
  }
  const num = (v: Json) => (typeof v === 'number' ? v : null);
  // 1.3: "validation" for NAS, whose trials are not cross-validated
  let own = `${ho.cv_kind ? text(ho.cv_kind) : 'CV'} ${fmt(num(ho.cv_score), 4)}`;
  if (ho.model === 'final network') {
    own = `final network; trial ${text(ho.trial)}'s ${own}`;
  }
  let line =
    `held-out ${text(ho.metric)} ${fmt(num(ho.score), 4)} on ${text(ho.n_rows)} rows ` +
    `(${own})`;
  if (ho.model === 'ensemble') {
    line +=
      `; ensemble held-out ${fmt(num(ho.ensemble_score), 4)} ` +
      `(CV ${fmt(num(ho.ensemble_cv_score), 4)})`;
  }
  return line;
}

function section(
  title: string,
  summary: string,
  charts: Json[],
  extra: HTMLElement[] = []
): HTMLDetailsElement {
  const box = h(
    'details',
    `jp-AutoML-insight-section jp-AutoML-section-${title}`
  );
  box.open = true;
  const head = h('summary');
  head.appendChild(h('b', '', title));
  head.appendChild(document.createTextNode(` ${summary}`));
  box.appendChild(head);
  extra.forEach(e => box.appendChild(e));
  const row = h('div', 'jp-AutoML-insight-charts');
  charts.forEach(c => row.appendChild(insightChart(c)));
  box.appendChild(row);
  return box;
}

/** The model and search sections of a payload's `insight`, or `null` when it has none. */
export function insightSections(insight: Json): HTMLElement | null {
  if (typeof insight !== 'object' || insight === null) {
    return null;
  }
  const i = rec(insight);
  const model = rec(i.model);
  const search = rec(i.search);
  const box = h('div', 'jp-AutoML-insight');
  const nav = h('div', 'jp-AutoML-sections jp-AutoML-muted');
  box.appendChild(nav);
  const extra: HTMLElement[] = [];
  const scores = rec(rec(i.holdout).scores);
  if (Object.keys(scores).length) {
    const table = h('table', 'jp-AutoML-holdout');
    const tr = h('tr');
    for (const [k, v] of Object.entries(scores)) {
      tr.appendChild(h('td', '', k));
      tr.appendChild(
        h('td', 'jp-AutoML-num', fmt(typeof v === 'number' ? v : null, 4))
      );
    }
    table.appendChild(tr);
    extra.push(table);
  }
  for (const note of arr(i.notes)) {
    extra.push(h('div', 'jp-AutoML-muted', text(note)));
  }
  const modelBox = section(
    'model',
    `— ${holdoutLine(insight)}`,
    arr(model.charts),
    extra
  );
  box.appendChild(modelBox);
  const searchCharts = arr(search.charts);
  const searchBox = section(
    'search',
    searchCharts.length
      ? `— ${plural(searchCharts.length, 'chart')}`
      : '— no chart (these need at least two finished trials)',
    searchCharts
  );
  box.appendChild(searchBox);
  sectionRow(nav, box, { model: modelBox, search: searchBox });
  return box;
}

/** `leaderboard · model · search`: each name scrolls to its section (and opens it). */
function sectionRow(
  nav: HTMLElement,
  box: HTMLElement,
  sections: Record<string, HTMLDetailsElement>
): void {
  ['leaderboard', 'model', 'search'].forEach((name, k) => {
    if (k > 0) {
      nav.appendChild(document.createTextNode(' · '));
    }
    const link = h('a', 'jp-AutoML-section-link', name);
    link.tabIndex = 0;
    link.addEventListener('click', () => {
      const target =
        sections[name] ??
        box.closest('.jp-AutoML-result')?.querySelector('.jp-AutoML-board');
      if (target instanceof HTMLDetailsElement) {
        target.open = true;
      }
      target?.scrollIntoView({ block: 'nearest' });
    });
    nav.appendChild(link);
  });
}
