/**
 * The application plugins (`jupyterlab.extension` in package.json). The result renderer is
 * the MIME extension in `mime.ts`.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  INotebookModel,
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IStateDB } from '@jupyterlab/statedb';
import { LabIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Menu } from '@lumino/widgets';

import { IStudySummary } from './api';
import { cellOfferFactory } from './celloffer';
import {
  AutoMLCompletionProvider,
  SchemaStore,
  TEMPLATES,
  cellHelpExtension,
  serverValidator
} from './cellhelp';
import { watchMissingMagic } from './loadext';
import { StudiesPanel, StudyView } from './sidebar';
import { COMMAND_IDS, PLUGIN_IDS } from './tokens';

const automlIcon = new LabIcon({
  name: 'jupyter-automl:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<rect x="3" y="13" width="4" height="8" rx="1"/><rect x="10" y="8" width="4" height="13" rx="1"/>' +
    '<rect x="17" y="3" width="4" height="18" rx="1"/></g></svg>'
});

/** `%%automl` highlighting, diagnostics and completion. */
const cellHelp: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.cellHelp,
  description:
    'YAML highlighting, inline diagnostics and completion in %%automl cells.',
  autoStart: true,
  requires: [IEditorExtensionRegistry, ICompletionProviderManager],
  activate: (
    app: JupyterFrontEnd,
    editors: IEditorExtensionRegistry,
    completion: ICompletionProviderManager
  ) => {
    const store = new SchemaStore();
    const validator = serverValidator();
    editors.addExtension({
      name: PLUGIN_IDS.cellHelp,
      factory: () =>
        EditorExtensionRegistry.createImmutableExtension(
          cellHelpExtension(validator)
        )
    });
    completion.registerProvider(new AutoMLCompletionProvider(store));
    void store.load();
  }
};

function templateOf(args: ReadonlyPartialJSONObject): string {
  const name = typeof args.template === 'string' ? args.template : 'tabular';
  return name in TEMPLATES ? name : 'tabular';
}

class InsertCellButton implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(private _commands: CommandRegistry) {}

  createNew(panel: NotebookPanel): ToolbarButton {
    const menu = new Menu({ commands: this._commands });
    menu.addClass('jp-AutoML-template-menu');
    for (const template of Object.keys(TEMPLATES)) {
      menu.addItem({ command: COMMAND_IDS.insertCell, args: { template } });
    }
    const button: ToolbarButton = new ToolbarButton({
      icon: automlIcon,
      label: '%%automl',
      tooltip: 'Insert %%automl cell',
      className: 'jp-AutoML-insert-button',
      onClick: () => {
        const rect = button.node.getBoundingClientRect();
        menu.open(rect.left, rect.bottom);
      }
    });
    panel.toolbar.insertItem(10, 'insert-automl-cell', button);
    return button;
  }
}

/** "Insert %%automl cell": command, palette entries and a notebook toolbar button. */
const insertCell: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.insertCell,
  description:
    'Insert a %%automl cell from a template (command palette and notebook toolbar).',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    app.commands.addCommand(COMMAND_IDS.insertCell, {
      label: args =>
        typeof args.text === 'string'
          ? 'Insert as new cell'
          : `Insert %%automl cell (${TEMPLATES[templateOf(args)].label})`,
      caption:
        'Insert a %%automl cell below the active cell (or fill the active cell when it is empty)',
      isEnabled: () => tracker.currentWidget !== null,
      execute: args => {
        const panel = tracker.currentWidget;
        if (!panel) {
          return;
        }
        const notebook = panel.content;
        const text =
          typeof args.text === 'string'
            ? args.text
            : TEMPLATES[templateOf(args)].text;
        const active = notebook.activeCell;
        if (
          !active ||
          active.model.type !== 'code' ||
          active.model.sharedModel.getSource().trim()
        ) {
          NotebookActions.insertBelow(notebook);
        }
        const cell = notebook.activeCell;
        if (cell) {
          cell.model.sharedModel.setSource(text);
          notebook.mode = 'edit';
          cell.editor?.focus();
          cell.editor?.setCursorPosition({ line: 1, column: 0 });
        }
      }
    });
    for (const template of Object.keys(TEMPLATES)) {
      palette?.addItem({
        command: COMMAND_IDS.insertCell,
        args: { template },
        category: 'AutoML'
      });
    }
    app.docRegistry.addWidgetExtension(
      'Notebook',
      new InsertCellButton(app.commands)
    );
    // "Show as %%automl" outputs of the panel get an "Insert as new cell" button
    rendermime?.addFactory(cellOfferFactory(app.commands));
  }
};

/** "Load it" when a `%%automl` cell ran before `%load_ext jupyter_automl`. */
const loadOffer: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.loadOffer,
  description:
    'Offers to load the extension when a %%automl cell runs without %load_ext jupyter_automl.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    watchMissingMagic(
      notebook => tracker.find(panel => panel.content === notebook) ?? null
    );
  }
};

const STATE_KEY = `${PLUGIN_IDS.studies}:urls`;

/** The studies sidebar and the study views it opens. */
const studies: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.studies,
  description:
    'A left-sidebar list of the stored AutoML studies; opens their leaderboards.',
  autoStart: true,
  optional: [IStateDB, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    state: IStateDB | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const views = new WidgetTracker<MainAreaWidget<StudyView>>({
      namespace: 'jupyter-automl-study'
    });
    const open = (study: IStudySummary) => {
      const id = `jupyter-automl-study:${study.db ?? study.url}:${study.name}`;
      const existing = views.find(w => w.id === id);
      if (existing) {
        app.shell.activateById(existing.id);
        void existing.content.refresh();
        return;
      }
      const widget = new MainAreaWidget({ content: new StudyView(study) });
      widget.id = id;
      widget.title.icon = automlIcon;
      widget.title.closable = true;
      void views.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
    };
    const panel = new StudiesPanel({
      openStudy: open,
      urlsChanged: next => void state?.save(STATE_KEY, next)
    });
    if (state) {
      // the state database answers once the layout is restored: never await it in activate
      void app.restored
        .then(() => state.fetch(STATE_KEY))
        .then(saved => {
          if (Array.isArray(saved)) {
            panel.setUrls(
              saved.filter((u): u is string => typeof u === 'string')
            );
          }
        })
        .catch(reason =>
          console.warn(
            'jupyter-automl: could not restore the added storages',
            reason
          )
        );
    }
    panel.id = 'jupyter-automl-studies';
    panel.title.icon = automlIcon;
    panel.title.caption = 'AutoML studies';
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'jupyter-automl-studies');
    app.commands.addCommand(COMMAND_IDS.refreshStudies, {
      label: 'Show AutoML studies',
      execute: () => {
        app.shell.activateById(panel.id);
        return panel.refresh();
      }
    });
    palette?.addItem({
      command: COMMAND_IDS.refreshStudies,
      category: 'AutoML'
    });
  }
};

export default [cellHelp, insertCell, loadOffer, studies];
