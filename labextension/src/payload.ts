/**
 * Reading the result payload defensively: unknown fields are ignored, missing ones get
 * defaults, and a payload of an unknown major version is refused (the caller then shows the
 * HTML fallback).
 */
import { SUPPORTED_MAJOR } from './tokens';

export type JSONScalar = string | number | boolean | null;
export type JSONValue = JSONScalar | IJSONObject | JSONValue[];
export interface IJSONObject {
  [key: string]: JSONValue | undefined;
}

export interface IStudyInfo {
  name: string;
  storage: string | null;
  space: string | null;
  strategy: string | null;
  task: string | null;
  metric: string | null;
  direction: string;
  nTrials: number;
  nComplete: number;
  nPruned: number;
  nFailed: number;
  /** Payload 1.2: trials cut short by Stop or an interrupt (not failures). */
  nStopped: number;
  nRunning: number;
  state: string;
  stopReason: string | null;
  started: string | null;
  updated: string | null;
}

export interface IBest {
  trial: number | null;
  score: number | null;
  scoreStd: number | null;
  model: string | null;
  /** A compact reading of a NAS genotype (1.3); the renderer shows it, `model` on hover. */
  label: string | null;
  params: IJSONObject;
}

export interface ILeaderboardRow {
  rank: number | null;
  trial: number;
  model: string;
  /** A compact reading of a NAS genotype (1.3), or `null`: then `model` is shown. */
  label: string | null;
  /** One number, or one per objective for multi-objective studies. */
  score: number | (number | null)[] | null;
  scoreStd: number | null;
  durationS: number | null;
  state: string;
  params: IJSONObject;
  error: string | null;
  pareto: boolean;
}

export interface IHistoryPoint {
  trial: number;
  elapsedS: number | null;
  score: number | null;
  best: number | null;
  state: string;
}

export interface IDiagram {
  nodes: { id: string; label: string }[];
  edges: { source: string; target: string; op: string }[];
}

/** The diagram placed once by Python (`diagram_layout`): pixels, y downwards. */
export interface IDiagramLayout {
  width: number;
  height: number;
  nodes: {
    id: string;
    label: string;
    x: number;
    y: number;
    w: number;
    h: number;
  }[];
  edges: {
    source: string;
    target: string;
    op: string;
    color: string;
    /** Start, control and end point of a quadratic Bézier curve. */
    path: [number, number][];
    label: { x: number; y: number; w: number; h: number };
  }[];
  legend: { op: string; color: string; x: number; y: number }[];
}

export interface IResultPayload {
  version: string;
  study: IStudyInfo;
  best: IBest | null;
  rows: ILeaderboardRow[];
  totalRows: number;
  history: IHistoryPoint[];
  config: IJSONObject;
  configText: string;
  diagram: IDiagram | null;
  diagramLayout: IDiagramLayout | null;
  /** The genotype of the best trial (NAS), shown in full above its diagram. */
  genotype: string | null;
  /** Payload 1.1: held-out score and charts (drawn by `insight.ts`); `null` in 1.0. */
  insight: unknown;
  /** The kept ensemble (the final model; its score is `result.best_score`), or `null`. */
  ensemble: { score: number | null; members: number } | null;
  /** Payload 1.2: the values the metric can take (`[0, 1]` for accuracy); `null`: unbounded. */
  scoreBounds: [number | null, number | null];
}

export type ParseOutcome =
  | { kind: 'ok'; payload: IResultPayload }
  | { kind: 'unsupported'; version: string; message: string }
  | { kind: 'invalid'; message: string };

function isObject(value: unknown): value is IJSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: unknown): IJSONObject {
  return isObject(value) ? value : {};
}

