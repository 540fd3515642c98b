#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 with a Node extension host) into a cache folder
# outside the clone, for the extension-host tests, the UI walkthrough and `npm run demo`.
# Idempotent: a marker file records a complete install, and then this is a fast no-op.
# A plain `npm install code-server` fails on such a machine: @vscode/ripgrep's postinstall
# downloads rg from GitHub, the native modules (kerberos needs libkrb5-dev) need explicit
# rebuilds, and node-pty's build runs `npx node-gyp`, which asks first unless npm_config_yes is set.
# Prints the path of the code-server launcher on its last line.
set -euo pipefail

version=4.100.3
cache=${TRUVA_CACHE:-$HOME/.cache/truva}
prefix=$cache/code-server-$version
marker=$prefix/.truva-complete
launcher=$prefix/node_modules/code-server/out/node/entry.js

if [ -f "$marker" ] && [ -f "$launcher" ]; then
  echo "$launcher"
  exit 0
fi

for tool in rg make g++; do
  command -v "$tool" >/dev/null || { echo "install-code-server: '$tool' is missing; run scripts/ensure-deps.sh (or apt-get install ripgrep build-essential) first." >&2; exit 1; }
done

echo "== installing code-server $version into $prefix (about 2 minutes, once)" >&2
rm -rf "$prefix"
mkdir -p "$prefix"
# A unique temporary folder, then one rename: a half-finished install never looks complete,
# and two concurrent installers cannot mix their files.
work=$(mktemp -d "$cache/.code-server-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT

export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
npm install --prefix "$work" --ignore-scripts --no-save "code-server@$version" >&2

# argon2 (password hashing; unused with --auth none, but loaded at start) is hoisted to the
# prefix's node_modules, so it is rebuilt from there.
(cd "$work" && npm rebuild argon2 >&2)
cd "$work/node_modules/code-server"
(
  cd lib/vscode
  npm install --omit=dev --ignore-scripts >&2
  # @vscode/ripgrep's postinstall skips its GitHub download when bin/ exists: use Debian's rg.
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  # Builds node-pty, kerberos, spdlog, native-watchdog... (install scripts were skipped above).
  npm rebuild >&2
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
  (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
  (cd extensions && npm install --omit=dev >&2)
)

# npm 11 can skip install scripts silently: check the native modules really were built.
missing=()
for module in "$work/node_modules/argon2" lib/vscode/node_modules/node-pty lib/vscode/node_modules/kerberos lib/vscode/node_modules/@vscode/spdlog; do
  [ -n "$(find "$module" -name '*.node' -print -quit 2>/dev/null)" ] || missing+=("${module#"$work"/}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-code-server: native modules were not built: ${missing[*]} (see the npm output above)." >&2
  exit 1
fi

rm -rf "$prefix"
mv "$work" "$prefix"
trap - EXIT
date -u +%FT%TZ > "$marker"
echo "== code-server $version installed" >&2
echo "$launcher"
