/**
 * A small reader for the YAML body of a `%%automl` cell: one `option: value` per line, with
 * flow lists (`[a, b]`), block lists and nested mappings under a key, and comments. It keeps
 * every token's position, for highlighting and for diagnostics that point at the right place.
 * It is not a general YAML parser; the kernel's PyYAML stays the judge when the cell runs.
 */

export type TokenKind =
  | 'magic'
  | 'key'
  | 'punct'
  | 'string'
  | 'number'
  | 'atom'
  | 'comment'
  | 'invalid';

export interface IToken {
  kind: TokenKind;
  /** Offsets in the whole cell text. */
  from: number;
  to: number;
}

export type YamlValue =
  string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export interface IEntry {
  key: string;
  keyFrom: number;
  keyTo: number;
  /** The parsed value (children lines included). */
  value: YamlValue;
  /** Where the value is written (the line's value, or the children lines). */
  valueFrom: number;
  valueTo: number;
  /** Zero-based line of the key in the cell. */
  line: number;
}

export interface IBodyProblem {
  from: number;
  to: number;
  message: string;
}

export interface IParsedBody {
  /** Whether the cell starts with the magic at all. */
  isAutoML: boolean;
  tokens: IToken[];
  entries: IEntry[];
  problems: IBodyProblem[];
}

interface ILine {
  text: string;
  from: number;
  index: number;
}

const MAGIC = /^%%automl\b/;
const KEY_LINE = /^([A-Za-z_][\w-]*)\s*:(?=\s|$)/;
const INT = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/;
const TRUE = new Set([
  'true',
  'True',
  'TRUE',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON'
]);
const FALSE = new Set([
  'false',
  'False',
  'FALSE',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF'
]);
const NULL = new Set(['null', 'Null', 'NULL', '~', '']);

function splitLines(text: string): ILine[] {
  const lines: ILine[] = [];
  let from = 0;
  text.split('\n').forEach((t, index) => {
    lines.push({ text: t, from, index });
    from += t.length + 1;
  });
  return lines;
}

/** The position of a ` #` comment in `text` (outside quotes), or -1. */
function commentStart(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) {
        quote = null;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      return i;
    }
  }
  return -1;
}

/** A plain or quoted scalar as PyYAML reads it. */
export function scalar(raw: string): YamlValue {
  const text = raw.trim();
  if (
    text.length >= 2 &&
    (text[0] === '"' || text[0] === "'") &&
    text[text.length - 1] === text[0]
  ) {
    return text.slice(1, -1);
  }
  if (NULL.has(text)) {
    return null;
  }
  if (TRUE.has(text)) {
    return true;
  }
  if (FALSE.has(text)) {
    return false;
  }
  if (INT.test(text)) {
    return parseInt(text, 10);
  }
  if (FLOAT.test(text)) {
    return parseFloat(text);
  }
  return text;
}

function scalarKind(value: YamlValue): TokenKind {
  if (typeof value === 'number') {
    return 'number';
  }
  if (typeof value === 'boolean' || value === null) {
    return 'atom';
  }
  return 'string';
}