function str(value: unknown): string | null {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function int(value: unknown, fallback = 0): number {
  const n = num(value);
  return n === null ? fallback : Math.round(n);
}

/** The major part of a `"1.2"` version string, or `null` when it is not one. */
export function majorVersion(version: unknown): number | null {
  const text = str(version);
  if (text === null) {
    return null;
  }
  const match = /^\s*(\d+)(\.\d+)*\s*$/.exec(text);
  return match ? Number(match[1]) : null;
}

function parseStudy(raw: IJSONObject): IStudyInfo {
  return {
    name: str(raw.name) ?? '(unnamed study)',
    storage: str(raw.storage),
    space: str(raw.space),
    strategy: str(raw.strategy),
    task: str(raw.task),
    metric: str(raw.metric),
    direction: str(raw.direction) ?? 'maximize',
    nTrials: int(raw.n_trials),
    nComplete: int(raw.n_complete),
    nPruned: int(raw.n_pruned),
    nFailed: int(raw.n_failed),
    nStopped: int(raw.n_stopped),
    nRunning: int(raw.n_running),
    state: str(raw.state) ?? 'unknown',
    stopReason: str(raw.stop_reason),
    started: str(raw.started),
    updated: str(raw.updated)
  };
}

function parseScore(value: unknown): number | (number | null)[] | null {
  if (Array.isArray(value)) {
    return value.map(num);
  }
  return num(value);
}

function parseRow(value: unknown): ILeaderboardRow | null {
  if (!isObject(value)) {
    return null;
  }
  const trial = num(value.trial);
  if (trial === null) {
    return null;
  }
  return {
    rank: num(value.rank),
    trial,
    model: str(value.model) ?? '',
    label: str(value.label),
    score: parseScore(value.score),
    scoreStd: num(value.score_std),
    durationS: num(value.duration_s),
    state: str(value.state) ?? 'UNKNOWN',
    params: ordered(obj(value.params), value.param_order),
    error: str(value.error),
    pareto: value.pareto === true
  };
}

function parseHistory(value: unknown): IHistoryPoint[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const points: IHistoryPoint[] = [];
  for (const item of value) {
    if (isObject(item) && num(item.trial) !== null) {
      points.push({
        trial: int(item.trial),
        elapsedS: num(item.elapsed_s),
        score: num(item.score),
        best: num(item.best),
        state: str(item.state) ?? 'UNKNOWN'
      });
    }
  }
  return points;
}

/** The diagram, or `null` when it is absent or not a node/edge list. */
export function parseDiagram(value: unknown): IDiagram | null {
  if (!isObject(value) || !Array.isArray(value.nodes)) {
    return null;
  }
  const nodes: IDiagram['nodes'] = [];
  for (const n of value.nodes) {
    if (isObject(n) && str(n.id) !== null) {
      nodes.push({
        id: str(n.id) as string,
        label: str(n.label) ?? (str(n.id) as string)
      });
    }
  }
  const ids = new Set(nodes.map(n => n.id));
  const edges: IDiagram['edges'] = [];
  for (const e of Array.isArray(value.edges) ? value.edges : []) {
    if (isObject(e)) {
      const source = str(e.source);
      const target = str(e.target);
      if (
        source !== null &&
        target !== null &&
        ids.has(source) &&
        ids.has(target)
      ) {
        edges.push({ source, target, op: str(e.op) ?? '' });
      }
    }
  }
  return nodes.length ? { nodes, edges } : null;
}

function point(value: unknown): [number, number] | null {
  if (Array.isArray(value) && value.length === 2) {
    const x = num(value[0]);
    const y = num(value[1]);
    return x === null || y === null ? null : [x, y];
  }
  return null;
}

const COLOR = /^#[0-9a-fA-F]{3,8}$/;

/** The layout, or `null` when it is absent or malformed (nothing in it becomes markup). */
export function parseLayout(value: unknown): IDiagramLayout | null {
  if (
    !isObject(value) ||
    !Array.isArray(value.nodes) ||
    !Array.isArray(value.edges)
  ) {
    return null;
  }
  const nodes: IDiagramLayout['nodes'] = [];
  for (const n of value.nodes) {
    const o = obj(n);
    const [x, y, w, h] = [num(o.x), num(o.y), num(o.w), num(o.h)];
    if (
      str(o.id) === null ||
      x === null ||
      y === null ||
      w === null ||
      h === null
    ) {
      return null;
    }
    nodes.push({
      id: str(o.id) as string,
      label: str(o.label) ?? '',
      x,
      y,
      w,
      h
    });
  }
  const edges: IDiagramLayout['edges'] = [];
  for (const e of value.edges) {
    const o = obj(e);
    const path = Array.isArray(o.path) ? o.path.map(point) : [];
    const label = obj(o.label);
    const [lx, ly, lw, lh] = [
      num(label.x),
      num(label.y),
      num(label.w),
      num(label.h)
    ];
    if (
      path.length !== 3 ||
      path.some(p => p === null) ||
      lx === null ||
      ly === null
    ) {
      return null;
    }
    const color = str(o.color) ?? '';
    edges.push({
      source: str(o.source) ?? '',
      target: str(o.target) ?? '',
      op: str(o.op) ?? '',
      color: COLOR.test(color) ? color : '#888888',
      path: path as [number, number][],
      label: { x: lx, y: ly, w: lw ?? 0, h: lh ?? 0 }
    });
  }
  const legend: IDiagramLayout['legend'] = [];
  for (const item of Array.isArray(value.legend) ? value.legend : []) {
    const o = obj(item);
    const color = str(o.color) ?? '';
    const [x, y] = [num(o.x), num(o.y)];
    if (x !== null && y !== null) {
      legend.push({
        op: str(o.op) ?? '',
        color: COLOR.test(color) ? color : '#888888',
        x,
        y
      });
    }
  }
  const width = num(value.width);
  const height = num(value.height);
  if (width === null || height === null) {
    return null;
  }
  return { width, height, nodes, edges, legend };
}

/**
 * Parse a result payload. Any `1.x` version is read (fields added by newer minor versions are
 * ignored); another major version gives `unsupported`.
 */
export function parsePayload(data: unknown): ParseOutcome {
  if (!isObject(data)) {
    return { kind: 'invalid', message: 'the result is not a JSON object' };
  }
  const major = majorVersion(data.version);
  if (major === null) {
    return {
      kind: 'invalid',
      message: `unreadable payload version ${JSON.stringify(data.version)}`
    };
  }
  if (major !== SUPPORTED_MAJOR) {
    const version = str(data.version) as string;
    return {
      kind: 'unsupported',
      version,
      message:
        `This result was written in format ${version}; this extension reads ${SUPPORTED_MAJOR}.x. ` +
        'Showing the static view: update jupyter-automl to get the interactive one.'
    };
  }
  if (!isObject(data.study)) {
    return { kind: 'invalid', message: "the payload has no 'study'" };
  }
  const leaderboard = obj(data.leaderboard);
  const rawRows = Array.isArray(leaderboard.rows) ? leaderboard.rows : [];
  const rows = rawRows
    .map(parseRow)
    .filter((r): r is ILeaderboardRow => r !== null);
  const best = isObject(data.best)
    ? {
        trial: num(data.best.trial),
        score: num(data.best.score),
        scoreStd: num(data.best.score_std),
        model: str(data.best.model),
        label: str(data.best.label),
        params: ordered(obj(data.best.params), data.best.param_order)
      }
    : null;
  return {
    kind: 'ok',
    payload: {
      version: str(data.version) as string,
      study: parseStudy(data.study),
      best,
      rows,
      totalRows: Math.max(
        int(leaderboard.total_rows, rows.length),
        rows.length
      ),
      history: parseHistory(data.history),
      config: obj(data.config),
      configText: str(data.config_text) ?? '',
      diagram: parseDiagram(data.diagram),
      diagramLayout: parseLayout(data.diagram_layout),
      genotype: isObject(data.best) ? str(data.best.genotype) : null,
      insight: isObject(data.insight)
        ? withScoreOrder(data.insight, data.score_order)
        : null,
      ensemble: isObject(data.ensemble)
        ? {
            score: num(data.ensemble.score),
            members: Object.keys(obj(data.ensemble.members)).length
          }
        : null,
      scoreBounds: Array.isArray(data.score_bounds)
        ? [num(data.score_bounds[0]), num(data.score_bounds[1])]
        : [null, null]
    }
  };
}

/**
 * `mapping` with its keys in `order` (a payload's `param_order` or `score_order`), then any other
 * key as stored. A saved notebook writes JSON objects with sorted keys: the order lists beside
 * them (payload 1.2) keep the search's order. Without a list (1.0, 1.1) the stored order stays.
 * (Parameter and metric names are never integer-like, which JavaScript objects would sort first.)
 */
export function ordered(mapping: IJSONObject, order: unknown): IJSONObject {
  const out: IJSONObject = {};
  if (Array.isArray(order)) {
    for (const key of order) {
      if (typeof key === 'string' && key in mapping && !(key in out)) {
        out[key] = mapping[key];
      }
    }
  }
  for (const [key, value] of Object.entries(mapping)) {
    if (!(key in out)) {
      out[key] = value;
    }
  }
  return out;
}

/** `insight` with its held-out `scores` in `scoreOrder` (the search's metric first). */
function withScoreOrder(
  insight: IJSONObject,
  scoreOrder: unknown
): IJSONObject {
  const holdout = obj(insight.holdout);
  if (!isObject(holdout.scores)) {
    return insight;
  }
  return {
    ...insight,
    holdout: { ...holdout, scores: ordered(holdout.scores, scoreOrder) }
  };
}

/** Any number, compactly (integers as integers); times and counts. */
export function formatNumber(
  value: number | null | undefined,
  digits = 4
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '';
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e6) {
    return String(value);
  }
  return formatFixed(value, digits);
}

