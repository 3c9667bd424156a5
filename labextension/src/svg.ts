/**
 * SVG drawn with the DOM (no innerHTML): the best-so-far chart and the architecture diagram.
 */
import { IDiagram, IHistoryPoint, formatNumber } from './payload';

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

/** Where things go in a `width`×`height` plot area (pure, for tests). */
export function chartGeometry(
  history: IHistoryPoint[],
  width: number,
  height: number
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
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (y1 - y0 < 1e-12) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const margin = 0.05 * (y1 - y0);
  const lo = y0 - margin;
  const hi = y1 + margin;
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
  const yTicks = [y0, (y0 + y1) / 2, y1].map(v => ({
    y: sy(v),
    label: formatNumber(v, 3)
  }));
  return { dots, line, yTicks, xMax };
}

/** Every trial's score against time (dots) and the best so far (a red step line). */
export function bestSoFarChart(
  history: IHistoryPoint[],
  width = 420,
  height = 190
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
  const g = chartGeometry(history, w, h);
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

/** Layers of a DAG by longest path from a source (cycles are broken by input order). */
export function layers(diagram: IDiagram): string[][] {
  const depth = new Map<string, number>(diagram.nodes.map(n => [n.id, 0]));
  for (let pass = 0; pass < diagram.nodes.length; pass++) {
    let changed = false;
    for (const e of diagram.edges) {
      const d = (depth.get(e.source) ?? 0) + 1;
      if (d > (depth.get(e.target) ?? 0) && d < diagram.nodes.length) {
        depth.set(e.target, d);
        changed = true;
      }
    }
    if (!changed) {
      break;
    }
  }
  const out: string[][] = [];
  for (const n of diagram.nodes) {
    const d = depth.get(n.id) ?? 0;
    (out[d] = out[d] ?? []).push(n.id);
  }
  return out.filter(layer => layer && layer.length);
}

/** The architecture as boxes in layers, left to right, with labelled edges. */
export function architectureDiagram(diagram: IDiagram): SVGSVGElement {
  const boxW = 110;
  const boxH = 28;
  const gapX = 70;
  const gapY = 22;
  const ls = layers(diagram);
  const rows = Math.max(...ls.map(l => l.length));
  const width = ls.length * boxW + (ls.length - 1) * gapX + 20;
  const height = rows * boxH + (rows - 1) * gapY + 20;
  const pos = new Map<string, { x: number; y: number }>();
  ls.forEach((layer, i) => {
    const offset = ((rows - layer.length) * (boxH + gapY)) / 2;
    layer.forEach((id, j) =>
      pos.set(id, {
        x: 10 + i * (boxW + gapX),
        y: 10 + offset + j * (boxH + gapY)
      })
    );
  });
  const svg = el('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    class: 'jp-AutoML-diagram'
  });
  svg.setAttribute('aria-label', 'architecture of the best trial');
  for (const e of diagram.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) {
      continue;
    }
    const x1 = a.x + boxW;
    const y1 = a.y + boxH / 2;
    const x2 = b.x;
    const y2 = b.y + boxH / 2;
    const mid = (x1 + x2) / 2;
    svg.appendChild(
      el('path', {
        d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
        class: 'jp-AutoML-diagram-edge'
      })
    );
    if (e.op) {
      svg.appendChild(
        el(
          'text',
          {
            x: mid,
            y: (y1 + y2) / 2 - 3,
            'text-anchor': 'middle',
            class: 'jp-AutoML-diagram-op'
          },
          e.op
        )
      );
    }
  }
  for (const n of diagram.nodes) {
    const p = pos.get(n.id);
    if (!p) {
      continue;
    }
    svg.appendChild(
      el('rect', {
        x: p.x,
        y: p.y,
        width: boxW,
        height: boxH,
        rx: 5,
        class: 'jp-AutoML-diagram-node'
      })
    );
    svg.appendChild(
      el(
        'text',
        { x: p.x + boxW / 2, y: p.y + boxH / 2 + 4, 'text-anchor': 'middle' },
        n.label
      )
    );
  }
  return svg;
}
