import {
  formatNumber,
  formatParam,
  formatScoreValue,
  majorVersion,
  paramsText,
  parseLayout,
  parsePayload,
  sortRows
} from '../src/payload';

const PAYLOAD = {
  version: '1.0',
  study: {
    name: 'iris-tabular-tpe',
    storage: '.jupyter_automl/studies.db',
    space: 'tabular',
    strategy: 'tpe',
    task: 'multiclass',
    metric: 'accuracy',
    direction: 'maximize',
    n_trials: 3,
    n_complete: 2,
    n_pruned: 0,
    n_failed: 1,
    n_running: 0,
    state: 'finished',
    stop_reason: 'n_trials',
    started: '2026-11-28T18:30:52+00:00',
    updated: '2026-11-28T18:31:04+00:00'
  },
  best: {
    trial: 2,
    score: 0.95,
    score_std: 0.01,
    model: 'extra_trees',
    params: { et_n_estimators: 200 }
  },
  leaderboard: {
    columns: [
      'rank',
      'trial',
      'model',
      'score',
      'score_std',
      'duration_s',
      'state',
      'params',
      'error'
    ],
    rows: [
      {
        rank: 1,
        trial: 2,
        model: 'extra_trees',
        score: 0.95,
        score_std: 0.01,
        duration_s: 5.6,
        state: 'COMPLETE',
        params: { n_estimators: 200 },
        error: null
      },
      {
        rank: 2,
        trial: 0,
        model: 'linear',
        score: 0.9,
        score_std: 0.02,
        duration_s: 1.5,
        state: 'COMPLETE',
        params: { C: 1.5 },
        error: null
      },
      {
        rank: null,
        trial: 1,
        model: 'svm',
        score: null,
        score_std: null,
        duration_s: 0.1,
        state: 'FAIL',
        params: {},
        error: 'boom'
      }
    ],
    total_rows: 3
  },
  history: [
    { trial: 0, elapsed_s: 1.5, score: 0.9, best: 0.9, state: 'COMPLETE' },
    { trial: 1, elapsed_s: 1.7, score: null, best: 0.9, state: 'FAIL' },
    { trial: 2, elapsed_s: 7.3, score: 0.95, best: 0.95, state: 'COMPLETE' }
  ],
  config: { data: 'sklearn:iris', n_trials: 3 },
  config_text: 'data: sklearn:iris\nn_trials: 3\n',
  diagram: null,
  environment: {},
  fingerprint: {}
};

describe('parsePayload', () => {
  it('reads a 1.0 payload', () => {
    const outcome = parsePayload(PAYLOAD);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') {
      return;
    }
    const p = outcome.payload;
    expect(p.study.name).toBe('iris-tabular-tpe');
    expect(p.study.nFailed).toBe(1);
    expect(p.rows.map(r => r.trial)).toEqual([2, 0, 1]);
    expect(p.rows[2].error).toBe('boom');
    expect(p.best?.score).toBe(0.95);
    expect(p.history).toHaveLength(3);
    expect(p.configText).toContain('sklearn:iris');
    expect(p.diagram).toBeNull();
  });

  it('ignores the unknown fields of a newer minor version', () => {
    const newer = {
      ...PAYLOAD,
      version: '1.7',
      hologram: { anything: [1, 2, 3] },
      study: { ...PAYLOAD.study, carbon_g: 12 },
      leaderboard: {
        ...PAYLOAD.leaderboard,
        rows: [
          { ...PAYLOAD.leaderboard.rows[0], energy_j: 4 },
          'not a row',
          { trial: 'x' }
        ]
      }
    };
    const outcome = parsePayload(newer);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind === 'ok') {
      expect(outcome.payload.version).toBe('1.7');
      expect(outcome.payload.rows).toHaveLength(1);
      expect(outcome.payload.totalRows).toBe(3);
    }
  });

  it('refuses another major version with a one-line notice', () => {
    const outcome = parsePayload({ ...PAYLOAD, version: '2.0' });
    expect(outcome.kind).toBe('unsupported');
    if (outcome.kind === 'unsupported') {
      expect(outcome.version).toBe('2.0');
      expect(outcome.message).not.toContain('\n');
      expect(outcome.message).toContain('1.x');
    }
  });

  it('says what is wrong with malformed data', () => {
    expect(parsePayload(null).kind).toBe('invalid');
    expect(parsePayload([1, 2]).kind).toBe('invalid');
    expect(parsePayload({ version: 'one' }).kind).toBe('invalid');
    expect(parsePayload({ version: '1.0' })).toEqual({
      kind: 'invalid',
      message: "the payload has no 'study'"
    });
  });

  it('fills in defaults for missing parts', () => {
    const outcome = parsePayload({ version: '1.0', study: {} });
    expect(outcome.kind).toBe('ok');
    if (outcome.kind === 'ok') {
      expect(outcome.payload.rows).toEqual([]);
      expect(outcome.payload.best).toBeNull();
      expect(outcome.payload.study.state).toBe('unknown');
      expect(outcome.payload.study.direction).toBe('maximize');
    }
  });

  it('keeps a diagram only when it is a node/edge list', () => {
    const diagram = {
      nodes: [
        { id: 'in', label: 'input' },
        { id: 'c1', label: 'conv3x3' }
      ],
      edges: [
        { source: 'in', target: 'c1', op: 'conv' },
        { source: 'in', target: 'ghost', op: 'skip' }
      ]
    };
    const outcome = parsePayload({ ...PAYLOAD, diagram });
    expect(outcome.kind === 'ok' && outcome.payload.diagram?.edges).toEqual([
      { source: 'in', target: 'c1', op: 'conv' }
    ]);
    const bad = parsePayload({ ...PAYLOAD, diagram: 'digraph {}' });
    expect(bad.kind === 'ok' && bad.payload.diagram).toBeNull();
  });
});

