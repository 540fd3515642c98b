// Loads kubeconfig the way kubectl does: an explicit path wins, else every file in KUBECONFIG
// merged (the first file that sets a value wins), else ~/.kube/config.
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { expandHome } from '../config/paths';
import { KubeConfigError } from './errors';

export interface KubeConfigSource {
  /** An explicit kubeconfig path (the `truva.kubeconfig` setting or truva.yaml `kubeconfig`); may hold several paths joined by the OS path delimiter. */
  path?: string;
  /** Environment to read KUBECONFIG and HOME from (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

export interface ContextInfo {
  name: string;
  cluster: string;
  user: string;
  /** The namespace the context names, else "default". */
  namespace: string;
  server?: string;
  current: boolean;
}

/** The files kubectl would read, in precedence order. */
export function kubeconfigFiles(source: KubeConfigSource = {}): string[] {
  const env = source.env ?? process.env;
  const list = source.path ?? env.KUBECONFIG;
  if (list && list.trim())
    return list
      .split(delimiter)
      .map((p) => expandHome(p.trim(), env))
      .filter(Boolean);
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  return [join(home, '.kube', 'config')];
}

/**
 * Loads and merges the kubeconfig files. Clusters, users and contexts are merged by name, first
 * definition wins (client-node's own merge throws on duplicates, kubectl does not); the first
 * file naming a current-context sets it.
 */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const files = kubeconfigFiles(source);
  const existing = files.filter((f) => existsSync(f));
  const explicit = source.path !== undefined;
  if (existing.length === 0) {
    throw new KubeConfigError(
      `No kubeconfig found (looked at ${files.map((f) => `"${f}"`).join(', ')}). ` +
        (explicit
          ? 'Fix the path in the truva.kubeconfig setting or truva.yaml.'
          : 'Set KUBECONFIG or create ~/.kube/config.'),
    );
  }
  if (explicit) {
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0)
      throw new KubeConfigError(
        `The kubeconfig file "${missing[0]}" does not exist. Fix the path in the truva.kubeconfig setting or truva.yaml.`,
      );
  }
  const merged = new KubeConfig();
  merged.clusters = [];
  merged.users = [];
  merged.contexts = [];
  merged.currentContext = '';
  for (const file of existing) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new KubeConfigError(
        `The kubeconfig file "${file}" could not be read: ${loadProblem(err)}. Fix the file, or point the truva.kubeconfig setting (or KUBECONFIG) at a working one.`,
      );
    }
    if (!merged.currentContext && kc.currentContext) merged.currentContext = kc.currentContext;
    for (const c of kc.clusters ?? []) if (!merged.clusters.some((x) => x.name === c.name)) merged.clusters.push(c);
    for (const u of kc.users ?? []) if (!merged.users.some((x) => x.name === u.name)) merged.users.push(u);
    for (const c of kc.contexts ?? []) if (!merged.contexts.some((x) => x.name === c.name)) merged.contexts.push(c);
  }
  return merged;
}

/**
 * What went wrong loading a kubeconfig, without quoting the file: a YAML error's message carries
 * a snippet of the lines around the mistake, which may hold a token or a client key. The cause is
 * not kept on the error either, so nothing that logs the whole error can print the snippet.
 */
function loadProblem(err: unknown): string {
  const e = err as { reason?: string; mark?: { line?: number; column?: number }; message?: string };
  if (typeof e?.reason === 'string' && e.mark && typeof e.mark.line === 'number') {
    return `it is not valid YAML (${e.reason} at line ${e.mark.line + 1}, column ${(e.mark.column ?? 0) + 1})`;
  }
  const first = String(e?.message ?? err)
    .split('\n')[0]
    .trim();
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

/** Every context with its cluster, user, namespace and whether it is current. */
export function listContexts(kc: KubeConfig): ContextInfo[] {
  return kc.getContexts().map((c) => ({
    name: c.name,
    cluster: c.cluster,
    user: c.user,
    namespace: c.namespace || 'default',
    server: kc.getCluster(c.cluster)?.server,
    current: c.name === kc.getCurrentContext(),
  }));
}

/**
 * A copy of kc switched to another context and/or namespace, leaving kc untouched (so two
 * Cluster objects for different contexts can live side by side).
 */
export function withContext(kc: KubeConfig, contextName?: string, namespace?: string): KubeConfig {
  const copy = new KubeConfig();
  copy.clusters = [...kc.clusters];
  copy.users = [...kc.users];
  copy.contexts = kc.contexts.map((c) => ({ ...c }));
  copy.currentContext = kc.currentContext;
  if (contextName) {
    if (!copy.contexts.some((c) => c.name === contextName)) {
      const names = copy.contexts.map((c) => `"${c.name}"`).join(', ') || 'none';
      throw new KubeConfigError(
        `The kubeconfig has no context "${contextName}" (it has: ${names}). Pick one of those.`,
      );
    }
    copy.setCurrentContext(contextName);
  }
  if (copy.contexts.length === 0) {
    throw new KubeConfigError(
      'The kubeconfig defines no contexts, so there is no cluster to talk to (is it a kubeconfig file at all? `kubectl config get-contexts` shows what it holds). Point the truva.kubeconfig setting or KUBECONFIG at one that has a context.',
    );
  }
  const current = copy.getContextObject(copy.currentContext);
  if (!current) {
    throw new KubeConfigError(
      copy.currentContext
        ? `The kubeconfig's current-context "${copy.currentContext}" is not defined in it. Pick a context.`
        : 'The kubeconfig has no current context. Pick a context.',
    );
  }
  if (namespace) {
    const i = copy.contexts.findIndex((c) => c.name === current.name);
    copy.contexts[i] = { ...copy.contexts[i], namespace };
  }
  return copy;
}
