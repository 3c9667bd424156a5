/**
 * A `%%automl` cell run before `%load_ext jupyter_automl` fails in the kernel with IPython's
 * "Cell magic `%%automl` not found" (the package is not loaded, so nothing of it can answer).
 * This notices that error and offers "Load it": a `%load_ext jupyter_automl` cell is added
 * above (so the notebook works next time too), and both cells are run.
 */
import { Notification } from '@jupyterlab/apputils';
import { Cell, ICodeCellModel } from '@jupyterlab/cells';
import { Notebook, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { CELL_MAGIC } from './tokens';

export const LOAD_LINE = '%load_ext jupyter_automl';

/** Whether a cell's outputs hold IPython's "cell magic not found" error for `%%automl`. */
export function missingMagic(outputs: unknown[]): boolean {
  const needle = `Cell magic \`${CELL_MAGIC}\` not found`;
  return outputs.some(output => {
    if (typeof output !== 'object' || output === null) {
      return false;
    }
    const o = output as { evalue?: unknown; text?: unknown };
    const text = [o.evalue, o.text]
      .map(v => (Array.isArray(v) ? v.join('') : v))
      .filter((v): v is string => typeof v === 'string')
      .join('\n');
    return text.includes(needle);
  });
}

/** Add the load line above `cell` and run both. */
export async function loadAndRun(
  panel: NotebookPanel,
  cell: Cell
): Promise<void> {
  const notebook: Notebook = panel.content;
  const index = notebook.widgets.indexOf(cell);
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  NotebookActions.insertAbove(notebook);
  notebook.activeCell?.model.sharedModel.setSource(LOAD_LINE);
  notebook.deselectAll();
  notebook.select(notebook.widgets[index]);
  notebook.extendContiguousSelectionTo(index + 1);
  await NotebookActions.run(notebook, panel.sessionContext);
}

/** Watch executed cells; offer "Load it" when a `%%automl` cell met the missing magic. */
export function watchMissingMagic(
  panelOf: (notebook: Notebook) => NotebookPanel | null
): void {
  NotebookActions.executed.connect((_, { notebook, cell, success }) => {
    if (success || cell.model.type !== 'code') {
      return;
    }
    if (!cell.model.sharedModel.getSource().startsWith(CELL_MAGIC)) {
      return;
    }
    const outputs = (cell.model as ICodeCellModel).outputs.toJSON();
    const panel = panelOf(notebook);
    if (!panel || !missingMagic(outputs)) {
      return;
    }
    Notification.warning(
      `${CELL_MAGIC} needs \`${LOAD_LINE}\` first (run once per kernel).`,
      {
        autoClose: false,
        actions: [
          {
            label: 'Load it',
            caption: `Add a ${LOAD_LINE} cell above and run both cells`,
            displayType: 'accent',
            callback: () => void loadAndRun(panel, cell)
          }
        ]
      }
    );
  });
}
