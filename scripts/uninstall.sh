#!/usr/bin/env bash
# Removes what scripts/install.sh installed: stops and disables the daemon (its namespaces are torn
# down on the way out), removes the units, snippets, completions, docs, the installed package and
# its `vopono` command, group "vopono" and /run/vopono. Your ~/.config/vopono is left alone.
#
#   sudo ./scripts/uninstall.sh [--keep-group]
#
# After `npm install -g` + `install.sh --system-only`, run this, then `sudo npm uninstall -g vopono`.
# DESTDIR works as for install.sh (removes the staged files only).
set -euo pipefail

keep_group=0
for arg in "$@"; do
  case $arg in
    --keep-group) keep_group=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  exec sudo -- "$0" "$@"
fi

DESTDIR=${DESTDIR:-}
MANIFEST=/var/lib/vopono/installed-files
say() { echo "uninstall: $*"; }

# 1. stop the daemon first, so it removes its namespaces, links and firewall tables itself
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  say "stopping and disabling vopono.socket and vopono.service"
  systemctl disable --now vopono.socket vopono.service 2>/dev/null || true
elif [ -z "$DESTDIR" ] && [ -S /run/vopono.sock ]; then
  say "note: a daemon may still be listening on /run/vopono.sock; stop it (Ctrl-C or kill its pid) — it removes its namespaces as it exits"
fi

# 2. the files install.sh recorded (or its default locations when the record is missing)
files=()
if [ -f "$DESTDIR$MANIFEST" ]; then
  mapfile -t files <"$DESTDIR$MANIFEST"
else
  prefix=${NPM_PREFIX:-$(env -u DESTDIR npm prefix -g 2>/dev/null || echo /usr/local)}
  say "no $MANIFEST; removing the default locations"
  files=(
    /etc/systemd/system/vopono.service /etc/systemd/system/vopono.socket
    /etc/sysusers.d/vopono.conf /etc/tmpfiles.d/vopono.conf
    /usr/share/bash-completion/completions/vopono /usr/share/zsh/vendor-completions/_vopono
    /usr/share/fish/vendor_completions.d/vopono.fish /usr/share/doc/vopono/README.md
  )
  if [ -L "$prefix/bin/vopono" ] && [ "$(readlink "$prefix/bin/vopono")" = "$prefix/lib/node_modules/vopono/dist/vopono.js" ] &&
    [ ! -e "$prefix/lib/node_modules/vopono/.git" ]; then
    files+=("$prefix/bin/vopono" "$prefix/lib/node_modules/vopono")
  fi
fi
for f in "${files[@]}"; do
  [ -n "$f" ] || continue
  case $f in
    /usr/* | /etc/* | /var/lib/vopono/* | /opt/*) ;;
    *) say "skipping unexpected path $f"; continue ;;
  esac
  case $f in /usr/lib | /usr/local | /usr/bin | /usr/share | /etc/systemd) say "refusing to remove $f"; continue ;; esac
  if [ -e "$DESTDIR$f" ] || [ -L "$DESTDIR$f" ]; then
    rm -rf -- "$DESTDIR$f"
    say "removed $f"
  fi
done
rmdir "$DESTDIR/usr/share/doc/vopono" "$DESTDIR/var/lib/vopono" 2>/dev/null || true

# 3. systemd forgets the units
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

# 4. group and state
if [ -z "$DESTDIR" ]; then
  if [ "$keep_group" = 0 ] && getent group vopono >/dev/null; then
    members=$(getent group vopono | cut -d: -f4)
    groupdel vopono && say "removed group vopono${members:+ (members were: $members)}"
  fi
  if [ -d /run/vopono ] && ! [ -S /run/vopono.sock ]; then
    rm -rf /run/vopono && say "removed /run/vopono"
  fi
fi
say "done (your ~/.config/vopono is untouched)"
