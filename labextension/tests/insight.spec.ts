import {
  finalNetworkScore,
  holdoutLine,
  legendCorner,
  ticks
} from '../src/insight';

describe('insight helpers', () => {
  it('puts round ticks inside the range', () => {
    expect(ticks(0, 1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ticks(0.989, 0.996, 3)).toEqual([0.99, 0.9925, 0.995]);
    expect(ticks(2, 2)).toEqual([2]);
  });

  it('writes the held-out line as the Python side does', () => {
    const insight = {
      holdout: {
        metric: 'roc_auc',
        score: 0.97316,
        n_rows: 114,
        cv_score: 0.99592
      }
    };
    expect(holdoutLine(insight)).toBe(
      'held-out roc_auc 0.9732 on 114 rows (CV 0.9959)'
    );
    expect(
      holdoutLine({ holdout: null, holdout_skipped: 'only 30 rows' })
    ).toBe('no held-out score (only 30 rows)');
    expect(holdoutLine(null)).toBe('');
  });

  it("names a NAS final network and its trial's validation score", () => {
    const insight = {
      holdout: {
        metric: 'accuracy',
        score: 0.9,
        n_rows: 120,
        cv_score: 0.3125,
        cv_kind: 'validation',
        model: 'final network',
        trial: 7
      }
    };
    expect(holdoutLine(insight)).toBe(
      "held-out accuracy 0.9 on 120 rows (final network; trial 7's validation 0.3125)"
    );
    expect(finalNetworkScore(insight)).toBe(0.9);
    expect(
      finalNetworkScore({ holdout: { model: 'best trial', score: 0.9 } })
    ).toBeNull();
    expect(finalNetworkScore(null)).toBeNull();
  });
});

describe('legendCorner', () => {
  it('picks the corner the curves leave empty', () => {
    // a ROC-like curve: up the left side, along the top
    const pts: [number, number][] = [];
    for (let t = 0; t <= 100; t++) {
      pts.push([0, 100 - t], [t, 0]);
    }
    const [x, y] = legendCorner(pts, [0, 0, 100, 100], [30, 20]);
    expect(x).toBeGreaterThan(50);
    expect(y).toBeGreaterThan(50);
  });
});
