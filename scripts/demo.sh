#!/usr/bin/env bash
# The README's first command: sets up this checkout (system packages, npm dependencies, build)
# and runs `vopono demo`: curl through a real WireGuard tunnel to a throwaway local peer, no VPN
# account. Uses the running daemon if there is one, else a temporary one; removes all it made.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  exec sudo -- "$0" "$@"
fi
echo "==> setting up (system packages, npm dependencies, build)"
bash scripts/setup.sh
echo "==> vopono demo"
exec node dist/vopono.js demo "$@"
