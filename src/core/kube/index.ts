// Public surface of the Kubernetes layer.
export { Cluster, type ClusterOptions, type WriteOptions, type AccessReview, type LogStreamOptions } from './cluster';
export {
  KubeError,
  ApiUnreachableError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  TimeoutError,
  GoneError,
  ExecError,
  KubeConfigError,
  toKubeError,
  errorFromStatus,
  describeTarget,
  isTransient,
  isServerFailure,
  type KubeErrorKind,
  type CallTarget,
} from './errors';
export {
  loadKubeConfig,
  listContexts,
  withContext,
  kubeconfigFiles,
  type ContextInfo,
  type KubeConfigSource,
} from './kubeconfig';
export {
  Resilience,
  backoffDelay,
  DEFAULT_BACKOFF,
  type BreakerState,
  type ResilienceOptions,
  type BackoffOptions,
} from './resilience';
export { exitCodeFromStatus, type ExecOptions, type ExecResult, type ExecStream, type ExecTerminal } from './exec';
export type {
  Deployment,
  Pod,
  PodTemplate,
  Container,
  Namespace,
  WatchEvent,
  WatchEventType,
  Watcher,
  PatchType,
  Raw,
  ObjectList,
} from './types';
