import { parseBody } from '../src/yaml';

function kinds(text: string): [string, string][] {
  return parseBody(text).tokens.map(t => [t.kind, text.slice(t.from, t.to)]);
}

describe('parseBody (the yaml package)', () => {
  it('ignores cells without the magic', () => {
    expect(parseBody('x = 1\n').isAutoML).toBe(false);
    expect(parseBody('%%automlx\n').isAutoML).toBe(false);
    expect(parseBody('%%automl\n').isAutoML).toBe(true);
    expect(parseBody('%%automl res --background\ndata: x\n').bodyFrom).toBe(26);
  });

  it('tokenizes for highlighting, with ranges in the cell', () => {
    const text =
      '%%automl\nseed: 3\nensemble: true\nname: "a b"  # note\nmodels: [linear, knn]\nstorage: null\n';
    expect(kinds(text)).toEqual([
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
      ['comment', '# note'],
      ['key', 'models'],
      ['punct', ':'],
      ['string', 'linear'],
      ['string', 'knn'],
      ['key', 'storage'],
      ['punct', ':'],
      ['atom', 'null']
    ]);
  });

  it('reads nested blocks and flow mappings', () => {
    const text =
      '%%automl\nstrategy_options: {population_size: 20}\nspace_options:\n  cells: 3\n';
    expect(kinds(text).filter(k => k[0] === 'key')).toEqual([
      ['key', 'strategy_options'],
      ['key', 'population_size'],
      ['key', 'space_options'],
      ['key', 'cells']
    ]);
    expect(parseBody(text).problems).toEqual([]);
  });

  it('reports syntax errors and keys given twice at their place', () => {
    const text = '%%automl\nmodels: [linear\ncv: 3\ncv: 4\n';
    const problems = parseBody(text).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.from).toBeGreaterThanOrEqual(9);
      expect(p.message).not.toContain('\n');
    }
    const twice = parseBody('%%automl\ncv: 3\ncv: 4\n').problems;
    expect(twice).toHaveLength(1);
    expect(twice[0].message).toMatch(/unique/);
  });
});
