// Truva's VS Code settings (package.json `contributes.configuration`), read in one place with
// their types. VS Code fills in the declared defaults. An empty string means "not set" (the
// Settings editor cannot remove a string), so the three connection settings read as undefined then.
import * as vscode from 'vscode';
import type { ConfigSettings, LogLevel } from '../core/config/types';

const SECTION = 'truva';

/** Each setting Truva reads (under `truva.`), with its type. */
interface SettingTypes {
  kubeconfig: string;
  context: string;
  namespace: string;
  restoreOnExit: boolean;
  debounce: number;
  concurrency: number;
  'logs.tail': number;
  'logs.bufferSize': number;
  logLevel: LogLevel;
}

export type SettingKey = keyof SettingTypes;

/** Settings that change which cluster, context or namespace the sidebar and new sessions use. */
const CONNECTION: readonly SettingKey[] = ['kubeconfig', 'context', 'namespace'];

export class Settings {
  private get<K extends SettingKey>(key: K): SettingTypes[K] {
    return vscode.workspace.getConfiguration(SECTION).get<SettingTypes[K]>(key)!;
  }

  kubeconfig(): string | undefined {
    return this.get('kubeconfig') || undefined;
  }

  context(): string | undefined {
    return this.get('context') || undefined;
  }

  namespace(): string | undefined {
    return this.get('namespace') || undefined;
  }

  restoreOnExit(): boolean {
    return this.get('restoreOnExit');
  }

  logLevel(): LogLevel {
    return this.get('logLevel');
  }

  readonly logs = {
    tail: (): number => this.get('logs.tail'),
    bufferSize: (): number => this.get('logs.bufferSize'),
  };

  /** The defaults a truva.yaml is loaded with: the file wins over them. */
  configDefaults(): ConfigSettings {
    return {
      logLevel: this.logLevel(),
      debounce: this.get('debounce'),
      concurrency: this.get('concurrency'),
      logs: { tail: this.logs.tail(), buffer: this.logs.bufferSize() },
    };
  }

  /** True when the change is to a setting that decides which cluster Truva talks to. */
  affectsConnection(e: vscode.ConfigurationChangeEvent): boolean {
    return CONNECTION.some((key) => e.affectsConfiguration(`${SECTION}.${key}`));
  }

  /** Sets (or, with undefined, removes) a connection setting for this workspace. */
  async setForWorkspace(key: 'context' | 'namespace', value: string | undefined): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Workspace);
  }
}
