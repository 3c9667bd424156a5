/**
 * Help for writing `%%automl` cells: YAML highlighting of the body and inline diagnostics (a
 * CodeMirror view plugin on every cell editor), completion of option names and enumerated
 * values (a completion provider) from the options' JSON Schema; the diagnostics are the kernel's
 * own (see `validate.ts`).
 */
import { Extension, Range } from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  ViewPlugin,
  ViewUpdate,
  WidgetType
} from '@codemirror/view';
import {
  ICompletionContext,
  ICompletionProvider,
  CompletionHandler
} from '@jupyterlab/completer';

import { postAPI, requestAPI } from './api';
import { IOptionSpec, completions, optionsFromSchema } from './schema';
import {
  CellValidator,
  IDiagnostic,
  IServerProblem,
  placeProblems,
  syntaxDiagnostics
} from './validate';
import { parseBody } from './yaml';

/** The options' schema, fetched once (for completion); views re-read it when it arrives. */
export class SchemaStore {
  get options(): IOptionSpec[] {
    return this._options;
  }

  /** Bumped when the options change. */
  get version(): number {
    return this._version;
  }

  /** Fetch the schema from the server extension; without it there is no completion. */
  async load(): Promise<void> {
    try {
      this.set(await requestAPI<unknown>('schema'));
    } catch (reason) {
      console.warn(
        'jupyter-automl: no option schema from the server, %%automl completion is off',
        reason
      );
    }
  }

  set(schema: unknown): void {
    this._options = optionsFromSchema(schema);
    this._version++;
    for (const listener of [...this._listeners]) {
      listener();
    }
  }

  subscribe(listener: () => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  private _options: IOptionSpec[] = [];
  private _version = 0;
  private _listeners = new Set<() => void>();
}

/** The validator that asks the server extension (the kernel's own rules). */
export function serverValidator(): CellValidator {
  return new CellValidator(async (body, firstLine) => {
    const answer = await postAPI<{ problems: IServerProblem[] }>('validate', {
      text: body,
      first_line: firstLine
    });
    return Array.isArray(answer.problems) ? answer.problems : null;
  });
}

class DiagnosticMessage extends WidgetType {
  constructor(readonly diagnostics: IDiagnostic[]) {
    super();
  }

  eq(other: DiagnosticMessage): boolean {
    return (
      other.diagnostics.length === this.diagnostics.length &&
      other.diagnostics.every(
        (d, i) => d.message === this.diagnostics[i].message
      )
    );
  }

  toDOM(): HTMLElement {
    // a block under the line, one message a line, wrapped at the editor's width (no sideways scroll)
    const node = document.createElement('span');
    const worst = this.diagnostics.some(d => d.severity === 'error')
      ? 'error'
      : 'warning';
    node.className = `jp-AutoML-diagnostic-message jp-mod-${worst}`;
    node.setAttribute('role', 'status');
    for (const d of this.diagnostics) {
      const line = document.createElement('span');
      line.className = 'jp-AutoML-diagnostic-line';
      line.textContent = d.message;
      node.appendChild(line);
    }
    return node;
  }

