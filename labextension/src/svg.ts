/**
 * SVG drawn with the DOM (no innerHTML): the best-so-far chart and the architecture diagram.
 */
import { IDiagramLayout, IHistoryPoint, formatNumber } from './payload';

const SVG_NS = 'http://www.w3.org/2000/svg';

type Attrs = Record<string, string | number>;

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  text?: string
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, String(v));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export interface IChartGeometry {
  /** Points of every scored trial, in chart coordinates. */
  dots: { x: number; y: number; trial: number; score: number }[];
  /** The best-so-far step line. */
  line: { x: number; y: number }[];
  yTicks: { y: number; label: string }[];
  xMax: number;
}

/** Bounds of a metric's values (payload 1.2 `score_bounds`); `null`: unbounded. */
export type Bounds = [number | null, number | null];

/**
 * The y range of a score chart: the data with a margin, never beyond the metric's bounds (the
 * Python side's `score_range`: an accuracy axis never passes 1).
 */
export function scoreRange(
  ys: number[],
  bounds: Bounds = [null, null]
): [number, number] {
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const pad =
    hi - lo > 1e-12 ? 0.05 * (hi - lo) : Math.max(0.01, 0.02 * Math.abs(hi));
  let y0 = lo - pad;
  let y1 = hi + pad;
  if (bounds[0] !== null) {
    y0 = Math.max(y0, bounds[0]);
  }
  if (bounds[1] !== null) {
    y1 = Math.min(y1, bounds[1]);
  }
  if (y1 - y0 < 1e-12) {
    if (bounds[1] !== null && y1 >= bounds[1]) {
      y0 -= 2 * pad;
    } else {
      y1 += 2 * pad;
    }
  }
  return [y0, y1];
}

/** Where things go in a `width`×`height` plot area (pure, for tests). */
export function chartGeometry(
  history: IHistoryPoint[],
  width: number,
  height: number,
  bounds: Bounds = [null, null]
): IChartGeometry {
  const pts = history.filter(
    (h): h is IHistoryPoint & { elapsedS: number; score: number } =>
      h.score !== null && h.elapsedS !== null
  );
  if (!pts.length) {
    return { dots: [], line: [], yTicks: [], xMax: 0 };
  }
  const xMax = Math.max(...pts.map(p => p.elapsedS), 1e-9);
  const ys = pts.flatMap(p =>
    p.best !== null ? [p.score, p.best] : [p.score]
  );
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const [lo, hi] = scoreRange(ys, bounds);
  const sx = (x: number) => (x / xMax) * width;
  const sy = (y: number) => height - ((y - lo) / (hi - lo)) * height;
  const dots = pts.map(p => ({
    x: sx(p.elapsedS),
    y: sy(p.score),
    trial: p.trial,
    score: p.score
  }));
  const line: { x: number; y: number }[] = [];
  let prev: number | null = null;
  for (const p of pts) {
    if (p.best === null) {
      continue;
    }
    if (prev !== null) {
      line.push({ x: sx(p.elapsedS), y: sy(prev) });
    }
    line.push({ x: sx(p.elapsedS), y: sy(p.best) });
    prev = p.best;
  }
  if (prev !== null) {
    line.push({ x: width, y: sy(prev) });
  }
  const yTicks = [...new Set([y0, (y0 + y1) / 2, y1])].map(v => ({
    y: sy(v),
    label: formatNumber(v, 3)
  }));
  return { dots, line, yTicks, xMax };
}

