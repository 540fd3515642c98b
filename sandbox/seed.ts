// The seeded cluster: namespace `demo` with the `web` app (2 replicas, probes) and the
// two-container `worker` that writes JSON log lines.
import https from 'node:https';

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

/** Seeds through the API itself, so seeded objects get exactly the defaults a user's would. */
export async function seedDeployments(url: string, token: string, ca: string): Promise<void> {
  const post = (path: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(
        `${url}${path}`,
        { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 201 ? resolve() : reject(new Error(`seeding ${path} failed: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  await post('/apis/apps/v1/namespaces/demo/deployments', webDeployment());
  await post('/apis/apps/v1/namespaces/demo/deployments', workerDeployment());
}
