import { IJSONObject, ordered, paramsText, parsePayload } from '../src/payload';
import FIXTURE from './payload-1.3.json';

/** A real payload 1.3 as a saved notebook holds it: keys sorted (see tests/core/test_payload_order.py). */
interface ISaved {
  leaderboard: { rows: IJSONObject[] };
  best: { param_order: string[] };
  score_order: string[];
  study: { metric: string };
}
const SAVED = FIXTURE as unknown as ISaved;

function rawRows(): IJSONObject[] {
  return SAVED.leaderboard.rows as IJSONObject[];
}

describe('order is data', () => {
  it('the saved fixture has sorted keys, so order must come from the lists', () => {
    const row = rawRows()[0];
    const keys = Object.keys(row.params as IJSONObject);
    expect(keys).toEqual([...keys].sort());
    expect(row.param_order).not.toEqual(keys);
  });

  it('parsed rows and the best trial keep the search order of their parameters', () => {
    const outcome = parsePayload(SAVED);
    expect(outcome.kind).toBe('ok');
    if (outcome.kind !== 'ok') {
      return;
    }
    const byTrial = new Map(rawRows().map(r => [r.trial, r]));
    for (const row of outcome.payload.rows) {
      const order = byTrial.get(row.trial)?.param_order as string[];
      expect(Object.keys(row.params)).toEqual(order);
      const shown = paramsText(row.params, 1000).split(', ');
      expect(shown.map(kv => kv.split('=')[0])).toEqual(order);
    }
    expect(Object.keys(outcome.payload.best?.params ?? {})).toEqual(
      SAVED.best.param_order
    );
  });

  it('held-out scores follow score_order, the search metric first', () => {
    const outcome = parsePayload(SAVED);
    if (outcome.kind !== 'ok') {
      throw new Error('unparsed');
    }
    const insight = outcome.payload.insight as IJSONObject;
    const scores = (insight.holdout as IJSONObject).scores as IJSONObject;
    expect(Object.keys(scores)).toEqual(SAVED.score_order);
    expect(SAVED.score_order[0]).toBe(SAVED.study.metric);
  });

  it('a 1.1 payload without lists keeps its stored order', () => {
    const old = JSON.parse(JSON.stringify(SAVED));
    old.version = '1.1';
    for (const row of old.leaderboard.rows) {
      delete row.param_order;
    }
    const outcome = parsePayload(old);
    if (outcome.kind !== 'ok') {
      throw new Error('unparsed');
    }
    const keys = Object.keys(outcome.payload.rows[0].params);
    expect(keys).toEqual([...keys].sort());
  });

  it('ordered puts listed keys first and keeps the rest', () => {
    expect(
      Object.keys(ordered({ z: 1, a: 2, m: 3 }, ['m', 'z', 'x', 'm']))
    ).toEqual(['m', 'z', 'a']);
    expect(Object.keys(ordered({ b: 1, a: 2 }, undefined))).toEqual(['b', 'a']);
  });
});
