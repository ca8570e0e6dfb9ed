#!/usr/bin/env bash
# npm dependencies (which also builds the AF_PACKET addon), only when the lock
# file changed since the last install. No root needed: this is all the fast
# lane (typecheck, lint, unit tests) asks of a machine besides Node.js.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "[deps] npm is required and not on PATH" >&2; exit 1; }
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[deps] npm ci"
  npm ci --no-audit --no-fund
fi
