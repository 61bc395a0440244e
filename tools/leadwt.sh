#!/usr/bin/env bash
# Developer helper: a clean worktree of HEAD at /tmp/leadwt plus the given uncommitted files, built,
# so one person's work can be tested while others' half-done files sit in the shared tree.
set -euo pipefail
cd "$(dirname "$0")/.."
git worktree remove --force /tmp/leadwt 2>/dev/null || rm -rf /tmp/leadwt
git worktree prune
git worktree add -q --detach /tmp/leadwt HEAD
for f in "$@"; do mkdir -p "/tmp/leadwt/$(dirname "$f")"; cp "$f" "/tmp/leadwt/$f"; done
ln -s "$PWD/tools/node_modules" /tmp/leadwt/tools/node_modules 2>/dev/null || true
cd /tmp/leadwt && cmake -S . -B build >/dev/null && cmake --build build -j2 2>&1 | grep -E 'error|warning' -A3 || true
