/**
 * The renderer of `application/vnd.jupyter-automl.cell.v1+json`: the `%%automl` text a kernel
 * offers (the panel's "Show as %%automl"), with an "Insert as new cell" button that runs the
 * insert command. Registered by an application plugin, since it needs the command registry.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { CELL_MIME_TYPE, COMMAND_IDS } from './tokens';

/** The offered cell's text, or `null` when the data is not `{"text": "%%automl..."}`. */
export function offeredCellText(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return null;
  }
  const text = (data as { text?: unknown }).text;
  return typeof text === 'string' && text.startsWith('%%automl') ? text : null;
}

export class CellOfferRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private _commands: CommandRegistry) {
    super();
    this.addClass('jp-AutoML-cell-offer');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.textContent = '';
    const text = offeredCellText(model.data[CELL_MIME_TYPE]);
    if (text === null) {
      this.node.textContent = 'not a %%automl cell';
      return Promise.resolve();
    }
    const pre = document.createElement('pre');
    pre.className = 'jp-AutoML-config-text';
    pre.textContent = text;
    const insert = document.createElement('button');
    insert.className = 'jp-AutoML-insert-offered jp-mod-styled jp-mod-accept';
    insert.textContent = 'Insert as new cell';
    insert.addEventListener('click', () => {
      void this._commands.execute(COMMAND_IDS.insertCell, { text });
    });
    this.node.appendChild(insert);
    this.node.appendChild(pre);
    return Promise.resolve();
  }
}

export function cellOfferFactory(
  commands: CommandRegistry
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [CELL_MIME_TYPE],
    defaultRank: 10,
    createRenderer: () => new CellOfferRenderer(commands)
  };
}
