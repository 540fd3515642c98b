// A terminal in the dev container and one command in every pod. No `vscode` import.
export {
  TerminalSession,
  terminalCommand,
  type TerminalEnd,
  type TerminalExec,
  type TerminalExit,
  type TerminalOptions,
} from './terminalSession';
export { clusterTerminalExec, openTerminal, type ClusterTerminalPlace } from './clusterTerminal';
export { runCommand, runInPods, type PodRunResult, type RunOptions, type RunTarget } from './runInPods';
