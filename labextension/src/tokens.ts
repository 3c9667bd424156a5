/**
 * Every string shared with the Python side, defined once (STYLE.md).
 */

/** The versioned result payload (jupyter_automl.report.MIME_TYPE). */
export const RESULT_MIME_TYPE = 'application/vnd.jupyter-automl.result.v1+json';

/**
 * A `%%automl` cell offered by the kernel (the panel's "Show as %%automl"): `{"text": "..."}`.
 * Rendered with an "Insert as new cell" button.
 */
export const CELL_MIME_TYPE = 'application/vnd.jupyter-automl.cell.v1+json';

/** Major version of the payload this renderer understands. */
export const SUPPORTED_MAJOR = 1;

/** REST API of the server extension, relative to the server's base URL. */
export const API_NAMESPACE = 'jupyter-automl/api';

/** The cell magic whose body this extension helps to write. */
export const CELL_MAGIC = '%%automl';

/** Plugin ids: `jupyter-automl:<name>`. */
export const PLUGIN_IDS = {
  renderer: 'jupyter-automl:renderer',
  cellHelp: 'jupyter-automl:cell-help',
  insertCell: 'jupyter-automl:insert-cell',
  loadOffer: 'jupyter-automl:load-offer',
  studies: 'jupyter-automl:studies'
} as const;

/** Command ids. */
export const COMMAND_IDS = {
  insertCell: 'jupyter-automl:insert-cell',
  refreshStudies: 'jupyter-automl:refresh-studies'
} as const;
