#!/usr/bin/env bash
# Installs vopono system-wide from this checkout: builds it (bundle + native launcher), copies it
# where `npm install -g` puts packages (so `npm ls -g` / `npm uninstall -g` know it) with a
# `vopono` command on PATH, installs the systemd units, the sysusers.d/tmpfiles.d snippets, the
# shell completions and the README, creates group "vopono", and reloads systemd when it runs.
#
#   sudo ./scripts/install.sh                 # from a checkout
#   sudo "$(npm root -g)/vopono/scripts/install.sh" --system-only
#                                             # after `npm install -g vopono-*.tgz`: units, group,
#                                             # completions, launcher rebuilt for this machine
# Then:  sudo systemctl enable --now vopono.socket ;  sudo usermod -aG vopono USER
#
# Options:
#   --system-only   do not build or copy the package; install the system pieces for the package
#                   this script sits in (used after `npm install -g`)
#   --no-deps       do not install Debian packages (scripts/install-system-deps.sh)
#   --enable        also `systemctl enable --now vopono.socket` (when systemd runs)
# Environment:
#   DESTDIR         stage everything under this directory (packaging, tests); no group is created
#                   on the host, no systemctl is run
#   NPM_PREFIX      install prefix (default: `npm prefix -g`, e.g. /usr or /usr/local)
#   UNITDIR, SYSUSERSDIR, TMPFILESDIR   default /etc/systemd/system, /etc/sysusers.d, /etc/tmpfiles.d
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
system_only=0 deps=1 enable=0
for arg in "$@"; do
  case $arg in
    --system-only) system_only=1 ;;
    --no-deps) deps=0 ;;
    --enable) enable=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  exec sudo -- "$0" "$@"
fi

DESTDIR=${DESTDIR:-}
NPM_PREFIX=${NPM_PREFIX:-$(env -u DESTDIR npm prefix -g 2>/dev/null || echo /usr/local)}  # npm itself prepends $DESTDIR
LIBDIR=$NPM_PREFIX/lib/node_modules/vopono
BINDIR=$NPM_PREFIX/bin
UNITDIR=${UNITDIR:-/etc/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-/etc/sysusers.d}
TMPFILESDIR=${TMPFILESDIR:-/etc/tmpfiles.d}
DOCDIR=/usr/share/doc/vopono
BASHCOMPDIR=/usr/share/bash-completion/completions
ZSHCOMPDIR=/usr/share/zsh/vendor-completions
FISHCOMPDIR=/usr/share/fish/vendor_completions.d
MANIFEST_DIR=/var/lib/vopono
MANIFEST=$MANIFEST_DIR/installed-files

say() { echo "install: $*"; }
manifest=()
put() { # put MODE SRC DEST: install a file, remember it for uninstall.sh
  install -D -m "$1" "$2" "$DESTDIR$3"
  manifest+=("$3")
}

# 1. the package: build in the checkout, copy the runtime pieces to the npm global prefix
if [ "$system_only" = 0 ]; then
  if [ "$deps" = 1 ]; then bash "$SRC/scripts/install-system-deps.sh"; fi
  say "building (npm install when needed, bundle, native launcher)"
  (
    cd "$SRC"
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm install --no-audit --no-fund  # not `npm ci`: see scripts/setup.sh
    fi
    npm run build
  )
  say "copying to $LIBDIR"
  rm -rf "$DESTDIR${LIBDIR:?}.new"
  mkdir -p "$DESTDIR$LIBDIR.new"
  cp -a "$SRC/package.json" "$SRC/README.md" "$SRC/dist" "$SRC/systemd" "$SRC/completions" "$SRC/native" "$DESTDIR$LIBDIR.new/"
  mkdir -p "$DESTDIR$LIBDIR.new/scripts"
  cp -a "$SRC/scripts/install.sh" "$SRC/scripts/uninstall.sh" "$DESTDIR$LIBDIR.new/scripts/"
  # the bundle carries every dependency except the native modules, which stay external
  for m in koffi @koromix node-pty msgpackr msgpackr-extract; do
    if [ -e "$SRC/node_modules/$m" ]; then
      mkdir -p "$DESTDIR$LIBDIR.new/node_modules/$(dirname "$m")"
      cp -aL "$SRC/node_modules/$m" "$DESTDIR$LIBDIR.new/node_modules/$m"
    fi
  done
  rm -rf "$DESTDIR${LIBDIR:?}"
  mv "$DESTDIR$LIBDIR.new" "$DESTDIR$LIBDIR"
  mkdir -p "$DESTDIR$BINDIR"
  ln -sfn "$LIBDIR/dist/vopono.js" "$DESTDIR$BINDIR/vopono"
  manifest+=("$BINDIR/vopono" "$LIBDIR")
  PKG=$DESTDIR$LIBDIR
  # the daemon runs the launcher as root: root-owned, nobody else may write any of it
  chown -R root:root "$DESTDIR$LIBDIR"
  chmod -R go-w "$DESTDIR$LIBDIR"
