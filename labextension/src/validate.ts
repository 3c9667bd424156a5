/**
 * One validator: the diagnostics of a `%%automl` cell are the kernel's own problems, asked of
 * the server extension (`POST validate`, which runs `SearchConfig.from_yaml` on the text and
 * touches no storage), placed on the cell by the spans it returns. Only when the server cannot
 * answer are the `yaml` package's syntax errors shown instead.
 */
import { IParsedBody, magicLineEnd } from './yaml';

/** One problem as the server (and the kernel's `ConfigError.details`) gives it. */
export interface IServerProblem {
  message: string;
  key: string | null;
  /** 1-based line of the cell. */
  line: number | null;
  /** Offsets in the body, in code points (Python string indices). */
  start: number | null;
  end: number | null;
}

export interface IDiagnostic {
  from: number;
  to: number;
  message: string;
  severity: 'error' | 'warning';
}

/** The UTF-16 offset (JavaScript's) of code point `index` of `text` (Python's). */
function utf16Offset(text: string, index: number): number {
  let offset = 0;
  let points = 0;
  while (points < index && offset < text.length) {
    const code = text.codePointAt(offset) ?? 0;
    offset += code > 0xffff ? 2 : 1;
    points++;
  }
  return offset;
}

/** The range of 1-based line `line` of `text` (the magic's line when out of range). */
function lineRange(text: string, line: number): [number, number] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    starts.push(i + 1);
  }
  if (line < 1 || line > starts.length) {
    return [0, magicLineEnd(text)];
  }
  const from = starts[line - 1];
  const next = text.indexOf('\n', from);
  return [from, next < 0 ? text.length : next];
}

/** Place the server's problems of a cell's body on the cell's text. */
export function placeProblems(
  text: string,
  problems: IServerProblem[]
): IDiagnostic[] {
  const bodyFrom = Math.min(magicLineEnd(text) + 1, text.length);
  const body = text.slice(bodyFrom);
  return problems
    .map(p => {
      let from: number;
      let to: number;
      if (p.start !== null && p.end !== null) {
        from = bodyFrom + utf16Offset(body, p.start);
        to = bodyFrom + utf16Offset(body, Math.max(p.end, p.start));
      } else {
        [from, to] = lineRange(text, p.line ?? 1);
      }
      return { from, to, message: p.message, severity: 'error' as const };
    })
    .sort((a, b) => a.from - b.from);
}

/** The `yaml` package's syntax problems, for when the server cannot be asked. */
export function syntaxDiagnostics(body: IParsedBody): IDiagnostic[] {
  return body.problems.map(p => ({ ...p, severity: 'error' as const }));
}

/** Asks the server for a body's problems; `null` when it cannot answer. */
export type ProblemsFetcher = (
  body: string,
  firstLine: number
) => Promise<IServerProblem[] | null>;

/**
 * The kernel's problems of each cell text, asked once per text (a short cache) and told to the
 * listeners when they arrive.
 */
export class CellValidator {
  constructor(
    private _fetch: ProblemsFetcher,
    private _delay = 250
  ) {}

  /** Whether the server answered the last question (else: syntax checks only). */
  get available(): boolean {
    return this._available;
  }

  /** The problems of `text` if known; else `undefined`, and they are asked for (debounced). */
  problems(text: string): IServerProblem[] | undefined {
    const known = this._cache.get(text);
    if (known !== undefined) {
      return known;
    }
    this._want(text);
    return undefined;
  }

  subscribe(listener: () => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  private _want(text: string): void {
    this._pending = text;
    if (this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      const asked = this._pending;
      this._pending = null;
      if (asked !== null) {
        void this._ask(asked);
      }
    }, this._delay);
  }

  private async _ask(text: string): Promise<void> {
    const bodyFrom = Math.min(magicLineEnd(text) + 1, text.length);
    let answer: IServerProblem[] | null = null;
    try {
      answer = await this._fetch(text.slice(bodyFrom), 2);
    } catch (reason) {
      console.warn(
        'jupyter-automl: the %%automl validator did not answer',
        reason
      );
    }
    this._available = answer !== null;
    this._cache.set(text, answer ?? []);
    while (this._cache.size > 64) {
      this._cache.delete(this._cache.keys().next().value as string);
    }
    for (const listener of [...this._listeners]) {
      listener();
    }
  }

  private _available = true;
  private _cache = new Map<string, IServerProblem[]>();
  private _listeners = new Set<() => void>();
  private _pending: string | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
