#!/usr/bin/env bash
# The README's test command: set up, then run every test (unit and e2e; e2e needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run "$@"
