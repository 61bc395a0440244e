#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for azlua, then configures and builds.
# Idempotent: packages already present are skipped; runs as root (no sudo) or via sudo when not root.
#   tools/setup.sh            build deps + runtime deps, then build
#   tools/setup.sh --test     also the test-only parts (python3-azure, az, Open MPI, Azurite)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
for a in "$@"; do case "$a" in --test) want_test=1 ;; --no-build) no_build=1 ;; esac; done

pkgs=(build-essential cmake pkg-config
      liblua5.4-dev lua5.4 libcurl4-openssl-dev libssl-dev libexpat1-dev libedit-dev check)
# azlua-curl.so links libcurl's static archive against the libraries HTTP(S) needs (CMakeLists.txt).
pkgs+=(libnghttp2-dev libpsl-dev libzstd-dev libbrotli-dev libidn2-dev zlib1g-dev)
# The tutorial runs a real MPI program on the local emulator, so Open MPI is part of the demo too.
pkgs+=(openmpi-bin libopenmpi-dev python3-mpi4py git ca-certificates)
# Node.js may come from another source than Debian (its own npm then): ask for Debian's only when absent.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "$want_test" = 1 ]; then
  pkgs+=(python3-azure python3-azure-storage azure-cli tmux hyperfine time)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: Debian packages already present"
fi

# Azurite (the real Blob Storage emulator), pinned, installed into the project, never globally.
if [ ! -x "$here/tools/node_modules/.bin/azurite" ]; then
  echo "setup: installing azurite (npm, pinned in tools/package.json) into tools/node_modules"
  (cd "$here/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ "${no_build:-0}" != 1 ]; then
  echo "setup: building (make -C $here)"
  make -C "$here" --no-print-directory build
fi
