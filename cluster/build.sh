#!/usr/bin/env bash
# Builds the real Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler) and etcd from the Go modules pinned in cluster/go.mod, into
# ~/.cache/truva/kubernetes-<version>/. Nothing built is committed. A second run with the
# same go.mod/go.sum does nothing. The cold build's time and peak memory are written to
# build.json in that folder (the benchmark reports them as cluster.build_cold_s).
set -euo pipefail
cd "$(dirname "$0")"

version=$(awk '$1 == "k8s.io/kubernetes" && $2 { print $2; exit }' go.mod)
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 { print $2; exit }' go.mod)
out=${TRUVA_KUBERNETES_DIR:-$HOME/.cache/truva/kubernetes-$version}
stamp=$out/.inputs.sha
want=$(cat go.mod go.sum | sha256sum | cut -d' ' -f1)
bins=(kube-apiserver kube-controller-manager kube-scheduler etcd)

complete() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done
}
if complete; then
  echo "== kubernetes $version and etcd $etcd_version already built in $out"
  exit 0
fi

command -v go >/dev/null || { echo "Go is needed to build the Kubernetes control plane (cluster/go.mod names the version)." >&2; exit 1; }
mkdir -p "$out"
echo "== building kubernetes $version (kube-apiserver, kube-controller-manager, kube-scheduler) and etcd $etcd_version into $out"
echo "   (the first build on a machine downloads about 1 GB of modules and takes 10-30 minutes on 2 cores; later runs reuse it)"

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=$(echo "${version#v}" | cut -d. -f1) -X k8s.io/component-base/version.gitMinor=$(echo "${version#v}" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z -X k8s.io/client-go/pkg/version.gitVersion=$version"
start=$(date +%s)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
tmp=$out/.building
rm -rf "$tmp"; mkdir -p "$tmp"
# One `go build` for all four: the packages they share are compiled once. /usr/bin/time
# gives the peak resident memory of the largest child (the compiler or linker).
CGO_ENABLED=0 GOFLAGS=-mod=readonly /usr/bin/time -f '%M' -o "$report" \
  go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    go.etcd.io/etcd/server/v3
for n in v3 server; do [ -f "$tmp/$n" ] && mv "$tmp/$n" "$tmp/etcd"; done
for b in "${bins[@]}"; do mv -f "$tmp/$b" "$out/$b"; done
rm -rf "$tmp"
seconds=$(( $(date +%s) - start ))
peak_kb=$(tail -n 1 "$report")
cat > "$out/build.json" <<EOF
{"version":"$version","etcd":"$etcd_version","seconds":$seconds,"peak_rss_mb":$(( peak_kb / 1024 )),"date":"$(date -u +%FT%TZ)"}
EOF
echo "$want" > "$stamp"
echo "== built in ${seconds}s (peak memory $(( peak_kb / 1024 )) MB): $(cat "$out/build.json")"
