/**
 * The YAML body of a `%%automl` cell, read with the maintained `yaml` package: tokens with
 * their ranges for highlighting (from its Document and CST), and its syntax errors for when the
 * kernel's validator (the server's `validate` call) cannot be reached. What the options mean
 * is judged by that validator only (see `validate.ts`).
 */
import { Parser, isScalar, parseDocument, visit } from 'yaml';

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

export interface IBodyProblem {
  from: number;
  to: number;
  message: string;
}

export interface IParsedBody {
  /** Whether the cell starts with the magic at all. */
  isAutoML: boolean;
  /** Where the body (the text after the magic's line) starts in the cell. */
  bodyFrom: number;
  tokens: IToken[];
  /** Syntax errors (and keys given twice) as the `yaml` package sees them. */
  problems: IBodyProblem[];
}

const MAGIC = /^%%automl(?=\s|$)/;

/** Every comment token of a CST (the Document keeps comments as text without ranges). */
function comments(token: unknown, out: IToken[], shift: number): void {
  if (Array.isArray(token)) {
    token.forEach(t => comments(t, out, shift));
    return;
  }
  if (typeof token !== 'object' || token === null) {
    return;
  }
  const t = token as { type?: unknown; offset?: unknown; source?: unknown };
  if (
    t.type === 'comment' &&
    typeof t.offset === 'number' &&
    typeof t.source === 'string'
  ) {
    out.push({
      kind: 'comment',
      from: shift + t.offset,
      to: shift + t.offset + t.source.length
    });
    return;
  }
  for (const value of Object.values(token)) {
    if (typeof value === 'object' && value !== null) {
      comments(value, out, shift);
    }
  }
}

/** The first line's end (the magic's line) in `text`. */
export function magicLineEnd(text: string): number {
  const end = text.indexOf('\n');
  return end < 0 ? text.length : end;
}

/** Read a cell: `isAutoML` false (and nothing else) unless it starts with `%%automl`. */
export function parseBody(text: string): IParsedBody {
  if (!MAGIC.test(text)) {
    return { isAutoML: false, bodyFrom: 0, tokens: [], problems: [] };
  }
  const end = magicLineEnd(text);
  const bodyFrom = Math.min(end + 1, text.length);
  const body = text.slice(bodyFrom);
  const tokens: IToken[] = [{ kind: 'magic', from: 0, to: 8 }];
  const doc = parseDocument(body, { prettyErrors: false, uniqueKeys: true });
  visit(doc, {
    Scalar(key, node) {
      const [from, to] = node.range ?? [0, 0];
      if (to <= from) {
        return;
      }
      const value: unknown = node.value;
      const kind: TokenKind =
        key === 'key'
          ? 'key'
          : typeof value === 'number'
            ? 'number'
            : typeof value === 'boolean' || value === null
              ? 'atom'
              : 'string';
      tokens.push({ kind, from: bodyFrom + from, to: bodyFrom + to });
    },
    Pair(_, pair) {
      // the colon after a scalar key (its range ends where the key does)
      if (isScalar(pair.key) && pair.key.range) {
        const after = pair.key.range[1];
        const colon = body.indexOf(':', after);
        if (colon >= 0 && !body.slice(after, colon).trim()) {
          tokens.push({
            kind: 'punct',
            from: bodyFrom + colon,
            to: bodyFrom + colon + 1
          });
        }
      }
    }
  });
  comments([...new Parser().parse(body)], tokens, bodyFrom);
  tokens.sort((a, b) => a.from - b.from);
  const problems = [...doc.errors, ...doc.warnings].map(e => ({
    from: bodyFrom + e.pos[0],
    to: bodyFrom + Math.max(e.pos[1], e.pos[0]),
    message: e.message.split('\n')[0]
  }));
  return { isAutoML: true, bodyFrom, tokens, problems };
}
