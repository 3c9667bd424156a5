import { chartGeometry } from '../src/svg';

describe('best-so-far chart geometry', () => {
  it('draws a step line that never goes down for a maximized score', () => {
    const g = chartGeometry(
      [
        { trial: 0, elapsedS: 1, score: 0.8, best: 0.8, state: 'COMPLETE' },
        { trial: 1, elapsedS: 2, score: null, best: 0.8, state: 'FAIL' },
        { trial: 2, elapsedS: 3, score: 0.7, best: 0.8, state: 'COMPLETE' },
        { trial: 3, elapsedS: 4, score: 0.9, best: 0.9, state: 'COMPLETE' }
      ],
      400,
      100
    );
    expect(g.dots.map(d => d.trial)).toEqual([0, 2, 3]);
    expect(g.xMax).toBe(4);
    expect(g.line[g.line.length - 1].x).toBe(400);
    // screen y grows downwards: a better best is never lower on screen
    const ys = g.line.map(p => p.y);
    ys.slice(1).forEach((y, i) => expect(y).toBeLessThanOrEqual(ys[i] + 1e-9));
    expect(g.yTicks.map(t => t.label)).toEqual(['0.700', '0.800', '0.900']);
  });

  it('is empty without a scored trial', () => {
    expect(
      chartGeometry(
        [{ trial: 0, elapsedS: 1, score: null, best: null, state: 'FAIL' }],
        10,
        10
      ).dots
    ).toEqual([]);
  });
});
