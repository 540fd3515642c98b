// The files the kubelet writes into a pod's kube-api-access volume, as far as the sandbox has
// them, for the runtime (which writes a volume's `files` before the containers start): ca.crt
// (the kube-root-ca.crt ConfigMap holds the cluster's CA: here the sandbox's) and namespace. No
// token: the sandbox's API server issues no service-account tokens, and its pods, each in a
// network namespace of its own, could not reach it anyway.

export function withServiceAccountFiles(pod: any, caCertPem: string): any {
  const volumes = (pod.spec.volumes ?? []).map((v: any) => {
    if (!String(v.name).startsWith('kube-api-access-') || !v.projected) return v;
    const mode = v.projected.defaultMode ?? 0o644;
    const files: { path: string; data: string; mode: number }[] = [];
    for (const s of v.projected.sources ?? []) {
      if (s.configMap?.name === 'kube-root-ca.crt')
        for (const item of s.configMap.items ?? [])
          if (item.key === 'ca.crt') files.push({ path: item.path, data: caCertPem, mode });
      for (const item of s.downwardAPI?.items ?? [])
        if (item.fieldRef?.fieldPath === 'metadata.namespace')
          files.push({ path: item.path, data: pod.metadata.namespace, mode });
    }
    return { ...v, files };
  });
  return { ...pod, spec: { ...pod.spec, volumes } };
}
