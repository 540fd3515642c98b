// Answers the language server's cluster questions (contexts, namespaces, deployments) with the
// kube layer, for the context and namespace a truva.yaml names.
import * as vscode from 'vscode';
import type { ClusterInfoProvider } from './languageClient';
import { core } from './lazy';
import type { TruvaContext } from './truvaContext';

export function clusterInfoProvider(truva: TruvaContext): ClusterInfoProvider {
  const refused = new Set<string>();
  return {
    async getClusterInfo(params) {
      // A kubeconfig is code: its exec credential plugin runs a program. One named by an untrusted
      // workspace's truva.yaml is never loaded; the file simply gets no cluster checks.
      if (params.kubeconfig && !vscode.workspace.isTrusted) {
        if (!refused.has(params.kubeconfig)) {
          refused.add(params.kubeconfig);
          truva.output.warn(
            `Not using the kubeconfig "${params.kubeconfig}" that truva.yaml names: the workspace is not trusted, and a kubeconfig can run programs (exec credential plugins). Trust the workspace (Manage Workspace Trust) to get cluster checks for this truva.yaml.`,
          );
        }
        return null;
      }
      // Typing must not wait on the API: one brief attempt, on the connection everyone shares.
      const cluster = truva.pool.acquire({
        kubeconfigPath: params.kubeconfig,
        context: params.context,
        namespace: params.namespace,
        calls: { timeoutMs: 5_000, maxAttempts: 1 },
      });
      try {
        const namespace = params.namespace ?? cluster.namespace;
        const [namespaces, deployments] = await Promise.all([
          cluster.listNamespaces().then(
            (list) => list.map((n) => n.metadata!.name!),
            () => undefined,
          ),
          cluster.listDeployments({ namespace }).then(
            (list) =>
              list.map((d) => ({
                name: d.metadata!.name!,
                replicas: d.spec?.replicas ?? 0,
                readyReplicas: d.status?.readyReplicas,
                containers: (d.spec?.template?.spec?.containers ?? []).map((c) => c.name),
              })),
            (err) => {
              if (err?.kind === 'unreachable' || err?.kind === 'timeout') throw err;
              return undefined;
            },
          ),
        ]);
        return {
          contexts: core()
            .listContexts(cluster.kubeConfig)
            .map((c) => c.name),
          context: cluster.contextName,
          namespaces,
          namespace,
          deployments,
        };
      } catch {
        truva.output.debug('truva.yaml cluster checks skipped: the cluster is not reachable.');
        return null;
      } finally {
        cluster.dispose();
      }
    },
  };
}
