#!/usr/bin/env bash
# Installs the Debian / Ubuntu packages patternnet's build, tests and examples need,
# skipping those already installed. Uses sudo when not run as root.
set -euo pipefail
packages=(g++ cmake ninja-build libeigen3-dev libfmt-dev catch2 zlib1g-dev libstb-dev libprotobuf-dev libonnx-dev libcli11-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