/** Python's `{:.Ng}`: `0.0123`, `1.235e+04`, `1e-05`. */
export function formatG(value: number, precision: number): string {
  if (value === 0) {
    return '0';
  }
  const exp = Math.floor(Math.log10(Math.abs(value)));
  const trim = (t: string) => (t.includes('.') ? t.replace(/\.?0+$/, '') : t);
  if (exp < -4 || exp >= precision) {
    const [mantissa, e] = value.toExponential(precision - 1).split('e');
    const n = Number(e);
    return `${trim(mantissa)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return trim(value.toPrecision(precision));
}

function formatFixed(value: number, digits: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e4 || (abs < 1e-3 && value !== 0)) {
    return formatG(value, digits);
  }
  return value.toFixed(digits);
}

/** A score, as the Python side's `format_score`: `0.9667`, `1.0000`, `–` when missing. */
export function formatScoreValue(
  value: number | null | undefined,
  digits = 4
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  return formatFixed(value, digits);
}

export function formatScore(score: ILeaderboardRow['score']): string {
  if (Array.isArray(score)) {
    return score.map(s => formatScoreValue(s)).join(', ');
  }
  return formatScoreValue(score);
}

/** A parameter value, as the Python side's `format_param`: `1`, `0.0123`, `rbf`. */
export function formatParam(value: JSONValue | undefined): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < 1e6) {
      return String(value);
    }
    return formatG(value, 3);
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  return value === null ? 'None' : JSON.stringify(value);
}

/** `1 trial`, `3 trials` (the Python side's `plural`). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `4 trials (2 complete, 1 pruned, 1 stopped)`: zero counts left out (the Python side's `counts_text`). */
export function countsText(s: IStudyInfo): string {
  const parts = [`${s.nComplete} complete`];
  const more: [number, string][] = [
    [s.nPruned, 'pruned'],
    [s.nFailed, 'failed'],
    [s.nStopped, 'stopped']
  ];
  for (const [n, label] of more) {
    if (n) {
      parts.push(`${n} ${label}`);
    }
  }
  return `${plural(s.nTrials, 'trial')} (${parts.join(', ')})`;
}

/** `k=v, k=v, …` of a row's key parameters (the Python side's `params_text`). */
export function paramsText(params: IJSONObject, limit = 4): string {
  const items = Object.entries(params).filter(([, v]) => v !== undefined);
  const text = items
    .slice(0, limit)
    .map(([k, v]) => `${k}=${formatParam(v)}`)
    .join(', ');
  return items.length > limit ? `${text}, …` : text;
}

/** `text` cut to `limit` characters with an ellipsis (the full text goes in a tooltip). */
export function shorten(text: string, limit = 40): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

export type SortKey =
  'rank' | 'trial' | 'model' | 'score' | 'scoreStd' | 'durationS' | 'state';

function sortValue(row: ILeaderboardRow, key: SortKey): number | string | null {
  switch (key) {
    case 'score':
      return Array.isArray(row.score) ? (row.score[0] ?? null) : row.score;
    case 'model':
      return row.model;
    case 'state':
      return row.state;
    default:
      return row[key];
  }
}

/** Rows sorted by `key`; missing values always last, ties by trial number. */
export function sortRows(
  rows: ILeaderboardRow[],
  key: SortKey,
  ascending: boolean
): ILeaderboardRow[] {
  const sign = ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || vb === null) {
      return va === vb ? a.trial - b.trial : va === null ? 1 : -1;
    }
    const cmp =
      typeof va === 'number' && typeof vb === 'number'
        ? va - vb
        : String(va).localeCompare(String(vb));
    return cmp !== 0 ? sign * cmp : a.trial - b.trial;
  });
}
