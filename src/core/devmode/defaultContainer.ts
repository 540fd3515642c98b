// The container kubectl picks when none is named: the one the pod template's
// kubectl.kubernetes.io/default-container annotation names. Kept apart from dev mode so the
// VS Code quick-pick orders its choices by the same rule dev mode follows.
import type { Container, PodTemplate } from '../kube/types';

/** The pod template annotation kubectl reads for the container to exec into, log and attach to. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * The template's containers with the annotated one first (the choice a user without a
 * `container` in truva.yaml most likely wants), the others in their declared order. An
 * annotation naming no container changes nothing here; dev mode refuses it when it starts.
 */
export function containersDefaultFirst(template: PodTemplate | undefined): {
  containers: Container[];
  annotated?: string;
} {
  const annotated = template?.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  const declared = template?.spec?.containers ?? [];
  const first = declared.filter((c) => c.name === annotated);
  return { containers: [...first, ...declared.filter((c) => c.name !== annotated)], annotated };
}
