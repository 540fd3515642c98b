#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, then lint, type check, build,
# every mocha suite (unit, language server, integration against the sandbox) and the
# real-VS-Code suites. Ends non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
echo "== lint"; npx eslint . && npx prettier --check --log-level warn . && npx knip
echo "== typecheck"; npx tsc --noEmit -p .
echo "== build"; node scripts/build.mjs
echo "== tests"; npx tsx scripts/run-tests.ts "$@"
