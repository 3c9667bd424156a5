import { completions, enumValues, optionsFromSchema } from '../src/schema';

// The schema the server extension serves (tests/test_labextension.py keeps it in step).
import SCHEMA from './schema.json';

const OPTIONS = optionsFromSchema(SCHEMA);

function at(textWithCursor: string) {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.replace('|', '');
  return completions(text, offset, OPTIONS);
}

function labels(textWithCursor: string): string[] {
  return (at(textWithCursor)?.items ?? []).map(i => i.label);
}

describe('schema', () => {
  it('lists every option', () => {
    const names = OPTIONS.map(o => o.name);
    expect(names).toContain('strategy');
    expect(names).toContain('time_budget');
    expect(enumValues(OPTIONS.find(o => o.name === 'models')?.node)).toContain(
      'random_forest'
    );
    expect(enumValues(OPTIONS.find(o => o.name === 'ensemble')?.node)).toEqual([
      'true',
      'false'
    ]);
  });
});

describe('completion', () => {
  it('completes option names at the start of a line', () => {
    expect(labels('%%automl\nstr|')).toEqual(['strategy', 'strategy_options']);
    const reply = at('%%automl\ndata: x\nst|');
    expect(reply?.start).toBe('%%automl\ndata: x\n'.length);
    expect(reply?.items[0].insertText).toBe('strategy: ');
    expect(reply?.items[0].documentation).toContain('default: "auto"');
  });

  it('leaves out the options already given', () => {
    expect(labels('%%automl\nstrategy: tpe\nstr|')).toEqual([
      'strategy_options'
    ]);
  });

  it('completes enumerated values after the colon', () => {
    expect(labels('%%automl\nstrategy: |')).toEqual([
      'auto',
      'rules',
      'random',
      'tpe',
      'gp',
      'evolution',
      'darts'
    ]);
    expect(labels('%%automl\nstrategy: r|')).toEqual(['rules', 'random']);
    expect(labels('%%automl\nspace: nas-c|')).toEqual([
      'nas-cell',
      'nas-chain'
    ]);
    expect(labels('%%automl\nensemble: t|')).toEqual(['true']);
  });

  it('completes list items, flow and block', () => {
    expect(labels('%%automl\nmodels: [linear, ra|')).toEqual(['random_forest']);
    expect(labels('%%automl\nmodels:\n  - ext|')).toEqual(['extra_trees']);
  });

  it('offers nothing outside a %%automl cell, on the magic line or in a comment', () => {
    expect(at('import numpy\nstr|')).toBeNull();
    expect(at('%%automl str|')).toBeNull();
    expect(at('%%automl\n# str|')).toBeNull();
    expect(labels('%%automl\ndata: |')).toEqual([]);
  });
});
