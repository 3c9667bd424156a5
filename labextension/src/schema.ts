/**
 * What the options' JSON Schema (`SearchConfig.json_schema()`, served by the server extension)
 * says about a `%%automl` body: completion of option names and enumerated values, and
 * diagnostics for unknown options and wrong types. Pure functions, no editor involved.
 */
import { IParsedBody, YamlValue } from './yaml';

/** The subset of JSON Schema that pydantic writes for our options. */
export interface ISchemaNode {
  type?: string | string[];
  enum?: (string | number | boolean | null)[];
  const?: string | number | boolean | null;
  anyOf?: ISchemaNode[];
  items?: ISchemaNode;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  description?: string;
  title?: string;
  default?: unknown;
  /** Our extension: how to say what this branch expects ("a duration like '90s'"). */
  'x-expected'?: string;
}

export interface IOptionSpec {
  name: string;
  description: string;
  node: ISchemaNode;
  defaultText: string;
}

export interface IDiagnostic {
  from: number;
  to: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface ICompletionItem {
  label: string;
  insertText: string;
  type: 'option' | 'value';
  documentation: string;
}

export interface ICompletionResult {
  start: number;
  end: number;
  items: ICompletionItem[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The options of a schema, in schema order. */
export function optionsFromSchema(schema: unknown): IOptionSpec[] {
  if (!isRecord(schema) || !isRecord(schema.properties)) {
    return [];
  }
  return Object.entries(schema.properties)
    .filter((entry): entry is [string, ISchemaNode] => isRecord(entry[1]))
    .map(([name, node]) => ({
      name,
      node,
      description:
        typeof node.description === 'string'
          ? node.description
          : (node.title ?? ''),
      defaultText:
        node.default === undefined ? '' : JSON.stringify(node.default)
    }));
}

/** Similarity in [0, 1] from the edit distance (close to Python's difflib cut-off of 0.6). */
function similarity(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (!m || !n) {
    return 0;
  }
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      );
    }
    prev = cur;
  }
  return 1 - prev[n] / Math.max(m, n);
}

/** The closest choice to `word` with a similarity of at least 0.6, or `null`. */
export function closest(word: string, choices: string[]): string | null {
  let best: string | null = null;
  let score = 0.6;
  for (const choice of choices) {
    const s = similarity(word.toLowerCase(), choice.toLowerCase());
    if (s >= score) {
      best = choice;
      score = s + 1e-9;
    }
  }
  return best;
}

function didYouMean(word: string, choices: string[]): string {
  const close = closest(word, choices);
  return close ? ` (did you mean '${close}'?)` : '';
}

/** Enumerated values a schema node accepts (booleans included), for completion. */
export function enumValues(node: ISchemaNode | undefined): string[] {
  if (!node) {
    return [];
  }
  const values: string[] = [];
  const add = (v: unknown) => {
    const text = v === null ? 'null' : String(v);
    if (!values.includes(text)) {
      values.push(text);
    }
  };
  (node.enum ?? []).forEach(add);
  if (node.const !== undefined) {
    add(node.const);
  }
  const types = Array.isArray(node.type)
    ? node.type
    : node.type
      ? [node.type]
      : [];
  if (types.includes('boolean')) {
    add(true);
    add(false);
  }
  for (const branch of node.anyOf ?? []) {
    enumValues(branch).forEach(add);
  }
  if (node.items) {
    enumValues(node.items).forEach(add);
  }
  return values;
}

function typeName(type: string, node: ISchemaNode): string {
  const range =
    node.minimum !== undefined && node.maximum !== undefined
      ? ` from ${node.minimum} to ${node.maximum}`
      : node.minimum !== undefined
        ? ` ≥ ${node.minimum}`
        : node.maximum !== undefined
          ? ` ≤ ${node.maximum}`
          : '';
  switch (type) {
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return node.items
        ? `a list of ${describe(node.items).replace(/^an? /, '')}`
        : 'a list';
    case 'object':
      return 'a mapping';
    default:
      return 'a string';
  }
}

/** How to say what `node` expects. */
export function describe(node: ISchemaNode): string {
  if (node['x-expected']) {
    return node['x-expected'];
  }
  if (node.enum) {
    return `one of ${node.enum.map(String).join(', ')}`;
  }
  if (node.const !== undefined) {
    return `'${String(node.const)}'`;
  }
  if (node.anyOf) {
    return node.anyOf.map(describe).join(' or ');
  }
  const types = Array.isArray(node.type)
    ? node.type
    : node.type
      ? [node.type]
      : [];
  return types.length
    ? types.map(t => typeName(t, node)).join(' or ')
    : 'any value';
}

function show(value: YamlValue): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function matchesType(value: YamlValue, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return (
        typeof value === 'object' && value !== null && !Array.isArray(value)
      );
    case 'string':
      return typeof value === 'string';
    default:
      return true;
  }
}

