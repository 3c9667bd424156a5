/**
 * The studies sidebar: every study stored under the server root (and in the storages the user
 * adds), refreshed while the panel is visible, faster while a search runs. Opening a study
 * shows its leaderboard with the result renderer, refreshed while the study runs.
 *
 * A storage is added by a path under the server root (`projects/x/.jupyter_automl/studies.db`,
 * `runs/study.log`) or by a name the server's admin configured (`c.JupyterAutoML.storages`):
 * the server never takes a storage URL from the browser.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { IStudySummary, requestAPI } from './api';
import { formatNumber, parsePayload, plural } from './payload';
import { ResultView } from './renderer';

/** Poll periods in ms: while something runs, and otherwise. */
export const POLL_RUNNING_MS = 2000;
export const POLL_IDLE_MS = 5000;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** `18:31:04` today, else `2026-11-27 18:31`. */
export function shortTime(iso: string | null, now: Date = new Date()): string {
  if (!iso) {
    return '';
  }
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) {
    return iso;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  if (t.toDateString() === now.toDateString()) {
    return `${time}:${pad(t.getSeconds())}`;
  }
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${time}`;
}

/** Runs `tick` every `period()` ms while started; never two at once. */
class Ticker {
  constructor(
    private _tick: () => Promise<void>,
    private _period: () => number
  ) {}

  start(): void {
    if (!this._running) {
      this._running = true;
      void this._loop();
    }
  }

  stop(): void {
    this._running = false;
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private async _loop(): Promise<void> {
    if (!this._running) {
      return;
    }
    await this._tick();
    if (this._running) {
      this._timer = window.setTimeout(() => {
        this._timer = null;
        void this._loop();
      }, this._period());
    }
  }

  private _running = false;
  private _timer: number | null = null;
}

/** A listed study: `storage` is the configured name it was read from, else `null`. */
export type IListedStudy = IStudySummary & { storage?: string | null };

/** The listing, with the storage names the server's admin configured. */
interface IListing {
  studies: IListedStudy[];
  errors: { db?: string | null; storage?: string | null; message: string }[];
  storages?: string[];
}

/** Query parameters that point at a study's storage: its file, or its configured name. */
export function storageParams(study: IListedStudy): [string, string][] {
  if (study.db !== null) {
    return [['db', study.db]];
  }
  return study.storage ? [['storage', study.storage]] : [];
}

/** Where a study is, as the sidebar shows it. */
export function storageLabel(study: IListedStudy): string {
  return study.db ?? study.storage ?? '';
}

/** The status of a failed API call (503: the server is busy, try again). */
function statusOf(reason: unknown): number | null {
  return reason instanceof ServerConnection.ResponseError
    ? reason.response.status
    : null;
}

export const ADD_PLACEHOLDER = 'add: path/to/studies.db or a storage name';
export const ADD_HELP =
  'A study file under the server root (.db or .log), or the name of a storage ' +
  "the server's admin configured (c.JupyterAutoML.storages). Storage URLs are not accepted.";

/** Whether `value` is a storage URL (refused: the server only reads paths and configured names). */
export function isStorageUrl(value: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(sqlite|journal):/i.test(value)
  );
}

/** `scheme://user:***@host/…`: a password typed into the field is never shown again. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export interface IStudiesPanelOptions {
  openStudy: (study: IStudySummary) => void;
  /** Storages added by the user (paths under the root or configured names), restored from the state database. */
  urls?: string[];
  /** Called when the user adds or removes a storage (to save them). */
  urlsChanged?: (urls: string[]) => void;
}