/** Split `a, b, [c, d]` at top-level commas, keeping offsets. */
function splitFlow(
  text: string,
  from: number
): { text: string; from: number }[] {
  const parts: { text: string; from: number }[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (i === text.length || (c === ',' && depth === 0 && !quote)) {
      parts.push({ text: text.slice(start, i), from: from + start });
      start = i + 1;
    } else if (quote) {
      if (c === quote) {
        quote = null;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '[' || c === '{') {
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
    }
  }
  return parts;
}

/** Read an inline value (scalar, flow list or flow mapping), pushing its tokens. */
function inlineValue(
  text: string,
  from: number,
  tokens: IToken[],
  problems: IBodyProblem[]
): YamlValue {
  const lead = text.length - text.trimStart().length;
  const body = text.trim();
  const start = from + lead;
  if (!body) {
    return null;
  }
  const open = body[0];
  if (open === '[' || open === '{') {
    const close = open === '[' ? ']' : '}';
    if (body[body.length - 1] !== close) {
      problems.push({
        from: start,
        to: start + body.length,
        message: `unclosed '${open}': add '${close}'`
      });
      tokens.push({ kind: 'invalid', from: start, to: start + body.length });
      return body;
    }
    tokens.push({ kind: 'punct', from: start, to: start + 1 });
    tokens.push({
      kind: 'punct',
      from: start + body.length - 1,
      to: start + body.length
    });
    const inner = body.slice(1, -1);
    const parts = inner.trim() ? splitFlow(inner, start + 1) : [];
    if (open === '[') {
      return parts.map(p => inlineValue(p.text, p.from, tokens, problems));
    }
    const mapping: { [key: string]: YamlValue } = {};
    for (const p of parts) {
      const colon = p.text.indexOf(':');
      if (colon < 0) {
        problems.push({
          from: p.from,
          to: p.from + p.text.length,
          message: "expected 'key: value' in '{...}'"
        });
        continue;
      }
      const k = p.text.slice(0, colon).trim();
      const kFrom = p.from + p.text.indexOf(k);
      tokens.push({ kind: 'key', from: kFrom, to: kFrom + k.length });
      mapping[k] = inlineValue(
        p.text.slice(colon + 1),
        p.from + colon + 1,
        tokens,
        problems
      );
    }
    return mapping;
  }
  const value = scalar(body);
  tokens.push({
    kind: scalarKind(value),
    from: start,
    to: start + body.length
  });
  return value;
}

/** Read the indented lines under a key: a block list (`- x`) or a nested mapping. */
function blockValue(
  lines: ILine[],
  tokens: IToken[],
  problems: IBodyProblem[]
): YamlValue {
  const items: YamlValue[] = [];
  const mapping: { [key: string]: YamlValue } = {};
  let isList = false;
  for (const line of lines) {
    const cut = commentStart(line.text);
    const text = cut >= 0 ? line.text.slice(0, cut) : line.text;
    if (cut >= 0) {
      tokens.push({
        kind: 'comment',
        from: line.from + cut,
        to: line.from + line.text.length
      });
    }
    const lead = text.length - text.trimStart().length;
    const body = text.trim();
    if (!body) {
      continue;
    }
    const at = line.from + lead;
    if (body.startsWith('-')) {
      isList = true;
      tokens.push({ kind: 'punct', from: at, to: at + 1 });
      items.push(inlineValue(body.slice(1), at + 1, tokens, problems));
      continue;
    }
    const key = /^([^:#]+?)\s*:(?=\s|$)/.exec(body);
    if (key) {
      tokens.push({ kind: 'key', from: at, to: at + key[1].length });
      mapping[key[1]] = inlineValue(
        body.slice(key[0].length),
        at + key[0].length,
        tokens,
        problems
      );
    } else {
      problems.push({
        from: at,
        to: at + body.length,
        message: "expected '- item' or 'key: value'"
      });
    }
  }
  return isList ? items : mapping;
}

/** Read a `%%automl` cell: tokens for highlighting, top-level entries, and syntax problems. */
export function parseBody(text: string): IParsedBody {
  const lines = splitLines(text);
  const result: IParsedBody = {
    isAutoML: false,
    tokens: [],
    entries: [],
    problems: []
  };
  if (!lines.length || !MAGIC.test(lines[0].text)) {
    return result;
  }
  result.isAutoML = true;
  result.tokens.push({ kind: 'magic', from: 0, to: '%%automl'.length });
  let i = 1;
  while (i < lines.length) {
    const line = lines[i];
    const cut = commentStart(line.text);
    const text = cut >= 0 ? line.text.slice(0, cut) : line.text;
    if (!text.trim()) {
      if (cut >= 0) {
        result.tokens.push({
          kind: 'comment',
          from: line.from + cut,
          to: line.from + line.text.length
        });
      }
      i++;
      continue;
    }
    if (/^\s/.test(text)) {
      const lead = text.length - text.trimStart().length;
      result.problems.push({
        from: line.from + lead,
        to: line.from + text.trimEnd().length,
        message: 'indented line without an option above it'
      });
      i++;
      continue;
    }
    const match = KEY_LINE.exec(text);
    if (!match) {
      result.problems.push({
        from: line.from,
        to: line.from + text.trimEnd().length,
        message:
          "expected 'option: value' (a colon and a space after the option name)"
      });
      result.tokens.push({
        kind: 'invalid',
        from: line.from,
        to: line.from + text.trimEnd().length
      });
      if (cut >= 0) {
        result.tokens.push({
          kind: 'comment',
          from: line.from + cut,
          to: line.from + line.text.length
        });
      }
      i++;
      continue;
    }
    const key = match[1];
    result.tokens.push({
      kind: 'key',
      from: line.from,
      to: line.from + key.length
    });
    result.tokens.push({
      kind: 'punct',
      from: line.from + match[0].length - 1,
      to: line.from + match[0].length
    });
    const rest = text.slice(match[0].length);
    let value: YamlValue;
    let valueFrom =
      line.from + match[0].length + (rest.length - rest.trimStart().length);
    let valueTo = line.from + text.trimEnd().length;
    if (rest.trim()) {
      value = inlineValue(
        rest,
        line.from + match[0].length,
        result.tokens,
        result.problems
      );
      if (cut >= 0) {
        result.tokens.push({
          kind: 'comment',
          from: line.from + cut,
          to: line.from + line.text.length
        });
      }
      i++;
    } else {
      if (cut >= 0) {
        result.tokens.push({
          kind: 'comment',
          from: line.from + cut,
          to: line.from + line.text.length
        });
      }
      let j = i + 1;
      while (
        j < lines.length &&
        (/^\s/.test(lines[j].text) || !lines[j].text.trim())
      ) {
        j++;
      }
      while (j > i + 1 && !lines[j - 1].text.trim()) {
        j--;
      }
      const children = lines.slice(i + 1, j);
      value = children.length
        ? blockValue(children, result.tokens, result.problems)
        : null;
      if (children.length) {
        valueFrom = children[0].from;
        valueTo =
          children[children.length - 1].from +
          children[children.length - 1].text.length;
      }
      i = j;
    }
    result.entries.push({
      key,
      keyFrom: line.from,
      keyTo: line.from + key.length,
      value,
      valueFrom,
      valueTo,
      line: line.index
    });
  }
  result.tokens.sort((a, b) => a.from - b.from || a.to - b.to);
  return result;
}
