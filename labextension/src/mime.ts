/**
 * The MIME renderer extension (`jupyterlab.mimeExtension` in package.json): a saved result
 * renders from the notebook file alone, with no kernel and no widget state.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { ResultRenderer } from './renderer';
import { PLUGIN_IDS, RESULT_MIME_TYPE } from './tokens';

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true, // builds DOM from data only: fine in untrusted notebooks
  mimeTypes: [RESULT_MIME_TYPE],
  defaultRank: 10, // before text/html (rank 50), which stays the fallback elsewhere
  createRenderer: options => new ResultRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: PLUGIN_IDS.renderer,
  description:
    'Renders jupyter-automl search results: leaderboard, best-so-far chart, architecture, config.',
  rendererFactory,
  rank: 10,
  dataType: 'json'
};

export default extension;
