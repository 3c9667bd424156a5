/**
 * The studies sidebar: every study stored under the server root (and in the storages the user
 * adds), refreshed while the panel is visible, faster while a search runs. Opening a study
 * shows its leaderboard with the result renderer, refreshed while the study runs.
 */
import { Widget } from '@lumino/widgets';

import { IStudyList, IStudySummary, locationParams, requestAPI } from './api';
import { formatNumber, parsePayload } from './payload';
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

export interface IStudiesPanelOptions {
  openStudy: (study: IStudySummary) => void;
  /** Storage URLs added by the user, restored from the state database. */
  urls?: string[];
  /** Called when the user adds or removes a URL (to save them). */
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
    input.placeholder = 'add a storage: postgresql://… or path/to/studies.db';
    input.setAttribute('aria-label', 'storage URL to add');
    const add = h('button', 'jp-mod-styled', 'Add');
    add.type = 'submit';
    form.appendChild(input);
    form.appendChild(add);
    form.addEventListener('submit', event => {
      event.preventDefault();
      const url = input.value.trim();
      if (url && !this._urls.includes(url)) {
        this._urls.push(url);
        this._options.urlsChanged?.([...this._urls]);
      }
      input.value = '';
      void this.refresh();
    });
    this.node.appendChild(form);
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

  get studies(): IStudySummary[] {
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
      const data = await requestAPI<IStudyList>(
        'studies',
        this._urls.map(u => ['url', u])
      );
      this._studies = data.studies;
      this._errors = data.errors.map(
        e => `${e.url ?? e.db ?? ''}: ${e.message}`
      );
    } catch (reason) {
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

  private _drawUrls(): void {
    this._urlList.textContent = '';
    for (const url of this._urls) {
      const li = h('li', '', url);
      const remove = h('button', 'jp-AutoML-studies-remove', '×');
      remove.title = `Stop listing ${url}`;
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
      item.title = `${s.name}\n${s.db ?? s.url ?? ''}\nclick to open its leaderboard`;
      const top = h('div', 'jp-AutoML-study-top');
      top.appendChild(h('span', 'jp-AutoML-study-name', s.name));
      top.appendChild(
        h('span', `jp-AutoML-state jp-AutoML-state-${s.state}`, s.state)
      );
      item.appendChild(top);
      const best =
        s.best_score === null ? '' : ` · best ${formatNumber(s.best_score)}`;
      const facts = `${s.space ?? '?'} / ${s.strategy ?? '?'} · ${s.n_trials} trials${best}`;
      item.appendChild(h('div', 'jp-AutoML-study-facts', facts));
      const where = s.db ?? s.url ?? '';
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

  private _urls: string[];
  private _studies: IStudySummary[] = [];
  private _errors: string[] = [];
  private _urlList: HTMLUListElement;
  private _status: HTMLDivElement;
  private _list: HTMLDivElement;
  private _ticker: Ticker;
}

/** One study's result, refreshed while it runs (main area). */
export class StudyView extends ResultView {
  constructor(readonly study: IStudySummary) {
    super();
    this.addClass('jp-AutoML-study-view');
    this.title.label = study.name;
    this.title.caption = `${study.name} (${study.db ?? study.url ?? ''})`;
    this._ticker = new Ticker(
      () => this.refresh(),
      () => POLL_RUNNING_MS
    );
  }

  async refresh(): Promise<void> {
    try {
      const data = await requestAPI<unknown>(
        `studies/${encodeURIComponent(this.study.name)}`,
        locationParams(this.study)
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
