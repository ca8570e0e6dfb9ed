#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the lab: the system tools it drives
# (iproute2, nftables, arping, ndisc6, tcpdump, openssl, setpriv, rsvg-convert)
# and those of the image build: buildah, runc (crun, buildah's first choice,
# refuses this machine's hybrid cgroups) and mmdebstrap (the stand-in base);
# for the real nodes: Debian's CNI plugins (the pods' bridge and addresses;
# runc is shared with buildah) and gcc with a static libc (the pause image).
# Idempotent and quick when all is there. Needs root only to install what is
# missing. Go (for building the control plane) and Node.js come with the
# machine. The npm dependencies are scripts/npm-deps.sh's job.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(iproute2 nftables iputils-arping ndisc6 tcpdump openssl util-linux ca-certificates librsvg2-bin buildah runc mmdebstrap containernetworking-plugins gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "[setup] installing system packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "[setup] need root to install ${missing[*]} (the test lab also needs root for namespaces)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

for tool in go node; do
  command -v "$tool" >/dev/null || { echo "[setup] $tool is required and not on PATH" >&2; exit 1; }
done
