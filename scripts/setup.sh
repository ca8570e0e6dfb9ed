#!/usr/bin/env bash
# Makes a fresh Debian machine ready to build and test Baton: the system tools
# the test ground drives (iproute2, nftables, arping, tcpdump, openssl,
# setpriv), then the npm dependencies. Idempotent and quick when all is there.
# Go (for building the control plane) and Node.js come with the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(iproute2 nftables iputils-arping tcpdump openssl util-linux ca-certificates librsvg2-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "[setup] installing system packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "[setup] need root to install ${missing[*]} (the test ground also needs root for namespaces)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

for tool in go node npm; do
  command -v "$tool" >/dev/null || { echo "[setup] $tool is required and not on PATH" >&2; exit 1; }
done

# npm ci only when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund
fi