/** Every trial's score against time (dots) and the best so far (a red step line). */
export function bestSoFarChart(
  history: IHistoryPoint[],
  width = 420,
  height = 190,
  bounds: Bounds = [null, null]
): SVGSVGElement {
  const pad = { l: 52, r: 10, t: 10, b: 30 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const svg = el('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    class: 'jp-AutoML-chart'
  });
  svg.setAttribute('aria-label', 'best score so far against time');
  svg.appendChild(
    el('rect', {
      x: pad.l,
      y: pad.t,
      width: w,
      height: h,
      class: 'jp-AutoML-chart-area'
    })
  );
  const g = chartGeometry(history, w, h, bounds);
  const plot = el('g', { transform: `translate(${pad.l},${pad.t})` });
  svg.appendChild(plot);
  if (!g.dots.length) {
    plot.appendChild(
      el(
        'text',
        {
          x: w / 2,
          y: h / 2,
          'text-anchor': 'middle',
          class: 'jp-AutoML-muted'
        },
        'no finished trial yet'
      )
    );
    return svg;
  }
  for (const d of g.dots) {
    const dot = el('circle', {
      cx: d.x.toFixed(1),
      cy: d.y.toFixed(1),
      r: 3,
      class: 'jp-AutoML-chart-dot'
    });
    dot.appendChild(
      el('title', {}, `trial ${d.trial}: ${formatNumber(d.score)}`)
    );
    plot.appendChild(dot);
  }
  plot.appendChild(
    el('polyline', {
      points: g.line.map(p => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '),
      class: 'jp-AutoML-chart-best'
    })
  );
  for (const t of g.yTicks) {
    svg.appendChild(
      el(
        'text',
        { x: pad.l - 4, y: (pad.t + t.y + 3).toFixed(1), 'text-anchor': 'end' },
        t.label
      )
    );
  }
  svg.appendChild(el('text', { x: pad.l, y: height - 10 }, '0 s'));
  svg.appendChild(
    el(
      'text',
      { x: pad.l + w, y: height - 10, 'text-anchor': 'end' },
      `${g.xMax.toFixed(1)} s`
    )
  );
  const legend = el(
    'text',
    {
      x: pad.l + w / 2,
      y: height - 10,
      'text-anchor': 'middle',
      class: 'jp-AutoML-muted'
    },
    'time · '
  );
  legend.appendChild(
    el('tspan', { class: 'jp-AutoML-chart-best-label' }, 'best so far')
  );
  svg.appendChild(legend);
  return svg;
}

/**
 * The architecture, drawn from the layout Python computed once (`diagram_layout`): the same
 * curves, boxes and label anchors as the static SVG and the live Bokeh view. Nothing is placed
 * here; text and boxes take the theme's colours from CSS, edges keep their op colour.
 */
export function architectureDiagram(layout: IDiagramLayout): SVGSVGElement {
  const svg = el('svg', {
    width: layout.width,
    height: layout.height,
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: 'img',
    class: 'jp-AutoML-diagram'
  });
  svg.setAttribute('aria-label', 'architecture of the best trial');
  const defs = el('defs');
  const markers = new Map<string, string>();
  for (const e of layout.edges) {
    if (!markers.has(e.color)) {
      const id = `jp-AutoML-arrow-${e.color.slice(1)}-${Math.random().toString(36).slice(2, 8)}`;
      markers.set(e.color, id);
      const marker = el('marker', {
        id,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 8,
        markerHeight: 8,
        markerUnits: 'userSpaceOnUse',
        orient: 'auto'
      });
      marker.appendChild(
        el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: e.color })
      );
      defs.appendChild(marker);
    }
  }
  svg.appendChild(defs);
  for (const e of layout.edges) {
    const [[x0, y0], [cx, cy], [x1, y1]] = e.path;
    const path = el('path', {
      d: `M ${x0} ${y0} Q ${cx} ${cy} ${x1} ${y1}`,
      class: 'jp-AutoML-diagram-edge',
      stroke: e.color,
      'marker-end': `url(#${markers.get(e.color)})`
    });
    path.appendChild(el('title', {}, `${e.source} → ${e.target}: ${e.op}`));
    svg.appendChild(path);
    svg.appendChild(
      el(
        'text',
        {
          x: e.label.x,
          y: e.label.y + 4,
          'text-anchor': 'middle',
          class: 'jp-AutoML-diagram-op',
          fill: e.color
        },
        e.op
      )
    );
  }
  for (const n of layout.nodes) {
    svg.appendChild(
      el('rect', {
        x: n.x - n.w / 2,
        y: n.y - n.h / 2,
        width: n.w,
        height: n.h,
        rx: n.h / 2,
        class: 'jp-AutoML-diagram-node'
      })
    );
    svg.appendChild(
      el('text', { x: n.x, y: n.y + 4, 'text-anchor': 'middle' }, n.label)
    );
  }
  for (const item of layout.legend) {
    svg.appendChild(
      el('rect', {
        x: item.x,
        y: item.y - 5,
        width: 14,
        height: 10,
        fill: item.color
      })
    );
    svg.appendChild(el('text', { x: item.x + 20, y: item.y + 4 }, item.op));
  }
  return svg;
}
