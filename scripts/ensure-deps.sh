#!/usr/bin/env bash
# Installs what the tests, benchmarks and demo need on a fresh machine of this kind
# (Node 20 + npm, Debian, root), and does nothing when it is all present already.
# Every npm script that runs TypeScript calls it first, so any of them works as the first
# command on a fresh clone. `--sandbox`: only what `npm run sandbox` needs (the npm packages and
# the pod runtime's unshare/nsenter and ip), not Chromium, kubectl or code-server.
set -euo pipefail
cd "$(dirname "$0")/.."
only_sandbox=false
[ "${1:-}" = --sandbox ] && only_sandbox=true

# npm packages: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.truva-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== npm ci" >&2
  npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# Debian packages: the pod runtime's namespaces; Chromium for UI tests; libkrb5-dev and ripgrep for code-server.
missing=()
command -v unshare >/dev/null || missing+=(util-linux)
[ -x /usr/sbin/ip ] || missing+=(iproute2)
if [ "$only_sandbox" = false ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v rg >/dev/null || missing+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them (apt-get install ${missing[*]}) or run as root." >&2
    exit 1
  fi
  echo "== apt-get install ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
[ "$only_sandbox" = true ] && exit 0

# kubectl for the cross-check tests: the image's Google Cloud SDK copies first, then Debian's.
if ! command -v kubectl >/dev/null && [ ! -x /usr/lib/google-cloud-sdk/bin/kubectl ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq kubernetes-client >&2; fi
fi

# code-server (real VS Code 1.100 for extension-host and UI tests), cached outside the clone.
# Its installer prints the launcher's path, which only harness/codeServer.ts reads.
if [ -f scripts/install-code-server.sh ]; then bash scripts/install-code-server.sh >/dev/null; fi
