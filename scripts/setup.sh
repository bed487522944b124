#!/usr/bin/env bash
# Sets up a checkout: system packages, npm dependencies, the build (bundle + native launcher).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash scripts/install-system-deps.sh
else
  sudo bash scripts/install-system-deps.sh
fi
# `npm install` rather than `npm ci`: vite (under vitest) names a Windows-only optional package
# that the registry does not serve, which `npm ci` refuses; the lock file still pins the tree.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
npm run build
