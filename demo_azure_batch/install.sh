#!/bin/sh
# Runs on every pool node as the job preparation task (an admin auto-user): installs Open MPI and
# mpi4py. Idempotent: a node that already has them (a re-run, or the local emulator's machine) does
# nothing. The distribution's packages are preferred; pip with requirements_node.txt is the fallback.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

have_all() {
  command -v mpirun >/dev/null 2>&1 && python3 -c 'import mpi4py' >/dev/null 2>&1
}

if have_all; then
  echo "install.sh: Open MPI and mpi4py already present: $(mpirun --version 2>/dev/null | head -n 1)"
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: installing openmpi-bin, libopenmpi-dev and python3-mpi4py with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Batch nodes may still be running unattended upgrades at boot: wait for the dpkg lock.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq openmpi-bin libopenmpi-dev python3-mpi4py python3-pip >/dev/null || true
fi

if ! python3 -c 'import mpi4py' >/dev/null 2>&1; then
  echo "install.sh: python3-mpi4py unavailable, installing from $here/requirements_node.txt with pip"
  python3 -m pip install --quiet -r "$here/requirements_node.txt" ||
    python3 -m pip install --quiet --break-system-packages -r "$here/requirements_node.txt"
fi

have_all || { echo "install.sh: Open MPI or mpi4py still missing" >&2; exit 1; }
echo "install.sh: ready: $(mpirun --version 2>/dev/null | head -n 1)"
