// The custom LSP messages between the truva.yaml language server and the VS Code client, typed
// once: client.onRequest and connection.sendRequest are both checked against these. Only
// vscode-jsonrpc's message types are imported, so both bundles can use this file without pulling
// the other side in.
import { NotificationType0, RequestType } from 'vscode-jsonrpc';

/** Server -> client request: what the cluster holds, asked for the context and namespace a truva.yaml names. */
export const ClusterInfoRequest = new RequestType<ClusterInfoParams, ClusterInfo | null, void>('truva/clusterInfo');
/** Client -> server notification: the kubeconfig or cluster changed; forget cached cluster answers. */
export const ClusterChangedNotification = new NotificationType0('truva/clusterChanged');
/** Command the server executes: create a missing local sync folder. Argument: the absolute path. */
export const CreateFolderCommand = 'truva.server.createFolder';

export interface ClusterInfoParams {
  /** Undefined: the kubeconfig's current context. */
  context?: string;
  /** Undefined: the context's namespace. */
  namespace?: string;
  /** Absolute kubeconfig path from truva.yaml, if it names one. */
  kubeconfig?: string;
}

export interface ClusterDeployment {
  name: string;
  replicas: number;
  readyReplicas?: number;
  containers: string[];
}

/** What the cluster holds; null when the cluster cannot be reached (then no cluster warnings are given). */
export interface ClusterInfo {
  /** Every context in the kubeconfig. */
  contexts: string[];
  /** The context the answer is for (the current one when none was asked for). */
  context: string;
  /** Namespaces visible in that context; undefined when listing them is not allowed. */
  namespaces?: string[];
  /** The namespace the deployments were listed in. */
  namespace: string;
  /** Deployments in that namespace; undefined when the namespace could not be listed. */
  deployments?: ClusterDeployment[];
}

/** Implemented by the VS Code layer with the Kubernetes layer; answers the server's requests. */
export interface ClusterInfoProvider {
  getClusterInfo(params: ClusterInfoParams): Promise<ClusterInfo | null>;
}