  ignoreEvent(): boolean {
    return true;
  }
}

/**
 * The diagnostics of a cell: the kernel's problems when the validator knows them for this
 * text, `null` while they are being asked for, the syntax errors when the server is away.
 */
export function diagnosticsFor(
  text: string,
  validator: CellValidator
): IDiagnostic[] | null {
  const body = parseBody(text);
  if (!body.isAutoML) {
    return [];
  }
  const problems = validator.problems(text);
  if (problems === undefined) {
    return null;
  }
  return validator.available
    ? placeProblems(text, problems)
    : syntaxDiagnostics(body);
}

/**
 * Highlight and diagnostic decorations for a cell's text. The line being typed (the cursor's,
 * while it has no colon yet) gets no diagnostic: a half-typed option name is not an error.
 */
export function decorationsFor(
  view: EditorView,
  diagnostics: IDiagnostic[]
): DecorationSet {
  const text = view.state.doc.toString();
  const body = parseBody(text);
  if (!body.isAutoML) {
    return Decoration.none;
  }
  const cursorLine = view.hasFocus
    ? view.state.doc.lineAt(view.state.selection.main.head)
    : null;
  const typing = cursorLine !== null && !cursorLine.text.includes(':');
  const ranges: Range<Decoration>[] = [];
  for (const token of body.tokens) {
    if (token.to > token.from && token.to <= text.length) {
      ranges.push(
        Decoration.mark({ class: `jp-AutoML-yaml-${token.kind}` }).range(
          token.from,
          token.to
        )
      );
    }
  }
  const byLine = new Map<number, IDiagnostic[]>();
  for (const d of diagnostics) {
    if (d.from > text.length || d.to > text.length) {
      continue;
    }
    if (
      typing &&
      cursorLine &&
      d.from >= cursorLine.from &&
      d.from <= cursorLine.to
    ) {
      continue;
    }
    if (d.to > d.from) {
      ranges.push(
        Decoration.mark({
          class: `jp-AutoML-diagnostic jp-mod-${d.severity}`,
          attributes: { title: d.message }
        }).range(d.from, d.to)
      );
    }
    const lineEnd = view.state.doc.lineAt(d.from).to;
    byLine.set(lineEnd, [...(byLine.get(lineEnd) ?? []), d]);
  }
  for (const [lineEnd, diags] of byLine) {
    ranges.push(
      Decoration.widget({
        widget: new DiagnosticMessage(diags),
        side: 1
      }).range(lineEnd)
    );
  }
  return Decoration.set(ranges, true);
}

/**
 * The CodeMirror extension: the validator is asked after edits; until it answers, the last
 * diagnostics follow the edits (mapped through the changes) instead of blinking away.
 */
export function cellHelpExtension(validator: CellValidator): Extension {
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      private _shown: IDiagnostic[] = [];
      private _unsubscribe: () => void;

      constructor(view: EditorView) {
        this.decorations = this._compute(view);
        // an empty transaction makes CodeMirror call update() with the new answers
        this._unsubscribe = validator.subscribe(() => view.dispatch({}));
      }

      update(update: ViewUpdate): void {
        if (update.docChanged) {
          this._shown = this._shown
            .map(d => ({
              ...d,
              from: update.changes.mapPos(d.from, 1),
              to: update.changes.mapPos(d.to, -1)
            }))
            .filter(d => d.to >= d.from);
        }
        if (
          update.docChanged ||
          update.selectionSet ||
          update.focusChanged ||
          update.transactions.length
        ) {
          this.decorations = this._compute(update.view);
        }
      }

      destroy(): void {
        this._unsubscribe();
      }

      private _compute(view: EditorView): DecorationSet {
        const known = diagnosticsFor(view.state.doc.toString(), validator);
        if (known !== null) {
          this._shown = known;
        }
        return decorationsFor(view, this._shown);
      }
    },
    { decorations: plugin => plugin.decorations }
  );
}

/** Completion of option names and values in `%%automl` cells. */
export class AutoMLCompletionProvider implements ICompletionProvider {
  readonly identifier = 'jupyter-automl:options';
  readonly rank = 900; // above the kernel (550) and context (500) providers

  constructor(private _store: SchemaStore) {}

  async isApplicable(context: ICompletionContext): Promise<boolean> {
    const source = context.editor?.model.sharedModel.getSource() ?? '';
    return source.startsWith('%%automl');
  }

  async fetch(
    request: CompletionHandler.IRequest
  ): Promise<CompletionHandler.ICompletionItemsReply> {
    const reply = completions(
      request.text,
      request.offset,
      this._store.options
    );
    if (!reply) {
      return { start: request.offset, end: request.offset, items: [] };
    }
    return {
      start: reply.start,
      end: reply.end,
      items: reply.items.map(item => ({
        label: item.label,
        insertText: item.insertText,
        type: item.type,
        documentation: item.documentation
      }))
    };
  }
}

/** Cell templates for "Insert %%automl cell". */
export const TEMPLATES: Record<string, { label: string; text: string }> = {
  tabular: {
    label: 'tabular data',
    text: [
      '%%automl',
      'data: sklearn:breast_cancer   # a DataFrame variable, a CSV/Parquet path or sklearn:NAME',
      'space: tabular',
      'strategy: tpe',
      'metric: auto',
      'time_budget: 2m',
      'cv: 5'
    ].join('\n')
  },
  nas: {
    label: 'neural architecture search',
    text: [
      '%%automl',
      'data: sklearn:digits',
      'space: nas-cell',
      'strategy: evolution',
      'time_budget: 10m',
      'epochs: 10',
      'device: auto'
    ].join('\n')
  }
};
