/**
 * The result view: header, sortable leaderboard, best-so-far chart, architecture diagram and
 * the config with "copy as %%automl". Used by the MIME renderer and by the studies sidebar.
 * Everything is built with the DOM and `textContent`: nothing from the payload becomes HTML.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  ILeaderboardRow,
  IResultPayload,
  SortKey,
  countsText,
  formatScore,
  formatScoreValue,
  paramsText,
  parsePayload,
  plural,
  shorten,
  sortRows
} from './payload';
import { architectureDiagram, bestSoFarChart } from './svg';
import { finalNetworkScore, insightSections } from './insight';
import { CELL_MAGIC, RESULT_MIME_TYPE } from './tokens';

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

interface IColumn {
  key: SortKey | null;
  title: string;
  cell: (row: ILeaderboardRow) => string;
  numeric?: boolean;
  /** The full text, as a tooltip, where the cell shortens it. */
  full?: (row: ILeaderboardRow) => string;
}

const COLUMNS: IColumn[] = [
  {
    key: 'rank',
    title: 'rank',
    cell: r => (r.rank === null ? '' : String(r.rank)),
    numeric: true
  },
  { key: 'trial', title: 'trial', cell: r => String(r.trial), numeric: true },
  {
    key: 'model',
    title: 'model',
    cell: r => shorten(r.label ?? r.model, 40),
    full: r => r.model
  },
  {
    key: 'score',
    title: 'score',
    cell: r => formatScore(r.score),
    numeric: true
  },
  {
    key: 'scoreStd',
    title: '± std',
    cell: r => formatScoreValue(r.scoreStd),
    numeric: true
  },
  {
    key: 'durationS',
    title: 'time (s)',
    cell: r => formatScoreValue(r.durationS, 2),
    numeric: true
  },
  { key: 'state', title: 'state', cell: r => r.state },
  // the params stay on every row; a prune or failure reason goes beside them
  {
    key: null,
    title: 'params',
    cell: r => paramsText(r.params),
    full: r => paramsText(r.params, 1000)
  }
];

/** A cell's classes: numeric alignment, and the column's name (narrow outputs hide some). */
function columnClass(col: IColumn): string {
  const name = `jp-AutoML-col-${col.key ?? 'params'}`;
  return col.numeric ? `jp-AutoML-num ${name}` : name;
}

