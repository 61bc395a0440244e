#!/usr/bin/env bash
# README's first command ends here: a short azlua run that shows the runtime working.
# (The full local tutorial run replaces this once the tutorial scripts land.)
set -euo pipefail
cd "$(dirname "$0")/.."
exec build/azlua scripts/demo.lua