/** The left-sidebar panel. */
export class StudiesPanel extends Widget {
  constructor(private _options: IStudiesPanelOptions) {
    super();
    this.addClass('jp-AutoML-studies');
    this._urls = [...(_options.urls ?? [])];
    const header = h('div', 'jp-AutoML-studies-header');
    header.appendChild(h('span', 'jp-AutoML-studies-title', 'AutoML studies'));
    const refresh = h('button', 'jp-AutoML-studies-refresh jp-mod-styled', '⟳');
    refresh.title = 'Refresh the list of studies';
    refresh.addEventListener('click', () => void this.refresh());
    header.appendChild(refresh);
    this.node.appendChild(header);

    const form = h('form', 'jp-AutoML-studies-add');
    const input = h('input', 'jp-mod-styled');
    input.placeholder = ADD_PLACEHOLDER;
    input.title = ADD_HELP;
    input.setAttribute(
      'aria-label',
      'storage to add: a path under the server root or a configured name'
    );
    this._names = h('datalist');
    this._names.id = `jp-AutoML-storage-names-${++StudiesPanel._count}`;
    input.setAttribute('list', this._names.id);
    const add = h('button', 'jp-mod-styled', 'Add');
    add.type = 'submit';
    form.appendChild(input);
    form.appendChild(add);
    form.appendChild(this._names);
    form.addEventListener('submit', event => {
      event.preventDefault();
      const url = input.value.trim();
      this._formError.textContent = '';
      if (isStorageUrl(url)) {
        this._formError.textContent =
          `${redactUrl(url)}: storage URLs are not accepted. Ask the server's admin ` +
          'to name it in c.JupyterAutoML.storages, then add it by that name.';
        input.value = '';
        return;
      }
      if (url && !this._urls.includes(url)) {
        this._urls.push(url);
        this._options.urlsChanged?.([...this._urls]);
      }
      input.value = '';
      void this.refresh();
    });
    this.node.appendChild(form);
    this._formError = h('div', 'jp-AutoML-error jp-AutoML-studies-add-error');
    this.node.appendChild(this._formError);
    this._help = h('div', 'jp-AutoML-studies-help jp-AutoML-muted', ADD_HELP);
    this.node.appendChild(this._help);
    this._urlList = h('ul', 'jp-AutoML-studies-urls');
    this.node.appendChild(this._urlList);
    this._status = h('div', 'jp-AutoML-studies-status');
    this.node.appendChild(this._status);
    this._list = h('div', 'jp-AutoML-studies-list');
    this.node.appendChild(this._list);
    this._ticker = new Ticker(
      () => this.refresh(),
      () =>
        this._studies.some(s => s.state === 'running')
          ? POLL_RUNNING_MS
          : POLL_IDLE_MS
    );
    this._drawUrls();
  }

  get studies(): IListedStudy[] {
    return this._studies;
  }

  /** Replace the added storage URLs (restored from the state database) and refresh. */
  setUrls(urls: string[]): void {
    this._urls = [...urls];
    this._drawUrls();
    if (this.isVisible) {
      void this.refresh();
    }
  }

  /** Fetch the list now. */
  async refresh(): Promise<void> {
    try {
      const data = await requestAPI<IListing>(
        'studies',
        this._urls.map(u => ['storage', u])
      );
      this._studies = data.studies;
      this._errors = data.errors.map(
        e => `${e.storage ?? e.db ?? ''}: ${e.message}`
      );
      this._drawNames(data.storages ?? []);
    } catch (reason) {
      if (statusOf(reason) === 503) {
        return; // busy: keep what is shown, the next tick tries again
      }
      this._errors = [
        `cannot list studies: ${reason instanceof Error ? reason.message : String(reason)}`
      ];
    }
    this._draw();
  }

