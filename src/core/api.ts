// What the VS Code layer uses of src/core at run time, in one module that the build bundles on its
// own (dist/core.js, scripts/build.mjs) and src/vscode/lazy.ts loads the first time it is needed:
// the cluster client (@kubernetes/client-node), the sync engine, dev mode, the config loader and
// the log aggregator stay out of what activation loads. The VS Code layer imports src/core only
// through here (types aside), so each class exists once and `instanceof` holds.
export { configToYaml, loadConfig } from './config';
export { BACKUP_ANNOTATION, DevMode, RestoreConflictError, findDevModeDeployments } from './devmode/devMode';
export { containersDefaultFirst } from './devmode/defaultContainer';
export { ClusterPool } from './kube/clusterPool';
export { podsOwnedBy } from './kube/deploymentPods';
export { KubeError } from './kube/errors';
export { listContexts, loadKubeConfig } from './kube/kubeconfig';
export { selectorQuery } from './kube/selectors';
export { LogAggregator } from './logs/aggregator';
export { clusterLogSource } from './logs/clusterSource';
export { attachConfigurations } from './debug/attachConfig';
export { DevSession } from './session/devSession';
export { SessionCancelledError } from './session/session';
export { openTerminal } from './terminal';
export { runInPods } from './terminal/runInPods';
