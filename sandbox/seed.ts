// The seeded cluster: namespace `demo` with the `web` app (2 replicas, probes) and the
// two-container `worker` that writes JSON log lines.
export const SEED_NAMESPACES = ['default', 'demo'];

export function webDeployment(name = 'web', replicas = 2, namespace = 'demo', image = 'web'): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'web',
              image,
              command: ['node', 'server.js'],
              workingDir: '/app',
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              env: [{ name: 'PORT', value: '8080' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5, failureThreshold: 3 },
            },
          ],
        },
      },
    },
  };
}

export function workerDeployment(namespace = 'demo'): any {
  const container = (name: string) => ({
    name,
    image: 'worker',
    command: ['node', 'worker.js'],
    args: [name],
    workingDir: '/app',
    env: [{ name: 'ROLE', value: name }],
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'worker', namespace, labels: { app: 'worker' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'worker' } },
      template: {
        metadata: { labels: { app: 'worker' } },
        spec: { terminationGracePeriodSeconds: 5, containers: [container('main'), container('sidecar')] },
      },
    },
  };
}