describe('helpers', () => {
  it('reads major versions', () => {
    expect(majorVersion('1.0')).toBe(1);
    expect(majorVersion('12')).toBe(12);
    expect(majorVersion('v1')).toBeNull();
    expect(majorVersion(1)).toBe(1);
  });

  it('formats numbers like the Python side', () => {
    expect(formatNumber(0.953333)).toBe('0.9533');
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(0.0001234)).toBe('0.0001234');
    expect(formatNumber(null)).toBe('');
    expect(paramsText({ a: 1.23456, b: 'x', c: 3, d: 4, e: 5 })).toBe(
      'a=1.23, b=x, c=3, d=4, …'
    );
  });

  it('sorts rows with missing values last', () => {
    const outcome = parsePayload(PAYLOAD);
    if (outcome.kind !== 'ok') {
      throw new Error('payload');
    }
    const rows = outcome.payload.rows;
    expect(sortRows(rows, 'score', true).map(r => r.trial)).toEqual([0, 2, 1]);
    expect(sortRows(rows, 'score', false).map(r => r.trial)).toEqual([2, 0, 1]);
    expect(sortRows(rows, 'model', true).map(r => r.model)).toEqual([
      'extra_trees',
      'linear',
      'svm'
    ]);
    expect(sortRows(rows, 'durationS', true).map(r => r.trial)).toEqual([
      1, 0, 2
    ]);
  });
});

describe('one formatter with the Python side', () => {
  it('formats scores as report.format_score does', () => {
    // the values report.format_score gives for the same inputs
    expect(
      [0.96667, 1.0, 12345.6, null, 10000.0, 2.5e-5].map(v =>
        formatScoreValue(v)
      )
    ).toEqual(['0.9667', '1.0000', '1.235e+04', '–', '1e+04', '2.5e-05']);
  });

  it('formats params as report.format_param does', () => {
    expect(
      [0.012345, 1e-5, 123456.7, 1.23456, 2.0, true].map(v => formatParam(v))
    ).toEqual(['0.0123', '1e-05', '1.23e+05', '1.23', '2', 'True']);
  });
});

describe('the diagram layout from Python', () => {
  const LAYOUT = {
    version: 1,
    width: 214.8,
    height: 83.0,
    nodes: [
      { id: '0', label: 'in', x: 32.0, y: 28.0, w: 40.0, h: 26.0 },
      { id: '1', label: 'out', x: 182.8, y: 28.0, w: 40.0, h: 26.0 }
    ],
    edges: [
      {
        source: '0',
        target: '1',
        op: 'nor_conv_3x3',
        color: '#0072B2',
        path: [
          [52.0, 28.0],
          [107.4, 28.0],
          [162.8, 28.0]
        ],
        label: { x: 107.4, y: 18.5, w: 80.8, h: 13.0 }
      }
    ],
    legend: [{ op: 'nor_conv_3x3', color: '#0072B2', x: 12.0, y: 59.0 }]
  };

  it('is read as it is: the renderer draws it, it places nothing', () => {
    const layout = parseLayout(LAYOUT);
    expect(layout?.edges[0].path).toEqual(LAYOUT.edges[0].path);
    expect(layout?.nodes.map(n => n.id)).toEqual(['0', '1']);
  });

  it('refuses a malformed layout and an unsafe colour', () => {
    expect(parseLayout({ ...LAYOUT, edges: [{ path: [[0, 0]] }] })).toBeNull();
    const bad = parseLayout({
      ...LAYOUT,
      edges: [{ ...LAYOUT.edges[0], color: 'red;stroke:url(x)' }]
    });
    expect(bad?.edges[0].color).toBe('#888888');
  });
});