/** `null` when `value` satisfies `node`, else what is wrong (a phrase, without the key). */
export function check(value: YamlValue, node: ISchemaNode): string | null {
  if (node.anyOf) {
    const problems = node.anyOf.map(branch => check(value, branch));
    if (problems.some(p => p === null)) {
      return null;
    }
    // an enum branch of the right type gives the most useful message ("did you mean")
    const enumBranch = node.anyOf.find(
      b => b.enum && typeof value === 'string'
    );
    if (enumBranch) {
      return check(value, enumBranch);
    }
    const listBranch = node.anyOf.find(
      b => matchesType(value, 'array') && b.items
    );
    if (listBranch) {
      return check(value, listBranch);
    }
    return `expected ${describe(node)}, got ${show(value)}`;
  }
  if (node.enum) {
    if (node.enum.some(e => e === value)) {
      return null;
    }
    const choices = node.enum.map(String);
    return `${show(value)} is not ${describe(node)}${didYouMean(String(value), choices)}`;
  }
  if (node.const !== undefined) {
    return value === node.const
      ? null
      : `expected ${describe(node)}, got ${show(value)}`;
  }
  const types = Array.isArray(node.type)
    ? node.type
    : node.type
      ? [node.type]
      : [];
  if (types.length && !types.some(t => matchesType(value, t))) {
    return `expected ${describe(node)}, got ${show(value)}`;
  }
  if (typeof value === 'number') {
    if (
      (node.minimum !== undefined && value < node.minimum) ||
      (node.maximum !== undefined && value > node.maximum)
    ) {
      return `expected ${describe(node)}, got ${show(value)}`;
    }
  }
  if (
    typeof value === 'string' &&
    node.pattern &&
    !new RegExp(node.pattern).test(value)
  ) {
    return `expected ${describe(node)}, got ${show(value)}`;
  }
  if (Array.isArray(value) && node.items) {
    for (const item of value) {
      const problem = check(item, node.items);
      if (problem) {
        return problem;
      }
    }
  }
  return null;
}

/** Unknown options, repeated options, wrong types and syntax problems of a parsed body. */
export function diagnose(
  body: IParsedBody,
  options: IOptionSpec[]
): IDiagnostic[] {
  const out: IDiagnostic[] = body.problems.map(p => ({
    ...p,
    severity: 'error' as const
  }));
  if (!options.length) {
    return out; // no schema (server extension absent): syntax problems only
  }
  const byName = new Map(options.map(o => [o.name, o]));
  const seen = new Set<string>();
  for (const entry of body.entries) {
    const option = byName.get(entry.key);
    if (!option) {
      out.push({
        from: entry.keyFrom,
        to: entry.keyTo,
        severity: 'error',
        message: `unknown option '${entry.key}'${didYouMean(entry.key, [...byName.keys()])}`
      });
      continue;
    }
    if (seen.has(entry.key)) {
      out.push({
        from: entry.keyFrom,
        to: entry.keyTo,
        severity: 'warning',
        message: `option '${entry.key}' is given twice; the last one wins`
      });
    }
    seen.add(entry.key);
    const problem = check(entry.value, option.node);
    if (problem) {
      const empty = entry.valueTo <= entry.valueFrom;
      out.push({
        from: empty ? entry.keyFrom : entry.valueFrom,
        to: empty ? entry.keyTo : entry.valueTo,
        severity: 'error',
        message: `option '${entry.key}': ${problem}`
      });
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

function lineAt(
  text: string,
  offset: number
): { start: number; before: string; index: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const index = text.slice(0, start).split('\n').length - 1;
  return { start, before: text.slice(start, offset), index };
}

/** The option whose block the (indented) line at `lineStart` belongs to. */
function parentKey(text: string, lineStart: number): string | null {
  const lines = text.slice(0, lineStart).split('\n');
  for (let i = lines.length - 1; i >= 1; i--) {
    const m = /^([A-Za-z_][\w-]*)\s*:/.exec(lines[i]);
    if (m) {
      return m[1];
    }
    if (lines[i].trim() && !/^\s/.test(lines[i])) {
      return null;
    }
  }
  return null;
}

function filterByPrefix<T extends { label: string }>(
  items: T[],
  prefix: string
): T[] {
  const p = prefix.toLowerCase();
  return items.filter(
    i => i.label.toLowerCase().startsWith(p) && i.label !== prefix
  );
}

/**
 * Completions at `offset` of a `%%automl` cell: option names at the start of a line, the
 * enumerated values after `option:` (or in its list). `null` outside a `%%automl` body.
 */
export function completions(
  text: string,
  offset: number,
  options: IOptionSpec[]
): ICompletionResult | null {
  if (!/^%%automl\b/.test(text) || !options.length) {
    return null;
  }
  const line = lineAt(text, offset);
  if (line.index === 0 || line.before.includes('#')) {
    return null;
  }
  const byName = new Map(options.map(o => [o.name, o]));
  const keyMatch = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line.before);
  if (!/^\s/.test(line.before) && !keyMatch) {
    // an option name being typed at the start of a line
    const prefix = line.before;
    if (!/^[A-Za-z_]*$/.test(prefix)) {
      return null;
    }
    const used = new Set(
      text
        .split('\n')
        .slice(1)
        .map(l => /^([A-Za-z_][\w-]*)\s*:/.exec(l)?.[1])
        .filter((k): k is string => !!k)
    );
    const items = options
      .filter(o => !used.has(o.name))
      .map(o => ({
        label: o.name,
        insertText: `${o.name}: `,
        type: 'option' as const,
        documentation: [
          o.description,
          o.defaultText ? `default: ${o.defaultText}` : ''
        ]
          .filter(Boolean)
          .join('\n')
      }));
    return {
      start: offset - prefix.length,
      end: offset,
      items: filterByPrefix(items, prefix)
    };
  }
  let key: string | null;
  let valueText: string;
  if (keyMatch) {
    key = keyMatch[1];
    valueText = keyMatch[2];
  } else {
    const item =
      /^\s+-\s*(.*)$/.exec(line.before) ?? /^\s+(.*)$/.exec(line.before);
    key = parentKey(text, line.start);
    valueText = item ? item[1] : '';
  }
  const option = key ? byName.get(key) : undefined;
  if (!option) {
    return null;
  }
  // inside a flow list only the current element counts
  const prefix = /[^\s,[\]{}]*$/.exec(valueText)?.[0] ?? '';
  const values = enumValues(option.node).map(v => ({
    label: v,
    insertText: v,
    type: 'value' as const,
    documentation: option.description
  }));
  return {
    start: offset - prefix.length,
    end: offset,
    items: filterByPrefix(values, prefix)
  };
}
