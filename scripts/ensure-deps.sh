#!/usr/bin/env bash
# Installs what the tests, benchmarks and demo need on a fresh machine of this kind
# (Node 20 + npm, Debian, root), and does nothing when it is all present already.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.truva-lock.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

# Debian packages: Chromium for UI tests; libkrb5-dev and ripgrep for code-server.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v unshare >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them (apt-get install ${missing[*]}) or run as root." >&2
    exit 1
  fi
  echo "== apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# kubectl for the cross-check tests: the image's Google Cloud SDK copies first, then Debian's.
if ! command -v kubectl >/dev/null && [ ! -x /usr/lib/google-cloud-sdk/bin/kubectl ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq kubernetes-client; fi
fi

# code-server (real VS Code 1.100 for extension-host and UI tests), cached outside the clone.
if [ -f scripts/install-code-server.sh ]; then bash scripts/install-code-server.sh; fi
