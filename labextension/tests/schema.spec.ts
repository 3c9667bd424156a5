import {
  completions,
  diagnose,
  enumValues,
  optionsFromSchema
} from '../src/schema';
import { parseBody } from '../src/yaml';

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

function problems(body: string): string[] {
  return diagnose(parseBody(body), OPTIONS).map(d => d.message);
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

describe('diagnostics', () => {
  it('flags a misspelt option with a suggestion, at the key', () => {
    const body = '%%automl\ndata: sklearn:iris\nstratgy: tpe\n';
    const diags = diagnose(parseBody(body), OPTIONS);
    expect(diags).toHaveLength(1);
    expect(diags[0].message).toBe(
      "unknown option 'stratgy' (did you mean 'strategy'?)"
    );
    expect(body.slice(diags[0].from, diags[0].to)).toBe('stratgy');
  });

  it('flags wrong types and values, at the value', () => {
    const body =
      '%%automl\nn_trials: many\ncv: 1\nstrategy: tpee\nmodels: [linear, knnn]\nensemble: maybe\n';
    const diags = diagnose(parseBody(body), OPTIONS);
    expect(diags.map(d => body.slice(d.from, d.to))).toEqual([
      'many',
      '1',
      'tpee',
      '[linear, knnn]',
      'maybe'
    ]);
    expect(diags[0].message).toBe(
      "option 'n_trials': expected an integer ≥ 1 or null, got 'many'"
    );
    expect(diags[1].message).toBe(
      "option 'cv': expected an integer from 2 to 20, got 1"
    );
    expect(diags[2].message).toContain("did you mean 'tpe'?");
    expect(diags[3].message).toContain("'knnn' is not one of linear");
    expect(diags[4].message).toBe(
      "option 'ensemble': expected true or false, got 'maybe'"
    );
  });

  it('accepts what the Python side accepts', () => {
    const body = [
      '%%automl',
      'data: sklearn:breast_cancer   # a bundled data set',
      'target: 3',
      'time_budget: 1h30m',
      'n_trials: 20',
      'models:',
      '  - linear',
      '  - knn',
      'strategy_options: {population_size: 20}',
      'display: auto',
      'lr: [0.1, 0.01]',
      'storage: null',
      ''
    ].join('\n');
    expect(problems(body)).toEqual([]);
    expect(problems('%%automl\ntime_budget: 90\n')).toEqual([]);
    expect(problems('%%automl\ntime_budget: soon\n')).toEqual([
      "option 'time_budget': expected a number or null or a duration like '90s', '5m' or '1h30m', got 'soon'"
    ]);
  });

  it('warns about repeated options and reports syntax problems', () => {
    expect(problems('%%automl\nseed: 1\nseed: 2\n')).toEqual([
      "option 'seed' is given twice; the last one wins"
    ]);
    expect(problems('%%automl\nstrategy tpe\n')).toEqual([
      "expected 'option: value' (a colon and a space after the option name)"
    ]);
    expect(problems('%%automl\nmodels: [linear\n')[0]).toBe(
      "unclosed '[': add ']'"
    );
  });

  it('checks syntax only when there is no schema', () => {
    expect(diagnose(parseBody('%%automl\nstratgy: tpe\n'), [])).toEqual([]);
  });
});
