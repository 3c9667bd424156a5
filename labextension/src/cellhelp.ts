/**
 * Help for writing `%%automl` cells: YAML highlighting of the body and inline diagnostics (a
 * CodeMirror view plugin on every cell editor), completion of option names and enumerated
 * values (a completion provider), both driven by the options' JSON Schema from the server.
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

import { requestAPI } from './api';
import {
  IDiagnostic,
  IOptionSpec,
  completions,
  diagnose,
  optionsFromSchema
} from './schema';
import { parseBody } from './yaml';

/** The options' schema, fetched once; views re-check their cells when it arrives. */
export class SchemaStore {
  get options(): IOptionSpec[] {
    return this._options;
  }

  /** Bumped when the options change. */
  get version(): number {
    return this._version;
  }

  /** Fetch the schema from the server extension; without it, only syntax is checked. */
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
    const node = document.createElement('span');
    const worst = this.diagnostics.some(d => d.severity === 'error')
      ? 'error'
      : 'warning';
    node.className = `jp-AutoML-diagnostic-message jp-mod-${worst}`;
    node.textContent = this.diagnostics.map(d => d.message).join('; ');
    node.setAttribute('role', 'status');
    return node;
  }

  ignoreEvent(): boolean {
    return true;
  }
}

/**
 * Highlight and diagnostic decorations for a cell's text. The line being typed (the cursor's,
 * while it has no colon yet) gets no diagnostic: a half-typed option name is not an error.
 */
export function decorationsFor(
  view: EditorView,
  options: IOptionSpec[]
): DecorationSet {
  const text = view.state.doc.toString();
  const cursorLine = view.hasFocus
    ? view.state.doc.lineAt(view.state.selection.main.head)
    : null;
  const typing = cursorLine !== null && !cursorLine.text.includes(':');
  const body = parseBody(text);
  if (!body.isAutoML) {
    return Decoration.none;
  }
  const ranges: Range<Decoration>[] = [];
  for (const token of body.tokens) {
    if (token.to > token.from) {
      ranges.push(
        Decoration.mark({ class: `jp-AutoML-yaml-${token.kind}` }).range(
          token.from,
          token.to
        )
      );
    }
  }
  const byLine = new Map<number, IDiagnostic[]>();
  for (const d of diagnose(body, options)) {
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

/** The CodeMirror extension: decorations recomputed on edits and when the schema arrives. */
export function cellHelpExtension(store: SchemaStore): Extension {
  return ViewPlugin.fromClass(
    class {
      decorations: DecorationSet;
      private _version: number;
      private _unsubscribe: () => void;

      constructor(view: EditorView) {
        this._version = store.version;
        this.decorations = decorationsFor(view, store.options);
        // an empty transaction makes CodeMirror call update(), which sees the new version
        this._unsubscribe = store.subscribe(() => view.dispatch({}));
      }

      update(update: ViewUpdate): void {
        if (
          update.docChanged ||
          update.selectionSet ||
          update.focusChanged ||
          this._version !== store.version
        ) {
          this._version = store.version;
          this.decorations = decorationsFor(update.view, store.options);
        }
      }

      destroy(): void {
        this._unsubscribe();
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
