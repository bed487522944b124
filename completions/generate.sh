#!/usr/bin/env bash
# Regenerates the completion scripts in this directory from the current command tree.
# Run after changing any command's options:  completions/generate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f dist/vopono.js ]; then run=(node dist/vopono.js); else run=(node --import tsx src/cli/main.ts); fi
"${run[@]}" completions bash >completions/vopono.bash
"${run[@]}" completions zsh >completions/_vopono
"${run[@]}" completions fish >completions/vopono.fish
echo "completions: regenerated completions/vopono.bash completions/_vopono completions/vopono.fish"
