/**
 * What the options' JSON Schema (`SearchConfig.json_schema()`, served by the server extension)
 * offers in a `%%automl` body: completion of option names and enumerated values. Pure
 * functions, no editor involved. Diagnostics are not judged here: they are the kernel's own
 * (see `validate.ts`).
 */

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