/** The `%%automl` cell that reproduces a result. */
export function automlCellText(payload: IResultPayload): string {
  return `${CELL_MAGIC}\n${payload.configText}`.replace(/\n+$/, '\n');
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

/** A result payload drawn as DOM. `update(payload)` keeps the sort order the user chose. */
export class ResultView extends Widget {
  constructor() {
    super();
    this.addClass('jp-AutoML-result');
  }

  get payload(): IResultPayload | null {
    return this._payload;
  }

  /** Draw `payload` (replacing what was shown). */
  showPayload(payload: IResultPayload): void {
    this._payload = payload;
    this.node.textContent = '';
    this.node.appendChild(this._header(payload));
    const figures = h('div', 'jp-AutoML-figures');
    const board = h('div', 'jp-AutoML-board');
    this._table = h('table', 'jp-AutoML-leaderboard');
    board.appendChild(this._table);
    const shown = payload.rows.length;
    if (payload.totalRows > shown) {
      board.appendChild(
        h(
          'div',
          'jp-AutoML-muted',
          `… ${plural(payload.totalRows - shown, 'more trial')} (result.leaderboard has them all)`
        )
      );
    }
    figures.appendChild(board);
    const chart = h('div', 'jp-AutoML-chart-box');
    chart.appendChild(
      bestSoFarChart(payload.history, 420, 190, payload.scoreBounds)
    );
    figures.appendChild(chart);
    this.node.appendChild(figures);
    if (payload.diagram) {
      const box = h('div', 'jp-AutoML-diagram-box');
      box.appendChild(
        h('div', 'jp-AutoML-section-title', 'architecture of the best trial')
      );
      if (payload.genotype) {
        const g = h('div', 'jp-AutoML-genotype', payload.genotype);
        g.title = payload.genotype;
        box.appendChild(g);
      }
      if (payload.diagramLayout) {
        box.appendChild(architectureDiagram(payload.diagramLayout));
      } else {
        box.appendChild(
          h(
            'div',
            'jp-AutoML-muted',
            `${payload.diagram.nodes.length} nodes, ${payload.diagram.edges.length} edges ` +
              '(saved without a layout by an older jupyter-automl: its HTML shows the drawing)'
          )
        );
      }
      this.node.appendChild(box);
    }
    const insight = insightSections(payload.insight);
    if (insight) {
      this.node.appendChild(insight);
    }
    if (payload.configText) {
      this.node.appendChild(this._config(payload));
    }
    this._drawTable();
  }

  /** Show a one-line notice (errors, unsupported versions) above nothing else. */
  showNotice(message: string): HTMLElement {
    this._payload = null;
    this.node.textContent = '';
    const notice = h('div', 'jp-AutoML-notice', message);
    this.node.appendChild(notice);
    return notice;
  }

  private _header(payload: IResultPayload): HTMLElement {
    const s = payload.study;
    const head = h('div', 'jp-AutoML-header');
    head.appendChild(h('span', 'jp-AutoML-name', s.name));
    const state = h(
      'span',
      `jp-AutoML-state jp-AutoML-state-${s.state}`,
      s.state
    );
    head.appendChild(state);
    const facts = [
      `${s.space ?? '?'} / ${s.strategy ?? '?'}`,
      `${s.metric ?? '?'} (${s.direction})`,
      countsText(s)
    ];
    head.appendChild(h('span', 'jp-AutoML-facts', facts.join(' · ')));
    if (payload.best) {
      const b = payload.best;
      const best = h('div', 'jp-AutoML-best');
      best.appendChild(document.createTextNode('best: '));
      const ensemble = payload.ensemble;
      if (ensemble && ensemble.score !== null) {
        // the final model, what result.best_score says; the best single trial named beside it
        best.appendChild(h('b', '', formatScoreValue(ensemble.score)));
        best.appendChild(
          document.createTextNode(
            ` ensemble of ${plural(ensemble.members, 'trial')} (CV) · best single trial: `
          )
        );
      }
      best.appendChild(h('b', '', formatScoreValue(b.score)));
      const model = b.model ?? '?';
      const std =
        b.scoreStd === null ? '' : ` ± ${formatScoreValue(b.scoreStd)}`;
      best.appendChild(
        document.createTextNode(`${std} — trial ${b.trial ?? '?'} (`)
      );
      const name = h('span', 'jp-AutoML-model', shorten(b.label ?? model, 60));
      name.title = model;
      best.appendChild(name);
      best.appendChild(document.createTextNode(')'));
      const final = finalNetworkScore(payload.insight);
      if (final !== null) {
        // NAS: the returned network trained on past the trial's few epochs
        best.appendChild(
          document.createTextNode(' · final network: held-out ')
        );
        best.appendChild(h('b', '', formatScoreValue(final)));
      }
      head.appendChild(best);
    }
    return head;
  }

  private _config(payload: IResultPayload): HTMLElement {
    const box = h('details', 'jp-AutoML-config');
    const summary = h('summary', '', 'config');
    box.appendChild(summary);
    const text = automlCellText(payload);
    const copy = h(
      'button',
      'jp-AutoML-copy jp-mod-styled',
      'Copy as %%automl'
    );
    copy.title = 'Copy the %%automl cell that reproduces this search';
    copy.addEventListener('click', () => {
      copyText(text)
        .then(() => {
          copy.textContent = 'Copied';
        })
        .catch(() => {
          copy.textContent = 'Copy failed: select the text';
        });
    });
    box.appendChild(copy);
    box.appendChild(h('pre', 'jp-AutoML-config-text', text));
    return box;
  }

  private _drawTable(): void {
    const table = this._table;
    const payload = this._payload;
    if (!table || !payload) {
      return;
    }
    table.textContent = '';
    const head = h('thead');
    const tr = h('tr');
    for (const col of COLUMNS) {
      const th = h('th', columnClass(col), col.title);
      if (col.key) {
        const key = col.key;
        th.classList.add('jp-AutoML-sortable');
        th.tabIndex = 0;
        th.title = `sort by ${col.title}`;
        if (this._sortKey === key) {
          th.setAttribute(
            'aria-sort',
            this._ascending ? 'ascending' : 'descending'
          );
          th.textContent = `${col.title} ${this._ascending ? '▲' : '▼'}`;
        } else {
          th.setAttribute('aria-sort', 'none');
        }
        const sort = () => {
          this._ascending =
            this._sortKey === key
              ? !this._ascending
              : key !== 'score' || payload.study.direction === 'minimize';
          this._sortKey = key;
          this._drawTable();
        };
        th.addEventListener('click', sort);
        th.addEventListener('keydown', (event: KeyboardEvent) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            sort();
          }
        });
      }
      tr.appendChild(th);
    }
    head.appendChild(tr);
    table.appendChild(head);
    const body = h('tbody');
    const rows = this._sortKey
      ? sortRows(payload.rows, this._sortKey, this._ascending)
      : payload.rows;
    for (const row of rows) {
      const r = h(
        'tr',
        `jp-AutoML-row-${row.state.toLowerCase()}${row.pareto ? ' jp-AutoML-pareto' : ''}`
      );
      r.dataset.trial = String(row.trial);
      for (const col of COLUMNS) {
        const td = h('td', columnClass(col), col.cell(row));
        const full = col.full?.(row);
        if (full && full !== td.textContent) {
          td.title = full;
        }
        if (col.key === null && row.error) {
          const note = h(
            'span',
            'jp-AutoML-note',
            `· ${shorten(row.error, 60)}`
          );
          note.title = row.error;
          td.appendChild(document.createTextNode(td.textContent ? ' ' : ''));
          td.appendChild(note);
          td.classList.add('jp-AutoML-error');
        }
        r.appendChild(td);
      }
      body.appendChild(r);
    }
    table.appendChild(body);
  }

  private _payload: IResultPayload | null = null;
  private _table: HTMLTableElement | null = null;
  private _sortKey: SortKey | null = null;
  private _ascending = true;
}

/**
 * The MIME renderer of `application/vnd.jupyter-automl.result.v1+json`. A payload of another
 * major version shows the bundle's `text/html` (sanitized unless trusted) under a notice.
 */
export class ResultRenderer
  extends ResultView
  implements IRenderMime.IRenderer
{
  constructor(private _options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('jp-AutoML-renderer');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const outcome = parsePayload(
      model.data[this._options.mimeType ?? RESULT_MIME_TYPE]
    );
    if (outcome.kind === 'ok') {
      this.showPayload(outcome.payload);
      return Promise.resolve();
    }
    this.showNotice(outcome.message).classList.add('jp-AutoML-fallback-notice');
    const html = model.data['text/html'];
    if (typeof html === 'string') {
      const fallback = h('div', 'jp-AutoML-fallback');
      fallback.innerHTML = model.trusted
        ? html
        : this._options.sanitizer.sanitize(html);
      this.node.appendChild(fallback);
    } else if (typeof model.data['text/plain'] === 'string') {
      this.node.appendChild(
        h('pre', 'jp-AutoML-fallback', model.data['text/plain'] as string)
      );
    }
    return Promise.resolve();
  }
}
