#!/usr/bin/env bash
# Installs every system package vopono and its tests use, from Debian's packages.
# Used by the README's setup and by .ci/run. Safe to run again.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: run as root (sudo $0)" >&2
  exit 1
fi
PKGS=(
  iproute2 nftables iptables          # namespaces, veth, firewall
  wireguard-tools wireguard-go         # wg(8); userspace WireGuard where the module is missing
  openvpn                              # OpenVPN backend and the tests' OpenVPN server
  sudo                                 # the no-daemon fallback
  tmux                                 # terminal tests
  zsh fish                             # checks of the shell completions
  dnsmasq-base                         # the tests' VPN DNS server
  openssl                              # the tests' OpenVPN PKI
  tcpdump                              # leak tests capture packets
  procps psmisc util-linux kmod        # ps, nsenter, mount tools
  build-essential                      # cc for the native launcher, node-gyp for node-pty
  python3 curl ca-certificates
  systemd                              # systemd-analyze, systemd-socket-activate
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-system-deps: all present"
