// The log panel's webview: every pod's lines in one virtualised list, with text/regex/case
// filtering, level, pod and container chips, follow mode, JSON expansion, ANSI colours, copy and
// export. This file wires the host's messages and VS Code's state to the model (model.ts) and
// the view (view.ts).
import { isHostMessage, type LogPanelTarget } from '../../src/core/logs/protocol';
import { EMPTY_FILTER } from './filter';
import { LogModel } from './model';
import { DEFAULT_VIEW, sanitizePanelState, type PanelState } from './state';
import { LogView } from './view';

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const saved = sanitizePanelState(vscode.getState());
let target: LogPanelTarget | undefined = saved?.target;
const options = saved?.view ?? { ...DEFAULT_VIEW };
const model = new LogModel(saved?.filter ?? { ...EMPTY_FILTER });

function persist() {
  const state: Partial<PanelState> = { target, filter: model.filterState, view: options };
  vscode.setState(state);
}

const view = new LogView(document.getElementById('app')!, model, options, {
  changed() {
    persist();
    model.refilter();
    view.filterChanged();
  },
  clear: () => vscode.postMessage({ type: 'clear' }),
  export: () =>
    vscode.postMessage({
      type: 'export',
      text: model.exportText(),
      suggestedName: `${(target?.deployment ?? target?.pod ?? 'logs').replace(/[^\w.-]/g, '_')}.log`,
    }),
  copy: () => vscode.postMessage({ type: 'copy', text: model.copyText() }),
});

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostMessage(message)) return;
  switch (message.type) {
    case 'init':
      target = message.target;
      model.maxLines = message.maxLines;
      model.reset();
      model.addPods(message.pods);
      model.dropped = message.dropped;
      document.title = message.title;
      model.add(message.lines);
      persist();
      view.reset();
      return;
    case 'lines':
      model.dropped = message.dropped;
      view.linesAdded(model.add(message.lines));
      return;
    case 'pods':
      model.addPods(message.pods);
      view.reset();
      return;
    case 'cleared':
      model.reset();
      view.reset();
      return;
  }
});

vscode.postMessage({ type: 'ready' });
