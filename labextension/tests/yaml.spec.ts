import { parseBody, scalar } from '../src/yaml';

describe('parseBody', () => {
  it('ignores cells without the magic', () => {
    expect(parseBody('x = 1\n').isAutoML).toBe(false);
    expect(parseBody('%%automlx\n').isAutoML).toBe(false);
    expect(parseBody('%%automl\n').isAutoML).toBe(true);
  });

  it('reads entries with their positions', () => {
    const text =
      '%%automl --name x\ndata: sklearn:iris  # bundled\nn_trials: 5\nmodels:\n  - linear\n  - knn\n';
    const body = parseBody(text);
    expect(body.entries.map(e => [e.key, e.value, e.line])).toEqual([
      ['data', 'sklearn:iris', 1],
      ['n_trials', 5, 2],
      ['models', ['linear', 'knn'], 3]
    ]);
    const data = body.entries[0];
    expect(text.slice(data.valueFrom, data.valueTo)).toBe('sklearn:iris');
    expect(body.problems).toEqual([]);
  });

  it('tokenizes for highlighting', () => {
    const text = '%%automl\nseed: 3\nensemble: true\nname: "a b"\n# note\n';
    const kinds = parseBody(text).tokens.map(t => [
      t.kind,
      text.slice(t.from, t.to)
    ]);
    expect(kinds).toEqual([
      ['magic', '%%automl'],
      ['key', 'seed'],
      ['punct', ':'],
      ['number', '3'],
      ['key', 'ensemble'],
      ['punct', ':'],
      ['atom', 'true'],
      ['key', 'name'],
      ['punct', ':'],
      ['string', '"a b"'],
      ['comment', '# note']
    ]);
  });

  it('reads scalars as PyYAML does', () => {
    expect(scalar('5')).toBe(5);
    expect(scalar('1.5e-3')).toBe(0.0015);
    expect(scalar('yes')).toBe(true);
    expect(scalar('~')).toBeNull();
    expect(scalar("'5'")).toBe('5');
    expect(scalar('90s')).toBe('90s');
  });

  it('reads flow mappings and nested blocks', () => {
    const body = parseBody(
      '%%automl\nstrategy_options: {population_size: 20, sample_size: 5}\nx:\n  a: 1\n'
    );
    expect(body.entries.map(e => e.value)).toEqual([
      { population_size: 20, sample_size: 5 },
      { a: 1 }
    ]);
  });
});
