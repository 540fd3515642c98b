#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, then lint, type check, build,
# builds the real Kubernetes control plane (cluster/build.sh: 10-30 minutes the first time on a
# machine, a no-op after), every mocha suite (unit, language server, integration against the
# real control plane) and the real-VS-Code suites. Ends non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== lint"; npx eslint . && npx prettier --check --log-level warn . && npx knip
echo "== typecheck"; npx tsc --noEmit -p .
echo "== build"; node scripts/build.mjs
echo "== kubernetes control plane"; bash cluster/build.sh
echo "== tests"; npx tsx scripts/run-tests.ts "$@"