else
  # the package belongs to npm (npm uninstall -g vopono removes it); only the system pieces are ours
  PKG=$SRC
  if [ -d "$PKG/native" ] && command -v cc >/dev/null 2>&1; then
    say "rebuilding the native launcher for this machine"
    make -s -C "$PKG/native"
  fi
  chown root:root "$PKG/dist/vopono-launch"
  chmod go-w "$PKG/dist/vopono-launch"
fi
[ -x "$PKG/dist/vopono-launch" ] || { echo "install: $PKG/dist/vopono-launch is missing (build failed?)" >&2; exit 1; }

# 2. systemd units (ExecStart pointed at this install), sysusers.d, tmpfiles.d
say "installing units into $UNITDIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/bin/vopono #ExecStart=$BINDIR/vopono #" "$PKG/systemd/vopono.service" >"$tmp/vopono.service"
put 0644 "$tmp/vopono.service" "$UNITDIR/vopono.service"
put 0644 "$PKG/systemd/vopono.socket" "$UNITDIR/vopono.socket"
put 0644 "$PKG/systemd/sysusers.d/vopono.conf" "$SYSUSERSDIR/vopono.conf"
put 0644 "$PKG/systemd/tmpfiles.d/vopono.conf" "$TMPFILESDIR/vopono.conf"

# 3. shell completions, generated by the installed vopono (so they match its options), and docs
say "installing shell completions and the README"
for shell in bash zsh fish; do
  node "$PKG/dist/vopono.js" completions "$shell" >"$tmp/completion.$shell"
done
put 0644 "$tmp/completion.bash" "$BASHCOMPDIR/vopono"
put 0644 "$tmp/completion.zsh" "$ZSHCOMPDIR/_vopono"
put 0644 "$tmp/completion.fish" "$FISHCOMPDIR/vopono.fish"
put 0644 "$PKG/README.md" "$DOCDIR/README.md"

# 4. group "vopono" and /run/vopono
if [ -z "$DESTDIR" ]; then
  if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers "$SYSUSERSDIR/vopono.conf"
  elif ! getent group vopono >/dev/null; then
    groupadd --system vopono
  fi
  say "group vopono: $(getent group vopono)"
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create "$TMPFILESDIR/vopono.conf"
  else
    install -d -m 0700 -o root -g root /run/vopono
  fi
else
  if command -v systemd-sysusers >/dev/null 2>&1; then
    mkdir -p "$DESTDIR/etc"
    systemd-sysusers --root="$DESTDIR" "$DESTDIR$SYSUSERSDIR/vopono.conf"
  fi
fi

# 5. the list uninstall.sh removes
mkdir -p "$DESTDIR$MANIFEST_DIR"
printf '%s\n' "${manifest[@]}" "$MANIFEST" >"$DESTDIR$MANIFEST"

# 6. systemd, when it runs (not in containers without it, not when staging)
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$enable" = 1 ]; then
    systemctl enable --now vopono.socket
    say "vopono.socket enabled and listening on /run/vopono.sock"
  fi
  systemd=1
else
  systemd=0
fi

cat <<EOF

vopono is installed: $(node "$PKG/dist/vopono.js" --version) at $BINDIR/vopono
Next steps:
EOF
if [ "$systemd" = 1 ] && [ "$enable" = 0 ]; then
  echo "  sudo systemctl enable --now vopono.socket     # the daemon starts on first use"
elif [ "$systemd" = 0 ] && [ -z "$DESTDIR" ]; then
  echo "  systemd is not running here: start the daemon yourself:  sudo vopono daemon &"
fi
cat <<'EOF'
  sudo usermod -aG vopono USER                  # who may use it (effective at their next login)
  vopono doctor                                 # checks everything, with a fix for each problem
  vopono exec --custom my-vpn.conf -- firefox   # or: vopono sync, then vopono exec -p PROVIDER ...
EOF
