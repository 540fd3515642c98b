export { SyncEngine, type SyncOptions, type SyncRoot, type SyncTarget, type PodRef, type PodRun } from './engine';
export { clusterPods, clusterSyncTarget, type ClusterTargetOptions } from './clusterTarget';
export { ChangeSet, batches } from './changeSet';
export { IgnoreRules } from './ignore';
export { relativePathProblem, insideRoot, symlinkStaysInside } from './paths';
export { tarOf } from './tarStream';
export { Chunk, ChunkPool } from './chunks';
export { SaveEchoes, fileSignature } from './echoes';
