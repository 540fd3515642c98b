// Attaching VS Code's debuggers to the dev pods through their forwards. No `vscode` import.
export {
  NODE_REATTACH,
  attachConfiguration,
  attachConfigurations,
  debuggerCommandHint,
  launchJsonSnippet,
  type AttachConfiguration,
  type AttachTarget,
} from './attachConfig';
