// Port-forwards into the dev pods: one connection (podPort), the session's forwards (forwardManager),
// and both on a real cluster (clusterForwards). No `vscode` import.
export {
  ForwardManager,
  REPLAY_LIMIT,
  type ForwardManagerOptions,
  type ForwardPods,
  type ForwardState,
  type ForwardStatus,
  type PodDialer,
} from './forwardManager';
export { clusterForwards, type ClusterForwardOptions } from './clusterForwards';
export {
  PodPortError,
  PodPortStream,
  PortForwardChannels,
  classifyPortForwardError,
  openPodPort,
  type PodPortFailure,
} from './podPort';