  protected onAfterShow(): void {
    this._ticker.start();
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      this._ticker.start();
    }
  }

  protected onAfterHide(): void {
    this._ticker.stop();
  }

  protected onBeforeDetach(): void {
    this._ticker.stop();
  }

  dispose(): void {
    this._ticker.stop();
    super.dispose();
  }

  private _drawNames(names: string[]): void {
    this._names.textContent = '';
    for (const name of names) {
      const option = h('option');
      option.value = name;
      this._names.appendChild(option);
    }
    this._help.textContent = names.length
      ? `${ADD_HELP} Configured here: ${names.join(', ')}.`
      : ADD_HELP;
  }

  private _drawUrls(): void {
    this._urlList.textContent = '';
    for (const url of this._urls) {
      const li = h('li', '', redactUrl(url));
      const remove = h('button', 'jp-AutoML-studies-remove', '×');
      remove.title = `Stop listing ${redactUrl(url)}`;
      remove.addEventListener('click', () => {
        this._urls = this._urls.filter(u => u !== url);
        this._options.urlsChanged?.([...this._urls]);
        this._drawUrls();
        void this.refresh();
      });
      li.appendChild(remove);
      this._urlList.appendChild(li);
    }
  }

  private _draw(): void {
    this._drawUrls();
    this._status.textContent = '';
    for (const e of this._errors) {
      this._status.appendChild(h('div', 'jp-AutoML-error', e));
    }
    this._list.textContent = '';
    if (!this._studies.length) {
      this._list.appendChild(
        h(
          'div',
          'jp-AutoML-muted',
          'No study yet. Run a %%automl cell: its study appears here.'
        )
      );
      return;
    }
    const list = h('ul', 'jp-AutoML-studies-items');
    for (const s of this._studies) {
      const item = h('li', `jp-AutoML-study jp-AutoML-study-${s.state}`);
      item.tabIndex = 0;
      item.dataset.study = s.name;
      item.title = `${s.name}\n${storageLabel(s)}\nclick to open its leaderboard`;
      const top = h('div', 'jp-AutoML-study-top');
      const name = h('span', 'jp-AutoML-study-name', s.name);
      name.title = s.name; // the whole name on hover when two lines cut it
      top.appendChild(name);
      top.appendChild(
        h('span', `jp-AutoML-state jp-AutoML-state-${s.state}`, s.state)
      );
      item.appendChild(top);
      const best =
        s.best_score === null ? '' : ` · best ${formatNumber(s.best_score)}`;
      const trials =
        typeof s.n_trials === 'number'
          ? plural(s.n_trials, 'trial')
          : '? trials';
      const facts = `${s.space ?? '?'} / ${s.strategy ?? '?'} · ${trials}${best}`;
      item.appendChild(h('div', 'jp-AutoML-study-facts', facts));
      const where = storageLabel(s);
      item.appendChild(
        h(
          'div',
          'jp-AutoML-study-where',
          `${shortTime(s.updated ?? s.started)} · ${where}`
        )
      );
      item.addEventListener('click', () => this._options.openStudy(s));
      item.addEventListener('keydown', event => {
        if (event.key === 'Enter') {
          this._options.openStudy(s);
        }
      });
      list.appendChild(item);
    }
    this._list.appendChild(list);
  }

  private static _count = 0;
  private _urls: string[];
  private _studies: IListedStudy[] = [];
  private _names: HTMLDataListElement;
  private _help: HTMLDivElement;
  private _formError: HTMLDivElement;
  private _errors: string[] = [];
  private _urlList: HTMLUListElement;
  private _status: HTMLDivElement;
  private _list: HTMLDivElement;
  private _ticker: Ticker;
}

/** One study's result, refreshed while it runs (main area). */
export class StudyView extends ResultView {
  constructor(readonly study: IListedStudy) {
    super();
    this.addClass('jp-AutoML-study-view');
    this.title.label = study.name;
    this.title.caption = `${study.name} (${storageLabel(study)})`;
    this._ticker = new Ticker(
      () => this.refresh(),
      () => POLL_RUNNING_MS
    );
  }

  async refresh(): Promise<void> {
    try {
      const data = await requestAPI<unknown>(
        `studies/${encodeURIComponent(this.study.name)}`,
        storageParams(this.study)
      );
      const outcome = parsePayload(data);
      if (outcome.kind === 'ok') {
        this.showPayload(outcome.payload);
        if (outcome.payload.study.state !== 'running') {
          this._ticker.stop();
        }
      } else {
        this.showNotice(outcome.message);
        this._ticker.stop();
      }
    } catch (reason) {
      if (statusOf(reason) === 503) {
        return; // busy: the ticker asks again
      }
      this.showNotice(
        `cannot read the study: ${reason instanceof Error ? reason.message : String(reason)}`
      );
      this._ticker.stop();
    }
  }

  protected onAfterAttach(): void {
    this._ticker.start();
  }

  protected onBeforeDetach(): void {
    this._ticker.stop();
  }

  dispose(): void {
    this._ticker.stop();
    super.dispose();
  }

  private _ticker: Ticker;
}
